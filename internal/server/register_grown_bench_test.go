package server

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

// grownIDs is how many IDs BenchmarkRegisterHTTPGrown's app already tracks:
// tracking.max_ids_per_app's upper bound.
const grownIDs = 100_000

// BenchmarkRegisterHTTPGrown is BenchmarkRegisterHTTP50 ("bare") against an
// app that already tracks grownIDs TaskIds, at max_ids_per_app, so that
// every new ID evicts the oldest, as in a full daemon. With
// REGISTER_BENCH_DURATION set (for example 10m) the 50 clients POST for
// that long whatever b.N is; run it with -benchtime=1x. slowest-10s-IDs/s
// is the slowest 10-second window, to tell whether the rate holds.
func BenchmarkRegisterHTTPGrown(b *testing.B) {
	var d time.Duration
	if v := os.Getenv("REGISTER_BENCH_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			b.Fatal(err)
		}
	}
	dir := b.TempDir()
	growState(b, filepath.Join(dir, "state", fmt.Sprintf("%s_%d.json", catalog.KindTencentPush, testSDKAppID)))
	cfg := filepath.Join(dir, "exporter.yml")
	yml := fmt.Sprintf(`tencent_im:
  - sdkappid: %d
    secret_key: %q
    endpoint: %s
state_directory: %s
tracking:
  register_per_minute: 0
  max_ids_per_app: %d
`, testSDKAppID, testTencentKey, registerVendor(b), filepath.Join(dir, "state"), grownIDs)
	if err := os.WriteFile(cfg, []byte(yml), 0o600); err != nil {
		b.Fatal(err)
	}
	s, err := New(Options{ConfigFile: cfg, EnableTrackingWrites: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	h, err := s.Handler()
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: registerClients}}
	url := fmt.Sprintf("%s/api/v1/tencent_im/%d/tasks", srv.URL, testSDKAppID)

	var next, done atomic.Int64
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
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range registerClients {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if d > 0 && time.Now().After(deadline) || d == 0 && i > int64(b.N) {
					return
				}
				code, err := post(client, url, fmt.Sprintf(`{"task_ids":["1400000000_new_%d"]}`, i))
				if err != nil || code != http.StatusOK {
					b.Errorf("POST: %d, %v", code, err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	sampler.Wait()
	b.ReportMetric(float64(done.Load())/elapsed.Seconds(), "IDs/s")
	if !math.IsInf(slowest, 1) {
		b.ReportMetric(slowest, "slowest-10s-IDs/s")
	}
}

// growState writes a state file at path tracking grownIDs TaskIds.
func growState(b *testing.B, path string) {
	b.Helper()
	set, err := tracking.Open(tracking.Options{Kind: catalog.KindTencentPush, StatePath: path})
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 0, tracking.MaxIDsPerRequest)
	for i := range grownIDs {
		ids = append(ids, fmt.Sprintf("1400000000_grown_%06d", i))
		if len(ids) == cap(ids) {
			if _, err := set.Add(context.Background(), ids, tracking.OriginAPI, time.Time{}); err != nil {
				b.Fatal(err)
			}
			ids = ids[:0]
		}
	}
}
