package expo

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
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

func TestDeflateJoinsSegmentsIntoOneGzipMember(t *testing.T) {
	s := NewSchema(famRun, famRun2)
	groups := []Group{{Schema: s, Blocks: runBlocks(s, 3000, 0)}}
	for _, format := range []Format{Text, OpenMetrics} {
		var want bytes.Buffer
		_ = Write(&want, format, groups)
		want.WriteString("own metrics\n")
		d := NewDeflater()
		body := d.Deflate(format, groups)
		if len(body.Segments) < 4 {
			t.Fatalf("%d segments; the test wants several runs", len(body.Segments))
		}
		var gz bytes.Buffer
		if err := WriteGzip(&gz, body, []byte("own metrics\n")); err != nil {
			t.Fatal(err)
		}
		if got := gunzipOne(t, gz.Bytes()); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("format %d: the gzip body holds %d bytes that differ from Write's %d", format, len(got), want.Len())
		}
	}
}

func TestDeflateCompressesOnlyWhatChanged(t *testing.T) {
	s := NewSchema(famRun, famRun2)
	blocks := runBlocks(s, 5000, 0)
	groups := []Group{{Schema: s, Blocks: blocks}}
	var text bytes.Buffer
	_ = Write(&text, Text, groups)
	d := NewDeflater()
	d.Deflate(Text, groups)
	if d.compressed != int64(text.Len()) {
		t.Fatalf("the first build compressed %d bytes of %d", d.compressed, text.Len())
	}
	step := func(what string, limit int64) *Deflated {
		t.Helper()
		before := d.compressed
		body := d.Deflate(Text, groups)
		if n := d.compressed - before; n > limit {
			t.Fatalf("%s: compressed %d bytes again, want at most %d", what, n, limit)
		}
		var want, gz bytes.Buffer
		_ = Write(&want, Text, groups)
		_ = WriteGzip(&gz, body, nil)
		if !bytes.Equal(gunzipOne(t, gz.Bytes()), want.Bytes()) {
			t.Fatalf("%s: the body differs from Write's", what)
		}
		return body
	}
	step("no change", 0)
	// A block in the middle changes: the runs that hold it (one per
	// family) are compressed again, nothing else.
	blocks[2500] = runBlock(s, 2500, 1)
	step("one block changed", 2*maxSegment)
	// A block at the front goes and the others move: the runs are found
	// by their blocks, not by their position.
	groups[0].Blocks = blocks[1:]
	step("the first block removed", 2*maxSegment)
	// The other format shares the lines; only the headers are new.
	before := d.compressed
	d.Deflate(OpenMetrics, groups)
	if n := d.compressed - before; n > 1000 {
		t.Fatalf("OpenMetrics after text compressed %d bytes", n)
	}
}

// BenchmarkDeflateUnchanged is a build in which no block changed: the walk
// over the blocks and the lookups of their segments.
func BenchmarkDeflateUnchanged(b *testing.B) {
	s := NewSchema(famRun, famRun2)
	groups := []Group{{Schema: s, Blocks: runBlocks(s, 200_000, 0)}}
	d := NewDeflater()
	d.Deflate(Text, groups)
	for b.Loop() {
		d.Deflate(Text, groups)
	}
}
