//go:build unix

package tracking

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
)

// crashEnv tells a re-run test binary to act as the process that is killed.
const crashEnv = "TRACKING_TEST_CRASH_DIR"

// crashAddsBeforeKill is how many Adds have returned before the kill is sent.
const crashAddsBeforeKill = 50

// crashWriters is how many goroutines of the killed process add IDs at once.
const crashWriters = 8

// ackPrefix starts a line of the killed process that names an ID whose Add
// returned nil.
const ackPrefix = "acked "

// TestKilledMidWrite re-runs the test binary as a process in which several
// goroutines add IDs one at a time (sharing saves), printing each ID whose
// Add returned, and that SIGKILLs itself from another goroutine as soon as it
// sees a write in progress. The state file it leaves must decode and hold
// every acknowledged ID, and a restart must load it and clear the leftovers.
func TestKilledMidWrite(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		runKilledWriter(t, dir)
		return
	}
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledMidWrite$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("child was not killed: %v\n%s", err, out.String())
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want SIGKILL\n%s", err, out.String())
	}

	var acked []string
	for line := range strings.Lines(out.String()) {
		if rest, ok := strings.CutPrefix(line, ackPrefix); ok {
			acked = append(acked, strings.TrimSpace(rest))
		}
	}
	if len(acked) < crashAddsBeforeKill {
		t.Fatalf("%d acknowledged adds, want at least %d\n%s", len(acked), crashAddsBeforeKill, out.String())
	}
	path := filepath.Join(dir, "state.json")
	ids := stateIDs(t, path)
	have := make(map[string]bool, len(ids))
	for _, r := range ids {
		have[r.ID] = true
	}
	for _, id := range acked {
		if !have[id] {
			t.Fatalf("acknowledged ID %s is not in the state file (%d IDs)", id, len(ids))
		}
	}
	leftovers, _ := filepath.Glob(path + tempInfix + "*")
	t.Logf("the killed process acknowledged %d IDs and left %d IDs and %d temporary files", len(acked), len(ids), len(leftovers))

	s := mustOpen(t, Options{StatePath: path, Clock: clocktest.NewFake(t0)}, Config{})
	if s.Len() != len(ids) {
		t.Errorf("Len() after restart = %d, want %d", s.Len(), len(ids))
	}
	mustAdd(t, s, OriginAPI, "after-restart") // the first save clears the leftovers
	if matches, _ := filepath.Glob(path + ".corrupt-*"); len(matches) != 0 {
		t.Errorf("state was found corrupt: %v", matches)
	}
	if matches, _ := filepath.Glob(path + tempInfix + "*"); len(matches) != 0 {
		t.Errorf("temporary files left after restart: %v", matches)
	}
}

// runKilledWriter is the child side of TestKilledMidWrite; it never returns
// normally unless the kill failed.
func runKilledWriter(t *testing.T, dir string) {
	s := mustOpen(t, Options{StatePath: filepath.Join(dir, "state.json"), Clock: clocktest.NewFake(t0)}, Config{})
	var acks atomic.Int64
	ready := make(chan struct{})
	go func() {
		<-ready
		// Kill as soon as a write is seen in progress: its temporary file exists.
		for {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), "state.json"+tempInfix) {
					_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				}
			}
		}
	}()
	var next atomic.Int64
	for range crashWriters {
		go func() {
			for {
				id := fmt.Sprintf("id-%06d", next.Add(1))
				if _, err := s.Add(context.Background(), []string{id}, OriginAPI, time.Time{}); err != nil {
					fmt.Fprintln(os.Stdout, "add failed:", err)
					continue
				}
				// Stdout is unbuffered: the line is in the pipe before the
				// next Add starts.
				fmt.Fprintln(os.Stdout, ackPrefix+id)
				if acks.Add(1) == crashAddsBeforeKill {
					close(ready)
				}
			}
		}()
	}
	select {} // until killed
}
