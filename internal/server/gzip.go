package server

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"

	"github.com/imstats/imstats_exporter/internal/expo"
)

// A gzip /metrics body is one gzip member (RFC 1952) whose deflate stream
// is two parts: the vendor series, compressed once per snapshot generation
// and shared by every scrape of it, and the exporter's own metrics,
// compressed per scrape. The shared part ends with a sync flush, so it is
// not the final block and ends on a byte boundary, and the per-scrape part
// continues the stream with fresh blocks; the trailer's CRC-32 runs on
// from the shared part's. (Two gzip members would be simpler, but curl and
// other zlib-based clients stop after the first member.)

// deflated is the vendor part of a gzip body.
type deflated struct {
	data []byte // deflate blocks, sync-flushed, none final
	crc  uint32 // CRC-32 of the uncompressed bytes
	size uint32 // their length, modulo 2^32 as gzip's ISIZE
}

// deflateGroups compresses the exposition of groups in format.
func deflateGroups(format expo.Format, groups []expo.Group) *deflated {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestSpeed)
	cw := &crcWriter{w: fw}
	// Blocks are small: the compressor and the checksum get them in 64 KiB
	// writes.
	bw := bufio.NewWriterSize(cw, 64<<10)
	_ = expo.Write(bw, format, groups)
	_ = bw.Flush()
	_ = fw.Flush()
	return &deflated{data: buf.Bytes(), crc: cw.crc, size: cw.size}
}

// gzipHeader is a gzip member header: deflate, no flags, no time, unknown OS.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}

// writeGzip writes one gzip member holding d's bytes followed by rest.
func writeGzip(w io.Writer, d *deflated, rest []byte) error {
	if _, err := w.Write(gzipHeader); err != nil {
		return err
	}
	if _, err := w.Write(d.data); err != nil {
		return err
	}
	fw, _ := flate.NewWriter(w, flate.BestSpeed)
	if _, err := fw.Write(rest); err != nil {
		return err
	}
	if err := fw.Close(); err != nil {
		return err
	}
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:4], crc32.Update(d.crc, crc32.IEEETable, rest))
	binary.LittleEndian.PutUint32(trailer[4:], d.size+uint32(len(rest)))
	_, err := w.Write(trailer[:])
	return err
}

// crcWriter counts and checksums what passes through it.
type crcWriter struct {
	w    io.Writer
	crc  uint32
	size uint32
}

func (c *crcWriter) Write(p []byte) (int, error) {
	c.crc = crc32.Update(c.crc, crc32.IEEETable, p)
	c.size += uint32(len(p))
	return c.w.Write(p)
}

// gzipped returns the vendor part for key, compressing it once however many
// scrapes ask at the same time; nil when ctx ends first.
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
		e.body = deflateGroups(key.format, groups)
		close(e.done)
	}
	select {
	case <-e.done:
		return e.body
	case <-ctx.Done():
		return nil
	}
}
