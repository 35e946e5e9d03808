package expo

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io"
	"sync"
)

// A gzip body is one gzip member (RFC 1952) whose deflate stream (RFC 1951)
// is a run of segments, each compressed on its own and ended with a sync
// flush: an empty stored block, which leaves the stream on a byte boundary
// and ends no block as the last. Segments can therefore be joined in any
// order, and one made for an earlier scrape is used again as it is. A
// segment is a family's HELP and TYPE lines, or the lines of that family in
// a run of consecutive blocks. The member's CRC-32 is combined from the
// segments' (crcCombine) and its size summed, so the uncompressed bytes are
// never read again. After the segments, the caller's own bytes follow in
// fresh blocks ending with the final one. (Several gzip members would be
// simpler, but curl and other zlib-based clients stop after the first.)

// Segment sizes: a run of blocks ends after a block whose id says so (one in
// eight, by a hash of the id) once it holds minSegment bytes, and at
// maxSegment bytes in any case. Ends chosen by the blocks themselves, not by
// position, stay where they are when blocks before them are added or
// removed, so a change recompresses the runs that hold it and no others.
const (
	minSegment = 16 << 10
	maxSegment = 256 << 10
)

// Deflated is the vendor part of a gzip body: raw deflate segments, each
// ending with a sync flush, none with the final block; the CRC-32 and
// length of the bytes they hold.
type Deflated struct {
	Segments [][]byte
	CRC      uint32
	Size     int64
}

// segment is one compressed segment and its checksum.
type segment struct {
	data  []byte
	crc   uint32
	size  int64
	shift uint32 // crcShift(size), to combine the CRC cheaply
	used  uint64 // the build that last used it
}

// segKey names a segment: a family's header in a format, or the lines of a
// family in the blocks whose ids hash to ids (n blocks).
type segKey struct {
	fam    *Family
	header bool
	format Format
	ids    uint64
	n      int
}

// Deflater keeps the segments of the last builds, so that a build
// compresses only the runs of blocks that changed since. Builds are
// serialised; a Deflater is safe for concurrent use.
type Deflater struct {
	mu      sync.Mutex
	segs    map[segKey]*segment
	build   uint64
	scratch []byte

	compressed int64 // bytes compressed so far
}

// Compressed returns how many uncompressed bytes the Deflater has
// compressed so far.
func (d *Deflater) Compressed() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.compressed
}

// NewDeflater returns an empty Deflater.
func NewDeflater() *Deflater { return &Deflater{segs: map[segKey]*segment{}} }

// Deflate returns the exposition of groups in format (as Write writes it)
// as deflate segments, compressing only the segments the previous two
// builds did not have. Segments of blocks that no longer exist are dropped.
func (d *Deflater) Deflate(format Format, groups []Group) *Deflated {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.build++
	out := &Deflated{}
	var hdr []byte
	for _, g := range groups {
		for i, fam := range g.Schema.families {
			if !g.has(i) {
				continue
			}
			hk := segKey{fam: fam, header: true, format: format}
			d.add(out, hk, func(buf []byte) []byte {
				hdr = appendHeader(hdr[:0], format, fam)
				return append(buf, hdr...)
			})
			start, n, size := 0, 0, 0
			ids := uint64(fnvOffset)
			for j, b := range g.Blocks {
				p := b.part(i)
				if len(p) == 0 {
					continue
				}
				if n == 0 {
					start = j
				}
				ids = (ids ^ b.id) * fnvPrime
				n++
				size += len(p)
				if size >= maxSegment || size >= minSegment && mix(b.id)&7 == 0 {
					d.addRun(out, fam, i, g.Blocks[start:j+1], ids, n)
					n, size, ids = 0, 0, fnvOffset
				}
			}
			if n > 0 {
				d.addRun(out, fam, i, g.Blocks[start:], ids, n)
			}
		}
	}
	for k, s := range d.segs {
		if s.used+1 < d.build {
			delete(d.segs, k)
		}
	}
	return out
}

// FNV-1a's constants, to hash a run's block ids.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// mix is splitmix64's finalizer: consecutive ids give unrelated bits.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// addRun adds the segment of family i's lines in blocks.
func (d *Deflater) addRun(out *Deflated, fam *Family, i int, blocks []*Block, ids uint64, n int) {
	d.add(out, segKey{fam: fam, ids: ids, n: n}, func(buf []byte) []byte {
		for _, b := range blocks {
			if b.Count(i) > 0 {
				buf = b.AppendPart(buf, i)
			}
		}
		return buf
	})
}

// add adds the segment of key to out, compressing the bytes render appends
// when no recent build has it.
func (d *Deflater) add(out *Deflated, key segKey, render func([]byte) []byte) {
	s, ok := d.segs[key]
	if !ok {
		d.scratch = render(d.scratch[:0])
		s = &segment{
			data: deflateSegment(d.scratch),
			crc:  crc32.ChecksumIEEE(d.scratch),
			size: int64(len(d.scratch)),
		}
		s.shift = crcShift(s.size)
		d.segs[key] = s
		d.compressed += s.size
		if cap(d.scratch) > 4*maxSegment {
			d.scratch = nil // one huge block: do not keep its buffer
		}
	}
	s.used = d.build
	out.Segments = append(out.Segments, s.data)
	out.CRC = multModP(s.shift, out.CRC) ^ s.crc
	out.Size += s.size
}

// flateWriters are deflate compressors at the exporter's level (BestSpeed),
// reset for each use: one costs about 1 MB to make.
var flateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(io.Discard, flate.BestSpeed)
	return w
}}

// segmentBuffers hold a segment while it is compressed.
var segmentBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// deflateSegment compresses p on its own, ending with a sync flush.
func deflateSegment(p []byte) []byte {
	buf := segmentBuffers.Get().(*bytes.Buffer)
	defer segmentBuffers.Put(buf)
	buf.Reset()
	fw := flateWriters.Get().(*flate.Writer)
	defer flateWriters.Put(fw)
	fw.Reset(buf)
	_, _ = fw.Write(p)
	_ = fw.Flush()
	return bytes.Clone(buf.Bytes())
}

// gzipHeader is a gzip member header: deflate, no flags, no time, unknown OS.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}

// WriteGzip writes one gzip member holding d's bytes followed by rest.
func WriteGzip(w io.Writer, d *Deflated, rest []byte) error {
	if _, err := w.Write(gzipHeader); err != nil {
		return err
	}
	for _, s := range d.Segments {
		if _, err := w.Write(s); err != nil {
			return err
		}
	}
	fw := flateWriters.Get().(*flate.Writer)
	defer flateWriters.Put(fw)
	fw.Reset(w)
	if _, err := fw.Write(rest); err != nil {
		return err
	}
	if err := fw.Close(); err != nil {
		return err
	}
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:4], crcCombine(d.CRC, crc32.ChecksumIEEE(rest), int64(len(rest))))
	binary.LittleEndian.PutUint32(trailer[4:], uint32(d.Size+int64(len(rest))))
	_, err := w.Write(trailer[:])
	return err
}
