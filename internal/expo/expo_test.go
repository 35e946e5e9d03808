package expo

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var (
	famA = NewFamily("test_a", "A \"quoted\" help\\ text.", "app", "id")
	famB = NewFamily("test_b", "B help.", "app")
)

func TestWriteParsesAsTextAndGroupsFamilies(t *testing.T) {
	s := NewSchema(famA, famB)
	b1, d1 := s.Block([]Sample{famB.Gauge(1, "x"), famA.Gauge(2, "x", "1"), famA.Gauge(3, "x", "1")})
	b2, _ := s.Block([]Sample{famA.Gauge(math.Inf(1), "y", "a\"b\\c\nd"), famA.Gauge(4, "y", "bad\xffutf8")})
	if d1 != 1 {
		t.Fatalf("dropped %d duplicates, want 1", d1)
	}
	var buf bytes.Buffer
	// Two targets of one source, with another source's between them: a
	// family's lines of both are written together, under one header.
	other := NewSchema(famRun2)
	ob, _ := other.Block([]Sample{famRun2.Gauge(5, "z")})
	groups := []Group{{Schema: s, Blocks: []*Block{b1}}, {Schema: other, Blocks: []*Block{ob}}, {Schema: s, Blocks: []*Block{b2}}}
	if err := Write(&buf, Text, groups); err != nil {
		t.Fatal(err)
	}
	want := `# HELP test_a A "quoted" help\\ text.
# TYPE test_a gauge
test_a{app="x",id="1"} 2
test_a{app="y",id="a\"b\\c\nd"} +Inf
test_a{app="y",id="bad` + "\uFFFD" + `utf8"} 4
# HELP test_b B help.
# TYPE test_b gauge
test_b{app="x"} 1
# HELP test_run2 Other "lines".
# TYPE test_run2 gauge
test_run2{id="z"} 5
`
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatalf("the text parser refuses the output: %v", err)
	}
	if n := len(fams["test_a"].GetMetric()); n != 3 {
		t.Fatalf("test_a has %d series, want 3", n)
	}
}

func TestOpenMetricsHeaderEscapesQuotes(t *testing.T) {
	s := NewSchema(famA)
	b, _ := s.Block([]Sample{famA.Gauge(1, "x", "1")})
	var buf bytes.Buffer
	if err := Write(&buf, OpenMetrics, []Group{{Schema: s, Blocks: []*Block{b}}}); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("# EOF\n")
	if !strings.Contains(buf.String(), `# HELP test_a A \"quoted\" help\\ text.`) {
		t.Fatalf("HELP not escaped for OpenMetrics:\n%s", buf.String())
	}
}

func TestEmptyFamiliesAreNotWritten(t *testing.T) {
	s := NewSchema(famA, famB)
	b, _ := s.Block([]Sample{famB.Gauge(1, "x")})
	var buf bytes.Buffer
	if err := Write(&buf, Text, []Group{{Schema: s, Blocks: []*Block{b}}}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "test_a") {
		t.Fatalf("a family without series was written:\n%s", buf.String())
	}
	if b.Count(0) != 0 || b.Count(1) != 1 {
		t.Fatalf("Count() = %d, %d; want 0, 1", b.Count(0), b.Count(1))
	}
}

func TestWriteAllocatesNothingPerSeries(t *testing.T) {
	s := NewSchema(famA)
	var blocks []*Block
	for i := range 1000 {
		b, _ := s.Block([]Sample{famA.Gauge(float64(i), "x", string(rune('a'+i%26)))})
		blocks = append(blocks, b)
	}
	groups := []Group{{Schema: s, Blocks: blocks}}
	var buf bytes.Buffer
	buf.Grow(1 << 20)
	allocs := testing.AllocsPerRun(10, func() {
		buf.Reset()
		_ = Write(&buf, Text, groups)
	})
	if allocs > 4 {
		t.Fatalf("Write made %.0f allocations for 1000 series; want a constant few", allocs)
	}
}

func TestUpdateKeepsAnUnchangedBlock(t *testing.T) {
	s := NewSchema(famA, famB)
	old, _ := s.Block([]Sample{famA.Gauge(1, "x", "1"), famB.Gauge(2, "x")})
	same, _ := s.Update(old, []Sample{famA.Gauge(1, "x", "1"), famB.Gauge(2, "x")})
	if same != old {
		t.Fatal("an update to the same values made a new block")
	}
	changed, _ := s.Update(old, []Sample{famA.Gauge(1, "x", "1"), famB.Gauge(3, "x")})
	if changed == old || string(changed.AppendPart(nil, 1)) != "test_b{app=\"x\"} 3\n" {
		t.Fatalf("an update to new values: %q", changed.AppendPart(nil, 1))
	}
	if string(old.AppendPart(nil, 1)) != "test_b{app=\"x\"} 2\n" {
		t.Fatal("an update changed the old block, which scrapes may be writing")
	}
	allocs := testing.AllocsPerRun(20, func() {
		s.Update(old, []Sample{famA.Gauge(1, "x", "1"), famB.Gauge(2, "x")})
	})
	if allocs > 6 {
		t.Fatalf("an unchanged update made %.0f allocations", allocs)
	}
}

func TestFrontCodedLinesRoundTrip(t *testing.T) {
	long := strings.Repeat("v", 400) // shares more than a byte can say
	fam := NewFamily("test_fc", "Front-coded.", "id", "channel")
	s := NewSchema(fam)
	samples := []Sample{
		fam.Gauge(1, long, "a"), fam.Gauge(2, long, "b"), fam.Gauge(3, long+"x", "a"),
		fam.Gauge(4, "short", "a\"q"), fam.Gauge(5, "short", "a\"q\\"),
	}
	b, _ := s.Block(samples)
	var want []byte
	for _, smp := range samples {
		want = appendSeries(want, smp)
	}
	if got := b.AppendPart(nil, 0); string(got) != string(want) {
		t.Fatalf("decoded\n%s\nwant\n%s", got, want)
	}
	if len(b.part(0)) >= len(want)*2/3 {
		t.Fatalf("front coding kept %d of %d bytes", len(b.part(0)), len(want))
	}
	// Through Write, with blocks of one line, short and long, before and
	// after it: the far more common case Write copies without decoding.
	one, _ := s.Block(samples[:1])
	short, _ := s.Block(samples[3:4])
	var out bytes.Buffer
	if err := Write(&out, Text, []Group{{Schema: s, Blocks: []*Block{short, one, b, one, short}}}); err != nil {
		t.Fatal(err)
	}
	shortLine, oneLine := appendSeries(nil, samples[3]), appendSeries(nil, samples[0])
	wantAll := "# HELP test_fc Front-coded.\n# TYPE test_fc gauge\n" + string(shortLine) + string(oneLine) + string(want) + string(oneLine) + string(shortLine)
	if out.String() != wantAll {
		t.Fatalf("wrote\n%s\nwant\n%s", out.String(), wantAll)
	}
}

func TestRenderOfAChangedBlockAllocatesOnlyTheBlock(t *testing.T) {
	s := NewSchema(famA, famB)
	samples := make([]Sample, 0, 41)
	for i := range 40 {
		samples = append(samples, famA.Gauge(float64(i), "x", strconv.Itoa(i)))
	}
	samples = append(samples, famB.Gauge(1, "x"))
	if raceEnabled {
		t.Skip("allocation counts under the race detector")
	}
	s.Block(samples)
	allocs := testing.AllocsPerRun(20, func() { s.Block(samples) })
	if allocs > 2 {
		t.Fatalf("rendering a block of 41 series made %.0f allocations; want the block's own", allocs)
	}
}
