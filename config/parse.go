package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// Parse parses and validates a configuration; dir is the base of relative
// paths. Its error is Errors: every problem, decoding and validation alike,
// sorted by line.
//
// Why a walker, and not yaml.v3's Decoder.KnownFields(true) alone: yaml.v3's
// strict decoding names the line but never the key ("field secrt_key not
// found in type config.plain", "cannot unmarshal !!str `1400000...` into
// uint64"), stops at the first error of an Unmarshaler (every bad
// model.Duration), and turns 1.5 into 1 for an integer field without a word.
// So the document is walked once against the schema: each unknown key,
// duplicate key and ill-typed value is reported with its key path and line,
// and cut out of the tree, so that yaml.v3 then decodes what is left and the
// validator checks it in the same pass.
func Parse(data []byte, dir string) (*Config, error) {
	root, p := parseDocument(data)
	if p != nil {
		return nil, Errors{*p}
	}
	c := DefaultConfig
	w := walker{lines: map[string]int{"": 1}, seen: map[visit]bool{}, texts: map[string]string{}, cut: map[string]bool{}}
	if root != nil {
		w.lines[""] = root.Line
		if w.walk(root, configType, "") {
			if err := root.Decode(&c); err != nil {
				w.problems = append(w.problems, yamlProblem(err))
				sortProblems(w.problems)
				return nil, Errors(w.problems)
			}
		}
	}
	c.durationText = w.texts
	problems := w.problems
	// A section cut out for its shape has already been reported; it is not
	// also missing.
	sectionCut := w.cut[string(catalog.SectionTencentIM)] || w.cut[string(catalog.SectionJPush)] || w.cut[string(catalog.SectionJPushGroups)]
	for _, p := range c.validate(dir, w.lines) {
		if !w.underCut(p.Path) && (p.Msg != msgNoApps || !sectionCut) {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		sortProblems(problems)
		return nil, Errors(problems)
	}
	return &c, nil
}

// parseDocument returns the top node of the only document in data, or nil
// for an empty stream.
func parseDocument(data []byte) (*yaml.Node, *Problem) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		p := yamlProblem(err)
		return nil, &p
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p := yamlProblem(err)
		return nil, &p
	default:
		return nil, &Problem{Line: extra.Line, Msg: "only one YAML document is allowed"}
	}
	// yaml.v3 gives a document node exactly one child; a null one is an
	// empty document.
	if root := doc.Content[0]; root.Kind != yaml.ScalarNode || root.ShortTag() != "!!null" {
		return root, nil
	}
	return nil, nil
}

// yamlProblem turns yaml.v3's "yaml: line 3: …" into a Problem.
func yamlProblem(err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(n); err == nil {
				return Problem{Line: line, Msg: after}
			}
		}
	}
	return Problem{Msg: msg}
}

// walker checks a YAML tree against the schema. It records a problem for
// every unknown key, duplicate key and value of the wrong shape and cuts that
// value out of the tree; it records the line of every key path for the
// validator, and the text of every duration. With rewrite set it instead
// hands each duration's node to rewrite (see Redacted).
type walker struct {
	lines    map[string]int
	seen     map[visit]bool
	texts    map[string]string
	cut      map[string]bool
	problems []Problem
	rewrite  func(n *yaml.Node, path string)
}

// visit is an anchored node checked as a type. Each is checked once, however
// often it is aliased, so that alias bombs and self-referencing anchors cost
// no more than the document's size.
type visit struct {
	node *yaml.Node
	typ  reflect.Type
}

var (
	configType   = reflect.TypeFor[Config]()
	durationType = reflect.TypeFor[model.Duration]()
	windowType   = reflect.TypeFor[Window]()
	secretType   = reflect.TypeFor[Secret]()
)

// walk checks n as a value of type t at the key path, and reports whether it
// may stay in the tree.
func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) bool {
	if n.Kind == yaml.AliasNode {
		v := visit{n.Alias, t}
		if ok, done := w.seen[v]; done {
			return ok
		}
		w.seen[v] = true
		ok := w.walk(n.Alias, t, path)
		w.seen[v] = ok
		return ok
	}
	switch {
	case t == windowType || t.Kind() != reflect.Struct && t.Kind() != reflect.Slice && t.Kind() != reflect.Map:
		return w.scalar(n, t, path)
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
		// A null leaves the value as it was, as yaml.v3 does.
		return true
	case t.Kind() == reflect.Slice:
		return w.sequence(n, t, path)
	default:
		return w.mapping(n, t, path)
	}
}

// problem records a problem at the key path, on line.
func (w *walker) problem(line int, path, format string, args ...any) {
	w.problems = append(w.problems, Problem{Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
	w.cut[path] = true
}

// underCut reports whether path is at or below a value cut out of the tree,
// whose validation problems would only repeat the decoding problem.
func (w *walker) underCut(path string) bool {
	for p := range w.cut {
		if p == "" || p == path || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			return true
		}
	}
	return false
}

// mapping checks a mapping decoded into struct or map type t.
func (w *walker) mapping(n *yaml.Node, t reflect.Type, path string) bool {
	if n.Kind != yaml.MappingNode {
		w.problem(n.Line, path, "want a mapping, got %s", describe(n))
		return false
	}
	fields := yamlFields(t)
	first := map[string]int{}
	kept := n.Content[:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if w.pair(k, v, t, fields, first, path) {
			kept = append(kept, k, v)
		}
	}
	n.Content = kept
	return true
}

// pair checks one key and its value in a mapping at path, and reports
// whether they may stay.
func (w *walker) pair(k, v *yaml.Node, t reflect.Type, fields map[string]reflect.Type, first map[string]int, path string) bool {
	if k.ShortTag() == "!!merge" {
		return w.merge(v, t, path)
	}
	if k.Kind != yaml.ScalarNode {
		w.problem(k.Line, path, "want a key name, got %s", describe(k))
		return false
	}
	p := k.Value
	if path != "" {
		p = path + "." + k.Value
	}
	if line, dup := first[k.Value]; dup {
		// The first value stays, and is validated.
		w.problems = append(w.problems, Problem{Line: k.Line, Path: p, Msg: fmt.Sprintf("duplicate key, first at line %d", line)})
		return false
	}
	first[k.Value] = k.Line
	var ft reflect.Type
	if fields == nil {
		ft = t.Elem()
	} else if ft = fields[k.Value]; ft == nil {
		w.problem(k.Line, p, "unknown key")
		return false
	}
	w.lines[p] = k.Line
	return w.walk(v, ft, p)
}

// merge checks the value of a "<<" merge key: a mapping, or a list of
// mappings, whose keys join the mapping at path.
func (w *walker) merge(n *yaml.Node, t reflect.Type, path string) bool {
	if n.Kind != yaml.SequenceNode {
		return w.walk(n, t, path)
	}
	ok := true
	for _, m := range n.Content {
		ok = w.walk(m, t, path) && ok
	}
	return ok
}

// sequence checks a list decoded into slice type t; an entry of the wrong
// shape is replaced by a placeholder, so that the other entries keep their
// indexes (yaml.v3 drops a null entry from a list).
func (w *walker) sequence(n *yaml.Node, t reflect.Type, path string) bool {
	if n.Kind != yaml.SequenceNode {
		w.problem(n.Line, path, "want a list, got %s", describe(n))
		return false
	}
	for i, e := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		w.lines[p] = e.Line
		ok := true
		if t.Elem().Kind() == reflect.Struct && e.Kind == yaml.ScalarNode && e.ShortTag() == "!!null" {
			// yaml.v3 makes a null entry a zero struct without calling
			// its UnmarshalYAML, so it would miss every default.
			w.problem(e.Line, p, "want a mapping, got null")
			ok = false
		} else {
			ok = w.walk(e, t.Elem(), p)
		}
		if !ok {
			n.Content[i] = placeholder(t.Elem())
		}
	}
	return true
}

// placeholder returns a node that decodes into type t without error: an
// empty mapping for a struct (its defaults), 0s for a Window, and the empty
// string for the string entries of the other lists.
func placeholder(t reflect.Type) *yaml.Node {
	switch {
	case t == windowType:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "0s"}
	case t.Kind() == reflect.Struct:
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str"}
}

// scalar checks a value by decoding it into a new value of type t, exactly
// as the real decoding will.
func (w *walker) scalar(n *yaml.Node, t reflect.Type, path string) bool {
	if n.Kind == yaml.ScalarNode && !truncated(n, t) && n.Decode(reflect.New(t).Interface()) == nil {
		if t == durationType {
			if w.rewrite != nil {
				w.rewrite(n, path)
			} else {
				w.texts[path] = n.Value
			}
		}
		return true
	}
	if t == secretType {
		// Never echo what may be a credential.
		w.problem(n.Line, path, "want a string")
		return false
	}
	w.problem(n.Line, path, "want %s, got %s", want(t), describe(n))
	return false
}

// truncated reports a number with a fraction or an exponent given for an
// integer field: yaml.v3 would silently drop the fraction.
func truncated(n *yaml.Node, t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Uint64:
		return n.ShortTag() == "!!float"
	}
	return false
}

// yamlFields maps the YAML keys of struct type t to their field types; nil
// for a map type, whose keys are checked by the validator.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	if t.Kind() != reflect.Struct {
		return nil
	}
	fields := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); f.IsExported() && name != "-" {
			fields[name] = f.Type
		}
	}
	return fields
}

// want names what a scalar field of type t accepts.
func want(t reflect.Type) string {
	if t == durationType || t == windowType {
		return "a duration such as 30s, 5m, 24h or 7d"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Uint64:
		return "a non-negative integer"
	case reflect.Int, reflect.Int64:
		return "an integer"
	}
	return "a " + t.Kind().String()
}

// describe names a node's value for a message, shortened if long.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	v := n.Value
	const max = 40
	if utf8.RuneCountInString(v) > max {
		v = string([]rune(v)[:max]) + "…"
	}
	switch n.ShortTag() {
	case "!!str":
		return fmt.Sprintf("the string %q", v)
	case "!!null":
		return "null"
	}
	return v
}
