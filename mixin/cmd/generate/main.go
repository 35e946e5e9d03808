// Command generate renders the monitoring mixin (mixin/mixin.libsonnet) into
// the files users load without jsonnet, alerts/*.yml and dashboards/*.json,
// and its generated rule tests (mixin/cmd/generate/tests) into
// alerts/tests/*.yml, beside the hand-written ones. Run it from the
// repository root:
//
//	go run ./mixin/cmd/generate
//
// A test fails when the committed files differ from what it renders.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/google/go-jsonnet"
)

// The two jsonnet files that list the generated files, path → content:
// mixinFiles is the mixin's own output, which plain jsonnet renders without
// native functions; testFiles is the rule tests, whose scenarios need the
// natives of scenario.go.
const (
	mixinFiles = "mixin/files.jsonnet"
	testFiles  = "mixin/cmd/generate/tests/tests.jsonnet"
)

func main() {
	root := flag.String("root", ".", "repository root")
	flag.Parse()
	files, err := render(*root)
	if err == nil {
		err = write(*root, files)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}

// render returns the content of every generated file under root by its
// path relative to root: the mixin's files and the rule tests.
func render(root string) (map[string][]byte, error) {
	files, err := evaluate(root, mixinFiles, nil)
	if err != nil {
		return nil, err
	}
	tests, err := evaluate(root, testFiles, natives)
	if err != nil {
		return nil, err
	}
	for name, text := range tests {
		if _, ok := files[name]; ok {
			return nil, fmt.Errorf("%s and %s both render %s", mixinFiles, testFiles, name)
		}
		files[name] = text
	}
	return files, nil
}

// newVM returns a jsonnet VM that imports from mixin/ under root, as
// `jsonnet -J mixin` does, with the given native functions.
func newVM(root string, fs []*jsonnet.NativeFunction) *jsonnet.VM {
	vm := jsonnet.MakeVM()
	vm.Importer(&jsonnet.FileImporter{JPaths: []string{filepath.Join(root, "mixin")}})
	for _, f := range fs {
		vm.NativeFunction(f)
	}
	return vm
}

// evaluate evaluates the jsonnet file snippet (relative to root), an object
// of path → content, with the native functions fs. Each content gets a
// final newline, as `jsonnet -S -m` writes it.
func evaluate(root, snippet string, fs []*jsonnet.NativeFunction) (map[string][]byte, error) {
	out, err := newVM(root, fs).EvaluateFile(filepath.Join(root, filepath.FromSlash(snippet)))
	if err != nil {
		return nil, err
	}
	var texts map[string]string
	if err := json.Unmarshal([]byte(out), &texts); err != nil {
		return nil, fmt.Errorf("%s: want an object of strings: %v", snippet, err)
	}
	files := make(map[string][]byte, len(texts))
	for name, text := range texts {
		if !filepath.IsLocal(name) {
			return nil, fmt.Errorf("%s: %q is not a path inside the repository", snippet, name)
		}
		files[filepath.FromSlash(name)] = []byte(text + "\n")
	}
	return files, nil
}

// write writes files under root, and removes the files of the generated
// kinds (generated) that the mixin no longer renders.
func write(root string, files map[string][]byte) error {
	stale, err := generated(root)
	if err != nil {
		return err
	}
	for _, name := range stale {
		if _, ok := files[name]; !ok {
			if err := os.Remove(filepath.Join(root, name)); err != nil {
				return err
			}
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// generatedGlobs are where the generated files are. Every dashboard there is
// generated; a YAML file is when it starts with generatedMarker, so that the
// hand-written rule tests can sit beside the generated ones.
var generatedGlobs = []string{"alerts/*.yml", "alerts/demo/*.yml", "alerts/tests/*.yml", "dashboards/*.json"}

// generatedMarker starts every generated YAML file.
const generatedMarker = "# Generated from "

// generated lists the generated files under root: those of generatedGlobs
// that are JSON or start with generatedMarker.
func generated(root string) ([]string, error) {
	var names []string
	for _, g := range generatedGlobs {
		m, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(g)))
		if err != nil {
			return nil, err
		}
		for _, p := range m {
			if filepath.Ext(p) == ".yml" {
				marked, err := startsWith(p, generatedMarker)
				if err != nil {
					return nil, err
				}
				if !marked {
					continue
				}
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return nil, err
			}
			names = append(names, rel)
		}
	}
	sort.Strings(names)
	return names, nil
}

// startsWith reports whether the file at path starts with prefix.
func startsWith(path, prefix string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, len(prefix))
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return false, err
	}
	return string(head[:n]) == prefix, nil
}
