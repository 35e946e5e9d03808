package expo

import (
	"bytes"
	"encoding/binary"
	"github.com/klauspost/compress/flate"
	"hash/crc32"
	"io"
	"slices"
	"sort"
	"sync"
)

// A gzip body is one gzip member (RFC 1952) whose deflate stream (RFC 1951)
// is a run of segments, each compressed on its own and ended with a sync
// flush: an empty stored block, which leaves the stream on a byte boundary
// and ends no block as the last. Segments can therefore be joined in any
// order, and one made for an earlier scrape is used again as it is. A
// segment is a family's HELP and TYPE lines, or the lines of one family in
// a run of consecutive blocks of one target (Runs). The member's CRC-32 is
// combined from the segments' (crcCombine) and its size summed, so the
// uncompressed bytes are never read again. After the segments, the
// caller's own bytes follow in fresh blocks ending with the final one.
// (Several gzip members would be simpler, but curl and other zlib-based
// clients stop after the first.)

// Deflated is deflate segments, each ending with a sync flush, none with
// the final block: a family's header, or a family's lines in one target;
// the CRC-32 and length of the bytes they hold. It is immutable once made.
type Deflated struct {
	segs  []*segment
	crc   uint32
	size  int64
	shift uint32 // crcShift(size), to combine the CRC cheaply
}

// Size returns how many bytes d's segments hold uncompressed.
func (d *Deflated) Size() int64 { return d.size }

// Body is the vendor part of a gzip body: Deflated parts in order.
type Body struct {
	parts []*Deflated
	crc   uint32
	size  int64
}

// Append appends d's segments to b's; d must outlive b.
func (b *Body) Append(d *Deflated) {
	if d.size == 0 {
		return
	}
	b.parts = append(b.parts, d)
	b.crc = multModP(d.shift, b.crc) ^ d.crc
	b.size += d.size
}

// Segments returns b's segments in order.
func (b *Body) Segments() [][]byte {
	var out [][]byte
	for _, d := range b.parts {
		for _, s := range d.segs {
			out = append(out, s.data)
		}
	}
	return out
}

// segment is one compressed segment and its checksum.
type segment struct {
	data  []byte
	crc   uint32
	size  int64
	shift uint32 // crcShift(size), to combine the CRC cheaply
}

// newSegment compresses p into a segment.
func newSegment(p []byte) *segment {
	return &segment{
		data:  deflateSegment(p),
		crc:   crc32.ChecksumIEEE(p),
		size:  int64(len(p)),
		shift: crcShift(int64(len(p))),
	}
}

// headerSegments are the compressed HELP and TYPE lines of every family,
// by format: a family's lives as long as the process, as the family does.
var headerSegments sync.Map // of headerKey → *Deflated

type headerKey struct {
	fam    *Family
	format Format
}

// HeaderSegment returns fam's HELP and TYPE lines in format, compressed.
func HeaderSegment(fam *Family, format Format) *Deflated {
	k := headerKey{fam, format}
	v, ok := headerSegments.Load(k)
	if !ok {
		s := newSegment(appendHeader(nil, format, fam))
		v, _ = headerSegments.LoadOrStore(k, &Deflated{segs: []*segment{s}, crc: s.crc, size: s.size, shift: s.shift})
	}
	return v.(*Deflated)
}

// Runs keeps the lines of one target's blocks, the blocks at positions 0
// to n-1 of the target's list, as deflate segments: for each family of
// the schema, runs of consecutive positions whose lines of that family are
// compressed together, up to maxRun encoded bytes. The target tells it of
// every change of its list (Set, Append, Remove), which marks the runs
// holding the change, in O(families × log runs); a deflation compresses
// those runs only. Each run's segment is kept until it changes, so a scrape
// of a new generation costs the change and a walk over the runs, not over
// the blocks.
//
// A deflation is Plan (under the target's lock), Compress (without it),
// Store (under it again) and Plan.Deflated. Runs is not safe for
// concurrent use: the target calls it under its lock.
type Runs struct {
	fams       [][]run // by family: runs by start, covering positions 0 to n-1
	n          int
	clock      uint64 // versions of runs
	compressed int64  // bytes compressed so far
}

// run is the lines of one family in positions start to the next run's
// start (or n).
type run struct {
	start int
	size  int      // encoded bytes of the family's lines in the run
	seg   *segment // nil while the run is dirty (or empty)
	ver   uint64   // the clock when it last changed
}

// maxRun is the largest run, in encoded bytes of lines (about twice that
// decoded): a run that grows past it is cut in two. A change recompresses
// a run per family it touches, so the size bounds a change's cost; smaller
// runs would cost the compression ratio and more segments per scrape.
const maxRun = 8 << 10

// NewRuns returns the runs of an empty list of blocks of schema s.
func NewRuns(s *Schema) *Runs { return &Runs{fams: make([][]run, len(s.families))} }

// Compressed returns how many bytes of lines the runs have compressed.
func (r *Runs) Compressed() int64 { return r.compressed }

// find returns the index of family i's run holding position p.
func (r *Runs) find(i, p int) int {
	runs := r.fams[i]
	return sort.Search(len(runs), func(k int) bool { return runs[k].start > p }) - 1
}

// touch marks run k of family i changed, its size moved by delta.
func (r *Runs) touch(i, k, delta int) {
	r.clock++
	ru := &r.fams[i][k]
	ru.size += delta
	ru.seg, ru.ver = nil, r.clock
}

// Set records that the block at position p changed from old to b.
func (r *Runs) Set(p int, old, b *Block) {
	for i := range r.fams {
		if op, np := old.part(i), b.part(i); !bytes.Equal(op, np) {
			r.touch(i, r.find(i, p), len(np)-len(op))
		}
	}
}

// Append records that b was added at position n.
func (r *Runs) Append(b *Block) {
	p := r.n
	r.n++
	for i, runs := range r.fams {
		np := len(b.part(i))
		if last := len(runs) - 1; last < 0 || runs[last].size > 0 && runs[last].size+np > maxRun {
			r.fams[i] = append(runs, run{start: p})
		}
		if np > 0 {
			r.touch(i, len(r.fams[i])-1, np)
		}
	}
}

// Remove records that the block at position p, removed, left the list
// and that the last block, moved, took its place (unless p was the last).
func (r *Runs) Remove(p int, removed, moved *Block) {
	last := r.n - 1
	for i := range r.fams {
		rp := removed.part(i)
		if p == last {
			if len(rp) > 0 {
				r.touch(i, r.find(i, p), -len(rp))
			}
		} else {
			mp := moved.part(i)
			if !bytes.Equal(rp, mp) {
				r.touch(i, r.find(i, p), len(mp)-len(rp))
			}
			if len(mp) > 0 {
				r.touch(i, r.find(i, last), -len(mp))
			}
		}
		if k := len(r.fams[i]) - 1; r.fams[i][k].start == last {
			r.fams[i] = r.fams[i][:k] // it holds no position now
		}
	}
	r.n--
}

// A Plan is the work of one deflation: for every family, the segments of
// the target's runs in order, and the runs to compress first.
type Plan struct {
	segs [][]*segment // by family; nil where a job will put one
	jobs []job
	sums [][]segmentSum // by family, by group of sumRuns runs (Deflated)
}

// job is a dirty run to compress: family fam's k-th segment of the plan,
// the run's start and version (to store the segment), and its blocks.
type job struct {
	fam, k, start int
	ver           uint64
	blocks        []*Block
}

// segmentSum is the CRC-32 and size of consecutive segments.
type segmentSum struct {
	crc   uint32
	size  int64
	shift uint32 // crcShift(size)
}

// sumRuns is how many runs' checksums a segmentSum combines: a deflation
// combines every group's sum, and the runs of the groups that changed.
const sumRuns = 64

// Plan returns the work of a deflation of blocks, the target's list, which
// must be the list Runs was told of. Runs past maxRun are cut first. It
// copies the block pointers of the runs to compress, so Compress needs no
// lock.
func (r *Runs) Plan(blocks []*Block) *Plan {
	pl := &Plan{segs: make([][]*segment, len(r.fams))}
	for i := range r.fams {
		r.split(i, blocks)
		runs := r.fams[i]
		segs := make([]*segment, 0, len(runs))
		for k, ru := range runs {
			if ru.size == 0 {
				continue
			}
			if ru.seg == nil {
				end := r.n
				if k+1 < len(runs) {
					end = runs[k+1].start
				}
				pl.jobs = append(pl.jobs, job{fam: i, k: len(segs), start: ru.start, ver: ru.ver, blocks: slices.Clone(blocks[ru.start:end])})
			}
			segs = append(segs, ru.seg)
		}
		pl.segs[i] = segs
	}
	return pl
}

// split cuts family i's dirty runs that grew past maxRun into runs of
// maxRun/2 to maxRun bytes (or one block, whatever its size).
func (r *Runs) split(i int, blocks []*Block) {
	runs := r.fams[i]
	for k := 0; k < len(runs); k++ {
		ru := runs[k]
		end := r.n
		if k+1 < len(runs) {
			end = runs[k+1].start
		}
		if ru.seg != nil || ru.size <= maxRun || end-ru.start < 2 {
			continue
		}
		var cut []run
		cur := run{start: ru.start}
		for p := ru.start; p < end; p++ {
			np := len(blocks[p].part(i))
			if p > cur.start && (cur.size >= maxRun/2 || cur.size+np > maxRun) {
				cut = append(cut, cur)
				cur = run{start: p}
			}
			cur.size += np
		}
		cut = append(cut, cur)
		for c := range cut {
			r.clock++
			cut[c].ver = r.clock
		}
		runs = append(runs[:k], append(cut, runs[k+1:]...)...)
		k += len(cut) - 1
	}
	r.fams[i] = runs
}

// Compress compresses the runs the plan found dirty. It needs no lock.
func (pl *Plan) Compress() {
	bp := writeBuffers.Get().(*[]byte)
	defer writeBuffers.Put(bp)
	for _, j := range pl.jobs {
		buf := (*bp)[:0]
		for _, b := range j.blocks {
			buf = appendDecoded(buf, b.part(j.fam))
		}
		pl.segs[j.fam][j.k] = newSegment(buf)
		*bp = buf
	}
}

// Store keeps the segments Compress made for the runs that have not
// changed since Plan.
func (r *Runs) Store(pl *Plan) {
	defer func() { pl.jobs = nil }() // their blocks may be gone from the list: let them go
	for _, j := range pl.jobs {
		seg := pl.segs[j.fam][j.k]
		r.compressed += seg.size
		runs := r.fams[j.fam]
		if k := r.find(j.fam, j.start); k >= 0 && runs[k].start == j.start && runs[k].ver == j.ver {
			runs[k].seg = seg
		}
	}
}

// Deflated returns the plan's segments by family, once compressed. The
// checksums of each group of sumRuns runs are combined once and kept in the
// plan: those of a group whose segments are prev's too are taken from prev
// (the target's previous plan, or nil), so a deflation combines about
// runs/sumRuns checksums, not one per run.
func (pl *Plan) Deflated(prev *Plan) []Deflated {
	out := make([]Deflated, len(pl.segs))
	pl.sums = make([][]segmentSum, len(pl.segs))
	for i, segs := range pl.segs {
		d := &out[i]
		d.segs = segs
		for g := 0; g*sumRuns < len(segs); g++ {
			lo, hi := g*sumRuns, min((g+1)*sumRuns, len(segs))
			var sum segmentSum
			if prev != nil && g < len(prev.sums[i]) && hi <= len(prev.segs[i]) && slices.Equal(segs[lo:hi], prev.segs[i][lo:hi]) {
				sum = prev.sums[i][g]
			} else {
				for _, s := range segs[lo:hi] {
					sum.crc = multModP(s.shift, sum.crc) ^ s.crc
					sum.size += s.size
				}
				sum.shift = crcShift(sum.size)
			}
			pl.sums[i] = append(pl.sums[i], sum)
			d.crc = multModP(sum.shift, d.crc) ^ sum.crc
			d.size += sum.size
		}
		d.shift = crcShift(d.size)
	}
	return out
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

// WriteGzip writes one gzip member holding b's bytes followed by rest.
func WriteGzip(w io.Writer, b *Body, rest []byte) error {
	if _, err := w.Write(gzipHeader); err != nil {
		return err
	}
	for _, d := range b.parts {
		for _, s := range d.segs {
			if _, err := w.Write(s.data); err != nil {
				return err
			}
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
	binary.LittleEndian.PutUint32(trailer[:4], crcCombine(b.crc, crc32.ChecksumIEEE(rest), int64(len(rest))))
	binary.LittleEndian.PutUint32(trailer[4:], uint32(b.size+int64(len(rest))))
	_, err := w.Write(trailer[:])
	return err
}
