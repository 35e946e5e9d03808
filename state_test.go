package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorruptStateFile starts the exporter with a corrupt tracked-ID state
// file in its state_directory: it starts, logs the corruption, moves the
// file aside with its content intact, and serves.
func TestCorruptStateFile(t *testing.T) {
	t.Parallel()
	const key = "state-test-secret-key-3a9d"
	_, url := vendor(t, key)
	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")
	if err := os.Mkdir(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	// The file a tencent_push tracked-ID set of app 1400000000 keeps, cut
	// short as a full disk might leave it.
	statePath := filepath.Join(stateDir, "tencent_push_1400000000.json")
	const corrupt = `{"version":1,"ids":[{"id":"1400000000_1441`
	writeFile(t, statePath, corrupt)
	cfgPath := filepath.Join(dir, "exporter.yml")
	writeFile(t, cfgPath, fmt.Sprintf("tencent_im:\n  - sdkappid: 1400000000\n    secret_key: %q\n    endpoint: %s\nstate_directory: state\n", key, url))

	e := start(t, "--config.file="+cfgPath, "--web.enable-tracking-api")
	e.waitFor(func() bool {
		_, s := e.get("/metrics")
		_, ok := sample(s, `tencent_im_active_users{sdkappid="1400000000"}`)
		return ok
	}, "the exporter to serve the vendor's values")

	if !strings.Contains(e.logs.String(), "tracked-ID state file is corrupt") {
		t.Errorf("the corruption was not logged:\n%s", e.logs)
	}
	// The set starts empty and registers again, to a sound state file.
	if code, body := e.do("POST", "/api/v1/tencent_im/1400000000/tasks", `{"task_ids":["1400000000_1441_1_1"]}`); code != 200 {
		t.Fatalf("registering a task after the corruption: %d %s", code, body)
	}
	// The state file is a journal: a header, then records holding the ID.
	if data, err := os.ReadFile(statePath); err != nil || !strings.HasPrefix(string(data), "imstats tracked IDs journal") || !strings.Contains(string(data), "1400000000_1441_1_1") {
		t.Errorf("the new state file: %q, %v", data, err)
	}
	// The first save moved the corrupt file aside, keeping its content.
	moved, err := filepath.Glob(statePath + ".corrupt-*")
	if err != nil || len(moved) != 1 {
		t.Fatalf("moved-aside files: %v (%v), want one", moved, err)
	}
	if got, err := os.ReadFile(moved[0]); err != nil || string(got) != corrupt {
		t.Errorf("the moved-aside file holds %q (%v), want the corrupt content", got, err)
	}
}
