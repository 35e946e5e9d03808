// Package expo keeps vendor series as ready exposition bytes, the way
// kube-state-metrics' metrics store does: a refresh turns the samples of one
// key (a tracked ID, or a whole small snapshot) into a Block once, and every
// scrape only copies Blocks to the wire. Rendering costs no allocation per
// series, and a scrape never builds a protobuf per series.
//
// A Schema is the ordered list of families one source emits. A Block holds,
// for each family of its Schema, the sample lines of its key. The Writer
// writes, family by family, the HELP and TYPE lines once and then every
// Block's lines of that family, in the Prometheus text format or in
// OpenMetrics (the sample lines of a gauge are the same in both).
package expo

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// Family is a gauge family of vendor series.
type Family struct {
	Name   string
	Help   string
	Labels []string // label names, in the order samples give their values
}

// NewFamily returns a gauge family.
func NewFamily(name, help string, labels ...string) *Family {
	return &Family{Name: name, Help: help, Labels: labels}
}

// Gauge returns a sample of f. labels must be as many as f's label names;
// they are kept, not copied.
func (f *Family) Gauge(v float64, labels ...string) Sample {
	if len(labels) != len(f.Labels) {
		panic("expo: " + f.Name + ": wrong number of label values")
	}
	return Sample{Family: f, Value: v, Labels: labels}
}

// Sample is one series of a family and its value.
type Sample struct {
	Family *Family
	Value  float64
	Labels []string
}

// Schema is the families one source emits, in the order they are written.
type Schema struct {
	families []*Family
	index    map[*Family]int
}

// NewSchema returns the schema of families. A family belongs to at most one
// schema of a process: the Writer writes each family once.
func NewSchema(families ...*Family) *Schema {
	s := &Schema{families: families, index: make(map[*Family]int, len(families))}
	for i, f := range families {
		s.index[f] = i
	}
	return s
}

// Families returns the schema's families.
func (s *Schema) Families() []*Family { return s.families }

// Block is the rendered sample lines of one key, by family of its schema.
// It is immutable once built, so scrapes share it without locks. It is one
// allocation, the Block itself, a header, then the lines, so that a scrape
// walking a million blocks touches as little memory as it can:
//
//	header: (F+1) little-endian uint32 offsets into the lines, then F counts
//	lines:  family 0's lines, family 1's, …
//
// A family's lines are front-coded, since the lines of one key repeat the
// family name and the key's labels and differ in a label or two and the
// value: each line is a byte saying how many bytes it shares with the line
// before (0 for the first), the length of the rest as a uvarint, then the
// rest, through its line feed. That keeps about half the bytes of a block
// of a few lines per family, and costs a scrape two copies per line, with
// no search for the line's end.
type Block struct {
	families uint32
	size     uint32 // bytes of header and lines
	// The header and lines follow in the same allocation (newBlock).
}

// blockHead is the size of a Block before its header and lines.
const blockHead = int(unsafe.Sizeof(Block{}))

// newBlock returns a Block of data, a copy made in one allocation with
// the Block in front: a scrape then reaches a block's lines with one
// dependent load fewer, a block costs one small object and no slice
// header, and the allocation holds no pointer, so the garbage collector
// never scans it.
func newBlock(data []byte, families int) *Block {
	mem := make([]byte, blockHead+len(data)) // at least 8-aligned, more than Block needs
	b := (*Block)(unsafe.Pointer(unsafe.SliceData(mem)))
	b.families, b.size = uint32(families), uint32(len(data))
	copy(mem[blockHead:], data)
	return b
}

// data returns the block's header and lines.
func (b *Block) data() []byte {
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(b), blockHead)), b.size)
}

// part returns the encoded lines of family i.
func (b *Block) part(i int) []byte {
	data := b.data()
	lines := data[headerSize(int(b.families)):]
	return lines[le32(data, i):le32(data, i+1)]
}

// AppendPart appends the lines of family i to dst.
func (b *Block) AppendPart(dst []byte, i int) []byte {
	return appendDecoded(dst, b.part(i))
}

// appendDecoded appends the lines of a front-coded part.
func appendDecoded(dst, enc []byte) []byte {
	prev := len(dst)
	for len(enc) > 0 {
		shared, n, k := int(enc[0]), int(enc[1]), 2
		if n >= 0x80 {
			u, w := binary.Uvarint(enc[1:])
			n, k = int(u), 1+w
		}
		start := len(dst)
		dst = append(dst, dst[prev:prev+shared]...)
		dst = append(dst, enc[k:k+n]...)
		enc = enc[k+n:]
		prev = start
	}
	return dst
}

// Count returns the number of series of family i.
func (b *Block) Count(i int) int { return int(le32(b.data(), int(b.families)+1+i)) }

// headerSize is the size of a block's header for f families.
func headerSize(f int) int { return 4 * (2*f + 1) }

// le32 reads the i-th uint32 of a block's header.
func le32(data []byte, i int) uint32 { return binary.LittleEndian.Uint32(data[4*i:]) }

// Block renders samples into a Block, grouped by family in schema order.
// A sample of a family outside the schema panics (a programming error). A
// second sample with the same family and label values is dropped, and
// Block says how many were: one duplicate would fail the whole scrape, and
// a vendor answer listing something twice must not do that.
func (s *Schema) Block(samples []Sample) (*Block, int) {
	return s.Update(nil, samples)
}

// Update is Block, but returns old itself when samples render to the same
// bytes: a re-poll that brings no change allocates nothing that lives, and
// the garbage collector has nothing to collect for it.
func (s *Schema) Update(old *Block, samples []Sample) (*Block, int) {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	data, dropped := s.render(sc, samples)
	sc.buf = data
	if old != nil && int(old.families) == len(s.families) && bytes.Equal(old.data(), data) {
		return old, dropped
	}
	return newBlock(data, len(s.families)), dropped
}

// scratch is a block rendered before it is compared with the block it
// replaces, the last line rendered, and the render's bookkeeping, all kept
// for the next render.
type scratch struct {
	buf, prev           []byte
	starts, next, order []int             // samples grouped by family
	seen                map[uint64][2]int // a family's series keys by hash: their span in keys
	keys                []byte
}

// seed hashes series keys.
var seed = maphash.MakeSeed()

// resetSeen forgets the series keys seen.
func (sc *scratch) resetSeen() {
	clear(sc.seen)
	sc.keys = sc.keys[:0]
}

// seenBefore reports whether key was seen since resetSeen, and remembers
// it.
func (sc *scratch) seenBefore(key []byte) bool {
	if sc.seen == nil {
		sc.seen = map[uint64][2]int{}
	}
	h := maphash.Bytes(seed, key)
	if span, ok := sc.seen[h]; ok && bytes.Equal(sc.keys[span[0]:span[1]], key) {
		return true
	}
	sc.seen[h] = [2]int{len(sc.keys), len(sc.keys) + len(key)}
	sc.keys = append(sc.keys, key...)
	return false
}

// scratchPool holds the scratch buffers of renders.
var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// render renders the block data of samples into sc.buf and returns it.
func (s *Schema) render(sc *scratch, samples []Sample) ([]byte, int) {
	buf := sc.buf[:0]
	f := len(s.families)
	// The samples' positions grouped by family, in schema order (a
	// counting sort, stable within a family).
	sc.starts = append(sc.starts[:0], make([]int, f+1)...)
	for _, smp := range samples {
		fi, ok := s.index[smp.Family]
		if !ok {
			panic("expo: family " + smp.Family.Name + " is not in the schema")
		}
		sc.starts[fi+1]++
	}
	for fi := range f {
		sc.starts[fi+1] += sc.starts[fi]
	}
	sc.order = append(sc.order[:0], make([]int, len(samples))...)
	next := append(sc.next[:0], sc.starts[:f]...)
	for i, smp := range samples {
		fi := s.index[smp.Family]
		sc.order[next[fi]] = i
		next[fi]++
	}
	sc.next = next
	h := headerSize(f)
	buf = append(buf, make([]byte, h)...)
	dropped := 0
	for fi := range f {
		idx := sc.order[sc.starts[fi]:sc.starts[fi+1]]
		binary.LittleEndian.PutUint32(buf[4*fi:], uint32(len(buf)-h))
		sc.resetSeen()
		n := 0
		for _, i := range idx {
			start := len(buf)
			buf = appendSeries(buf, samples[i])
			line := buf[start:]
			if len(idx) > 1 && sc.seenBefore(line[:bytes.LastIndexByte(line[:len(line)-1], ' ')]) {
				buf = buf[:start]
				dropped++
				continue
			}
			shared := 0
			if n > 0 {
				shared = min(commonPrefix(sc.prev, line), len(line)-1, 255)
			}
			sc.prev = append(sc.prev[:0], line...)
			// Front-code the line against the one before.
			buf = append(buf[:start], byte(shared))
			buf = binary.AppendUvarint(buf, uint64(len(sc.prev)-shared))
			buf = append(buf, sc.prev[shared:]...)
			n++
		}
		binary.LittleEndian.PutUint32(buf[4*(f+1+fi):], uint32(n))
	}
	binary.LittleEndian.PutUint32(buf[4*f:], uint32(len(buf)-h))
	return buf, dropped
}

// commonPrefix returns how many bytes a and b share at the start.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// appendSeries appends one sample line: name{l="v",…} value\n. A label value
// that is not valid UTF-8 (from a vendor's answer) is repaired, since an
// invalid exposition would fail the whole scrape.
func appendSeries(buf []byte, s Sample) []byte {
	f := s.Family
	buf = append(buf, f.Name...)
	if len(f.Labels) > 0 {
		buf = append(buf, '{')
		for i, name := range f.Labels {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, name...)
			buf = append(buf, '=', '"')
			buf = appendLabelValue(buf, s.Labels[i])
			buf = append(buf, '"')
		}
		buf = append(buf, '}')
	}
	buf = append(buf, ' ')
	buf = AppendValue(buf, s.Value)
	return append(buf, '\n')
}

// appendLabelValue appends v escaped as the text format and OpenMetrics
// both require: backslash, double quote and line feed.
func appendLabelValue(buf []byte, v string) []byte {
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			buf = append(buf, '\\', '\\')
		case '"':
			buf = append(buf, '\\', '"')
		case '\n':
			buf = append(buf, '\\', 'n')
		default:
			buf = append(buf, c)
		}
	}
	return buf
}

// AppendValue appends a sample value as both formats accept it.
func AppendValue(buf []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(buf, "+Inf"...)
	case math.IsInf(v, -1):
		return append(buf, "-Inf"...)
	case math.IsNaN(v):
		return append(buf, "NaN"...)
	}
	return strconv.AppendFloat(buf, v, 'g', -1, 64)
}
