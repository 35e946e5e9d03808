package collector

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
)

func TestSyncFilesLogsOncePerChange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "ids.txt")
	var logs bytes.Buffer
	tr := NewTrackers(nil, log.NewLogfmtLogger(&logs), func(string, string) {})
	spec := TrackerSpec{Kind: "tencent_push", Sources: []string{"tencent_push"}, App: "1", File: file, MaxAge: time.Hour, Cap: 10}
	if _, err := tr.Get(spec); err != nil {
		t.Fatal(err)
	}
	tr.Commit([]TrackerSpec{spec})
	// A directory where the file should be: unreadable, every check.
	if err := os.Mkdir(file, 0o755); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		tr.SyncFiles()
	}
	if n := strings.Count(logs.String(), "reading the watched ID file failed"); n != 1 {
		t.Fatalf("an unreadable file was logged %d times in 3 checks, want once:\n%s", n, logs.String())
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	tr.SyncFiles()
	tr.SyncFiles()
	if n := strings.Count(logs.String(), "readable again"); n != 1 {
		t.Fatalf("the recovery was logged %d times, want once:\n%s", n, logs.String())
	}
}
