package collector_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
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
	rigSDKAppID    = 1400000000
	rigApp         = "1400000000"
	rigKey         = "fault-rig-secret-key-0123456789abcdef"
	rigAppKey      = "7d431e42dfa6a6d693ac2d04"
	rigGroupKey    = "9439ee12e91bd4c895d1b0f5"
	rigJPushSecret = "fault-rig-jpush-master-secret"
	rigGroupSecret = "fault-rig-jpush-group-secret"
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
// a configuration pointing at the simulators of both vendors (a Tencent app,
// a JPush app and a JPush group app, each with a message to follow), on one
// fake clock.
type rig struct {
	t       testing.TB
	fc      *clock.Fake
	tencent *simulator.Tencent
	jpush   *simulator.JPush
	cfg     *config.Config
	reg     *prometheus.Registry
	holder  *collector.Holder
	logs    *lockedBuffer
}

// rigOptions tune newRig.
type rigOptions struct {
	limits string                          // YAML lines under limits:, indented by four spaces
	wrap   func(http.Handler) http.Handler // wraps the simulators' handler; nil: none
}

func newRig(t testing.TB, o rigOptions) *rig {
	t.Helper()
	fc := clock.NewFake(rigStart.Add(-time.Minute))
	tencent := simulator.NewTencent(simulator.TencentOptions{
		Apps:  []simulator.TencentApp{{SDKAppID: rigSDKAppID, Identifier: "admin", SecretKey: rigKey}},
		Clock: fc,
		Seed:  11,
	})
	jpush := simulator.NewJPush(simulator.JPushOptions{
		Apps:   []simulator.JPushApp{{AppKey: rigAppKey, MasterSecret: rigJPushSecret, VIP: true}},
		Groups: []simulator.JPushGroup{{GroupKey: rigGroupKey, GroupSecret: rigGroupSecret, VIP: true}},
		Clock:  fc,
		Seed:   11,
	})
	// Pushes a minute old, still being delivered, so that their values move
	// between refreshes.
	if _, err := tencent.Push(rigSDKAppID, time.Hour); err != nil {
		t.Fatal(err)
	}
	msgID, err := jpush.Push(rigAppKey)
	if err != nil {
		t.Fatal(err)
	}
	groupMsgID, err := jpush.GroupPush(rigGroupKey)
	if err != nil {
		t.Fatal(err)
	}
	fc.Advance(time.Minute)

	mux := http.NewServeMux()
	mux.Handle("/v4/", tencent)
	mux.Handle("/v3/", jpush)
	var h http.Handler = mux
	if o.wrap != nil {
		h = o.wrap(h)
	}
	srv := httptest.NewServer(readBodyFirst(h))
	t.Cleanup(srv.Close)

	yml := fmt.Sprintf(`tencent_im:
  - sdkappid: %d
    secret_key: %q
    endpoint: %[3]s
    push:
      windows: [24h]
jpush:
  - app_key: %[4]q
    master_secret: %[5]q
    endpoint: %[3]s
    msg_ids: [%[6]q]
jpush_groups:
  - group_key: %[7]q
    group_secret: %[8]q
    endpoint: %[3]s
    group_msg_ids: [%[9]q]
state_directory: state
limits:
    max_response_bytes: 262144
%[10]s`, rigSDKAppID, rigKey, srv.URL, rigAppKey, rigJPushSecret, msgID, rigGroupKey, rigGroupSecret, groupMsgID, o.limits)
	cfg, err := config.Parse([]byte(yml), t.TempDir())
	if err != nil {
		t.Fatalf("config:\n%s\n%v", yml, err)
	}
	r := &rig{t: t, fc: fc, tencent: tencent, jpush: jpush, cfg: cfg, reg: prometheus.NewRegistry(), holder: &collector.Holder{}, logs: &lockedBuffer{}}
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

// readBodyFirst reads the request body before next runs. net/http only
// notices that a client hung up (and cancels the request's context) once the
// body has been read, and a delayed fault answers without reading it: without
// this, a request the exporter abandoned would hold the simulator until the
// fake clock moves.
func readBodyFirst(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
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

// callsByAPI counts the simulators' calls per API (the simulators' API
// names: Tencent's and JPush's do not overlap).
func (r *rig) callsByAPI() map[string]int {
	out := map[string]int{}
	for _, c := range r.tencent.Calls() {
		out[c.API]++
	}
	for _, c := range r.jpush.Calls() {
		out[c.API]++
	}
	return out
}

// calls counts the simulators' calls of api.
func (r *rig) calls(api string) int { return r.callsByAPI()[api] }

// setFault makes api of vendor misbehave as f says; nil clears it.
func (r *rig) setFault(vendor, api string, f *simulator.Fault) {
	if vendor == collector.VendorJPush {
		r.jpush.SetFault(api, f)
		return
	}
	r.tencent.SetFault(api, f)
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

// sourceFamilies tells the families a source exports.
func sourceFamilies(source string) func(string) bool {
	has := strings.HasPrefix
	switch source {
	case config.SourceTencentPush:
		return func(n string) bool { return has(n, "tencent_im_push_") }
	case config.SourceTencentOperations:
		return func(n string) bool { return has(n, "tencent_im_") && !has(n, "tencent_im_push_") }
	case config.SourceJPushReceived:
		return func(n string) bool { return has(n, "jpush_message_delivery_") }
	case config.SourceJPushMessages:
		return func(n string) bool {
			return has(n, "jpush_message_") && !has(n, "jpush_message_delivery_") && n != "jpush_message_devices"
		}
	case config.SourceJPushUsers:
		return func(n string) bool { return has(n, "jpush_users_") }
	case config.SourceJPushGroupMessages:
		return func(n string) bool { return has(n, "jpush_group_message_") }
	case config.SourceJPushGroupUsers:
		return func(n string) bool { return has(n, "jpush_group_users_") }
	}
	return func(string) bool { return false }
}

// checkVendorLimits fails when the rig's calls broke a documented limit:
// all_member_push_statistics at most 1 call/s with ≤ 5 TaskIDs
// (tencent-im-push-statistics.txt), getappinfo at most 200 calls/s
// (tencent-im-getappinfo.txt), the JPush Report API 2400 calls a minute per
// AppKey or group (SPEC §1).
func (r *rig) checkVendorLimits(t testing.TB) {
	t.Helper()
	var push, info []time.Time
	for _, c := range r.tencent.Calls() {
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
	within := func(what string, times []time.Time, n int, d time.Duration) {
		for i := n; i < len(times); i++ {
			if times[i].Sub(times[i-n]) < d {
				t.Errorf("%d %s calls within %v", n+1, what, times[i].Sub(times[i-n]))
			}
		}
	}
	within("all_member_push_statistics", push, 1, time.Second)
	within("getappinfo", info, 200, time.Second)
	byUser := map[string][]time.Time{}
	for _, c := range r.jpush.Calls() {
		byUser[c.Username] = append(byUser[c.Username], c.Time)
	}
	for user, times := range byUser {
		within("JPush calls of "+user, times, 2400, time.Minute)
	}
}

// htmlPage is what a gateway or a captive portal answers instead of JSON.
var htmlPage = []byte("<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>\n")

// TestFaultMatrix switches a simulator to each fault at run time and checks
// that the last good values keep being served, that the failure shows in
// refresh_success, api_requests_total and one log line, that retries back off
// within the vendor's limits, and that recovery is automatic.
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	const (
		backoffInitial   = 10 * time.Second // limits.backoff_initial default
		unavailableRetry = 6 * time.Hour    // limits.unavailable_retry_interval default
		failures         = 4                // consecutive failed refreshes before the fault clears
	)
	const (
		tim = collector.VendorTencentIM
		jp  = collector.VendorJPush
	)
	// A fault on an API fails the refreshes of one source.
	type target struct{ vendor, api, source, app string }
	var (
		getAppInfo     = target{tim, simulator.TencentGetAppInfo, config.SourceTencentOperations, rigApp}
		pushStatistics = target{tim, simulator.TencentPushStatistics, config.SourceTencentPush, rigApp}
		received       = target{jp, simulator.JPushReceivedDetail, config.SourceJPushReceived, rigAppKey}
		messages       = target{jp, simulator.JPushMessagesDetail, config.SourceJPushMessages, rigAppKey}
		users          = target{jp, simulator.JPushUsers, config.SourceJPushUsers, rigAppKey}
		groupMessages  = target{jp, simulator.JPushGroupMessagesDetail, config.SourceJPushGroupMessages, rigGroupKey}
	)
	for _, tc := range []struct {
		name   string
		target target
		fault  simulator.Fault
		code   string // api_requests_total's code label for the failed requests
		// perRefresh is how many requests a failed refresh sends: 70001 is
		// retried once with a new UserSig.
		perRefresh int
		// retryAfter is the least wait the vendor asks for (70050: a minute).
		retryAfter time.Duration
		// resent: net/http sends an idempotent request (JPush's GETs) again
		// on another pooled connection when a reused one is reset, so the
		// vendor sees one call or more of each request.
		resent      bool
		unavailable bool
	}{
		{name: "HTTP 503", target: getAppInfo, fault: simulator.Fault{HTTPStatus: 503}, code: "503"},
		{name: "HTTP 502 with an HTML page", target: getAppInfo, fault: simulator.Fault{HTTPStatus: 502, Body: htmlPage}, code: "502"},
		{name: "HTML page with status 200", target: getAppInfo, fault: simulator.Fault{Body: htmlPage}, code: "invalid_response"},
		{name: "timeout", target: getAppInfo, fault: simulator.Fault{Delay: time.Hour}, code: "network"},
		{name: "connection reset", target: getAppInfo, fault: simulator.Fault{Reset: true}, code: "network"},
		{name: "truncated body", target: getAppInfo, fault: simulator.Fault{Truncate: true}, code: "network"},
		{name: "truncated JSON", target: getAppInfo, fault: simulator.Fault{Body: []byte(`{"ErrorCode":0,"Result":[{"Date":"2025`)}, code: "invalid_response"},
		{name: "garbage", target: getAppInfo, fault: simulator.Fault{Body: []byte("\x00\xff\xfe garbage \x1b[31m")}, code: "invalid_response"},
		{name: "wrong JSON types", target: pushStatistics, fault: simulator.Fault{Body: []byte(`{"ActionStatus":"OK","ErrorCode":0,"Results":{"TaskId":7}}`)}, code: "invalid_response"},
		{name: "oversized body", target: getAppInfo, fault: simulator.Fault{Oversize: 1 << 20}, code: "invalid_response"},
		{name: "rate limited 60007", target: pushStatistics, fault: simulator.Fault{ErrorCode: 60007}, code: "60007", retryAfter: time.Second},
		{name: "UserSig locked 70050", target: getAppInfo, fault: simulator.Fault{ErrorCode: 70050}, code: "70050", retryAfter: time.Minute},
		{name: "UserSig expired twice 70001", target: getAppInfo, fault: simulator.Fault{ErrorCode: 70001}, code: "70001", perRefresh: 2},
		{name: "wrong region 70016", target: getAppInfo, fault: simulator.Fault{ErrorCode: 70016}, code: "70016"},
		{name: "wrong region 70020", target: pushStatistics, fault: simulator.Fault{ErrorCode: 70020}, code: "70020"},
		{name: "push not enabled 90045", target: pushStatistics, fault: simulator.Fault{ErrorCode: 90045}, code: "90045", unavailable: true},

		{name: "JPush HTTP 503", target: received, fault: simulator.Fault{HTTPStatus: 503}, code: "503"},
		{name: "JPush HTML page with status 502", target: users, fault: simulator.Fault{HTTPStatus: 502, Body: htmlPage}, code: "502"},
		{name: "JPush timeout", target: received, fault: simulator.Fault{Delay: time.Hour}, code: "network"},
		{name: "JPush connection reset", target: messages, fault: simulator.Fault{Reset: true}, code: "network", resent: true},
		{name: "JPush truncated body", target: received, fault: simulator.Fault{Truncate: true}, code: "network"},
		// jpush-report-api-v3.txt: its samples are not valid JSON either.
		{name: "JPush garbage JSON", target: groupMessages, fault: simulator.Fault{Body: []byte(`[{"msg_id":1613113584,"android_received":`)}, code: "invalid_response"},
		{name: "JPush oversized body", target: users, fault: simulator.Fault{Oversize: 1 << 20}, code: "invalid_response"},
		{name: "JPush internal error 10", target: received, fault: simulator.Fault{ErrorCode: 10}, code: "10"},
		{name: "JPush over the quota 2002", target: received, fault: simulator.Fault{ErrorCode: 2002}, code: "2002", retryAfter: time.Second},
		{name: "JPush authentication failed 3001", target: messages, fault: simulator.Fault{ErrorCode: 3001}, code: "3001"},
		{name: "JPush VIP-only API 2003", target: messages, fault: simulator.Fault{ErrorCode: 2003}, code: "2003", unavailable: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A short request timeout, so that the timeout fault costs one
			// second of real time per attempt.
			r := newRig(t, rigOptions{limits: "    request_timeout: 1s\n"})
			tg := tc.target
			ttl := r.cfg.RefreshIntervals.For(tg.source)
			perRefresh := max(tc.perRefresh, 1)
			ours := sourceFamilies(tg.source)
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
				t.Fatalf("the first refresh gave no %s series; logs:\n%s", tg.source, r.logs)
			}
			r.setFault(tg.vendor, tg.api, &tc.fault)
			r.fc.Advance(ttl)

			for n := 1; n <= failures; n++ {
				mfs := r.scrape()
				if got := series(mfs, ours); !maps.Equal(got, good) {
					t.Fatalf("failure %d: the %s series changed:\n got %v\nwant %v", n, tg.source, got, good)
				}
				if v, _ := value(mfs, "imstats_exporter_refresh_success", "source", tg.source, "app", tg.app); v != 0 {
					t.Fatalf("failure %d: refresh_success = %v, want 0", n, v)
				}
				wantAvailable := 1.0
				if tc.unavailable {
					wantAvailable = 0
				}
				if v, _ := value(mfs, "imstats_exporter_source_available", "source", tg.source, "app", tg.app); v != wantAvailable {
					t.Fatalf("failure %d: source_available = %v, want %v", n, v, wantAvailable)
				}
				if v, _ := value(mfs, "imstats_exporter_api_requests_total", "vendor", tg.vendor, "api", tg.api, "code", tc.code); v != float64(n*perRefresh) {
					t.Fatalf("failure %d: api_requests_total{code=%q} = %v, want %d; codes: %v", n, tc.code, v, n*perRefresh,
						series(mfs, func(s string) bool { return s == "imstats_exporter_api_requests_total" }))
				}
				// The simulator logs an abandoned call when it notices the
				// client has gone, which may be after the client gave up.
				want := 1 + n*perRefresh
				waitUntil(t, "the simulator to log the failed calls", func() bool { return r.calls(tg.api) >= want })
				calls := r.calls(tg.api)
				if calls != want && !tc.resent {
					t.Fatalf("failure %d: %d calls of %s, want %d", n, calls, tg.api, want)
				}
				if n == failures {
					break
				}
				// No call before the backoff ends, however often scraped.
				lo, hi := wait(n)
				r.fc.Advance(lo - time.Second)
				r.scrape()
				r.scrape()
				if got := r.calls(tg.api); got != calls {
					t.Fatalf("after failure %d: a call %v later, before the backoff (at least %v) ended", n, lo-time.Second, lo)
				}
				r.fc.Advance(hi - lo + time.Second)
			}
			if got := r.logLines(failedMsg, "source="+tg.source); got != 1 {
				t.Errorf("%d failed refreshes logged %d times, want once:\n%s", failures, got, r.logs)
			}

			r.setFault(tg.vendor, tg.api, nil)
			_, hi := wait(failures)
			r.fc.Advance(hi)
			mfs := r.scrape()
			if v, _ := value(mfs, "imstats_exporter_refresh_success", "source", tg.source, "app", tg.app); v != 1 {
				t.Fatalf("after the fault cleared: refresh_success = %v, want 1; logs:\n%s", v, r.logs)
			}
			if v, _ := value(mfs, "imstats_exporter_source_available", "source", tg.source, "app", tg.app); v != 1 {
				t.Errorf("after the fault cleared: source_available = %v, want 1", v)
			}
			if v, _ := value(mfs, "imstats_exporter_last_refresh_success_timestamp_seconds", "source", tg.source, "app", tg.app); v != float64(r.fc.Now().UnixNano())/1e9 {
				t.Errorf("last_refresh_success_timestamp_seconds = %v, want now (%v)", v, r.fc.Now().Unix())
			}
			if got := series(mfs, ours); len(got) == 0 || maps.Equal(got, good) {
				t.Errorf("after the fault cleared the %s values were not updated: %v", tg.source, got)
			}
			if got := r.logLines(`msg="refresh recovered"`, "source="+tg.source); got != 1 {
				t.Errorf("recovery logged %d times, want once:\n%s", got, r.logs)
			}
			if got := r.logLines(failedMsg, "source="+tg.source); got != 1 {
				t.Errorf("the failure was logged %d times in all, want once:\n%s", got, r.logs)
			}
			r.checkVendorLimits(t)
			for _, secret := range []string{rigKey, rigJPushSecret, rigGroupSecret, "usersig=",
				base64.StdEncoding.EncodeToString([]byte(rigAppKey + ":" + rigJPushSecret)),
				base64.StdEncoding.EncodeToString([]byte("group-" + rigGroupKey + ":" + rigGroupSecret))} {
				if strings.Contains(r.logs.String(), secret) {
					t.Errorf("the logs show %q:\n%s", secret, r.logs)
				}
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

// textValue returns the value of series (name{labels} as exposed) in an
// exposition text, and whether it is there.
func textValue(text, series string) (float64, bool) {
	for line := range strings.SplitSeq(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
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
	var vendors *inflight
	r := newRig(t, rigOptions{wrap: func(h http.Handler) http.Handler {
		vendors = &inflight{next: h}
		return vendors
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
	const day = `tencent_im_operations_day_timestamp_seconds{sdkappid="1400000000"}`
	oldDay := float64(time.Date(2025, 2, 28, 0, 0, 0, 0, beijing).Unix()) // getappinfo's newest row is the last complete day
	if v, _ := textValue(scrape(""), day); v != oldDay {
		t.Fatalf("first scrape: %s = %v, want %v", day, v, oldDay)
	}

	r.tencent.SetFault(simulator.TencentGetAppInfo, &simulator.Fault{Delay: 30 * time.Second})
	r.fc.Advance(10 * time.Minute)
	got := scrape("1")
	// The simulator logs a call only once it answers, and it cannot answer
	// before the fake clock moves 30 s: the scrape returned first.
	if n := r.calls(simulator.TencentGetAppInfo); n != 1 {
		t.Fatalf("the vendor answered %d getappinfo calls before the scrape returned, want only the first", n)
	}
	for _, want := range []struct {
		series string
		value  float64
	}{
		{day, oldDay},
		{`imstats_exporter_refresh_success{app="1400000000",source="tencent_operations"}`, 1},
	} {
		if v, ok := textValue(got, want.series); !ok || v != want.value {
			t.Errorf("the scrape during the slow refresh: %s = %v (present %v), want %v", want.series, v, ok, want.value)
		}
	}
	waitUntil(t, "the refresh to reach the slow vendor", func() bool { return vendors.n.Load() == 1 && r.fc.Waiters() > 0 })

	r.fc.Advance(30 * time.Second)
	waitUntil(t, "the slow answer", func() bool { return vendors.n.Load() == 0 })
	waitUntil(t, "the refresh to publish the new day", func() bool {
		v, _ := textValue(scrape("1"), day)
		return v == oldDay+86400
	})
}
