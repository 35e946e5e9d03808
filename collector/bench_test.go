package collector_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/imstats/imstats_exporter/collector"
	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/server"
	"github.com/imstats/imstats_exporter/internal/simulator"
)

// BENCHMARKS.md reports these benchmarks against their goals (SPEC §4,
// issue 6) and gives the command that reruns each figure.

// discardResponse is an http.ResponseWriter that counts and drops the body.
type discardResponse struct {
	header http.Header
	n      int64
}

func (d *discardResponse) Header() http.Header { return d.header }
func (d *discardResponse) WriteHeader(int)     {}
func (d *discardResponse) Write(p []byte) (int, error) {
	d.n += int64(len(p))
	return len(p), nil
}

// staticSource is a Source whose every refresh returns the same metrics.
type staticSource []prometheus.Metric

func (s staticSource) Refresh(context.Context) ([]prometheus.Metric, error) { return s, nil }

var renderLabels = []string{"sdkappid", "task_id"}

const (
	renderName = "tencent_im_push_task_target"
	renderHelp = "Per push task: Devices the push could be sent to (all_member_push_statistics TotalCount)."
)

// renderTask is the task_id of the i-th series, shaped like a Tencent TaskId.
func renderTask(i int) string {
	return fmt.Sprintf("1400000000_144115212910570789_%010d_17000000", i)
}

// benchRender measures serving h (n series) once per iteration.
func benchRender(b *testing.B, h http.Handler) {
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	w := &discardResponse{}
	for b.Loop() {
		w.header, w.n = http.Header{}, 0
		h.ServeHTTP(w, req)
	}
	b.SetBytes(w.n)
}

// exporterHandler is the /metrics handler of an exporter whose only target
// holds metrics in its snapshot.
func exporterHandler(metrics staticSource) (http.Handler, func()) {
	fc := clock.NewFake(rigStart)
	exp := collector.NewExporter([]collector.Target{{Source: config.SourceTencentPush, App: "1400000000", Interval: time.Hour, Fetcher: metrics}}, nil, collector.RefreshOptions{Clock: fc})
	var holder collector.Holder
	holder.Swap(exp)
	reg := prometheus.NewRegistry()
	reg.MustRegister(&holder)
	limits := func() (time.Duration, time.Duration) { return 500 * time.Millisecond, 10 * time.Second }
	holder.Prepare(context.Background()) // the snapshot, fresh for the fake clock's hour
	return collector.Handler(&holder, reg, limits, promhttp.HandlerOpts{}), exp.Close
}

// BenchmarkRender compares /metrics served from the exporter's snapshots
// (const metrics through collector.Handler) with client_golang rendering the
// same series from GaugeVec children in a static registry. Goal: the
// exporter within 1.3× of the static registry.
//
// The registry sorts each family's series, which costs most at 100k series
// and least on sorted input. "exporter" holds the series in a shuffled order,
// the handicap of the GaugeVec's map; "exporter_sorted" holds them sorted, as
// tencent_push publishes them (by task ID).
func BenchmarkRender(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		desc := prometheus.NewDesc(renderName, renderHelp, renderLabels, nil)
		sorted := make(staticSource, n)
		for i := range sorted {
			sorted[i] = prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(i), "1400000000", renderTask(i))
		}
		shuffled := slices.Clone(sorted)
		rand.New(rand.NewPCG(1, 2)).Shuffle(n, func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		for _, tc := range []struct {
			name    string
			metrics staticSource
		}{{"exporter", shuffled}, {"exporter_sorted", sorted}} {
			b.Run(fmt.Sprintf("series=%d/%s", n, tc.name), func(b *testing.B) {
				h, closeExporter := exporterHandler(tc.metrics)
				defer closeExporter()
				benchRender(b, h)
			})
		}
		b.Run(fmt.Sprintf("series=%d/client_golang", n), func(b *testing.B) {
			g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: renderName, Help: renderHelp}, renderLabels)
			for i := range n {
				g.WithLabelValues("1400000000", renderTask(i)).Set(float64(i))
			}
			reg := prometheus.NewRegistry()
			reg.MustRegister(g)
			benchRender(b, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		})
	}
}

// scrapeAll fires n concurrent scrapes at h and returns their bodies.
func scrapeAll(h http.Handler, n int) []string {
	bodies := make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			bodies[i] = rec.Body.String()
		})
	}
	close(start)
	wg.Wait()
	return bodies
}

// TestTwoHundredScrapesOneCallPerSource fires 200 concurrent scrapes within
// one TTL: the vendor sees exactly one call per source and app, and every
// scrape is served the values.
func TestTwoHundredScrapesOneCallPerSource(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	for i, body := range scrapeAll(r.handler(), 200) {
		for _, s := range []string{`tencent_im_active_users{sdkappid="1400000000"}`, `tencent_im_push_window_target{sdkappid="1400000000",window="24h"}`} {
			if _, ok := textValue(body, s); !ok {
				t.Fatalf("scrape %d lacks %s", i, s)
			}
		}
	}
	// One app per vendor kind: one call per API is one per source and app.
	want := map[string]int{
		simulator.TencentGetAppInfo: 1, simulator.TencentPushStatistics: 1,
		simulator.JPushReceivedDetail: 1, simulator.JPushMessagesDetail: 1, simulator.JPushUsers: 1,
		simulator.JPushGroupMessagesDetail: 1, simulator.JPushGroupUsers: 1,
	}
	if got := r.callsByAPI(); !maps.Equal(got, want) {
		t.Fatalf("200 concurrent scrapes made the calls %v, want %v", got, want)
	}
}

// BenchmarkTwoHundredScrapes times 200 concurrent scrapes of stale snapshots
// against the simulator and reports the vendor calls they cost per source
// and app. Goal: exactly 1.
func BenchmarkTwoHundredScrapes(b *testing.B) {
	r := newRig(b, rigOptions{})
	h := r.handler()
	before := r.callsByAPI()
	for b.Loop() {
		r.fc.Advance(30 * time.Minute) // the longest TTL: every snapshot is stale
		scrapeAll(h, 200)
	}
	after := r.callsByAPI()
	for api, n := range after {
		b.ReportMetric(float64(n-before[api])/float64(b.N), strings.ReplaceAll(api, "/", "_")+"-calls/op")
	}
}

// How many push tasks the memory and latency benchmarks track, and how many
// JPush messages the memory benchmark tracks.
const (
	trackedTasks    = 3000
	trackedMessages = 10000
)

// pushHistory creates n push tasks in sim, spaced so that the simulator's
// limits of im_push (100 a day, more than 1 s apart;
// tencent-im-all-member-push.txt) hold: step moves the simulator's clock on.
// 3000 tasks span 30 days: at 100 pushes a day that is what one app can have
// pushed, and the simulator answers for a task older than the 30-day window
// that all_member_push_statistics queries.
func pushHistory(tb testing.TB, sim *simulator.Tencent, n int, step func(time.Duration)) []string {
	tb.Helper()
	const spacing = 14*time.Minute + 30*time.Second // 99 a day
	ids := make([]string, n)
	for i := range ids {
		id, err := sim.Push(rigSDKAppID, 24*time.Hour)
		if err != nil {
			tb.Fatalf("push %d: %v", i, err)
		}
		ids[i] = id
		step(spacing)
	}
	return ids
}

// writeTrackingConfig writes a configuration of the rig's Tencent app at url
// tracking tasks, and, when msgs is not empty, of the rig's JPush app
// tracking msgs, both in watched files, and returns its path.
func writeTrackingConfig(tb testing.TB, dir, url string, tasks, msgs []string) string {
	tb.Helper()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	write("tasks.txt", strings.Join(tasks, "\n")+"\n")
	yml := fmt.Sprintf(`tencent_im:
  - sdkappid: %d
    secret_key: %q
    endpoint: %s
    push:
      windows: [24h]
      task_ids_file: tasks.txt
state_directory: state
tracking:
  max_ids_per_app: %d
`, rigSDKAppID, rigKey, url, max(len(tasks), len(msgs)))
	if len(msgs) > 0 {
		write("msgs.txt", strings.Join(msgs, "\n")+"\n")
		yml += fmt.Sprintf(`jpush:
  - app_key: %q
    master_secret: %q
    endpoint: %s
    msg_ids_file: msgs.txt
`, rigAppKey, rigJPushSecret, url)
	}
	write("exporter.yml", yml)
	return filepath.Join(dir, "exporter.yml")
}

// The environment of the process BenchmarkMemoryTrackedIDs measures: its
// configuration file, the start of its fake clock (Unix nanoseconds), and
// how many tasks and messages it must have statistics of ("3000,10000").
const (
	memoryConfigEnv = "IMSTATS_BENCH_MEMORY_CONFIG"
	memoryStartEnv  = "IMSTATS_BENCH_MEMORY_START"
	memoryExpectEnv = "IMSTATS_BENCH_MEMORY_EXPECT"
)

// BenchmarkMemoryTrackedIDs measures the memory of an exporter tracking 3000
// Tencent push tasks, alone and with 10000 JPush messages, after its first
// full pass over them. The exporter (internal/server, as the daemon runs it)
// lives in a child process of its own, so that the simulators' memory is not
// counted; both run on fake clocks so that the Tencent pass, 600 calls at
// 1.1 s, takes about a minute. Goal: RSS ≤ 64 MiB.
func BenchmarkMemoryTrackedIDs(b *testing.B) {
	if cfg := os.Getenv(memoryConfigEnv); cfg != "" {
		memoryChild(b, cfg)
		return
	}
	for _, messages := range []int{0, trackedMessages} {
		b.Run(fmt.Sprintf("tasks=%d,messages=%d", trackedTasks, messages), func(b *testing.B) {
			benchMemory(b, messages)
		})
	}
}

// benchMemory runs the measured process against simulators holding the
// tracked tasks and messages, and reports what it measured.
func benchMemory(b *testing.B, messages int) {
	start := rigStart
	simClock := clock.NewFake(start.Add(-32 * 24 * time.Hour))
	sim := simulator.NewTencent(simulator.TencentOptions{
		Apps:  []simulator.TencentApp{{SDKAppID: rigSDKAppID, Identifier: "admin", SecretKey: rigKey}},
		Clock: simClock,
		Seed:  11,
	})
	jsim := simulator.NewJPush(simulator.JPushOptions{
		Apps:  []simulator.JPushApp{{AppKey: rigAppKey, MasterSecret: rigJPushSecret, VIP: true}},
		Clock: simClock,
		Seed:  11,
	})
	ids := pushHistory(b, sim, trackedTasks, simClock.Advance)
	// The tasks end 1.8 days before start; the messages follow, one every
	// 10 s, the last just before start.
	simClock.Advance(start.Add(-time.Duration(messages) * 10 * time.Second).Sub(simClock.Now()))
	msgs := make([]string, messages)
	for i := range msgs {
		id, err := jsim.Push(rigAppKey)
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = id
		simClock.Advance(10 * time.Second)
	}
	simClock.Advance(start.Sub(simClock.Now()))
	// The child spaces its calls 1.1 s apart on its own fake clock; the
	// simulator's clock moves as much per call, so that its 1 call/s limit
	// (tencent-im-push-statistics.txt) sees the same spacing.
	mux := http.NewServeMux()
	mux.Handle("/v3/", jsim)
	mux.HandleFunc("/v4/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v4/"+simulator.TencentPushStatistics {
			simClock.Advance(1100 * time.Millisecond)
		}
		sim.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cfg := writeTrackingConfig(b, b.TempDir(), srv.URL, ids, msgs)

	var out []byte
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkMemoryTrackedIDs$", "-test.benchtime=1x")
		cmd.Env = append(os.Environ(),
			memoryConfigEnv+"="+cfg,
			memoryStartEnv+"="+strconv.FormatInt(start.UnixNano(), 10),
			fmt.Sprintf("%s=%d,%d", memoryExpectEnv, trackedTasks, messages))
		var err error
		if out, err = cmd.CombinedOutput(); err != nil {
			b.Fatalf("measured process: %v\n%s", err, out)
		}
	}
	fields := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MEMORY ")
		if !ok {
			continue
		}
		for kv := range strings.FieldsSeq(rest) {
			k, v, _ := strings.Cut(kv, "=")
			fields[k], _ = strconv.ParseFloat(v, 64)
		}
	}
	if len(fields) == 0 {
		b.Fatalf("the measured process reported nothing:\n%s", out)
	}
	b.ReportMetric(fields["heap_inuse"]/(1<<20), "heap-MiB")
	b.ReportMetric(fields["rss"]/(1<<20), "rss-MiB")
	b.ReportMetric(fields["rss_settled"]/(1<<20), "rss-settled-MiB")
	b.ReportMetric(fields["rss_peak"]/(1<<20), "rss-peak-MiB")
	b.ReportMetric(fields["series"], "series")
	b.ReportMetric(fields["pass_seconds"], "pass-s")
}

// memoryChild is the measured side of BenchmarkMemoryTrackedIDs: it runs
// the exporter from cfg until every tracked task and message has statistics,
// scraping it once a second as Prometheus would, then prints its memory.
func memoryChild(b *testing.B, cfg string) {
	ns, err := strconv.ParseInt(os.Getenv(memoryStartEnv), 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	var wantTasks, wantMessages int
	if _, err := fmt.Sscanf(os.Getenv(memoryExpectEnv), "%d,%d", &wantTasks, &wantMessages); err != nil {
		b.Fatal(err)
	}
	began := time.Now()
	fc := clock.NewFake(time.Unix(0, ns))
	srv, err := server.New(server.Options{ConfigFile: cfg, Clock: fc, Logger: log.NewNopLogger()})
	if err != nil {
		b.Fatal(err)
	}
	h, err := srv.Handler()
	if err != nil {
		b.Fatal(err)
	}
	// Time jumps while the exporter waits for its rate limiters, and
	// otherwise passes a second per 100 ms, so that a refresh that ran out
	// of its time budget (2 minutes of real time) is followed by the next.
	var done atomic.Bool
	go func() {
		for idle := 0; !done.Load(); {
			switch {
			case fc.Waiters() > 0:
				fc.Advance(1100 * time.Millisecond)
				idle = 0
			case idle == 100:
				fc.Advance(time.Second)
				idle = 0
			default:
				time.Sleep(time.Millisecond)
				idle++
			}
		}
	}()
	scrape := func() string {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set(collector.ScrapeTimeoutHeader, "1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	msgID := regexp.MustCompile(`(?m)^jpush_message_delivery_sent\{[^}]*msg_id="(\d+)"`)
	var body string
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(time.Second) {
		body = scrape()
		messages := map[string]bool{}
		for _, m := range msgID.FindAllStringSubmatch(body, -1) {
			messages[m[1]] = true
		}
		if strings.Count(body, "\ntencent_im_push_task_target{") == wantTasks && len(messages) == wantMessages {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the first pass did not end within 5 minutes")
		}
	}
	done.Store(true)
	pass := time.Since(began)
	series := 0
	for line := range strings.SplitSeq(body, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			series++
		}
	}
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, peak := procStatus(b, "VmRSS:"), procStatus(b, "VmHWM:")
	// What the process holds once the runtime has returned its free pages,
	// as its background scavenger does over the following minutes.
	debug.FreeOSMemory()
	settled := procStatus(b, "VmRSS:")
	fmt.Printf("MEMORY heap_inuse=%d rss=%d rss_settled=%d rss_peak=%d series=%d pass_seconds=%.1f\n", ms.HeapInuse, rss, settled, peak, series, pass.Seconds())
	runtime.KeepAlive(srv)
}

// procStatus reads a size in kB from /proc/self/status, in bytes.
func procStatus(b *testing.B, field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("%s %q: %v", field, rest, err)
			}
			return kb << 10
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// offsetClock is the wall clock shifted by an offset the test moves: the
// simulator's pushes of the past 30 days are made on it in no time.
type offsetClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *offsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *offsetClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func (c *offsetClock) shift(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

func (c *offsetClock) set(off time.Duration) {
	c.mu.Lock()
	c.off = off
	c.mu.Unlock()
}

// BenchmarkNewTaskLatency measures, on the wall clock and with the
// production limiter (one all_member_push_statistics call per 1.1 s), the
// time from registering a task through the tracking API to its series on
// /metrics, while a pass over 3000 tracked tasks is running. Goal: ≤ 5 s.
func BenchmarkNewTaskLatency(b *testing.B) {
	// The simulator allows 100 pushes a day (tencent-im-all-member-push.txt)
	// and each iteration needs one new task.
	const maxIterations = 90
	sc := &offsetClock{off: -32 * 24 * time.Hour}
	sim := simulator.NewTencent(simulator.TencentOptions{
		Apps:  []simulator.TencentApp{{SDKAppID: rigSDKAppID, Identifier: "admin", SecretKey: rigKey}},
		Clock: sc,
		Seed:  11,
	})
	ids := pushHistory(b, sim, trackedTasks, sc.shift)
	// The tasks the iterations register, pushed 2 s apart over the last
	// three minutes.
	sc.set(-2 * maxIterations * time.Second)
	fresh := make([]string, maxIterations)
	for i := range fresh {
		id, err := sim.Push(rigSDKAppID, 24*time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		fresh[i] = id
		sc.shift(2 * time.Second)
	}
	sc.set(0)
	srvSim := httptest.NewServer(sim)
	defer srvSim.Close()
	dir := b.TempDir()
	cfg := writeTrackingConfig(b, dir, srvSim.URL, ids, nil)
	srv, err := server.New(server.Options{ConfigFile: cfg, Logger: log.NewNopLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		// An empty configuration replaces the exporter, which cancels the
		// pass still running.
		if err := os.WriteFile(cfg, nil, 0o600); err == nil {
			_ = srv.Reload()
		}
	}()
	h, err := srv.Handler()
	if err != nil {
		b.Fatal(err)
	}
	scrape := func() string {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set(collector.ScrapeTimeoutHeader, "0.6") // wait at most 100 ms for the running pass
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	taskSeries := func(id string) string {
		return fmt.Sprintf(`tencent_im_push_task_target{sdkappid="%d",task_id="%s"}`, rigSDKAppID, id)
	}
	// The pass has started once the first batch is published.
	for deadline := time.Now().Add(time.Minute); strings.Count(scrape(), "\ntencent_im_push_task_target{") == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("the pass did not publish within a minute")
		}
	}
	var worst time.Duration
	i := 0
	for b.Loop() {
		if i == maxIterations {
			b.Fatalf("at most %d iterations: the simulator allows 100 pushes a day; use -benchtime=Nx", maxIterations)
		}
		id := fresh[i]
		i++
		begin := time.Now()
		req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/api/v1/tencent_im/%d/tasks", rigSDKAppID), strings.NewReader(`{"task_ids":["`+id+`"]}`))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("registering %s: %d %s", id, rec.Code, rec.Body)
		}
		for deadline := begin.Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
			if _, ok := textValue(scrape(), taskSeries(id)); ok {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("task %s has no series a minute after it was registered", id)
			}
		}
		worst = max(worst, time.Since(begin))
	}
	b.ReportMetric(worst.Seconds(), "max-s")
}
