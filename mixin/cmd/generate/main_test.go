package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-jsonnet"
)

// repoRoot is the repository root seen from this package's directory.
const repoRoot = "../../.."

// TestCommittedFilesMatchMixin fails when a file in alerts/ or dashboards/
// differs, byte for byte, from what the mixin renders, or when one of them is
// no longer rendered at all.
func TestCommittedFilesMatchMixin(t *testing.T) {
	files, err := render(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("the mixin renders no files")
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(repoRoot, name))
		if err != nil {
			t.Errorf("%s: %v; run `go run ./mixin/cmd/generate`", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the mixin renders; run `go run ./mixin/cmd/generate` and commit the result", name)
		}
	}
	committed, err := generated(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range committed {
		if _, ok := files[name]; !ok {
			t.Errorf("%s is not rendered by the mixin: remove it, or add it to mixin/files.jsonnet", name)
		}
	}
}

// TestWriteRemovesStaleFiles checks that generating into a tree removes a
// generated file the mixin no longer renders and keeps other files, the
// hand-written rule tests among them.
func TestWriteRemovesStaleFiles(t *testing.T) {
	root := t.TempDir()
	for name, content := range map[string]string{
		"alerts/tests/old_test.yml":  generatedMarker + "mixin/\nold",
		"alerts/tests/hand_test.yml": "# Hand-written.\n",
		"alerts/check.sh":            "keep",
		"dashboards/old.json":        "{}",
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string][]byte{filepath.FromSlash("alerts/x.yml"): []byte("x\n")}
	if err := write(root, files); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		exists bool
	}{
		{"alerts/tests/old_test.yml", false},
		{"alerts/tests/hand_test.yml", true},
		{"dashboards/old.json", false},
		{"alerts/check.sh", true},
		{"alerts/x.yml", true},
	}
	for _, tt := range tests {
		_, err := os.Stat(filepath.Join(root, filepath.FromSlash(tt.name)))
		if got := err == nil; got != tt.exists {
			t.Errorf("%s exists = %v, want %v", tt.name, got, tt.exists)
		}
	}
}

// TestPlainJsonnetRendersMixin checks that the mixin needs nothing but
// jsonnet: `jsonnet mixin/mixin.libsonnet` and `jsonnet -S -m .
// mixin/files.jsonnet` evaluate with no native function and no library path
// (as where jsonnet-bundler vendors the mixin), the latter to the committed
// files, and no file of the mixin calls std.native.
func TestPlainJsonnetRendersMixin(t *testing.T) {
	vm := jsonnet.MakeVM()
	if _, err := vm.EvaluateFile(filepath.Join(repoRoot, "mixin", "mixin.libsonnet")); err != nil {
		t.Fatalf("mixin/mixin.libsonnet: %v", err)
	}
	out, err := vm.EvaluateFile(filepath.Join(repoRoot, filepath.FromSlash(mixinFiles)))
	if err != nil {
		t.Fatalf("%s: %v", mixinFiles, err)
	}
	var files map[string]string
	if err := json.Unmarshal([]byte(out), &files); err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(name)))
		if err != nil || string(got) != want+"\n" { // -S -m ends each file with a newline
			t.Errorf("%s: plain jsonnet renders it otherwise than committed (%v)", name, err)
		}
	}
	mixinDir := filepath.Join(repoRoot, "mixin")
	err = filepath.WalkDir(mixinDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path == filepath.Join(mixinDir, "cmd") {
			return filepath.SkipDir // the generator and its tests
		}
		if ext := filepath.Ext(path); ext != ".libsonnet" && ext != ".jsonnet" {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(src, []byte("std.native")) {
			t.Errorf("%s calls std.native: plain jsonnet cannot render it", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
