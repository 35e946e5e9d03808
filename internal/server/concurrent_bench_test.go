package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imstats/imstats_exporter/internal/webguard"
)

// concurrentChildEnv tells the child of BenchmarkConcurrentScrapes to serve
// 100 000 series, with "guard" behind the daemon's webguard (its default
// options) or with "bare" without it.
const concurrentChildEnv = "IMSTATS_BENCH_CONCURRENT_CHILD"

// Shape of BenchmarkConcurrentScrapes.
const (
	concurrentSeries  = 100_000
	concurrentScrapes = 200
	concurrentRounds  = 3
)

// BenchmarkConcurrentScrapes fires 200 concurrent scrapes of 100 000
// series, three rounds, at an exporter in a child process, and reports its
// peak resident set (VmHWM) and the answers. "guard" is the HTTP layer as
// the daemon wires it (internal/webguard with its default options: 10
// concurrent scrapes, beyond that 503); "bare" is the Server's handler with
// no cap. Goal (BENCHMARKS.md (b)): peak RSS < 512 MiB.
func BenchmarkConcurrentScrapes(b *testing.B) {
	if mode := os.Getenv(concurrentChildEnv); mode != "" {
		concurrentChild(b, mode)
		return
	}
	for _, mode := range []string{"guard", "bare"} {
		for _, gz := range []bool{false, true} {
			name := mode + "/text"
			if gz {
				name = mode + "/gzip"
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					concurrentRun(b, mode, gz)
				}
			})
		}
	}
}

// concurrentRun starts the child, scrapes it and reports the figures.
func concurrentRun(b *testing.B, mode string, gz bool) {
	c := startChild(b, "BenchmarkConcurrentScrapes", concurrentChildEnv+"="+mode)
	before := c.status(b, "VmHWM")
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: concurrentScrapes,
		DisableCompression:  true, // Accept-Encoding is set by hand, the body counted as sent
	}}
	var ok, unavailable, failed atomic.Int64
	var bytes atomic.Int64
	var slowest time.Duration
	var mu sync.Mutex
	for range concurrentRounds {
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range concurrentScrapes {
			wg.Go(func() {
				<-start
				began := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.addr+"/metrics", nil)
				req.Header.Set(ScrapeTimeoutHeader, "10")
				if gz {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					return
				}
				n, err := io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				switch {
				case err != nil:
					failed.Add(1)
				case resp.StatusCode == http.StatusOK:
					ok.Add(1)
					bytes.Add(n)
				case resp.StatusCode == http.StatusServiceUnavailable:
					unavailable.Add(1)
				default:
					failed.Add(1)
				}
				mu.Lock()
				slowest = max(slowest, time.Since(began))
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
	}
	peak := c.status(b, "VmHWM")
	c.stop()
	if failed.Load() > 0 {
		b.Errorf("%d scrapes failed (neither 200 nor 503)", failed.Load())
	}
	b.ReportMetric(float64(before)/(1<<20), "rss-before-MiB")
	b.ReportMetric(float64(peak)/(1<<20), "rss-peak-MiB")
	b.ReportMetric(float64(ok.Load()), "200s")
	b.ReportMetric(float64(unavailable.Load()), "503s")
	b.ReportMetric(slowest.Seconds(), "slowest-s")
	if ok.Load() > 0 {
		b.ReportMetric(float64(bytes.Load()/ok.Load()), "body-bytes")
	}
}

// concurrentChild serves 100 000 series until its stdin closes.
func concurrentChild(b *testing.B, mode string) {
	s := renderServer(b, concurrentSeries)
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", s.serveMetrics)
	switch mode {
	case "guard":
		o := webguard.DefaultOptions()
		g, err := webguard.New(o, prometheus.NewRegistry())
		if err != nil {
			b.Fatal(err)
		}
		serveChild(b, g.Handler(mux), func(srv *http.Server) { webguard.Configure(srv, o) })
	case "bare":
		serveChild(b, mux, nil)
	default:
		b.Fatalf("unknown mode %q", mode)
	}
	fmt.Fprintln(os.Stderr, "child done")
}
