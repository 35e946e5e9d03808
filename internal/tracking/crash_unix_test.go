//go:build unix

package tracking

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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

// crashRoundEnv tells it which round it is, to name its IDs apart.
const crashRoundEnv = "TRACKING_TEST_CRASH_ROUND"

// crashRounds is how many times a process is started on the same state and
// killed: each start reads what the previous kill left.
const crashRounds = 3

// crashAddsBeforeKill is the fewest Adds that return before the kill is
// sent; the kill comes at a random point after it.
const crashAddsBeforeKill = 50

// crashWriters is how many goroutines of the killed process add IDs at once.
const crashWriters = 8

// The lines of the killed process: an ID whose Add returned nil, an ID whose
// Remove is about to start, an ID whose Remove returned nil.
const (
	ackPrefix      = "acked "
	removingPrefix = "removing "
	removedPrefix  = "removed "
)

// TestKilledMidWrite re-runs the test binary, crashRounds times on the same
// state, as a process in which several goroutines add IDs one at a time and
// remove every other one (sharing saves, and making the journal compact
// often), printing each acknowledged change, and that SIGKILLs itself from
// another goroutine at a random moment. The state file it leaves must hold
// every acknowledged ID whose removal did not start and none whose removal
// was acknowledged, and a restart must load it and clear the leftovers.
func TestKilledMidWrite(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		runKilledWriter(t, dir, os.Getenv(crashRoundEnv))
		return
	}
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	acked, removing, removed := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for round := range crashRounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledMidWrite$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir, fmt.Sprint(crashRoundEnv, "=", round))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("round %d: child was not killed: %v\n%s", round, err, out.String())
		}
		if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended with %v, want SIGKILL\n%s", round, err, out.String())
		}
		n := 0
		for line := range strings.Lines(out.String()) {
			line = strings.TrimSpace(line)
			if id, ok := strings.CutPrefix(line, ackPrefix); ok {
				acked[id] = true
				n++
			} else if id, ok := strings.CutPrefix(line, removingPrefix); ok {
				removing[id] = true
			} else if id, ok := strings.CutPrefix(line, removedPrefix); ok {
				removed[id] = true
			}
		}
		if n < crashAddsBeforeKill {
			t.Fatalf("round %d: %d acknowledged adds, want at least %d\n%s", round, n, crashAddsBeforeKill, out.String())
		}
		st, err := readState(path)
		if err != nil {
			t.Fatalf("round %d: state file does not decode: %v", round, err)
		}
		for id := range acked {
			if _, ok := st.ids[id]; !ok && !removing[id] {
				t.Fatalf("round %d: acknowledged ID %s is not in the state file (%d IDs)", round, id, len(st.ids))
			}
		}
		for id := range removed {
			if _, ok := st.ids[id]; ok {
				t.Fatalf("round %d: ID %s whose removal was acknowledged is in the state file", round, id)
			}
		}
		leftovers, _ := filepath.Glob(path + tempInfix + "*")
		t.Logf("round %d: the killed process acknowledged %d adds and %d removals in all; it left %d IDs, %d journal records, %d bytes of a torn record and %d temporary files",
			round, len(acked), len(removed), len(st.ids), st.records, st.tail, len(leftovers))
	}

	s := mustOpen(t, Options{StatePath: path, Clock: clocktest.NewFake(t0)}, Config{})
	want := s.Len()
	mustAdd(t, s, OriginAPI, "after-restart") // the first save clears the leftovers
	if matches, _ := filepath.Glob(path + ".corrupt-*"); len(matches) != 0 {
		t.Errorf("state was found corrupt: %v", matches)
	}
	if matches, _ := filepath.Glob(path + tempInfix + "*"); len(matches) != 0 {
		t.Errorf("temporary files left after restart: %v", matches)
	}
	if got := stateIDs(t, path); len(got) != want+1 {
		t.Errorf("state after restart holds %d IDs, want %d", len(got), want+1)
	}
}

// runKilledWriter is the child side of TestKilledMidWrite; it never returns
// normally unless the kill failed.
func runKilledWriter(t *testing.T, dir, round string) {
	s := mustOpen(t, Options{StatePath: filepath.Join(dir, "state.json"), Clock: clocktest.NewFake(t0)}, Config{})
	var acks atomic.Int64
	killAt := int64(crashAddsBeforeKill + rand.IntN(20*crashAddsBeforeKill))
	ready := make(chan struct{})
	go func() {
		<-ready
		time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}()
	var next atomic.Int64
	for range crashWriters {
		go func() {
			ctx := context.Background()
			for {
				n := next.Add(1)
				id := fmt.Sprintf("r%s-id-%06d", round, n)
				if _, err := s.Add(ctx, []string{id}, OriginAPI, time.Time{}); err != nil {
					fmt.Fprintln(os.Stdout, "add failed:", err)
					continue
				}
				// Stdout is unbuffered: the line is in the pipe before the
				// next change starts.
				fmt.Fprintln(os.Stdout, ackPrefix+id)
				if acks.Add(1) == killAt {
					close(ready)
				}
				if n%2 == 0 {
					fmt.Fprintln(os.Stdout, removingPrefix+id)
					if _, err := s.Remove(ctx, []string{id}, OriginAPI); err != nil {
						fmt.Fprintln(os.Stdout, "remove failed:", err)
						continue
					}
					fmt.Fprintln(os.Stdout, removedPrefix+id)
				}
			}
		}()
	}
	select {} // until killed
}
