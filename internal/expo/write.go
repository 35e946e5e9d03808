package expo

import (
	"io"
	"slices"
	"strings"
	"sync"
)

// Format is an exposition format the Writer produces.
type Format int

// The formats.
const (
	// Text is the Prometheus text format 0.0.4.
	Text Format = iota
	// OpenMetrics is OpenMetrics 1.0; the caller ends the whole exposition
	// with "# EOF" after everything else it writes.
	OpenMetrics
)

// Group is the blocks of one schema from one target, and how many series
// each family of the schema has in them (nil: Write counts them).
type Group struct {
	Schema *Schema
	Blocks []*Block
	Counts []int
}

// Write writes every family of the groups that has at least one series:
// its HELP and TYPE lines once, then the lines of every block of every
// group of its schema, in SchemaOrder. It writes to w in pieces of at least writeChunk bytes
// (a bufio.Writer of that size or less passes them on without copying),
// and allocates nothing per series. It returns the first error of w.
func Write(w io.Writer, f Format, groups []Group) error {
	bp := writeBuffers.Get().(*[]byte)
	defer writeBuffers.Put(bp)
	buf := (*bp)[:0]
	var err error
	for _, idx := range SchemaOrder(len(groups), func(k int) *Schema { return groups[k].Schema }) {
		for i, fam := range groups[idx[0]].Schema.families {
			if !slices.ContainsFunc(idx, func(k int) bool { return groups[k].has(i) }) {
				continue
			}
			buf = appendHeader(buf, f, fam)
			for _, k := range idx {
				if buf, err = writeLines(w, buf, groups[k].Blocks, i); err != nil {
					return err
				}
			}
		}
	}
	*bp = buf
	if len(buf) == 0 {
		return nil
	}
	_, err = w.Write(buf)
	return err
}

// SchemaOrder returns the indexes of n items (groups, or targets) grouped
// by their schema, schemas in the order they first appear and items in
// their order within each: the order Write writes, which a gzip body of
// the same items follows too.
func SchemaOrder(n int, schema func(int) *Schema) [][]int {
	var order [][]int
	for k := range n {
		s := schema(k)
		if j := slices.IndexFunc(order, func(idx []int) bool { return schema(idx[0]) == s }); j >= 0 {
			order[j] = append(order[j], k)
		} else {
			order = append(order, []int{k})
		}
	}
	return order
}

// writeLines appends family i's lines of blocks to buf, writing buf to w
// whenever it holds writeChunk bytes, and returns what is left of it.
func writeLines(w io.Writer, buf []byte, blocks []*Block, i int) ([]byte, error) {
	for j, b := range blocks {
		prefetchAhead(blocks, j, i)
		p := b.part(i)
		if len(p) > 2 && p[0] == 0 && p[1] < 0x80 && int(p[1])+2 == len(p) {
			buf = append(buf, p[2:]...) // one short line
		} else {
			buf = appendDecoded(buf, p)
		}
		if len(buf) >= writeChunk {
			if _, err := w.Write(buf); err != nil {
				return buf, err
			}
			buf = buf[:0]
		}
	}
	return buf, nil
}

// writeChunk is the size of Write's writes.
const writeChunk = 64 << 10

// writeBuffers hold what Write has decoded and not yet written.
var writeBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, writeChunk+4<<10)
	return &b
}}

// has reports whether family i has a series in the group.
func (g *Group) has(i int) bool {
	if g.Counts != nil {
		return g.Counts[i] > 0
	}
	for _, b := range g.Blocks {
		if b.Count(i) > 0 {
			return true
		}
	}
	return false
}

// appendHeader appends a family's HELP and TYPE lines.
func appendHeader(buf []byte, f Format, fam *Family) []byte {
	buf = append(buf, "# HELP "...)
	buf = append(buf, fam.Name...)
	buf = append(buf, ' ')
	buf = append(buf, escapeHelp(fam.Help, f)...)
	buf = append(buf, "\n# TYPE "...)
	buf = append(buf, fam.Name...)
	return append(buf, " gauge\n"...)
}

// escapeHelp escapes a HELP text: backslash and line feed in the text
// format, and also the double quote in OpenMetrics.
func escapeHelp(s string, f Format) string {
	if f == OpenMetrics {
		return helpEscaperOM.Replace(s)
	}
	return helpEscaper.Replace(s)
}

var (
	helpEscaper   = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	helpEscaperOM = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)
