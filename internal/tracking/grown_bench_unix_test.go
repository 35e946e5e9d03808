//go:build unix

package tracking

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// grownIDs is the size of the set BenchmarkAddDurableGrown and
// BenchmarkOpenGrown start from: tracking.max_ids_per_app's upper bound.
const grownIDs = 100_000

// growSet adds grownIDs IDs to s, a thousand at a time.
func growSet(tb testing.TB, s *Set) {
	tb.Helper()
	ids := make([]string, 0, 1000)
	for i := range grownIDs {
		ids = append(ids, fmt.Sprintf("grown-%06d", i))
		if len(ids) == cap(ids) {
			mustAdd(tb, s, OriginAPI, ids...)
			ids = ids[:0]
		}
	}
}

// BenchmarkAddDurableGrown is BenchmarkAddDurable50 against a set that
// already tracks grownIDs IDs at its cap, so that every new ID evicts the
// oldest, as a full daemon does: "journal" saves as the Set does,
// "full_rewrite" as earlier releases did (the whole set as indented JSON,
// written through a temporary file, fsync, rename, directory fsync, per
// group commit). With TRACKING_BENCH_DURATION set (for example 10m) the
// clients run for that long whatever b.N is; run it with -benchtime=1x.
func BenchmarkAddDurableGrown(b *testing.B) {
	var d time.Duration
	if v := os.Getenv("TRACKING_BENCH_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			b.Fatal(err)
		}
	}
	for _, mode := range []string{"journal", "full_rewrite"} {
		b.Run(mode, func(b *testing.B) {
			const clients = 50
			s := mustOpen(b, Options{StatePath: filepath.Join(b.TempDir(), "state.json")}, Config{Cap: grownIDs})
			growSet(b, s)
			if mode == "full_rewrite" {
				s.persist = func([]byte, bool) error {
					s.mu.Lock()
					recs := make([]record, 0, len(s.ids))
					for id, e := range s.ids {
						recs = append(recs, record{ID: id, Added: e.added, Sent: e.sent, Origin: e.origin(), Retired: e.retired})
					}
					s.mu.Unlock()
					data, err := encodeState(recs)
					if err != nil {
						return err
					}
					return s.jrnl.rewrite(data)
				}
			}
			var next, done atomic.Int64
			var wg sync.WaitGroup
			deadline := time.Now().Add(d)
			// The slowest 10-second window tells whether the rate holds.
			slowest := math.Inf(1)
			stop := make(chan struct{})
			var sampler sync.WaitGroup
			sampler.Go(func() {
				tick := time.NewTicker(10 * time.Second)
				defer tick.Stop()
				last := int64(0)
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						n := done.Load()
						slowest = min(slowest, float64(n-last)/10)
						last = n
					}
				}
			})
			b.ResetTimer()
			start, cpu := time.Now(), cpuTime(b)
			for range clients {
				wg.Go(func() {
					for {
						i := next.Add(1)
						if d > 0 && time.Now().After(deadline) || d == 0 && i > int64(b.N) {
							return
						}
						if _, err := s.Add(context.Background(), []string{fmt.Sprint("new-", i)}, OriginAPI, time.Time{}); err != nil {
							b.Error(err)
							return
						}
						done.Add(1)
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.ReportMetric(float64((cpuTime(b)-cpu).Microseconds())/float64(done.Load()), "cpu-us/ID")
			close(stop)
			sampler.Wait()
			b.ReportMetric(float64(done.Load())/elapsed.Seconds(), "IDs/s")
			if !math.IsInf(slowest, 1) {
				b.ReportMetric(slowest, "slowest-10s-IDs/s")
			}
			if got := s.Len(); got != grownIDs {
				b.Errorf("Len() = %d, want %d", got, grownIDs)
			}
		})
	}
}

// BenchmarkOpenGrown measures start-up with grownIDs IDs: Open reading a
// compacted journal, a journal of as many records again (about the most it
// holds before it is compacted), and the version 1 JSON state file of
// earlier releases. cpu-ms/op is the process's CPU time (user and system)
// per Open: on a loaded machine, wall time mostly measures the wait for a
// core.
func BenchmarkOpenGrown(b *testing.B) {
	dir := b.TempDir()
	s := mustOpen(b, Options{StatePath: filepath.Join(dir, "journal")}, Config{})
	growSet(b, s)
	compacted, err := os.ReadFile(filepath.Join(dir, "journal"))
	if err != nil {
		b.Fatal(err)
	}
	full := bytes.Clone(compacted)
	for i := range grownIDs {
		full = appendPut(full, fmt.Sprintf("grown-%06d", i), &entry{added: t0, from: fromAPI | fromFile})
	}
	s.mu.Lock()
	recs := make([]record, 0, len(s.ids))
	for id, e := range s.ids {
		recs = append(recs, record{ID: id, Added: e.added, Origin: e.origin()})
	}
	s.mu.Unlock()
	legacy, err := encodeState(recs)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{{"journal_compacted", compacted}, {"journal_2x", full}, {"json_v1", legacy}} {
		b.Run(tc.name, func(b *testing.B) {
			path := filepath.Join(dir, tc.name)
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(tc.data)))
			cpu := cpuTime(b)
			var s *Set
			for b.Loop() {
				if s, err = Open(Options{StatePath: path}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime(b)-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
			if s.Len() != grownIDs {
				b.Fatalf("Len() = %d", s.Len())
			}
		})
	}
}
