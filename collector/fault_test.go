package collector_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/imstats/imstats_exporter/collector"
	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/simulator"
)

const (
	rigSDKAppID = 1400000000
	rigApp      = "1400000000"
	rigKey      = "fault-rig-secret-key-0123456789abcdef"
)

// beijing is the vendor's zone (UTC+8, no daylight saving time).
var beijing = time.FixedZone("Asia/Shanghai", 8*60*60)

// rigStart is two minutes before a Beijing midnight, so that the refresh
// after getappinfo's 10m TTL sees a new day: values served during a failure
// are then visibly the old day's, and a recovery visibly brings the new one.
var rigStart = time.Date(2025, 3, 1, 23, 58, 0, 0, beijing)

// lockedBuffer is a log sink that the test reads while refreshes write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// rig is an exporter built by collector.Build, as the daemon builds it, from
// a configuration pointing at the Tencent simulator, on one fake clock.
type rig struct {
	t      testing.TB
	fc     *clock.Fake
	sim    *simulator.Tencent
	url    string
	cfg    *config.Config
	reg    *prometheus.Registry
	holder *collector.Holder
	logs   *lockedBuffer
}

// rigOptions tune newRig.
type rigOptions struct {
	limits string                             // YAML lines under limits:, indented by four spaces
	extra  string                             // further top-level YAML
	wrap   func(http.Handler) http.Handler    // wraps the simulator's handler; nil: none
	clock  *clock.Fake                        // nil: a fake clock at rigStart
	sim    func(*clock.Fake) *simulator.Tencent // nil: one app with one push task
}

func newRig(t testing.TB, o rigOptions) *rig {
	t.Helper()
	fc := o.clock
	if fc == nil {
		fc = clock.NewFake(rigStart.Add(-time.Minute))
	}
	var sim *simulator.Tencent
	if o.sim != nil {
		sim = o.sim(fc)
	} else {
		sim = simulator.NewTencent(simulator.TencentOptions{
			Apps:  []simulator.TencentApp{{SDKAppID: rigSDKAppID, Identifier: "admin", SecretKey: rigKey}},
			Clock: fc,
			Seed:  11,
		})
		// A push a minute old, still being delivered, so that the push
		// window's values move between refreshes.
		if _, err := sim.Push(rigSDKAppID, time.Hour); err != nil {
			t.Fatal(err)
		}
		fc.Advance(time.Minute)
	}
	var h http.Handler = sim
	if o.wrap != nil {
		h = o.wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	yml := fmt.Sprintf(`tencent_im:
  - sdkappid: %d
    secret_key: %q
    endpoint: %s
    push:
      windows: [24h]
state_directory: state
limits:
    max_response_bytes: 262144
%s%s`, rigSDKAppID, rigKey, srv.URL, o.limits, o.extra)
	cfg, err := config.Parse([]byte(yml), t.TempDir())
	if err != nil {
		t.Fatalf("config:\n%s\n%v", yml, err)
	}
	r := &rig{t: t, fc: fc, sim: sim, url: srv.URL, cfg: cfg, reg: prometheus.NewRegistry(), holder: &collector.Holder{}, logs: &lockedBuffer{}}
	logger := log.NewLogfmtLogger(r.logs)
	deps := collector.Deps{
		Clock:      fc,
		Logger:     logger,
		APIMetrics: collector.NewAPIMetrics(r.reg),
		Limiters:   collector.NewLimiters(fc),
		Trackers:   collector.NewTrackers(fc, logger, r.holder.Kick),
	}
	exp, specs, err := collector.Build(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	deps.Trackers.Commit(specs)
	r.holder.Swap(exp)
	t.Cleanup(exp.Close)
	r.reg.MustRegister(r.holder)
	return r
}

// handler is the /metrics handler of the daemon over the rig.
func (r *rig) handler() http.Handler {
	limits := func() (time.Duration, time.Duration) {
		return time.Duration(r.cfg.Limits.ScrapeTimeoutMargin), time.Duration(r.cfg.Limits.MaxScrapeWait)
	}
	return collector.Handler(r.holder, r.reg, limits, promhttp.HandlerOpts{})
}

// scrape refreshes what is stale, waiting for the refreshes to end, and
// gathers the registry.
func (r *rig) scrape() []*dto.MetricFamily {
	r.t.Helper()
	r.holder.Prepare(context.Background())
	mfs, err := r.reg.Gather()
	if err != nil {
		r.t.Fatalf("gather: %v", err)
	}
	return mfs
}

// calls counts the simulator's calls of api.
func (r *rig) calls(api string) int {
	n := 0
	for _, c := range r.sim.Calls() {
		if c.API == api {
			n++
		}
	}
	return n
}

// logLines counts the log lines containing every one of parts.
func (r *rig) logLines(parts ...string) int {
	n := 0
	for line := range strings.SplitSeq(r.logs.String(), "\n") {
		all := line != ""
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

// seriesKey renders a series as name{label="value",...}.
func seriesKey(name string, m *dto.Metric) string {
	labels := make([]string, 0, len(m.GetLabel()))
	for _, l := range m.GetLabel() {
		labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	sort.Strings(labels)
	return name + "{" + strings.Join(labels, ",") + "}"
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	default:
		return m.GetUntyped().GetValue()
	}
}

// series returns every series of the families whose name keep accepts.
func series(mfs []*dto.MetricFamily, keep func(name string) bool) map[string]float64 {
	out := map[string]float64{}
	for _, mf := range mfs {
		if !keep(mf.GetName()) {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[seriesKey(mf.GetName(), m)] = metricValue(m)
		}
	}
	return out
}

// value returns the value of the series name{labels} (label pairs in any
// order) and whether it exists.
func value(mfs []*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if maps.Equal(got, want) {
				return metricValue(m), true
			}
		}
	}
	return 0, false
}

// sourceFamilies tells the families of a source: tencent_push owns
// tencent_im_push_*, tencent_operations every other tencent_im_* family.
func sourceFamilies(source string) func(string) bool {
	if source == config.SourceTencentPush {
		return func(n string) bool { return strings.HasPrefix(n, "tencent_im_push_") }
	}
	return func(n string) bool {
		return strings.HasPrefix(n, "tencent_im_") && !strings.HasPrefix(n, "tencent_im_push_")
	}
}

// checkVendorLimits fails when the calls broke a documented limit:
// all_member_push_statistics at most 1 call/s with ≤ 5 TaskIDs
// (tencent-im-push-statistics.txt), getappinfo at most 200 calls/s
// (tencent-im-getappinfo.txt).
func checkVendorLimits(t testing.TB, calls []simulator.Call) {
	t.Helper()
	var push, info []time.Time
	for _, c := range calls {
		switch c.API {
		case simulator.TencentPushStatistics:
			push = append(push, c.Time)
			if len(c.TaskIDs) > 5 {
				t.Errorf("all_member_push_statistics asked for %d TaskIDs", len(c.TaskIDs))
			}
		case simulator.TencentGetAppInfo:
			info = append(info, c.Time)
		}
	}
	for i := 1; i < len(push); i++ {
		if d := push[i].Sub(push[i-1]); d < time.Second {
			t.Errorf("all_member_push_statistics calls %d and %d are %v apart", i-1, i, d)
		}
	}
	for i := 200; i < len(info); i++ {
		if d := info[i].Sub(info[i-200]); d < time.Second {
			t.Errorf("201 getappinfo calls within %v", d)
		}
	}
}

// htmlPage is what a gateway or a captive portal answers instead of JSON.
var htmlPage = []byte("<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>\n")

// TestFaultMatrix switches the simulator to each fault at run time and
// checks that the last good values keep being served, that the failure shows
// in refresh_success, api_requests_total and one log line, that retries back
// off within the vendor's limits, and that recovery is automatic.
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	const (
		backoffInitial   = 10 * time.Second // limits.backoff_initial default
		unavailableRetry = 6 * time.Hour    // limits.unavailable_retry_interval default
		failures         = 4                // consecutive failed refreshes before the fault clears
	)
	for _, tc := range []struct {
		name  string
		api   string // the simulated API that misbehaves
		fault simulator.Fault
		code  string // api_requests_total's code label for the failed requests
		// perRefresh is how many requests a failed refresh sends: 70001 is
		// retried once with a new UserSig.
		perRefresh int
		// retryAfter is the least wait the vendor asks for (70050: a minute).
		retryAfter  time.Duration
		unavailable bool
	}{
		{name: "HTTP 503", api: simulator.TencentGetAppInfo, fault: simulator.Fault{HTTPStatus: 503}, code: "503"},
		{name: "HTTP 502 with an HTML page", api: simulator.TencentGetAppInfo, fault: simulator.Fault{HTTPStatus: 502, Body: htmlPage}, code: "502"},
		{name: "HTML page with status 200", api: simulator.TencentGetAppInfo, fault: simulator.Fault{Body: htmlPage}, code: "invalid_response"},
		{name: "timeout", api: simulator.TencentGetAppInfo, fault: simulator.Fault{Delay: time.Hour}, code: "network"},
		{name: "connection reset", api: simulator.TencentGetAppInfo, fault: simulator.Fault{Reset: true}, code: "network"},
		{name: "truncated body", api: simulator.TencentGetAppInfo, fault: simulator.Fault{Truncate: true}, code: "network"},
		{name: "truncated JSON", api: simulator.TencentGetAppInfo, fault: simulator.Fault{Body: []byte(`{"ErrorCode":0,"Result":[{"Date":"2025`)}, code: "invalid_response"},
		{name: "garbage", api: simulator.TencentGetAppInfo, fault: simulator.Fault{Body: []byte("\x00\xff\xfe garbage \x1b[31m")}, code: "invalid_response"},
		{name: "wrong JSON types", api: simulator.TencentPushStatistics, fault: simulator.Fault{Body: []byte(`{"ActionStatus":"OK","ErrorCode":0,"Results":{"TaskId":7}}`)}, code: "invalid_response"},
		{name: "oversized body", api: simulator.TencentGetAppInfo, fault: simulator.Fault{Oversize: 1 << 20}, code: "invalid_response"},
		{name: "rate limited 60007", api: simulator.TencentPushStatistics, fault: simulator.Fault{ErrorCode: 60007}, code: "60007", retryAfter: time.Second},
		{name: "UserSig locked 70050", api: simulator.TencentGetAppInfo, fault: simulator.Fault{ErrorCode: 70050}, code: "70050", retryAfter: time.Minute},
		{name: "UserSig expired twice 70001", api: simulator.TencentGetAppInfo, fault: simulator.Fault{ErrorCode: 70001}, code: "70001", perRefresh: 2},
		{name: "wrong region 70016", api: simulator.TencentGetAppInfo, fault: simulator.Fault{ErrorCode: 70016}, code: "70016"},
		{name: "wrong region 70020", api: simulator.TencentPushStatistics, fault: simulator.Fault{ErrorCode: 70020}, code: "70020"},
		{name: "push not enabled 90045", api: simulator.TencentPushStatistics, fault: simulator.Fault{ErrorCode: 90045}, code: "90045", unavailable: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A short request timeout, so that the timeout fault costs one
			// second of real time per attempt.
			r := newRig(t, rigOptions{limits: "    request_timeout: 1s\n"})
			source, ttl := config.SourceTencentOperations, 10*time.Minute
			if tc.api == simulator.TencentPushStatistics {
				source, ttl = config.SourceTencentPush, time.Minute
			}
			perRefresh := max(tc.perRefresh, 1)
			ours := sourceFamilies(source)
			failedMsg := `msg="refresh failed`
			if tc.unavailable {
				failedMsg = `msg="source not available`
			}
			// wait returns the shortest and the longest wait after the n-th
			// consecutive failure: exponential backoff with jitter in
			// [d/2, d], never less than what the vendor asked for.
			wait := func(n int) (lo, hi time.Duration) {
				if tc.unavailable {
					return unavailableRetry, unavailableRetry
				}
				d := backoffInitial << (n - 1)
				return max(d/2, tc.retryAfter), max(d, tc.retryAfter)
			}

			good := series(r.scrape(), ours)
			if len(good) == 0 {
				t.Fatalf("the first refresh gave no %s series; logs:\n%s", source, r.logs)
			}
			r.sim.SetFault(tc.api, &tc.fault)
			r.fc.Advance(ttl)

			for n := 1; n <= failures; n++ {
				mfs := r.scrape()
				if got := series(mfs, ours); !maps.Equal(got, good) {
					t.Fatalf("failure %d: the %s series changed:\n got %v\nwant %v", n, source, got, good)
				}
				if v, _ := value(mfs, "imstats_exporter_refresh_success", "source", source, "app", rigApp); v != 0 {
					t.Fatalf("failure %d: refresh_success = %v, want 0", n, v)
				}
				wantAvailable := 1.0
				if tc.unavailable {
					wantAvailable = 0
				}
				if v, _ := value(mfs, "imstats_exporter_source_available", "source", source, "app", rigApp); v != wantAvailable {
					t.Fatalf("failure %d: source_available = %v, want %v", n, v, wantAvailable)
				}
				if v, _ := value(mfs, "imstats_exporter_api_requests_total", "vendor", "tencent_im", "api", tc.api, "code", tc.code); v != float64(n*perRefresh) {
					t.Fatalf("failure %d: api_requests_total{code=%q} = %v, want %d; codes: %v", n, tc.code, v, n*perRefresh,
						series(mfs, func(s string) bool { return s == "imstats_exporter_api_requests_total" }))
				}
				if got := r.calls(tc.api); got != 1+n*perRefresh {
					t.Fatalf("failure %d: %d calls of %s, want %d", n, got, tc.api, 1+n*perRefresh)
				}
				if n == failures {
					break
				}
				// No call before the backoff ends, however often scraped.
				lo, hi := wait(n)
				r.fc.Advance(lo - time.Second)
				r.scrape()
				r.scrape()
				if got := r.calls(tc.api); got != 1+n*perRefresh {
					t.Fatalf("after failure %d: a call %v later, before the backoff (at least %v) ended", n, lo-time.Second, lo)
				}
				r.fc.Advance(hi - lo + time.Second)
			}
			if got := r.logLines(failedMsg, "source="+source); got != 1 {
				t.Errorf("%d failed refreshes logged %d times, want once:\n%s", failures, got, r.logs)
			}

			r.sim.SetFault(tc.api, nil)
			_, hi := wait(failures)
			r.fc.Advance(hi)
			mfs := r.scrape()
			if v, _ := value(mfs, "imstats_exporter_refresh_success", "source", source, "app", rigApp); v != 1 {
				t.Fatalf("after the fault cleared: refresh_success = %v, want 1; logs:\n%s", v, r.logs)
			}
			if v, _ := value(mfs, "imstats_exporter_source_available", "source", source, "app", rigApp); v != 1 {
				t.Errorf("after the fault cleared: source_available = %v, want 1", v)
			}
			if v, _ := value(mfs, "imstats_exporter_last_refresh_success_timestamp_seconds", "source", source, "app", rigApp); v != float64(r.fc.Now().UnixNano())/1e9 {
				t.Errorf("last_refresh_success_timestamp_seconds = %v, want now (%v)", v, r.fc.Now().Unix())
			}
			if got := series(mfs, ours); len(got) == 0 || maps.Equal(got, good) {
				t.Errorf("after the fault cleared the %s values were not updated: %v", source, got)
			}
			if got := r.logLines(`msg="refresh recovered"`, "source="+source); got != 1 {
				t.Errorf("recovery logged %d times, want once:\n%s", got, r.logs)
			}
			if got := r.logLines(failedMsg, "source="+source); got != 1 {
				t.Errorf("the failure was logged %d times in all, want once:\n%s", got, r.logs)
			}
			checkVendorLimits(t, r.sim.Calls())
			if strings.Contains(r.logs.String(), rigKey) || strings.Contains(r.logs.String(), "usersig=") {
				t.Errorf("a secret in the logs:\n%s", r.logs)
			}
		})
	}
}

// inflight counts the requests a handler is serving.
type inflight struct {
	next http.Handler
	n    atomic.Int32
}

func (f *inflight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.n.Add(1)
	defer f.n.Add(-1)
	f.next.ServeHTTP(w, r)
}

// waitUntil polls cond; the minute only bounds a failing test.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// TestSlowVendorDoesNotHoldScrape scrapes through the /metrics handler with
// a 1 s scrape timeout while getappinfo takes 30 s: the scrape is answered
// with the last values while the vendor has not answered yet.
func TestSlowVendorDoesNotHoldScrape(t *testing.T) {
	t.Parallel()
	var sim *inflight
	r := newRig(t, rigOptions{wrap: func(h http.Handler) http.Handler {
		sim = &inflight{next: h}
		return sim
	}})
	h := r.handler()
	scrape := func(timeout string) string {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if timeout != "" {
			req.Header.Set(collector.ScrapeTimeoutHeader, timeout)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	const day = `tencent_im_operations_day_timestamp_seconds{sdkappid="1400000000"} `
	first := scrape("")
	oldDay := time.Date(2025, 2, 28, 0, 0, 0, 0, beijing).Unix()
	if !strings.Contains(first, fmt.Sprintf("%s%d", day, oldDay)) {
		t.Fatalf("first scrape lacks %s%d:\n%s", day, oldDay, first)
	}

	r.sim.SetFault(simulator.TencentGetAppInfo, &simulator.Fault{Delay: 30 * time.Second})
	r.fc.Advance(10 * time.Minute)
	got := scrape("1")
	// The simulator logs a call only once it answers, and it cannot answer
	// before the fake clock moves 30 s: the scrape returned first.
	if n := r.calls(simulator.TencentGetAppInfo); n != 1 {
		t.Fatalf("the vendor answered %d getappinfo calls before the scrape returned, want only the first", n)
	}
	for _, want := range []string{
		fmt.Sprintf("%s%d", day, oldDay),
		`imstats_exporter_refresh_success{app="1400000000",source="tencent_operations"} 1`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the scrape during the slow refresh lacks %q:\n%s", want, got)
		}
	}
	waitUntil(t, "the refresh to reach the slow vendor", func() bool { return sim.n.Load() == 1 && r.fc.Waiters() > 0 })

	r.fc.Advance(30 * time.Second)
	waitUntil(t, "the slow answer", func() bool { return sim.n.Load() == 0 })
	waitUntil(t, "the refresh to publish the new day", func() bool {
		return strings.Contains(scrape("1"), fmt.Sprintf("%s%d", day, oldDay+86400))
	})
}
