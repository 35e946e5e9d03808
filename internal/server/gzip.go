package server

import (
	"bufio"
	"context"
	"io"
	"sync"

	"github.com/imstats/imstats_exporter/internal/expo"
)

// A gzip /metrics body is one gzip member: the vendor series as deflate
// segments (expo.Deflater), compressed when their blocks change and shared
// by every scrape until then, and the exporter's own metrics, compressed
// per scrape. The segments of one snapshot generation are assembled once
// however many scrapes ask for it (gzipped).

// deflated is the vendor part of a gzip body.
type deflated = expo.Deflated

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

// gzipped returns the vendor part for key, assembling it once however many
// scrapes ask at the same time; nil when ctx ends first. Assembling
// compresses only the segments whose blocks changed since the last
// generations.
func (c *scrapeCache) gzipped(ctx context.Context, key gzKey, groups []expo.Group) *deflated {
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
		e.body = c.deflater.Deflate(key.format, groups)
		close(e.done)
	}
	select {
	case <-e.done:
		return e.body
	case <-ctx.Done():
		return nil
	}
}
