package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

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
	return shapedServer(tb, singleShape, n)
}

// A shape is how a benchmark's series are cut into blocks.
type shape struct {
	name   string
	schema *expo.Schema
	fill   func(t *refresh.Target, n int)
	change func(t *refresh.Target, i int) // changes one block
}

// singleShape is one series per block: the benchmark family, a block per
// task.
var singleShape = shape{
	name:   "single",
	schema: expo.NewSchema(benchFamily),
	fill: func(t *refresh.Target, n int) {
		for i := range n {
			id := renderTask(i)
			t.Put(id, []expo.Sample{benchFamily.Gauge(float64(i), "1400000000", id)})
		}
	},
	change: func(t *refresh.Target, i int) {
		t.Put(renderTask(0), []expo.Sample{benchFamily.Gauge(float64(-i), "1400000000", renderTask(0))})
	},
}

// The daemon's shape: a JPush message per block, its funnel by type and by
// platform and channel, 40 to 90 series (5 + 5 per channel, 7 to 17
// channels), as the jpush source keeps a tracked message.
var (
	daemonMessage [5]*expo.Family
	daemonChannel [5]*expo.Family
	daemonShape   = func() shape {
		var fams []*expo.Family
		for i, st := range []string{"target", "sent", "received", "displayed", "clicked"} {
			daemonMessage[i] = expo.NewFamily("jpush_message_"+st, "Per message and type: "+st+" count of /messages/detail.", "app_key", "msg_id", "type")
			daemonChannel[i] = expo.NewFamily("jpush_message_channel_"+st, "Per message, type, platform and channel: "+st+" count of /messages/detail.", "app_key", "msg_id", "type", "platform", "channel")
			fams = append(fams, daemonMessage[i])
		}
		fams = append(fams, daemonChannel[:]...)
		return shape{name: "daemon", schema: expo.NewSchema(fams...), fill: fillDaemon, change: func(t *refresh.Target, i int) { putMessage(t, 0, i) }}
	}()
)

// fillDaemon puts messages of 40 to 90 series until there are n.
func fillDaemon(t *refresh.Target, n int) {
	for m, series := 0, 0; series < n; m++ {
		series += putMessage(t, m, 0)
	}
}

// putMessage puts message m's block, its values moved by v, and returns its
// number of series.
func putMessage(t *refresh.Target, m, v int) int {
	const appKey = "8f3c2a1b9d4e5f60718293a4"
	id := strconv.Itoa(18_100_000_000_000_000 + m*7919)
	channels := 7 + m%11
	var samples []expo.Sample
	for i := range daemonMessage {
		samples = append(samples, daemonMessage[i].Gauge(float64(m*100+v+i), appKey, id, "notification"))
		for c := range channels {
			platform := "android"
			if c%4 == 3 {
				platform = "ios"
			}
			samples = append(samples, daemonChannel[i].Gauge(float64(m*10+v+c), appKey, id, "notification", platform, "channel_"+strconv.Itoa(c)))
		}
	}
	t.Put(id, samples)
	return len(samples)
}

// shapedServer is renderServer with n series in sh's blocks.
func shapedServer(tb testing.TB, sh shape, n int) *Server {
	tb.Helper()
	def := sources.Def{Source: catalog.Source{Name: "bench"}, Builder: sources.Builder{Schema: sh.schema}}
	target := refresh.NewTarget(def.Name, "1400000000", def.Schema, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { refresh.NewLoop(target, fillJob{sh, n}, refresh.Options{}).Run(ctx); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	<-target.Ready()
	reg := prometheus.NewRegistry()
	s := &Server{registry: reg, safe: config.NewSafeConfig(reg), scrapes: newScrapeCache()}
	cfg := config.DefaultConfig
	s.safe.Set(&cfg)
	s.units.Store(&unitList{units: []*unit{{def: def, target: target}}})
	return s
}

// fillJob is a job whose one step puts n series in its shape, and then
// waits for good.
type fillJob struct {
	shape shape
	n     int
}

func (j fillJob) Step(_ context.Context, t *refresh.Target, _ bool) (time.Duration, error) {
	j.shape.fill(t, j.n)
	return 24 * time.Hour, nil
}

func (fillJob) Wake() <-chan struct{} { return nil }

// renderTask is the task_id of the i-th series, shaped like a Tencent TaskId.
func renderTask(i int) string {
	return fmt.Sprintf("1400000000_144115212910570789_%010d_17000000", i)
}

// floor is the exporter's vendor series as plain bytes: for text, every
// block's lines of every family, rendered and decoded beforehand, with the
// headers; for gzip, the compressed segments and the gzip header and
// trailer. Copying them to the client is what no exporter can beat.
type floor struct {
	text [][]byte
	gz   [][]byte
}

// newFloor renders s's vendor series as a scrape would write them.
func newFloor(s *Server) *floor {
	pooled := s.scrapes.groups.Get().(*[]expo.Group)
	defer s.scrapes.putGroups(pooled)
	groups := collectGroups((*pooled)[:0], s.units.Load())
	*pooled = groups
	f := &floor{}
	for _, g := range groups {
		for i, fam := range g.Schema.Families() {
			f.text = append(f.text, []byte("# HELP "+fam.Name+" "+fam.Help+"\n# TYPE "+fam.Name+" gauge\n"))
			for _, b := range g.Blocks {
				if b.Count(i) > 0 {
					f.text = append(f.text, b.AppendPart(nil, i))
				}
			}
		}
	}
	d := deflateUnits(expo.Text, s.units.Load())
	f.gz = append(f.gz, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255})
	f.gz = append(f.gz, d.Segments()...)
	f.gz = append(f.gz, []byte{1, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0})
	return f
}

// copyTo copies parts to w through a 64 KiB buffer, as a scrape does.
func copyTo(w io.Writer, parts [][]byte) {
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, p := range parts {
		_, _ = bw.Write(p)
	}
	_ = bw.Flush()
}

// BenchmarkScrape serves /metrics and, in the same iteration, copies the
// same bytes, pre-rendered, to the same writer: the floor. Both sides run
// in turn in every iteration, so that the noise of a shared machine hits
// both; the ratio is reported as x-floor. Shapes: "daemon" (blocks of 40
// to 90 series, as the jpush source keeps a message) and "single" (one
// series per block). Cases: "text"; "gzip_new", where one block changes
// before each scrape, so that each is of a new snapshot generation and
// compresses that block's segments again; "gzip_shared", one generation
// scraped again and again. The gzip floor copies the compressed bytes.
// Goals (BENCHMARKS.md (a)): text within 1.5× of the floor, gzip within
// 3×, allocations that do not grow with the series.
func BenchmarkScrape(b *testing.B) {
	for _, sh := range []shape{daemonShape, singleShape} {
		for _, n := range []int{100_000, 1_000_000} {
			for _, kind := range []string{"text", "gzip_new", "gzip_shared"} {
				b.Run(fmt.Sprintf("shape=%s/series=%d/%s", sh.name, n, kind), func(b *testing.B) {
					s := shapedServer(b, sh, n)
					target := s.units.Load().units[0].target
					req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
					if kind != "text" {
						req.Header.Set("Accept-Encoding", "gzip")
					}
					w := &discard{header: http.Header{}}
					s.serveMetrics(w, req) // the first compression is not what is measured
					fl := newFloor(s)
					parts := fl.text
					if kind != "text" {
						parts = fl.gz
					}
					var exporter, copying time.Duration
					var bytesOut int64
					compressed0 := compressed(s)
					b.ReportAllocs()
					i := 0
					for b.Loop() {
						i++
						if kind == "gzip_new" {
							sh.change(target, i)
						}
						w.header, w.n = http.Header{}, 0
						t0 := time.Now()
						s.serveMetrics(w, req)
						t1 := time.Now()
						bytesOut = w.n
						w.n = 0
						copyTo(w, parts)
						copying += time.Since(t1)
						exporter += t1.Sub(t0)
					}
					b.ReportMetric(float64(exporter.Microseconds())/1000/float64(i), "exporter-ms")
					b.ReportMetric(float64(copying.Microseconds())/1000/float64(i), "floor-ms")
					b.ReportMetric(float64(exporter)/float64(copying), "x-floor")
					b.ReportMetric(float64(bytesOut), "body-bytes")
					b.ReportMetric(float64(compressed(s)-compressed0)/float64(i), "compressed-bytes/op")
				})
			}
		}
	}
}

// BenchmarkScrapeVsClientGolang serves the single shape's series from the
// exporter and, in the same iteration, from a client_golang registry
// holding them in a GaugeVec behind promhttp, both as text: the cost the
// pre-rendered blocks save. x-exporter is the registry's time over the
// exporter's.
func BenchmarkScrapeVsClientGolang(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("series=%d", n), func(b *testing.B) {
			s := renderServer(b, n)
			reg := prometheus.NewRegistry()
			vec := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: benchFamily.Name, Help: benchFamily.Help}, benchFamily.Labels)
			reg.MustRegister(vec)
			for i := range n {
				vec.WithLabelValues("1400000000", renderTask(i)).Set(float64(i))
			}
			h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{DisableCompression: true})
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			w := &discard{header: http.Header{}}
			var exporter, registry time.Duration
			i := 0
			for b.Loop() {
				i++
				w.header = http.Header{}
				t0 := time.Now()
				s.serveMetrics(w, req)
				t1 := time.Now()
				w.header = http.Header{}
				h.ServeHTTP(w, req)
				registry += time.Since(t1)
				exporter += t1.Sub(t0)
			}
			b.ReportMetric(float64(exporter.Microseconds())/1000/float64(i), "exporter-ms")
			b.ReportMetric(float64(registry.Microseconds())/1000/float64(i), "client_golang-ms")
			b.ReportMetric(float64(registry)/float64(exporter), "x-exporter")
		})
	}
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

// BenchmarkLiveHeap measures what the blocks of n series keep alive: the
// live heap after a collection with the target filled, less the live heap
// before, per series; and the same with the gzip segments of one scrape
// kept as well (what the daemon holds between scrapes).
func BenchmarkLiveHeap(b *testing.B) {
	for _, sh := range []shape{daemonShape, singleShape} {
		b.Run("shape="+sh.name, func(b *testing.B) {
			const n = 1_000_000
			for b.Loop() {
				before := liveHeap()
				s := shapedServer(b, sh, n)
				blocks := liveHeap()
				req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				req.Header.Set("Accept-Encoding", "gzip")
				s.serveMetrics(&discard{header: http.Header{}}, req)
				withGzip := liveHeap()
				b.ReportMetric(float64(blocks-before)/n, "blocks-B/series")
				b.ReportMetric(float64(withGzip-before)/n, "with-gzip-B/series")
				runtime.KeepAlive(s)
			}
		})
	}
}

// liveHeap collects garbage and returns the heap in use.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
