package callbacks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/tracking"
	"github.com/imstats/imstats_exporter/internal/webguard"
)

// floorEvent is every documented field of both commands, for the floor:
// what encoding/json alone costs to read the same bodies.
type floorEvent struct {
	CallbackCommand string
	EventType       int
	TaskID          string `json:"TaskId"`
	TaskTime        int64
	EventTime       int64
	FromAccount     string `json:"From_Account"`
	ToAccount       string `json:"To_Account"`
	PushPlatform    int
	PushStage       int
	MsgKey          string
	MsgSeq          int64
	MsgRandom       int64
	MsgTime         int64
	PushID          string
	ErrCode         int
	ErrInfo         string
}

// discard is a ResponseWriter that keeps nothing, so that the benchmark
// measures the receiver, not a recorder.
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(code int)        { d.code = code }

// BenchmarkReceive: the receiver in process (query, lookup, body, decode,
// tracking of known TaskIds, counting) against the floor, encoding/json
// decoding the same 100-event bodies into typed events and nothing else.
//
//	go test -run '^$' -bench '^BenchmarkReceive$' -benchmem -count 3 ./internal/callbacks/
func BenchmarkReceive(b *testing.B) {
	for _, cmd := range []Command{AllMemberPush, OfflinePush} {
		body := benchBody(cmd, MaxEvents, 3)
		b.Run(commandLabels[cmd]+"/floor_encoding_json", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			var doc struct{ Events []floorEvent }
			for b.Loop() {
				doc.Events = doc.Events[:0]
				if err := json.Unmarshal(body, &doc); err != nil || len(doc.Events) != MaxEvents {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*MaxEvents)/b.Elapsed().Seconds(), "events/s")
		})
		b.Run(commandLabels[cmd]+"/receiver", func(b *testing.B) {
			f := newFixture(b, "", Options{})
			f.now.Advance(0)
			target := Path + "?" + query(commandNames[cmd])
			req := httptest.NewRequest(http.MethodPost, target, nil)
			w := &discard{h: http.Header{}}
			rd := bytes.NewReader(body)
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				rd.Reset(body)
				req.Body = io.NopCloser(rd)
				req.ContentLength = int64(len(body))
				w.code = 0
				f.r.ServeHTTP(w, req)
				if w.code != 0 {
					b.Fatalf("status %d", w.code)
				}
			}
			b.ReportMetric(float64(b.N*MaxEvents)/b.Elapsed().Seconds(), "events/s")
			if got := f.r.Counted(testApp); got != uint64(b.N*MaxEvents) {
				b.Fatalf("counted %d of %d events", got, b.N*MaxEvents)
			}
		})
	}
}

// loadServer serves a receiver behind webguard, as the daemon does, on
// loopback, with one app whose TaskIds go to a durable set.
func loadServer(t testing.TB) (*Receiver, string) {
	t.Helper()
	set, err := tracking.Open(tracking.Options{Kind: catalog.KindTencentPush, App: testApp, StatePath: filepath.Join(t.TempDir(), "state.json")})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := set.Prepare(tracking.Config{Cap: 5000, MaxAge: 7 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ch.Commit()
	r := New(Options{Apps: func(id string) (App, bool) { return App{Token: testToken, Tasks: set}, id == testApp }})
	o := webguard.DefaultOptions()
	o.EnableCallbacks, o.CallbacksPath = true, Path
	g, err := webguard.New(o, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(g.Handler(r))
	webguard.Configure(srv.Config, o)
	srv.Start()
	t.Cleanup(srv.Close)
	return r, srv.URL + Path
}

// load is the result of a load run.
type load struct {
	requests, events, refused int64
	latencies                 histogram
}

// histogram counts latencies in buckets 2 % wide, from 1 µs to over a
// minute: a fixed size, so that a long run does not grow the heap it
// measures.
type histogram [1000]atomic.Int64

// bucketGrowth is the ratio of a bucket's upper bound to its lower one.
const bucketGrowth = 1.02

func (h *histogram) observe(d time.Duration) {
	i := 0
	if us := float64(d) / float64(time.Microsecond); us > 1 {
		i = min(int(math.Log(us)/math.Log(bucketGrowth))+1, len(h)-1)
	}
	h[i].Add(1)
}

// quantile returns the upper bound of the bucket holding quantile q.
func (h *histogram) quantile(q float64) time.Duration {
	var total int64
	for i := range h {
		total += h[i].Load()
	}
	rank := int64(math.Ceil(q * float64(total)))
	var seen int64
	for i := range h {
		if seen += h[i].Load(); seen >= max(rank, 1) {
			return time.Duration(math.Pow(bucketGrowth, float64(i)) * float64(time.Microsecond))
		}
	}
	return 0
}

// runLoad posts from workers goroutines until ctx ends; body(n) is the
// n-th request's body (of MaxEvents events) and command. With rate > 0, request n is due at
// n/rate seconds from the start, as a sender at a fixed rate sends
// (Tencent: up to 1000 requests a second per app by default), and its
// latency is counted from when it was due, so that a receiver falling
// behind shows in it; with rate 0 each worker sends as soon as its last
// answer came. Answers other than 200 are counted as refused (a 503 is
// Tencent's cue to retry).
func runLoad(ctx context.Context, base string, workers int, rate float64, body func(n int64) ([]byte, Command)) *load {
	tr := &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var next atomic.Int64
	start := time.Now()
	res := &load{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var reqs, events, refused int64
			for ctx.Err() == nil {
				n := next.Add(1)
				b, cmd := body(n)
				now := time.Now()
				if rate > 0 {
					due := start.Add(time.Duration(float64(n-1) / rate * float64(time.Second)))
					select {
					case <-time.After(time.Until(due)):
					case <-ctx.Done():
						continue
					}
					now = due
				}
				u := fmt.Sprintf("%s?SdkAppid=%s&CallbackCommand=%s&contenttype=json&Sign=%s&RequestTime=%d",
					base, testApp, url.QueryEscape(commandNames[cmd]), Sign(testToken, now.Unix()), now.Unix())
				resp, err := client.Post(u, "application/json", bytes.NewReader(b))
				if err != nil {
					refused++
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				res.latencies.observe(time.Since(now))
				reqs++
				if resp.StatusCode == http.StatusOK {
					events += MaxEvents
				} else {
					refused++
				}
			}
			mu.Lock()
			res.requests += reqs
			res.events += events
			res.refused += refused
			mu.Unlock()
		})
	}
	wg.Wait()
	return res
}

func (l *load) quantile(q float64) time.Duration { return l.latencies.quantile(q) }

// rotatingBodies is the traffic of the load runs: batches of 100 events,
// three in four Push.AllMemberPush of a few tasks, a new task every
// newTaskEvery requests, the rest Push.OfflinePush.
func rotatingBodies(newTaskEvery int64) func(n int64) ([]byte, Command) {
	offline := benchBody(OfflinePush, MaxEvents, 1)
	base := benchBody(AllMemberPush, MaxEvents, 3)
	var mu sync.Mutex
	cache := map[int64][]byte{}
	return func(n int64) ([]byte, Command) {
		if n%4 == 3 {
			return offline, OfflinePush
		}
		task := n / newTaskEvery
		mu.Lock()
		defer mu.Unlock()
		b, ok := cache[task]
		if !ok {
			clear(cache) // only the current task's body is kept
			b = bytes.ReplaceAll(base, []byte("_4155518400_"), fmt.Appendf(nil, "_%010d_", task))
			cache[task] = b
		}
		return b, AllMemberPush
	}
}

// BenchmarkReceiverHTTP: sustained callbacks over loopback HTTP through
// webguard, signed, with a new TaskId (one durable write) every 1000
// requests; client and server share the machine's cores. "rate_1000rps"
// sends at Tencent's default rate, 1000 requests (100 000 events) a
// second, with 64 senders; "closed_loop" has 32 senders each sending as
// soon as answered, to find the ceiling. It reports events/s, answer
// times (from when each request was due), the requests refused, the CPU
// time and allocations per event (client and server together, so an upper
// bound of the receiver's) and the events acknowledged but not counted (an
// error unless 0).
//
//	go test -run '^$' -bench '^BenchmarkReceiverHTTP$' -benchtime 20s -count 3 ./internal/callbacks/
func BenchmarkReceiverHTTP(b *testing.B) {
	for _, tc := range []struct {
		name    string
		workers int
		rate    float64
	}{{"rate_1000rps", 64, 1000}, {"closed_loop", 32, 0}} {
		b.Run(tc.name, func(b *testing.B) {
			r, base := loadServer(b)
			ctx, cancel := context.WithCancel(context.Background())
			var res *load
			done := make(chan struct{})
			bodies := rotatingBodies(1000)
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			start, cpu0 := time.Now(), cpuTime(b)
			go func() { res = runLoad(ctx, base, tc.workers, tc.rate, bodies); close(done) }()
			for b.Loop() {
				time.Sleep(time.Millisecond)
			}
			cancel()
			<-done
			elapsed, cpu := time.Since(start).Seconds(), cpuTime(b)-cpu0
			runtime.ReadMemStats(&ms1)
			b.ReportMetric(float64(res.events)/elapsed, "events/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(max(res.events, 1)), "cpu_us/event")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(max(res.events, 1)), "allocs/event")
			b.ReportMetric(float64(res.quantile(0.5).Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(res.quantile(0.99).Microseconds())/1000, "p99_ms")
			b.ReportMetric(float64(res.refused), "refused")
			if got := int64(r.Counted(testApp)); got != res.events {
				b.Errorf("counted %d events, acknowledged %d", got, res.events)
			}
		})
	}
}

// TestCallbackSoak runs the load of BenchmarkReceiverHTTP/rate_1000rps
// (100 000 events a second), with a new task every 30 s, for the duration
// in IMSTATS_CALLBACK_SOAK (e.g. 10m), sampling the live heap and the
// resident size every 30 s, and checks that memory stays flat and that
// every acknowledged event is counted. It is skipped without the variable.
//
//	IMSTATS_CALLBACK_SOAK=10m go test -run '^TestCallbackSoak$' -timeout 20m -v ./internal/callbacks/
func TestCallbackSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("IMSTATS_CALLBACK_SOAK"))
	if err != nil {
		t.Skip("set IMSTATS_CALLBACK_SOAK to a duration to run")
	}
	r, base := loadServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var res *load
	done := make(chan struct{})
	start, cpu0 := time.Now(), cpuTime(t)
	// A new task every 30 s: more than Tencent's 100 all-user pushes a day.
	go func() { res = runLoad(ctx, base, 64, 1000, rotatingBodies(30000)); close(done) }()
	type sample struct {
		at         time.Duration
		heap, rss  uint64
		counted    uint64
		goroutines int
	}
	var samples []sample
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for loop := true; loop; {
		select {
		case <-done:
			loop = false
		case <-tick.C:
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			s := sample{at: time.Since(start).Round(time.Second), heap: ms.HeapAlloc, rss: rss(t), counted: r.Counted(testApp), goroutines: runtime.NumGoroutine()}
			samples = append(samples, s)
			t.Logf("%6s heap %6.1f MiB  rss %6.1f MiB  goroutines %4d  events %d (%.0f/s)", s.at, mib(s.heap), mib(s.rss), s.goroutines, s.counted, float64(s.counted)/s.at.Seconds())
		}
	}
	<-done
	elapsed, cpu := time.Since(start), cpuTime(t)-cpu0
	t.Logf("%d requests, %d events acknowledged in %s: %.0f events/s; %d refused; p50 %s, p99 %s, p99.9 %s, max %s; %.2f CPU-µs an event (client and server), %.0f%% of the 2 cores",
		res.requests, res.events, elapsed.Round(time.Second), float64(res.events)/elapsed.Seconds(), res.refused,
		res.quantile(0.5), res.quantile(0.99), res.quantile(0.999), res.quantile(1),
		float64(cpu.Microseconds())/float64(max(res.events, 1)), 100*cpu.Seconds()/elapsed.Seconds()/2)
	if got := int64(r.Counted(testApp)); got != res.events {
		t.Errorf("counted %d events, acknowledged %d", got, res.events)
	}
	if len(samples) >= 4 {
		first, last := samples[1], samples[len(samples)-1] // after the first minute's warm-up
		if last.heap > first.heap+first.heap/2+4<<20 {
			t.Errorf("live heap grew from %.1f MiB at %s to %.1f MiB at %s", mib(first.heap), first.at, mib(last.heap), last.at)
		}
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// cpuTime is the CPU time the process has used, user and system: client
// and server together. Divided by the events, it is a cost that does not
// depend on how much of the machine other jobs take.
func cpuTime(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rss is the process's resident size (VmRSS), 0 where /proc has none.
func rss(t testing.TB) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	return 0
}
