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
// the order expo.Write writes them (expo.SchemaOrder): family by family of
// each source, target by target.
func deflateUnits(format expo.Format, units *unitList) *deflated {
	list := units.units
	parts := make([][]expo.Deflated, len(list))
	for k, u := range list {
		parts[k] = u.target.Deflated()
	}
	out := &deflated{}
	for _, idx := range expo.SchemaOrder(len(list), func(k int) *expo.Schema { return list[k].def.Schema }) {
		for i, fam := range list[idx[0]].def.Schema.Families() {
			if !slices.ContainsFunc(idx, func(k int) bool { return parts[k][i].Size() > 0 }) {
				continue
			}
			out.Append(expo.HeaderSegment(fam, format))
			for _, k := range idx {
				out.Append(&parts[k][i])
			}
		}
	}
	return out
}
