package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckStateDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(dir, "ro")
	if err := os.Mkdir(readOnly, 0o500); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir, want string
		asRoot          bool // root writes anywhere: the case means nothing then
	}{
		{"an existing directory", dir, "", true},
		{"one to create", filepath.Join(dir, "new", "state"), "", true},
		{"a file", file, "state_directory: " + file + " is not a directory", true},
		{"under a file", filepath.Join(file, "state"), "state_directory: " + filepath.Join(file, "state") + " cannot be created: " + file + " is not a directory", true},
		{"read-only", readOnly, "state_directory: " + readOnly + " is not writable", false},
		{"under a read-only one", filepath.Join(readOnly, "state"), "state_directory: " + filepath.Join(readOnly, "state") + " cannot be created", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.asRoot && os.Geteuid() == 0 {
				t.Skip("root writes into read-only directories")
			}
			err := (&Config{StateDirectory: tc.dir}).CheckStateDirectory()
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Fatalf("%v, want %q", err, tc.want)
			}
		})
	}
	// The check leaves nothing behind.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("%d entries left in the directory, want the 2 of the test", len(entries))
	}
}
