//go:build unix

package tracking

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/imstats/imstats_exporter/internal/clock"
)

// crashEnv tells a re-run test binary to act as the process that is killed.
const crashEnv = "TRACKING_TEST_CRASH_DIR"

// crashAddsBeforeKill is how many Adds have returned before the kill is sent.
const crashAddsBeforeKill = 50

// crashID is the ID of the i-th Add of the killed process.
func crashID(i int) string { return fmt.Sprintf("id-%06d", i) }

// TestKilledMidWrite re-runs the test binary as a process that adds IDs one
// at a time, each Add rewriting the state file, and that SIGKILLs itself from
// another goroutine as soon as it sees a write in progress. The state file it
// leaves must decode and hold a prefix of the adds, at least the ones that had
// returned, and a restart must load it and clear the leftovers.
func TestKilledMidWrite(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		runKilledWriter(t, dir)
		return
	}
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledMidWrite$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("child was not killed: %v\n%s", err, out)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want SIGKILL\n%s", err, out)
	}

	path := filepath.Join(dir, "state.json")
	ids := stateIDs(t, path)
	if len(ids) < crashAddsBeforeKill {
		t.Fatalf("state holds %d IDs, want at least the %d acknowledged adds", len(ids), crashAddsBeforeKill)
	}
	leftovers, _ := filepath.Glob(path + tempInfix + "*")
	t.Logf("the killed process left %d IDs and %d temporary files", len(ids), len(leftovers))
	have := make(map[string]bool, len(ids))
	for _, id := range ids {
		have[id.ID] = true
	}
	for i := range ids {
		if !have[crashID(i)] {
			t.Fatalf("state holds %d IDs but not %s: not a prefix of the adds", len(ids), crashID(i))
		}
	}

	s := mustNew(t, Options{StatePath: path, Clock: clock.NewFake(t0)})
	if s.Len() != len(ids) {
		t.Errorf("Len() after restart = %d, want %d", s.Len(), len(ids))
	}
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
	s := mustNew(t, Options{StatePath: filepath.Join(dir, "state.json"), Clock: clock.NewFake(t0)})
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
	for i := 0; i < 1_000_000; i++ {
		mustAdd(t, s, OriginAPI, crashID(i))
		if i+1 == crashAddsBeforeKill {
			close(ready)
		}
	}
	t.Fatal("still alive after SIGKILL")
}
