//go:build unix

package tracking

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
)

// TestStatePathNotARegularFile: a FIFO at the state path made Open (and so
// every later reload opening that app's state) block forever on the open,
// and a directory there stopped start-up. Both are now refused without
// reading, with an error naming the path, treated as a corrupt state file:
// the Set starts empty and the first save moves the thing aside.
func TestStatePathNotARegularFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		make func(path string) error
		kind string
	}{
		{name: "fifo", make: func(path string) error { return syscall.Mkfifo(path, 0o600) }, kind: "named pipe"},
		{name: "directory", make: func(path string) error { return os.Mkdir(path, 0o700) }, kind: "directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "state.json")
			if err := tc.make(path); err != nil {
				t.Fatal(err)
			}
			var logs syncBuffer
			opened := make(chan *Set, 1)
			go func() {
				s, err := Open(Options{StatePath: path, Clock: clocktest.NewFake(t0), Logger: log.NewLogfmtLogger(&logs)})
				if err != nil {
					t.Errorf("Open: %v", err)
				}
				opened <- s
			}()
			var s *Set
			select {
			case s = <-opened:
			case <-time.After(time.Minute): // a hang, not a speed limit
				t.Fatal("Open of a state path that is not a regular file has not returned after a minute")
			}
			if s == nil {
				return
			}
			want := "path=" + path + ` err="corrupt state file: ` + path + " is a " + tc.kind + `, not a regular file"`
			if !strings.Contains(logs.String(), want) {
				t.Errorf("logs = %q, want %q", logs.String(), want)
			}
			mustCommit(t, s, Config{Static: []string{"s"}})
			if got := stateIDs(t, path); len(got) != 1 {
				t.Errorf("state = %v, want s", got)
			}
			if matches, _ := filepath.Glob(path + ".corrupt-*"); len(matches) != 1 {
				t.Errorf("moved aside: %v, want one", matches)
			}
		})
	}
}

// TestWatchedFileIsAFIFO: Prepare and Maintain refuse a watched file that is
// not a regular file instead of blocking on it.
func TestWatchedFileIsAFIFO(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "ids.txt")
	if err := syscall.Mkfifo(file, 0o600); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, Options{}, Config{})
	done := make(chan error, 1)
	go func() {
		_, err := s.Prepare(Config{File: file})
		done <- err
	}()
	select {
	case err := <-done:
		if want := "watched file: " + file + " is a named pipe, not a regular file"; err == nil || err.Error() != want {
			t.Errorf("Prepare error = %v, want %q", err, want)
		}
	case <-time.After(time.Minute): // a hang, not a speed limit
		t.Fatal("Prepare of a FIFO has not returned after a minute")
	}
}
