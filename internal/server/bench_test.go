package server

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/refresh"
	"github.com/imstats/imstats_exporter/internal/sources"
)

// discard is an http.ResponseWriter that counts and drops the body.
type discard struct {
	header http.Header
	n      int64
}

func (d *discard) Header() http.Header { return d.header }
func (d *discard) WriteHeader(int)     {}
func (d *discard) Write(p []byte) (int, error) {
	d.n += int64(len(p))
	return len(p), nil
}

// benchFamily is the family the render benchmarks fill: the per-task push
// funnel, as tencent_push exports it.
var benchFamily = expo.NewFamily("tencent_im_push_task_target", "Per push task: Devices the push could be sent to (all_member_push_statistics TotalCount).", "sdkappid", "task_id")

// renderServer returns a Server whose only target holds n series, one block
// per tracked ID as tencent_push keeps them, ready to serve /metrics: its
// first step has finished, so that a scrape does not wait for one.
func renderServer(tb testing.TB, n int) *Server {
	tb.Helper()
	def := sources.Def{Source: catalog.Source{Name: "bench"}, Builder: sources.Builder{Schema: expo.NewSchema(benchFamily)}}
	target := refresh.NewTarget(def.Name, "1400000000", def.Schema, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { refresh.NewLoop(target, fillJob(n), refresh.Options{}).Run(ctx); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	<-target.Ready()
	reg := prometheus.NewRegistry()
	s := &Server{registry: reg, safe: config.NewSafeConfig(reg), scrapes: newScrapeCache()}
	cfg := config.DefaultConfig
	s.safe.Set(&cfg)
	s.units.Store(&unitList{units: []*unit{{def: def, target: target}}})
	return s
}

// fillJob is a job whose one step puts n series, a block per task, and
// then waits for good.
type fillJob int

func (n fillJob) Step(_ context.Context, t *refresh.Target, _ bool) (time.Duration, error) {
	for i := range int(n) {
		id := renderTask(i)
		t.Put(id, []expo.Sample{benchFamily.Gauge(float64(i), "1400000000", id)})
	}
	return 24 * time.Hour, nil
}

func (fillJob) Wake() <-chan struct{} { return nil }

// renderTask is the task_id of the i-th series, shaped like a Tencent TaskId.
func renderTask(i int) string {
	return fmt.Sprintf("1400000000_144115212910570789_%010d_17000000", i)
}

// floorLines are n presorted samples, as the floor renders them.
func floorLines(n int) [][2]string {
	out := make([][2]string, n)
	for i := range n {
		out[i] = [2]string{renderTask(i), strconv.Itoa(i)}
	}
	return out
}

// BenchmarkScrape compares serving /metrics with the floor: the same
// exposition written with an append writer from presorted samples into a
// reused buffer. Text without compression, then gzip (at the exporter's
// level, BestSpeed) for a new snapshot generation, for a generation already
// compressed, and for the floor. Goal (BENCHMARKS.md (a)): the exporter
// within 2× of the floor, allocations that do not grow with the series.
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("series=%d/exporter", n), func(b *testing.B) {
			s := renderServer(b, n)
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			w := &discard{}
			b.ReportAllocs()
			for b.Loop() {
				w.header, w.n = http.Header{}, 0
				s.serveMetrics(w, req)
			}
			b.SetBytes(w.n)
		})
		b.Run(fmt.Sprintf("series=%d/floor", n), func(b *testing.B) {
			lines := floorLines(n)
			w := &discard{header: http.Header{}}
			buf := make([]byte, 0, 64<<10)
			b.ReportAllocs()
			for b.Loop() {
				w.n = 0
				bw := bufio.NewWriterSize(w, 64<<10)
				buf = writeFloor(bw, buf, lines)
				_ = bw.Flush()
			}
			b.SetBytes(w.n)
		})
		// gzip: a scrape of a new snapshot generation compresses the body
		// (one Put per iteration makes a new generation); scrapes of the
		// same generation share the compressed body.
		b.Run(fmt.Sprintf("series=%d/exporter_gzip", n), func(b *testing.B) {
			s := renderServer(b, n)
			target := s.units.Load().units[0].target
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			w := &discard{}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				target.Put(renderTask(0), []expo.Sample{benchFamily.Gauge(float64(i), "1400000000", renderTask(0))})
				w.header, w.n = http.Header{}, 0
				s.serveMetrics(w, req)
			}
			b.SetBytes(w.n)
		})
		b.Run(fmt.Sprintf("series=%d/exporter_gzip_shared", n), func(b *testing.B) {
			s := renderServer(b, n)
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			w := &discard{}
			b.ReportAllocs()
			for b.Loop() {
				w.header, w.n = http.Header{}, 0
				s.serveMetrics(w, req)
			}
			b.SetBytes(w.n)
		})
		b.Run(fmt.Sprintf("series=%d/floor_gzip", n), func(b *testing.B) {
			lines := floorLines(n)
			w := &discard{header: http.Header{}}
			buf := make([]byte, 0, 64<<10)
			zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed) // the exporter's level
			b.ReportAllocs()
			for b.Loop() {
				w.n = 0
				zw.Reset(w)
				buf = writeFloor(zw, buf, lines)
				_ = zw.Close()
			}
			b.SetBytes(w.n)
		})
	}
}

// writeFloor writes the floor's exposition of lines to w through buf, an
// append buffer it returns for reuse.
func writeFloor(w io.Writer, buf []byte, lines [][2]string) []byte {
	buf = append(buf[:0], "# HELP "+benchFamily.Name+" "+benchFamily.Help+"\n# TYPE "+benchFamily.Name+" gauge\n"...)
	for _, l := range lines {
		buf = append(buf, benchFamily.Name...)
		buf = append(buf, `{sdkappid="1400000000",task_id="`...)
		buf = append(buf, l[0]...)
		buf = append(buf, `"} `...)
		buf = append(buf, l[1]...)
		buf = append(buf, '\n')
		if len(buf) > 32<<10 {
			_, _ = w.Write(buf)
			buf = buf[:0]
		}
	}
	_, _ = w.Write(buf)
	return buf
}

// TestScrapeAllocationsDoNotGrowWithSeries serves /metrics at 1 000 and
// 100 000 series and checks that the allocations per scrape are the same
// within a small constant: nothing is allocated per series. With gzip,
// every scrape is of a new snapshot generation, so that it compresses the
// vendor series instead of reusing them.
func TestScrapeAllocationsDoNotGrowWithSeries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		encoding string
	}{
		{"text", ""},
		{"gzip", "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			allocs := func(n int) float64 {
				s := renderServer(t, n)
				target := s.units.Load().units[0].target
				req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				if tc.encoding != "" {
					req.Header.Set("Accept-Encoding", tc.encoding)
				}
				i := 0
				return testing.AllocsPerRun(5, func() {
					i++
					target.Put(renderTask(0), []expo.Sample{benchFamily.Gauge(float64(i), "1400000000", renderTask(0))})
					s.serveMetrics(&discard{header: http.Header{}}, req)
				})
			}
			small, large := allocs(1_000), allocs(100_000)
			if large > small+50 {
				t.Fatalf("a scrape of 100 000 series made %.0f allocations, of 1 000 series %.0f: allocations grow with the series", large, small)
			}
			t.Logf("allocations per scrape: %.0f at 1 000 series, %.0f at 100 000", small, large)
		})
	}
}
