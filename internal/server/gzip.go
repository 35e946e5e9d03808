package server

import (
	"bufio"
	"context"
	"io"
	"slices"
	"sync"

	"github.com/imstats/imstats_exporter/internal/expo"
)

// A gzip /metrics body is one gzip member: the vendor series as deflate
// segments (each target's expo.Runs), compressed when their blocks change
// and shared by every scrape until then, and the exporter's own metrics,
// compressed per scrape. The segments of one snapshot generation are
// assembled once however many scrapes ask for it (gzipped).

// deflated is the vendor part of a gzip body.
type deflated = expo.Body

// gzipWriters buffer a gzip body's many small segments into 64 KiB writes.
var gzipWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

// writeGzip writes one gzip member holding d's bytes followed by rest.
func writeGzip(w io.Writer, d *deflated, rest []byte) error {
	bw := gzipWriters.Get().(*bufio.Writer)
	defer gzipWriters.Put(bw)
	bw.Reset(w)
	defer bw.Reset(nil)
	if err := expo.WriteGzip(bw, d, rest); err != nil {
		return err
	}
	return bw.Flush()
}

// gzipped returns the vendor part for key, assembling it from units once
// however many scrapes ask at the same time; nil when ctx ends first.
// Assembling compresses only the runs of lines that changed since the
// last assembly.
func (c *scrapeCache) gzipped(ctx context.Context, key gzKey, units *unitList) *deflated {
	c.mu.Lock()
	e, ok := c.entries[key]
	if !ok {
		e = &gzEntry{done: make(chan struct{})}
		for k := range c.entries {
			if k.format == key.format {
				delete(c.entries, k)
			}
		}
		c.entries[key] = e
	}
	c.mu.Unlock()
	if !ok {
		e.body = deflateUnits(key.format, units)
		close(e.done)
	}
	select {
	case <-e.done:
		return e.body
	case <-ctx.Done():
		return nil
	}
}

// deflateUnits assembles the vendor series of units as deflate segments in
// the order expo.Write writes them: source by source in the order the
// sources first appear, then family by family, then target by target.
func deflateUnits(format expo.Format, units *unitList) *deflated {
	var schemas []*expo.Schema
	parts := map[*expo.Schema][][]expo.Deflated{}
	for _, u := range units.units {
		sc := u.def.Schema
		if _, ok := parts[sc]; !ok {
			schemas = append(schemas, sc)
		}
		parts[sc] = append(parts[sc], u.target.Deflated())
	}
	out := &deflated{}
	for _, sc := range schemas {
		for i, fam := range sc.Families() {
			if !slices.ContainsFunc(parts[sc], func(d []expo.Deflated) bool { return d[i].Size() > 0 }) {
				continue
			}
			out.Append(expo.HeaderSegment(fam, format))
			for _, d := range parts[sc] {
				out.Append(&d[i])
			}
		}
	}
	return out
}
