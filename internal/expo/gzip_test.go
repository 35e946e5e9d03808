package expo

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

var (
	famRun  = NewFamily("test_run", "Lines of a run.", "id", "channel")
	famRun2 = NewFamily("test_run2", "Other \"lines\".", "id")
)

// runBlocks returns n blocks of a few series each, as a tracked-ID source
// keeps them; block i's values are i+v.
func runBlocks(s *Schema, n, v int) []*Block {
	blocks := make([]*Block, n)
	for i := range blocks {
		blocks[i] = runBlock(s, i, v)
	}
	return blocks
}

func runBlock(s *Schema, i, v int) *Block {
	id := fmt.Sprintf("task-%08d", i)
	var samples []Sample
	for c := range 5 {
		samples = append(samples, famRun.Gauge(float64(i+v+c), id, fmt.Sprint("ch", c)))
	}
	samples = append(samples, famRun2.Gauge(float64(i), id))
	b, _ := s.Block(samples)
	return b
}

// gunzipOne reads exactly one gzip member, as curl and zlib-based clients
// do, and fails when bytes follow it.
func gunzipOne(t *testing.T, body []byte) []byte {
	t.Helper()
	br := bytes.NewReader(body)
	zr, err := gzip.NewReader(br)
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("reading the gzip member: %v", err)
	}
	if br.Len() != 0 {
		t.Fatalf("%d bytes after the gzip member", br.Len())
	}
	return out
}

// list is a target's list of blocks as refresh.Target keeps it (a removed
// block's place taken by the last one) and its Runs.
type list struct {
	schema *Schema
	runs   *Runs
	blocks []*Block
	last   *Plan
}

func newList(s *Schema) *list { return &list{schema: s, runs: NewRuns(s)} }

func (l *list) add(b *Block) {
	l.runs.Append(b)
	l.blocks = append(l.blocks, b)
}

func (l *list) set(p int, b *Block) {
	l.runs.Set(p, l.blocks[p], b)
	l.blocks[p] = b
}

func (l *list) remove(p int) {
	last := len(l.blocks) - 1
	l.runs.Remove(p, l.blocks[p], l.blocks[last])
	l.blocks[p] = l.blocks[last]
	l.blocks = l.blocks[:last]
}

// deflate assembles the list's body as the server does, and fails unless
// it holds what Write writes, in one gzip member.
func (l *list) deflate(t *testing.T, format Format) *Body {
	t.Helper()
	pl := l.runs.Plan(l.blocks)
	pl.Compress()
	l.runs.Store(pl)
	parts := pl.Deflated(l.last)
	l.last = pl
	out := &Body{}
	for i, fam := range l.schema.families {
		if parts[i].Size() > 0 {
			out.Append(HeaderSegment(fam, format))
			out.Append(&parts[i])
		}
	}
	var want, gz bytes.Buffer
	_ = Write(&want, format, []Group{{Schema: l.schema, Blocks: l.blocks}})
	want.WriteString("own metrics\n")
	if err := WriteGzip(&gz, out, []byte("own metrics\n")); err != nil {
		t.Fatal(err)
	}
	if got := gunzipOne(t, gz.Bytes()); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("format %d: the gzip body holds %d bytes that differ from Write's %d", format, len(got), want.Len())
	}
	return out
}

func TestRunsJoinIntoOneGzipMember(t *testing.T) {
	s := NewSchema(famRun, famRun2)
	l := newList(s)
	for _, b := range runBlocks(s, 3000, 0) {
		l.add(b)
	}
	for _, format := range []Format{Text, OpenMetrics} {
		if d := l.deflate(t, format); len(d.Segments()) < 8 {
			t.Fatalf("%d segments; the test wants several runs", len(d.Segments()))
		}
	}
}

func TestRunsCompressOnlyWhatChanged(t *testing.T) {
	s := NewSchema(famRun, famRun2)
	l := newList(s)
	for _, b := range runBlocks(s, 5000, 0) {
		l.add(b)
	}
	var text bytes.Buffer
	_ = Write(&text, Text, []Group{{Schema: s, Blocks: l.blocks}})
	l.deflate(t, Text)
	step := func(what string, limit int64) {
		t.Helper()
		before := l.runs.Compressed()
		l.deflate(t, Text)
		if n := l.runs.Compressed() - before; n > limit {
			t.Fatalf("%s: compressed %d bytes again, want at most %d", what, n, limit)
		}
	}
	step("no change", 0)
	// A run is at most maxRun encoded bytes, at most twice that decoded
	// here; a change recompresses a run per family it touches.
	const run = 2 * maxRun
	l.set(2500, runBlock(s, 2500, 1))
	step("one block changed", 2*run)
	l.remove(0) // the last block moves to the front: two runs per family
	step("the first block removed", 4*run)
	l.add(runBlock(s, 9999, 0))
	step("a block added", 2*run)
	// The other format shares the lines: nothing is compressed again.
	l.deflate(t, OpenMetrics)
	step("the other format", 0)
}

// TestRunsFollowEveryChange changes, adds and removes blocks of every size
// at random, from one series to lines past maxRun, and deflates between:
// every body holds what Write writes, and every run stays within bounds.
func TestRunsFollowEveryChange(t *testing.T) {
	s := NewSchema(famRun, famRun2)
	rng := rand.New(rand.NewPCG(1, 2))
	block := func(v int) *Block {
		id := fmt.Sprintf("task-%08d", rng.IntN(1e8))
		var samples []Sample
		for c := range []int{0, 1, 5, 40, 400}[rng.IntN(5)] {
			samples = append(samples, famRun.Gauge(float64(v+c), id, fmt.Sprint("ch", c)))
		}
		if rng.IntN(3) > 0 {
			samples = append(samples, famRun2.Gauge(float64(v), id))
		}
		b, _ := s.Block(samples)
		return b
	}
	rounds := 3
	if raceEnabled {
		rounds = 1 // make test runs under the race detector, ten times slower
	}
	for round := range rounds {
		l := newList(s)
		for step := range 1200 {
			switch op := rng.IntN(10); {
			case op < 4 || len(l.blocks) == 0:
				l.add(block(step))
			case op < 8:
				l.set(rng.IntN(len(l.blocks)), block(step))
			default:
				l.remove(rng.IntN(len(l.blocks)))
			}
			if rng.IntN(30) == 0 {
				l.deflate(t, Format(step%2))
			}
		}
		for len(l.blocks) > round*100 {
			l.remove(rng.IntN(len(l.blocks)))
		}
		l.deflate(t, Text)
		for i, runs := range l.runs.fams {
			for k, ru := range runs {
				if ru.size < 0 || ru.size > maxRun && k+1 < len(runs) && runs[k+1].start-ru.start > 1 {
					t.Fatalf("round %d: family %d run %d holds %d bytes", round, i, k, ru.size)
				}
			}
		}
	}
}

// BenchmarkDeflateOneChange is a deflation after one block of 200 000
// changed: the walk over the runs and one run compressed per family.
func BenchmarkDeflateOneChange(b *testing.B) {
	s := NewSchema(famRun, famRun2)
	r := NewRuns(s)
	blocks := runBlocks(s, 200_000, 0)
	for _, bl := range blocks {
		r.Append(bl)
	}
	var last *Plan
	deflate := func() {
		pl := r.Plan(blocks)
		pl.Compress()
		r.Store(pl)
		pl.Deflated(last)
		last = pl
	}
	deflate()
	for i := 0; b.Loop(); i++ {
		nb := runBlock(s, 1000, i+1)
		r.Set(1000, blocks[1000], nb)
		blocks[1000] = nb
		deflate()
	}
}
