package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// Parse parses and validates a configuration; dir is the base of relative
// paths. The error lists every problem found, one a line, each naming the key
// and the line.
//
// Decoding is strict. Before yaml.v3 decodes, the document is walked against
// the schema so that every unknown key, duplicate key and ill-typed value is
// reported with its key path; yaml.v3 alone stops at the first bad duration
// and names Go types instead of keys.
func Parse(data []byte, dir string) (*Config, error) {
	root, err := parseDocument(data)
	if err != nil {
		return nil, err
	}
	c := DefaultConfig
	w := walker{lines: map[string]int{}, seen: map[visit]bool{}}
	if root != nil {
		w.lines[""] = root.Line
		w.walk(root, reflect.TypeFor[Config](), "")
		if len(w.errs) > 0 {
			return nil, errors.Join(w.errs...)
		}
		if err := root.Decode(&c); err != nil {
			return nil, yamlError(err)
		}
	}
	if errs := c.validate(dir, w.lines); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &c, nil
}

// parseDocument returns the top node of the only document in data, or nil
// for an empty stream.
func parseDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlError(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, yamlError(err)
	default:
		return nil, fmt.Errorf("line %d: only one YAML document is allowed", extra.Line)
	}
	// yaml.v3 gives a document node exactly one child.
	return doc.Content[0], nil
}

// yamlError turns "yaml: line 3: …" into "line 3: …".
func yamlError(err error) error {
	return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
}

// walker checks a YAML tree against the schema, collecting a problem for
// every unknown key, duplicate key and value of the wrong shape, and the line
// of every key path for the validation messages.
type walker struct {
	lines map[string]int
	seen  map[visit]bool
	errs  []error
}

// visit is an anchored node checked as a type. Each is checked once, however
// often it is aliased, so that alias bombs and self-referencing anchors cost
// no more than the document's size.
type visit struct {
	node *yaml.Node
	typ  reflect.Type
}

var (
	durationType = reflect.TypeFor[model.Duration]()
	windowType   = reflect.TypeFor[Window]()
	secretType   = reflect.TypeFor[Secret]()
)

// walk checks n as a value of type t at the key path.
func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode {
		v := visit{n.Alias, t}
		if w.seen[v] {
			return
		}
		w.seen[v] = true
		n = n.Alias
	}
	switch {
	case t == windowType:
		w.scalar(n, t, path)
	case t.Kind() == reflect.Struct:
		w.mapping(n, t, path)
	case t.Kind() == reflect.Slice:
		w.sequence(n, t, path)
	default:
		w.scalar(n, t, path)
	}
}

// problem records a problem with n, a value at the key path.
func (w *walker) problem(n *yaml.Node, path, format string, args ...any) {
	if path != "" {
		path += ": "
	}
	w.errs = append(w.errs, fmt.Errorf("line %d: %s%s", n.Line, path, fmt.Sprintf(format, args...)))
}

// mapping checks a mapping decoded into struct type t. A null leaves the
// struct as it was, as yaml.v3 does.
func (w *walker) mapping(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		if !isNull(n) {
			w.problem(n, path, "want a mapping, got %s", describe(n))
		}
		return
	}
	fields := yamlFields(t)
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.ShortTag() == "!!merge" {
			w.merge(v, t, path)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			w.problem(k, path, "want a key name, got %s", describe(k))
			continue
		}
		if line, dup := first[k.Value]; dup {
			w.errs = append(w.errs, fmt.Errorf("line %d: duplicate key %q%s, first at line %d", k.Line, k.Value, in(path), line))
			continue
		}
		first[k.Value] = k.Line
		ft, ok := fields[k.Value]
		if !ok {
			w.errs = append(w.errs, fmt.Errorf("line %d: unknown key %q%s", k.Line, k.Value, in(path)))
			continue
		}
		p := k.Value
		if path != "" {
			p = path + "." + k.Value
		}
		w.lines[p] = k.Line
		w.walk(v, ft, p)
	}
}

// merge checks the value of a "<<" merge key: a mapping, or a list of
// mappings, whose keys join the mapping at path.
func (w *walker) merge(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.SequenceNode {
		w.walk(n, t, path)
		return
	}
	for _, m := range n.Content {
		w.walk(m, t, path)
	}
}

// sequence checks a list decoded into slice type t.
func (w *walker) sequence(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.SequenceNode {
		if !isNull(n) {
			w.problem(n, path, "want a list, got %s", describe(n))
		}
		return
	}
	for i, e := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		w.lines[p] = e.Line
		// yaml.v3 makes a null entry a zero struct without calling its
		// UnmarshalYAML, so it would miss every default.
		if t.Elem().Kind() == reflect.Struct && isNull(e) {
			w.problem(e, p, "want a mapping, got null")
			continue
		}
		w.walk(e, t.Elem(), p)
	}
}

// scalar checks a value by decoding it into a new value of type t, exactly
// as the real decoding will.
func (w *walker) scalar(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.ScalarNode && !truncated(n, t) && n.Decode(reflect.New(t).Interface()) == nil {
		return
	}
	if t == secretType {
		// Never echo what may be a credential.
		w.problem(n, path, "want a string")
		return
	}
	w.problem(n, path, "want %s, got %s", want(t), describe(n))
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

// yamlFields maps the YAML keys of struct type t to their field types. Every
// field of the schema has a yaml tag.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name != "-" {
			fields[name] = f.Type
		}
	}
	return fields
}

// in names the mapping at path for a message; the top level is unnamed.
func in(path string) string {
	if path == "" {
		return ""
	}
	return " in " + path
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
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
	if n.ShortTag() == "!!str" {
		return fmt.Sprintf("the string %q", v)
	}
	return v
}
