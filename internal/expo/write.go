package expo

import (
	"io"
	"strings"
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

// Group is the blocks of one schema, from every target that uses it, and
// how many series each family of the schema has in them all (nil: Write
// counts them).
type Group struct {
	Schema *Schema
	Blocks []*Block
	Counts []int
}

// Write writes every family of the groups that has at least one series:
// its HELP and TYPE lines once, then the lines of every block. It allocates
// nothing per series. It returns the first error of w.
func Write(w io.Writer, f Format, groups []Group) error {
	ew := errWriter{w: w}
	for _, g := range groups {
		for i, fam := range g.Schema.families {
			if !g.has(i) {
				continue
			}
			writeHeader(&ew, f, fam)
			for _, b := range g.Blocks {
				if p := b.Part(i); len(p) > 0 {
					ew.write(p)
				}
			}
			if ew.err != nil {
				return ew.err
			}
		}
	}
	return ew.err
}

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

// writeHeader writes a family's HELP and TYPE lines.
func writeHeader(w *errWriter, f Format, fam *Family) {
	w.writeString("# HELP ")
	w.writeString(fam.Name)
	w.writeString(" ")
	w.writeString(escapeHelp(fam.Help, f))
	w.writeString("\n# TYPE ")
	w.writeString(fam.Name)
	w.writeString(" gauge\n")
}

// appendHeader appends a family's HELP and TYPE lines, as writeHeader
// writes them.
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

// errWriter remembers the first write error and skips the writes after it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) write(p []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(p)
	}
}

func (e *errWriter) writeString(s string) {
	if e.err == nil {
		_, e.err = io.WriteString(e.w, s)
	}
}
