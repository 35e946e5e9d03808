// Command generate renders the monitoring mixin (mixin/mixin.libsonnet) and
// its scenario tests (mixin/tests) into the files users load without
// jsonnet: alerts/*.yml, alerts/tests/*.yml and dashboards/*.json. Run it
// from the repository root:
//
//	go run ./mixin/cmd/generate
//
// A test fails when the committed files differ from what it renders.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/google/go-jsonnet"
)

// filesSnippet lists every generated file, path → content; mixin/files.jsonnet
// holds it so that jsonnet users can render the same files.
const filesSnippet = "mixin/files.jsonnet"

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

// render evaluates mixin/files.jsonnet under root and returns each file's
// content by its path relative to root.
func render(root string) (map[string][]byte, error) {
	vm := jsonnet.MakeVM()
	vm.Importer(&jsonnet.FileImporter{JPaths: []string{filepath.Join(root, "mixin")}})
	for _, f := range natives {
		vm.NativeFunction(f)
	}
	path := filepath.Join(root, filesSnippet)
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out, err := vm.EvaluateAnonymousSnippet(path, string(src))
	if err != nil {
		return nil, err
	}
	var texts map[string]string
	if err := json.Unmarshal([]byte(out), &texts); err != nil {
		return nil, fmt.Errorf("%s: want an object of strings: %v", filesSnippet, err)
	}
	files := make(map[string][]byte, len(texts))
	for name, text := range texts {
		if !filepath.IsLocal(name) {
			return nil, fmt.Errorf("%s: %q is not a path inside the repository", filesSnippet, name)
		}
		files[filepath.FromSlash(name)] = []byte(text)
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

// generatedGlobs are the files the mixin owns: any other file there is stale.
var generatedGlobs = []string{"alerts/*.yml", "alerts/tests/*.yml", "dashboards/*.json"}

// generated lists the files under root that match generatedGlobs.
func generated(root string) ([]string, error) {
	var names []string
	for _, g := range generatedGlobs {
		m, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(g)))
		if err != nil {
			return nil, err
		}
		for _, p := range m {
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
