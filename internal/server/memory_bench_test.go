package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/imstats/imstats_exporter/internal/memlimit"
	"github.com/imstats/imstats_exporter/internal/simulator"
	"github.com/imstats/imstats_exporter/internal/webguard"
)

// Shape of BenchmarkMemoryTrackedIDs.
const (
	memoryTasks = 3000
	// memorySpeed is how much faster than the wall clock the exporter's and
	// the simulators' clock runs: the Tencent pass, 600 calls at 1 call/s,
	// takes about a minute.
	memorySpeed = 10
	// memoryScrapeInterval and memoryScrapeTimeout are Prometheus'
	// scrape_interval and scrape_timeout, on the wall clock.
	memoryScrapeInterval = 15 * time.Second
	memoryScrapeTimeout  = 10 * time.Second
	// memoryAccept is what Prometheus asks for: OpenMetrics first.
	memoryAccept = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1"
)

// The size and length of a run: IMSTATS_BENCH_MESSAGES JPush messages
// (default 10000: 0.92M series with the tasks; 20000 makes 1.8M) and
// IMSTATS_BENCH_RUN, how long the exporter is scraped (default 3m): the first
// pass and then its steady state.
var (
	memoryMessages = envInt("IMSTATS_BENCH_MESSAGES", 10000)
	memoryRun      = envDuration("IMSTATS_BENCH_RUN", 3*time.Minute)
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

// memoryChildEnv tells the child of BenchmarkMemoryTrackedIDs its
// configuration file and its clock: "path,epoch,wall" where the clock reads
// epoch (Unix ns) at the wall time wall (Unix ns) and runs memorySpeed times
// faster.
const memoryChildEnv = "IMSTATS_BENCH_MEMORY_CHILD"

// memoryHeapProfileEnv, when set for the benchmark, names a file in which
// the child writes its heap profile (after a GC) when it stops: what the
// live heap holds.
const memoryHeapProfileEnv = "IMSTATS_BENCH_MEMORY_HEAP_PROFILE"

// speedClock runs speed times faster than the wall clock from the moment
// it is started; before that it stands still at a time the test sets. Two
// processes given the same epoch, wall time and speed read the same time.
type speedClock struct {
	mu      sync.Mutex
	base    time.Time // the time read at wallBase (or, stopped, always)
	wall    time.Time // zero while stopped
	speed   float64
	stopped bool
}

func (c *speedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return c.base
	}
	return c.base.Add(time.Duration(float64(time.Since(c.wall)) * c.speed))
}

func (c *speedClock) After(d time.Duration) <-chan time.Time {
	return time.After(time.Duration(float64(d) / c.speed))
}

// set moves a stopped clock to t.
func (c *speedClock) set(t time.Time) {
	c.mu.Lock()
	c.base = t
	c.mu.Unlock()
}

// advance moves a stopped clock on by d.
func (c *speedClock) advance(d time.Duration) {
	c.mu.Lock()
	c.base = c.base.Add(d)
	c.mu.Unlock()
}

// start makes the clock read epoch at wall and run from there.
func (c *speedClock) start(epoch, wall time.Time) {
	c.mu.Lock()
	c.base, c.wall, c.stopped = epoch, wall, false
	c.mu.Unlock()
}

// memoryResult is what one run measured.
type memoryResult struct {
	peak, rssMax   int64
	scrapes, fails int
	slowest        time.Duration
	medianScrape   time.Duration
	passWall       time.Duration
	passFake       time.Duration
	series         int
	bodyBytes      int64 // the last scrape's body, decompressed
	gzipBytes      int64 // and as sent
	// The child's go_memstats_heap_inuse_bytes and go_memstats_next_gc_bytes
	// in the last scrape.
	heapInuse, nextGC float64
	p99Scrape         time.Duration
	// From the child's own metrics, between the first scrape after the
	// first pass and the last: the steady state.
	steadyMinutes                     float64
	cpuPerMin, gcsPerMin, gcCPUPerMin float64
	gcIdlePerMin                      float64 // mark workers on otherwise idle Ps
	heapLive, memLimit                float64 // in the last scrape
}

// childSample is what one scrape of the child said about its process.
type childSample struct {
	at                                   time.Time
	cpu, gcs, gcCPU, gcIdle, live, limit float64
}

// BenchmarkMemoryTrackedIDs runs the exporter (internal/server with the
// daemon's webguard, as main wires them) in a child process tracking 3000
// Tencent push tasks and 10000 JPush messages (IMSTATS_BENCH_MESSAGES) from watched files, against
// the simulators of both vendors in this process. The child and the
// simulators share a clock running ten times faster than the wall clock, so
// that the first pass (600 all_member_push_statistics calls at 1 call/s)
// takes about a minute. Two scrapers, like two Prometheus servers, scrape
// it every 15 s with a 10 s timeout, gzip and OpenMetrics, for 3 minutes
// (IMSTATS_BENCH_RUN): the first pass and its steady state. It reports the
// child's peak resident set (VmHWM), the scrapes, and the steady state's CPU
// and garbage collections per minute. Goal (BENCHMARKS.md (c)): peak RSS ≤ 256 MiB
// and every scrape succeeds.
func BenchmarkMemoryTrackedIDs(b *testing.B) {
	if v := os.Getenv(memoryChildEnv); v != "" {
		memoryChild(b, v)
		return
	}
	// "default" is the daemon's memory policy (GOGC 50, no limit:
	// internal/memlimit); "old-200MiB" the former default, a 200 MiB soft
	// limit with GOGC 100; "go-default" the Go runtime's own (GOGC 100).
	for _, p := range []struct {
		name string
		env  []string
	}{
		{"default", []string{"GOGC=" + strconv.Itoa(memlimit.DefaultGCPercent)}},
		{"old-200MiB", []string{"GOGC=100", "GOMEMLIMIT=200MiB"}},
		{"go-default", []string{"GOGC=100"}},
	} {
		b.Run("policy="+p.name, func(b *testing.B) {
			var r memoryResult
			for b.Loop() {
				r = memoryMeasure(b, p.env)
			}
			reportMemory(b, r)
		})
	}
}

// reportMemory reports what memoryMeasure measured.
func reportMemory(b *testing.B, r memoryResult) {
	b.ReportMetric(float64(r.peak)/(1<<20), "rss-peak-MiB")
	b.ReportMetric(float64(r.rssMax)/(1<<20), "rss-max-sampled-MiB")
	b.ReportMetric(float64(r.scrapes), "scrapes")
	b.ReportMetric(float64(r.fails), "failed-scrapes")
	b.ReportMetric(r.slowest.Seconds(), "slowest-scrape-s")
	b.ReportMetric(r.medianScrape.Seconds(), "median-scrape-s")
	b.ReportMetric(r.passWall.Seconds(), "pass-wall-s")
	b.ReportMetric(r.passFake.Seconds(), "pass-fake-s")
	b.ReportMetric(float64(r.series), "series")
	b.ReportMetric(float64(r.bodyBytes)/(1<<20), "body-MiB")
	b.ReportMetric(float64(r.gzipBytes)/(1<<20), "gzip-body-MiB")
	b.ReportMetric(r.heapInuse/(1<<20), "heap-inuse-MiB")
	b.ReportMetric(r.nextGC/(1<<20), "next-gc-MiB")
	b.ReportMetric(r.p99Scrape.Seconds(), "p99-scrape-s")
	b.ReportMetric(r.steadyMinutes, "steady-min")
	b.ReportMetric(r.cpuPerMin, "steady-cpu-s/min")
	b.ReportMetric(r.gcsPerMin, "steady-gc/min")
	b.ReportMetric(r.gcCPUPerMin, "steady-gc-cpu-s/min")
	b.ReportMetric(r.gcIdlePerMin, "steady-gc-idle-cpu-s/min")
	b.ReportMetric(r.heapLive/(1<<20), "heap-live-MiB")
	b.ReportMetric(r.heapLive/float64(max(r.series, 1)), "heap-live-B/series")
}

// memoryMeasure builds the simulators' history, runs the child (with env
// added to its environment) and scrapes it.
func memoryMeasure(b *testing.B, policy []string) memoryResult {
	epoch := time.Now().Truncate(time.Second)
	clk := &speedClock{stopped: true, speed: memorySpeed, base: epoch.Add(-31 * 24 * time.Hour)}
	tim := simulator.NewTencent(simulator.TencentOptions{
		Apps:  []simulator.TencentApp{{SDKAppID: testSDKAppID, Identifier: "admin", SecretKey: testTencentKey}},
		Clock: clk,
		Seed:  11,
	})
	jp := simulator.NewJPush(simulator.JPushOptions{
		Apps:  []simulator.JPushApp{{AppKey: testAppKey, MasterSecret: testMasterSecret, VIP: true}},
		Clock: clk,
		Seed:  11,
	})
	// 99 pushes a day, within im_push's 100 (Tencent Chat "全员/标签推送"):
	// the tasks span the 30 days before the epoch; the messages follow, one
	// every 10 s, the last just before the epoch.
	tasks := make([]string, memoryTasks)
	for i := range tasks {
		id, err := tim.Push(testSDKAppID, 24*time.Hour)
		if err != nil {
			b.Fatalf("push %d: %v", i, err)
		}
		tasks[i] = id
		clk.advance(14*time.Minute + 30*time.Second)
	}
	// The messages span the 28 hours before the epoch.
	spacing := 28 * time.Hour / time.Duration(memoryMessages)
	clk.set(epoch.Add(-time.Duration(memoryMessages) * spacing))
	msgs := make([]string, memoryMessages)
	for i := range msgs {
		id, err := jp.Push(testAppKey)
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = id
		clk.advance(spacing)
	}
	mux := http.NewServeMux()
	mux.Handle("/v4/", tim)
	mux.Handle("/v3/", jp)
	vendor := httptest.NewServer(mux)
	defer vendor.Close()

	dir := b.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	write("tasks.txt", strings.Join(tasks, "\n")+"\n")
	write("msgs.txt", strings.Join(msgs, "\n")+"\n")
	write("exporter.yml", fmt.Sprintf(`tencent_im:
  - sdkappid: %d
    secret_key: %q
    endpoint: %s
    push:
      task_ids_file: tasks.txt
jpush:
  - app_key: %q
    master_secret: %q
    endpoint: %s
    msg_ids_file: msgs.txt
state_directory: state
tracking:
  max_ids_per_app: %d
`, testSDKAppID, testTencentKey, vendor.URL, testAppKey, testMasterSecret, vendor.URL, memoryMessages))

	wall := time.Now()
	clk.start(epoch, wall)
	env := []string{fmt.Sprintf("%s=%s,%d,%d", memoryChildEnv, filepath.Join(dir, "exporter.yml"), epoch.UnixNano(), wall.UnixNano())}
	env = append(env, policy...)
	c := startChild(b, "BenchmarkMemoryTrackedIDs", env...)
	began := time.Now()

	var r memoryResult
	var mu sync.Mutex
	var durations []time.Duration
	var lastBody []byte
	var steady []childSample // when the pass ended, and at the end
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	client := &http.Client{Timeout: memoryScrapeTimeout, Transport: &http.Transport{DisableCompression: true}}
	for i := range 2 {
		wg.Go(func() {
			// The second scraper runs half an interval behind the first.
			next := time.Now().Add(time.Duration(i) * memoryScrapeInterval / 2)
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(next)):
				}
				next = next.Add(memoryScrapeInterval)
				t0 := time.Now()
				body, err := memoryScrape(client, "http://"+c.addr+"/metrics")
				took := time.Since(t0)
				mu.Lock()
				r.scrapes++
				durations = append(durations, took)
				r.slowest = max(r.slowest, took)
				if err != nil {
					r.fails++
					b.Logf("scrape at %s failed after %s: %v", t0.Sub(began).Round(time.Second), took.Round(time.Millisecond), err)
				} else {
					lastBody = body
				}
				mu.Unlock()
			}
		})
	}

	// Once a second: the child's RSS, and whether every task and message
	// has been answered (the pass is over).
	answeredTasks := map[string]bool{}
	answeredReceived := map[string]bool{}
	answeredMessages := map[string]bool{}
	deadline := began.Add(memoryRun + 2*time.Minute)
	for time.Since(began) < memoryRun || r.passWall == 0 {
		if time.Now().After(deadline) {
			cancel()
			wg.Wait()
			b.Fatalf("the first pass did not end within %s (%d tasks, %d received, %d messages answered)",
				memoryRun+2*time.Minute, len(answeredTasks), len(answeredReceived), len(answeredMessages))
		}
		time.Sleep(time.Second)
		rss := c.status(b, "VmRSS")
		r.rssMax = max(r.rssMax, rss)
		if r.passWall != 0 {
			continue
		}
		for _, call := range tim.Calls() {
			if call.API == simulator.TencentPushStatistics && call.ErrorCode == 0 {
				for _, id := range call.TaskIDs {
					answeredTasks[id] = true
				}
			}
		}
		for _, call := range jp.Calls() {
			if call.Status != http.StatusOK {
				continue
			}
			switch call.API {
			case simulator.JPushReceivedDetail:
				for _, id := range call.IDs {
					answeredReceived[id] = true
				}
			case simulator.JPushMessagesDetail:
				for _, id := range call.IDs {
					answeredMessages[id] = true
				}
			}
		}
		if len(answeredTasks) >= memoryTasks && len(answeredReceived) >= memoryMessages && len(answeredMessages) >= memoryMessages {
			r.passWall = time.Since(began)
			r.passFake = clk.Now().Sub(epoch)
			steady = append(steady, sampleChild(b, c))
		}
	}
	cancel()
	wg.Wait()
	steady = append(steady, sampleChild(b, c))
	r.peak = c.status(b, "VmHWM")
	c.stop()
	slices.Sort(durations)
	if len(durations) > 0 {
		r.medianScrape = durations[len(durations)/2]
		r.p99Scrape = durations[(len(durations)*99+99)/100-1]
	}
	if len(steady) == 2 {
		first, last := steady[0], steady[1]
		m := last.at.Sub(first.at).Minutes()
		r.steadyMinutes = m
		r.cpuPerMin = (last.cpu - first.cpu) / m
		r.gcsPerMin = (last.gcs - first.gcs) / m
		r.gcCPUPerMin = (last.gcCPU - last.gcIdle - first.gcCPU + first.gcIdle) / m
		r.gcIdlePerMin = (last.gcIdle - first.gcIdle) / m
		r.heapLive, r.memLimit = last.live, last.limit
	}
	if lastBody == nil {
		b.Fatal("no scrape succeeded")
	}
	text := gunzip(b, lastBody)
	r.bodyBytes, r.gzipBytes = int64(len(text)), int64(len(lastBody))
	for line := range strings.SplitSeq(string(text), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		r.series++
		if v, ok := strings.CutPrefix(line, "go_memstats_heap_inuse_bytes "); ok {
			r.heapInuse, _ = strconv.ParseFloat(v, 64)
		}
		if v, ok := strings.CutPrefix(line, "go_memstats_next_gc_bytes "); ok {
			r.nextGC, _ = strconv.ParseFloat(v, 64)
		}
	}
	if r.fails > 0 {
		b.Errorf("%d of %d scrapes failed", r.fails, r.scrapes)
	}
	return r
}

// sampleChild reads the child's CPU time from /proc and its collector's
// figures from its /child-stats.
func sampleChild(tb testing.TB, c *child) childSample {
	tb.Helper()
	smp := childSample{at: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		tb.Fatal(err)
	}
	// Fields 14 and 15 (utime, stime) in clock ticks, after the command
	// name in parentheses.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	smp.cpu = (utime + stime) / 100 // USER_HZ
	resp, err := http.Get("http://" + c.addr + childStatsPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := fmt.Fscan(resp.Body, &smp.gcCPU, &smp.gcIdle, &smp.gcs, &smp.live, &smp.limit); err != nil {
		tb.Fatal(err)
	}
	return smp
}

// childStatsPath serves, in the child, its collector's CPU seconds, its
// number of collections, its live heap and its memory limit.
const childStatsPath = "/child-stats"

// childStats serves childStatsPath.
func childStats(w http.ResponseWriter, _ *http.Request) {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/gc/mark/idle:cpu-seconds"},
		{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}, {Name: "/gc/gomemlimit:bytes"}}
	metrics.Read(s)
	fmt.Fprintln(w, s[0].Value.Float64(), s[1].Value.Float64(), s[2].Value.Uint64(), s[3].Value.Uint64(), s[4].Value.Uint64())
}

// memoryScrape scrapes url as Prometheus does and returns the body as
// sent (gzip): the scrape is over once its last byte has arrived.
func memoryScrape(client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", memoryAccept)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set(ScrapeTimeoutHeader, strconv.FormatFloat(memoryScrapeTimeout.Seconds(), 'f', -1, 64))
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	if resp.Header.Get("Content-Encoding") != "gzip" {
		return nil, fmt.Errorf("content encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
	}
	return io.ReadAll(resp.Body)
}

// gunzip decompresses a scraped body.
func gunzip(tb testing.TB, body []byte) []byte {
	tb.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// memoryChild is the measured side: the exporter as main wires it, on the
// shared fast clock, serving until its stdin closes.
func memoryChild(b *testing.B, env string) {
	parts := strings.Split(env, ",")
	if len(parts) != 3 {
		b.Fatalf("%s=%q: want path,epoch,wall", memoryChildEnv, env)
	}
	epoch, err1 := strconv.ParseInt(parts[1], 10, 64)
	wall, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("%s=%q: bad times", memoryChildEnv, env)
	}
	clk := &speedClock{speed: memorySpeed}
	clk.start(time.Unix(0, epoch), time.Unix(0, wall))
	srv, err := New(Options{ConfigFile: parts[0], Clock: clk, Logger: log.NewNopLogger()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Run(ctx)
	// What main adds: the memory monitor.
	srv.Registerer().MustRegister(memlimit.NewMonitor(log.NewNopLogger()))
	h, err := srv.Handler()
	if err != nil {
		b.Fatal(err)
	}
	o := webguard.DefaultOptions()
	g, err := webguard.New(o, srv.Registerer())
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(childStatsPath, childStats)
	mux.Handle("/", g.Handler(h))
	serveChild(b, mux, func(s *http.Server) { webguard.Configure(s, o) })
	if path := os.Getenv(memoryHeapProfileEnv); path != "" {
		runtime.GC()
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.WriteHeapProfile(f); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	runtime.KeepAlive(srv)
}
