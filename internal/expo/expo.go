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
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
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
// It is immutable once built, so scrapes share it without locks.
type Block struct {
	buf []byte
	off []uint32 // family i's lines are buf[off[i]:off[i+1]]
	n   []int32  // series per family
}

// Part returns the lines of family i.
func (b *Block) Part(i int) []byte { return b.buf[b.off[i]:b.off[i+1]] }

// Count returns the number of series of family i.
func (b *Block) Count(i int) int { return int(b.n[i]) }

// Series returns the number of series in the block.
func (b *Block) Series() int {
	n := 0
	for _, c := range b.n {
		n += int(c)
	}
	return n
}

// Block renders samples into a Block, grouped by family in schema order.
// A sample of a family outside the schema panics (a programming error). A
// second sample with the same family and label values is dropped, and
// Block says how many were: one duplicate would fail the whole scrape, and
// a vendor answer listing something twice must not do that.
func (s *Schema) Block(samples []Sample) (*Block, int) {
	byFam := make([][]int, len(s.families))
	for i, smp := range samples {
		fi, ok := s.index[smp.Family]
		if !ok {
			panic("expo: family " + smp.Family.Name + " is not in the schema")
		}
		byFam[fi] = append(byFam[fi], i)
	}
	b := &Block{off: make([]uint32, len(s.families)+1), n: make([]int32, len(s.families))}
	dropped := 0
	var seen map[string]bool
	for fi, idx := range byFam {
		b.off[fi] = uint32(len(b.buf))
		if len(idx) > 1 {
			seen = make(map[string]bool, len(idx))
		}
		for _, i := range idx {
			start := len(b.buf)
			b.buf = appendSeries(b.buf, samples[i])
			if seen != nil {
				line := b.buf[start : len(b.buf)-1]
				key := string(line[:bytes.LastIndexByte(line, ' ')])
				if seen[key] {
					b.buf = b.buf[:start]
					dropped++
					continue
				}
				seen[key] = true
			}
			b.n[fi]++
		}
		seen = nil
	}
	b.off[len(s.families)] = uint32(len(b.buf))
	b.buf = slices.Clip(b.buf)
	return b, dropped
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
