package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with a configuration file.
type Problem struct {
	// Line is the line of the key at fault, or of its nearest ancestor when
	// the key is absent; 0 when no line applies.
	Line int
	// Path is the key path, such as jpush[0].master_secret; empty for a
	// problem of the whole document.
	Path string
	// Msg says what is wrong.
	Msg string
}

// String formats the problem as "line N: key.path: problem", leaving out
// what is unknown.
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Errors is every problem of a configuration, sorted by line. Load and Parse
// return it (as error) for any file they refuse, except one they cannot read.
type Errors []Problem

// Error lists the problems one a line.
func (e Errors) Error() string { return strings.Join(e.Problems(), "\n") }

// Problems returns each problem as a line of text, for --config.check.
func (e Errors) Problems() []string {
	out := make([]string, len(e))
	for i, p := range e {
		out[i] = p.String()
	}
	return out
}

// sortProblems orders problems by line; problems of one line keep the order
// in which they were found.
func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
}
