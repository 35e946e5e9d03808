package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imstats/imstats_exporter/internal/simulator"
	"github.com/imstats/imstats_exporter/internal/webguard"
)

// registerClients is how many clients register IDs at once.
const registerClients = 50

// BenchmarkRegisterHTTP50 registers one new TaskId per POST
// /api/v1/tencent_im/{sdkappid}/tasks from 50 concurrent clients, over
// HTTP on loopback, against a Server as the daemon runs it (its tencent_push
// loop polling the simulator, the state file on disk): a 200 means the ID is
// fsync'd. "bare" is the Server's handler; "guard" is it behind the daemon's
// webguard with its default options, which answers 503 (Retry-After: 1)
// beyond 40 concurrent requests other than scrapes: those clients retry
// after 10 ms. One op is one ID acknowledged. Goal (BENCHMARKS.md (e)):
// ≥ 500 IDs/s.
func BenchmarkRegisterHTTP50(b *testing.B) {
	for _, mode := range []string{"bare", "guard"} {
		b.Run(mode, func(b *testing.B) {
			dir := b.TempDir()
			cfg := filepath.Join(dir, "exporter.yml")
			yml := fmt.Sprintf(`tencent_im:
  - sdkappid: %d
    secret_key: %q
    endpoint: %s
state_directory: %s
tracking:
  register_per_minute: 0
  max_ids_per_app: 100000
`, testSDKAppID, testTencentKey, registerVendor(b), filepath.Join(dir, "state"))
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
			if mode == "guard" {
				o := webguard.DefaultOptions()
				o.EnableTrackingAPI = true
				g, err := webguard.New(o, prometheus.NewRegistry())
				if err != nil {
					b.Fatal(err)
				}
				h = g.Handler(h)
			}
			srv := httptest.NewServer(h)
			b.Cleanup(srv.Close)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: registerClients}}
			url := fmt.Sprintf("%s/api/v1/tencent_im/%d/tasks", srv.URL, testSDKAppID)
			var next, unavailable atomic.Int64
			var slowest atomic.Int64
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range registerClients {
				wg.Go(func() {
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						body := fmt.Sprintf(`{"task_ids":["1400000000_bench_%d_%d"]}`, b.N, i)
						for {
							began := time.Now()
							code, err := post(client, url, body)
							if err != nil {
								b.Error(err)
								return
							}
							if code == http.StatusServiceUnavailable {
								unavailable.Add(1)
								time.Sleep(10 * time.Millisecond)
								continue
							}
							if code != http.StatusOK {
								b.Errorf("POST answered %d", code)
								return
							}
							took := int64(time.Since(began))
							for cur := slowest.Load(); took > cur && !slowest.CompareAndSwap(cur, took); cur = slowest.Load() {
							}
							break
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "IDs/s")
			b.ReportMetric(float64(unavailable.Load())/float64(b.N), "503s/op")
			b.ReportMetric(time.Duration(slowest.Load()).Seconds(), "slowest-s")
		})
	}
}

// registerVendor starts the Tencent simulator for the benchmark's app and
// returns its URL.
func registerVendor(tb testing.TB) string {
	tb.Helper()
	tim := simulator.NewTencent(simulator.TencentOptions{Apps: []simulator.TencentApp{{SDKAppID: testSDKAppID, Identifier: "admin", SecretKey: testTencentKey}}, Seed: 1})
	srv := httptest.NewServer(tim)
	tb.Cleanup(srv.Close)
	return srv.URL
}

// post sends one POST and drains the answer.
func post(client *http.Client, url, body string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}
