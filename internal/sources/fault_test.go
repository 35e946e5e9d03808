package sources

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
	"github.com/imstats/imstats_exporter/internal/refresh"
	"github.com/imstats/imstats_exporter/internal/simulator"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

// beijing is the vendors' zone (UTC+8, no daylight saving time).
var beijing = time.FixedZone("Asia/Shanghai", 8*60*60)

// rigStart is two minutes before a Beijing midnight, so that the steps
// after a source's interval see a new day: values kept during a failure
// are then visibly the old day's, and a recovery visibly brings the new one.
var rigStart = time.Date(2025, 3, 1, 23, 58, 0, 0, beijing)

// rig is both simulators on one fake clock behind one loopback server, and
// a configuration of a Tencent app, a JPush app and a JPush group pointing
// at them, each with a pushed task or message to follow.
type rig struct {
	*env
	tencent *simulator.Tencent
	jpush   *simulator.JPush
	cfg     *config.Config
	sets    map[string]*tracking.Set // by tracking kind
}

func newRig(t testing.TB, limits string, wrap func(*clocktest.Fake, http.Handler) http.Handler) *rig {
	t.Helper()
	e := newEnv(t, rigStart.Add(-time.Minute))
	r := &rig{env: e, sets: map[string]*tracking.Set{}}
	r.tencent = simulator.NewTencent(simulator.TencentOptions{
		Apps:  []simulator.TencentApp{{SDKAppID: simSDKAppID, Identifier: "admin", SecretKey: simKey}},
		Clock: e.fc,
		Seed:  11,
	})
	r.jpush = simulator.NewJPush(simulator.JPushOptions{
		Apps:   []simulator.JPushApp{{AppKey: simAppKey, MasterSecret: simJPushSecret, VIP: true}},
		Groups: []simulator.JPushGroup{{GroupKey: simGroupKey, GroupSecret: simGroupSecret, VIP: true}},
		Clock:  e.fc,
		Seed:   11,
	})
	// Pushes a minute old, still being delivered, so that their values move
	// between steps.
	taskID, err := r.tencent.Push(simSDKAppID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	msgID, err := r.jpush.Push(simAppKey)
	if err != nil {
		t.Fatal(err)
	}
	groupMsgID, err := r.jpush.GroupPush(simGroupKey)
	if err != nil {
		t.Fatal(err)
	}
	e.fc.Advance(time.Minute)

	mux := http.NewServeMux()
	mux.Handle("/v4/", r.tencent)
	mux.Handle("/v3/", r.jpush)
	var h http.Handler = mux
	if wrap != nil {
		h = wrap(e.fc, h)
	}
	srv := httptest.NewServer(readBodyFirst(h))
	t.Cleanup(srv.Close)
	r.cfg = e.config(fmt.Sprintf(`tencent_im:
  - sdkappid: %d
    secret_key: %q
    endpoint: %[3]s
    push:
      windows: [24h]
jpush:
  - app_key: %[4]q
    master_secret: %[5]q
    endpoint: %[3]s
jpush_groups:
  - group_key: %[6]q
    group_secret: %[7]q
    endpoint: %[3]s
limits:
    max_response_bytes: 262144
%[8]s`, simSDKAppID, simKey, srv.URL, simAppKey, simJPushSecret, simGroupKey, simGroupSecret, limits))
	r.sets[catalog.KindTencentPush] = e.set(r.cfg, catalog.KindTencentPush, taskID)
	r.sets[catalog.KindJPushMessages] = e.set(r.cfg, catalog.KindJPushMessages, msgID)
	r.sets[catalog.KindJPushGroupMessages] = e.set(r.cfg, catalog.KindJPushGroupMessages, groupMsgID)
	return r
}

// readBodyFirst reads the request body before next runs. net/http only
// notices that a client hung up (and cancels the request's context) once the
// body has been read, and a delayed fault answers without reading it: without
// this, a request the client abandoned would hold the simulator until the
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

// unitOf returns the unit of source for the rig's app of its vendor.
func (r *rig) unitOf(source string) *unit {
	r.t.Helper()
	def, ok := lookup(source)
	if !ok {
		r.t.Fatalf("no source %s", source)
	}
	ids := r.sets[def.IDKind]
	switch def.Section {
	case catalog.SectionTencentIM:
		return r.unit(source, r.tencentApp(r.cfg, ids))
	case catalog.SectionJPush:
		return r.unit(source, r.jpushApp(r.cfg, ids))
	default:
		return r.unit(source, r.groupApp(r.cfg, ids))
	}
}

// calls counts the simulators' calls of api (the two vendors' API names do
// not overlap).
func (r *rig) calls(api string) int {
	n := 0
	for _, c := range r.tencent.Calls() {
		if c.API == api {
			n++
		}
	}
	for _, c := range r.jpush.Calls() {
		if c.API == api {
			n++
		}
	}
	return n
}

// setFault makes api of vendor misbehave as f says; nil clears it.
func (r *rig) setFault(vendor, api string, f *simulator.Fault) {
	if vendor == catalog.VendorJPush {
		r.jpush.SetFault(api, f)
		return
	}
	r.tencent.SetFault(api, f)
}

// checkVendorLimits fails when the rig's calls broke a documented limit:
// all_member_push_statistics at most 1 call/s with at most 5 TaskIDs (Tencent
// Chat "All/Tagged Users Push Data Statistics"), normal_push_statistics at
// most 1 call/s (Tencent Chat "普通推送数据统计"), all_member_push_loss and
// normal_push_loss at most 1 call/s each with windows of at most 7 days and
// at most 5 TaskIDs ("All/Tagged Users Push Loss Analysis", "Chat Service
// Push Loss Analysis"), getappinfo at most 200
// calls/s (Tencent Chat REST API "Pulling Operations Data"), the JPush Report
// API 2400 calls a minute per AppKey or group (JPush "REST API v3 Report").
func (r *rig) checkVendorLimits(t testing.TB) {
	t.Helper()
	var push, normal, info, loss, normalLoss []time.Time
	for _, c := range r.tencent.Calls() {
		switch c.API {
		case simulator.TencentPushLoss, simulator.TencentNormalPushLoss:
			if c.API == simulator.TencentPushLoss {
				loss = append(loss, c.Time)
			} else {
				normalLoss = append(normalLoss, c.Time)
			}
			if len(c.TaskIDs) > 5 || c.EndTime-c.StartTime > 7*24*60*60 {
				t.Errorf("%s asked for %d TaskIDs over %ds", c.API, len(c.TaskIDs), c.EndTime-c.StartTime)
			}
		case simulator.TencentPushStatistics:
			push = append(push, c.Time)
			if len(c.TaskIDs) > 5 {
				t.Errorf("all_member_push_statistics asked for %d TaskIDs", len(c.TaskIDs))
			}
		case simulator.TencentNormalPushStatistics:
			normal = append(normal, c.Time)
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
	within("normal_push_statistics", normal, 1, time.Second)
	within("all_member_push_loss", loss, 1, time.Second)
	within("normal_push_loss", normalLoss, 1, time.Second)
	within("getappinfo", info, 200, time.Second)
	byUser := map[string][]time.Time{}
	for _, c := range r.jpush.Calls() {
		byUser[c.Username] = append(byUser[c.Username], c.Time)
	}
	for user, times := range byUser {
		within("JPush calls of "+user, times, 2400, time.Minute)
	}
}

// loopClock is the fake clock as a refresh.Loop sees it: every wait the
// loop starts is reported on sleeps, so that the test knows when a step has
// ended and how long the loop chose to wait.
type loopClock struct {
	*clocktest.Fake
	sleeps chan time.Duration
	// started counts the waits begun, reported on sleeps or about to be.
	started atomic.Int64
}

// After implements clock.Clock.
func (c *loopClock) After(d time.Duration) <-chan time.Time {
	c.started.Add(1)
	ch := c.Fake.After(d)
	c.sleeps <- d
	return ch
}

// running is a unit's loop, run as the server runs it, on the rig's clock.
type running struct {
	r    *rig
	u    *unit
	lc   *loopClock
	seen int64 // the sleeps received
}

func (r *rig) run(u *unit) *running {
	r.t.Helper()
	lc := &loopClock{Fake: r.fc, sleeps: make(chan time.Duration, 64)}
	opts := refresh.Options{
		Clock:            lc,
		BackoffInitial:   time.Duration(r.cfg.Limits.BackoffInitial),
		BackoffMax:       time.Duration(r.cfg.Limits.BackoffMax),
		UnavailableRetry: time.Duration(r.cfg.Limits.UnavailableRetryInterval),
		OnDemand:         u.def.OnDemand,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		refresh.NewLoop(u.target, u.job, opts).Run(ctx)
		close(done)
	}()
	r.t.Cleanup(func() { cancel(); <-done })
	return &running{r: r, u: u, lc: lc}
}

// next waits until the loop has stepped and started to wait, and returns
// that wait. With advance set it moves the fake clock on while the step
// waits on it (a rate-limit bucket), never once the loop's own wait has
// begun.
func (l *running) next(advance bool) time.Duration {
	l.r.t.Helper()
	deadline := time.Now().Add(time.Minute) // bounds a hung test only
	for {
		select {
		case d := <-l.lc.sleeps:
			l.seen++
			return d
		default:
		}
		if time.Now().After(deadline) {
			l.r.t.Fatal("the loop did not step")
		}
		if advance && l.lc.started.Load() == l.seen && l.r.fc.Waiters() > 0 {
			l.r.fc.Advance(50 * time.Millisecond)
		} else {
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// quiet fails if the loop steps within a short real time.
func (l *running) quiet(what string) {
	l.r.t.Helper()
	select {
	case d := <-l.lc.sleeps:
		l.r.t.Fatalf("the loop stepped %s (then waited %v)", what, d)
	case <-time.After(30 * time.Millisecond):
	}
}

// wake ends the loop's wait of d: it moves the clock on and, for a source
// refreshed on scrape, asks for a refresh as a scrape does.
func (l *running) wake(d time.Duration) {
	l.r.fc.Advance(d)
	if l.u.def.OnDemand {
		l.u.target.Demand()
	}
}

// htmlPage is what a gateway or a captive portal answers instead of JSON.
var htmlPage = []byte("<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>\n")

// TestFaultMatrix switches a simulator to each fault at run time while a
// source's loop runs, and checks that the target keeps the last good
// values, that the failure shows in its health, in api_requests_total and in
// one log line, that retries back off within the vendor's limits however
// often scraped, and that recovery is automatic.
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	const (
		backoffInitial   = 10 * time.Second // limits.backoff_initial default
		unavailableRetry = 6 * time.Hour    // limits.unavailable_retry_interval default
		failures         = 4                // consecutive failed steps before the fault clears
	)
	// A fault on an API fails the steps of one source.
	type target struct{ vendor, api, source string }
	var (
		getAppInfo     = target{catalog.VendorTencentIM, simulator.TencentGetAppInfo, catalog.SourceTencentOperations}
		pushStatistics = target{catalog.VendorTencentIM, simulator.TencentPushStatistics, catalog.SourceTencentPush}
		received       = target{catalog.VendorJPush, simulator.JPushReceivedDetail, catalog.SourceJPushReceived}
		messages       = target{catalog.VendorJPush, simulator.JPushMessagesDetail, catalog.SourceJPushMessages}
		users          = target{catalog.VendorJPush, simulator.JPushUsers, catalog.SourceJPushUsers}
		groupMessages  = target{catalog.VendorJPush, simulator.JPushGroupMessagesDetail, catalog.SourceJPushGroupMessages}
		groupUsers     = target{catalog.VendorJPush, simulator.JPushGroupUsers, catalog.SourceJPushGroupUsers}
		normalPush     = target{catalog.VendorTencentIM, simulator.TencentNormalPushStatistics, catalog.SourceTencentNormalPush}
		pushLoss       = target{catalog.VendorTencentIM, simulator.TencentPushLoss, catalog.SourceTencentPushLoss}
		normalLoss     = target{catalog.VendorTencentIM, simulator.TencentNormalPushLoss, catalog.SourceTencentNormalPushLoss}
	)
	for _, tc := range []struct {
		name   string
		target target
		fault  simulator.Fault
		code   string // api_requests_total's code label for the failed requests
		// perStep is how many requests a failed step sends: 70001 is
		// retried once with a new UserSig.
		perStep int
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
		{name: "UserSig expired twice 70001", target: getAppInfo, fault: simulator.Fault{ErrorCode: 70001}, code: "70001", perStep: 2},
		{name: "wrong region 70016", target: getAppInfo, fault: simulator.Fault{ErrorCode: 70016}, code: "70016"},
		{name: "wrong region 70020", target: pushStatistics, fault: simulator.Fault{ErrorCode: 70020}, code: "70020"},
		{name: "push not enabled 90045", target: pushStatistics, fault: simulator.Fault{ErrorCode: 90045}, code: "90045", unavailable: true},

		{name: "normal push HTTP 503", target: normalPush, fault: simulator.Fault{HTTPStatus: 503}, code: "503"},
		{name: "normal push connection reset", target: normalPush, fault: simulator.Fault{Reset: true}, code: "network"},
		{name: "normal push wrong JSON types", target: normalPush, fault: simulator.Fault{Body: []byte(`{"ActionStatus":"OK","ErrorCode":0,"PlatformStatistics":{"PushPlatform":7}}`)}, code: "invalid_response"},
		{name: "normal push rate limited 60007", target: normalPush, fault: simulator.Fault{ErrorCode: 60007}, code: "60007", retryAfter: time.Second},
		{name: "normal push UserSig expired twice 70001", target: normalPush, fault: simulator.Fault{ErrorCode: 70001}, code: "70001", perStep: 2},
		{name: "normal push not enabled 90045", target: normalPush, fault: simulator.Fault{ErrorCode: 90045}, code: "90045", unavailable: true},

		{name: "push loss wrong JSON types", target: pushLoss, fault: simulator.Fault{Body: []byte(`{"ActionStatus":"OK","ErrorCode":0,"Results":{"TaskID":7}}`)}, code: "invalid_response"},
		{name: "push loss rate limited 60007", target: pushLoss, fault: simulator.Fault{ErrorCode: 60007}, code: "60007", retryAfter: time.Second},
		{name: "push loss not enabled 90045", target: pushLoss, fault: simulator.Fault{ErrorCode: 90045}, code: "90045", unavailable: true},
		{name: "push loss no permission 60010", target: pushLoss, fault: simulator.Fault{ErrorCode: 60010}, code: "60010", unavailable: true},
		{name: "normal push loss HTTP 503", target: normalLoss, fault: simulator.Fault{HTTPStatus: 503}, code: "503"},
		{name: "normal push loss UserSig expired twice 70001", target: normalLoss, fault: simulator.Fault{ErrorCode: 70001}, code: "70001", perStep: 2},
		{name: "normal push loss not admin 90009", target: normalLoss, fault: simulator.Fault{ErrorCode: 90009}, code: "90009", unavailable: true},

		{name: "JPush HTTP 503", target: received, fault: simulator.Fault{HTTPStatus: 503}, code: "503"},
		{name: "JPush HTML page with status 502", target: users, fault: simulator.Fault{HTTPStatus: 502, Body: htmlPage}, code: "502"},
		{name: "JPush timeout", target: received, fault: simulator.Fault{Delay: time.Hour}, code: "network"},
		{name: "JPush connection reset", target: messages, fault: simulator.Fault{Reset: true}, code: "network", resent: true},
		{name: "JPush truncated body", target: received, fault: simulator.Fault{Truncate: true}, code: "network"},
		// JPush "REST API v3 Report": its samples are not valid JSON either.
		{name: "JPush garbage JSON", target: groupMessages, fault: simulator.Fault{Body: []byte(`[{"msg_id":1613113584,"android_received":`)}, code: "invalid_response"},
		{name: "JPush oversized body", target: users, fault: simulator.Fault{Oversize: 1 << 20}, code: "invalid_response"},
		{name: "JPush internal error 10", target: received, fault: simulator.Fault{ErrorCode: 10}, code: "10"},
		{name: "JPush over the quota 2002", target: received, fault: simulator.Fault{ErrorCode: 2002}, code: "2002", retryAfter: time.Second},
		{name: "JPush authentication failed 3001", target: messages, fault: simulator.Fault{ErrorCode: 3001}, code: "3001"},
		// users: messages/detail refused with 2003 falls back to the old /messages.
		{name: "JPush VIP-only API 2003", target: users, fault: simulator.Fault{ErrorCode: 2003}, code: "2003", unavailable: true},
		{name: "JPush group users HTTP 503", target: groupUsers, fault: simulator.Fault{HTTPStatus: 503}, code: "503"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A short request timeout, so that the timeout fault costs one
			// second of real time per attempt.
			r := newRig(t, "    request_timeout: 1s\n", nil)
			tg := tc.target
			perStep := max(tc.perStep, 1)
			failedMsg := `msg="refresh failed`
			if tc.unavailable {
				failedMsg = `msg="source not available`
			}
			// bounds returns the shortest and the longest wait after the
			// n-th consecutive failure: exponential backoff with jitter in
			// [d/2, d], never less than what the vendor asked for.
			bounds := func(n int) (lo, hi time.Duration) {
				if tc.unavailable {
					return unavailableRetry, unavailableRetry
				}
				d := backoffInitial << (n - 1)
				return max(d/2, tc.retryAfter), max(d, tc.retryAfter)
			}

			u := r.unitOf(tg.source)
			l := r.run(u)
			wait := l.next(true)
			good := series(t, render(t, u.target))
			if len(good) == 0 || !u.target.Health().OK {
				t.Fatalf("the first round gave no %s series (health %+v); logs:\n%s", tg.source, u.target.Health(), r.logs)
			}
			base := r.calls(tg.api)
			r.setFault(tg.vendor, tg.api, &tc.fault)
			l.wake(wait)

			// A failed step may wait on a bucket (70001's retry with a new
			// UserSig keeps to 1 call/s); a delayed answer waits on the
			// clock too, and must not be hurried.
			advance := tc.fault.Delay == 0
			for n := 1; n <= failures; n++ {
				wait = l.next(advance)
				if got := series(t, render(t, u.target)); !maps.Equal(got, good) {
					t.Fatalf("failure %d: the %s series changed:\n got %v\nwant %v", n, tg.source, got, good)
				}
				h := u.target.Health()
				if h.OK || h.Failures != n || h.Available == tc.unavailable {
					t.Fatalf("failure %d: health %+v, want failed %d times, available %v", n, h, n, !tc.unavailable)
				}
				if v := r.apiRequests(tg.vendor, tg.api, tc.code); v != float64(n*perStep) {
					t.Fatalf("failure %d: api_requests_total{code=%q} = %v, want %d", n, tc.code, v, n*perStep)
				}
				if lo, hi := bounds(n); wait < lo || wait > hi {
					t.Fatalf("failure %d: the loop waits %v, want within [%v, %v]", n, wait, lo, hi)
				}
				// The simulator logs an abandoned call when it notices the
				// client has gone, which may be after the client gave up.
				want := base + n*perStep
				waitUntil(t, "the simulator to log the failed calls", func() bool { return r.calls(tg.api) >= want })
				calls := r.calls(tg.api)
				if calls != want && !tc.resent {
					t.Fatalf("failure %d: %d calls of %s, want %d", n, calls, tg.api, want)
				}
				if n == failures {
					break
				}
				// No call before the backoff ends, however often scraped.
				r.fc.Advance(wait - time.Second)
				u.target.Demand()
				l.quiet("before its backoff ended")
				if got := r.calls(tg.api); got != calls {
					t.Fatalf("after failure %d: a call before the backoff (%v) ended", n, wait)
				}
				l.wake(time.Second)
			}
			if got := r.logs.lines(failedMsg, "source="+tg.source); got != 1 {
				t.Errorf("%d failed steps logged %d times, want once:\n%s", failures, got, r.logs)
			}

			r.setFault(tg.vendor, tg.api, nil)
			cleared := r.fc.Now()
			l.wake(wait)
			l.next(true)
			h := u.target.Health()
			if !h.OK || !h.Available || h.Failures != 0 || h.LastSuccess.Before(cleared.Add(wait)) {
				t.Fatalf("after the fault cleared: health %+v; logs:\n%s", h, r.logs)
			}
			if got := series(t, render(t, u.target)); len(got) == 0 || maps.Equal(got, good) {
				t.Errorf("after the fault cleared the %s values were not updated: %v", tg.source, got)
			}
			if got := r.logs.lines(`msg="refresh recovered"`, "source="+tg.source); got != 1 {
				t.Errorf("recovery logged %d times, want once:\n%s", got, r.logs)
			}
			if got := r.logs.lines(failedMsg, "source="+tg.source); got != 1 {
				t.Errorf("the failure was logged %d times in all, want once:\n%s", got, r.logs)
			}
			r.checkVendorLimits(t)
			for _, secret := range []string{simKey, simJPushSecret, simGroupSecret, "usersig=",
				base64.StdEncoding.EncodeToString([]byte(simAppKey + ":" + simJPushSecret)),
				base64.StdEncoding.EncodeToString([]byte("group-" + simGroupKey + ":" + simGroupSecret))} {
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

// waitUntil polls cond; the minute only bounds a failing test.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(100 * time.Microsecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// TestSlowVendorDoesNotHoldTheSnapshot runs getappinfo's loop while the
// vendor takes 30 s to answer: meanwhile the target serves the last values
// and its health stays that of the last step, and the answer, once it
// comes, is published.
func TestSlowVendorDoesNotHoldTheSnapshot(t *testing.T) {
	t.Parallel()
	var vendors *inflight
	r := newRig(t, "", func(_ *clocktest.Fake, h http.Handler) http.Handler {
		vendors = &inflight{next: h}
		return vendors
	})
	u := r.unitOf(catalog.SourceTencentOperations)
	l := r.run(u)
	wait := l.next(false)
	const day = `tencent_im_operations_day_timestamp_seconds{sdkappid="1400000000"}`
	oldDay := float64(time.Date(2025, 2, 28, 0, 0, 0, 0, beijing).Unix()) // getappinfo's newest row is the last complete day
	if v := series(t, render(t, u.target))[day]; v != oldDay {
		t.Fatalf("first step: %s = %v, want %v", day, v, oldDay)
	}

	r.tencent.SetFault(simulator.TencentGetAppInfo, &simulator.Fault{Delay: 30 * time.Second})
	l.wake(wait)
	waitUntil(t, "the step to reach the slow vendor", func() bool { return vendors.n.Load() == 1 && r.fc.Waiters() > 0 })
	// The simulator logs a call only once it answers, and it cannot answer
	// before the fake clock moves 30 s: the snapshot is read meanwhile.
	if n := r.calls(simulator.TencentGetAppInfo); n != 1 {
		t.Fatalf("the vendor answered %d getappinfo calls, want only the first", n)
	}
	if v := series(t, render(t, u.target))[day]; v != oldDay {
		t.Errorf("during the slow step: %s = %v, want the last value %v", day, v, oldDay)
	}
	if h := u.target.Health(); !h.OK {
		t.Errorf("during the slow step: health %+v, want the last step's success", h)
	}

	r.fc.Advance(30 * time.Second)
	l.next(false)
	if v := series(t, render(t, u.target))[day]; v != oldDay+86400 {
		t.Fatalf("after the slow answer: %s = %v, want the new day %v", day, v, oldDay+86400)
	}
}

// TestStoppedLoopIsNoFailure stops a loop (its source removed by a reload,
// or the process ending) while its step waits on the vendor: that is not a
// failure of the source, and nothing is logged as one.
func TestStoppedLoopIsNoFailure(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", nil)
	r.tencent.SetFault(simulator.TencentGetAppInfo, &simulator.Fault{Delay: time.Hour})
	u := r.unitOf(catalog.SourceTencentOperations)
	lc := &loopClock{Fake: r.fc, sleeps: make(chan time.Duration, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		refresh.NewLoop(u.target, u.job, refresh.Options{Clock: lc, OnDemand: true}).Run(ctx)
		close(done)
	}()
	waitUntil(t, "the step to reach the slow vendor", func() bool { return r.fc.Waiters() > 0 })
	cancel()
	<-done
	if h := u.target.Health(); h.Attempted || h.Failures != 0 {
		t.Errorf("health after the loop stopped mid-step: %+v, want no outcome recorded", h)
	}
	if strings.Contains(r.logs.String(), "refresh failed") {
		t.Errorf("a stopped step was logged as a failure:\n%s", r.logs)
	}
}
