package callbacks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

const (
	testApp   = "1400000001"
	testToken = "xxxxyyyy"
)

// sampleNow is just after the documented samples' TaskTime (1557481127).
var sampleNow = time.Unix(1557481130, 0)

// fixture is a receiver with one configured app, its tracked-ID set and
// the receiver's debug log.
type fixture struct {
	r    *Receiver
	set  *tracking.Set
	logs *syncBuffer
	now  *clocktest.Fake
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newFixture(t testing.TB, token string, o Options) *fixture {
	t.Helper()
	fc := clocktest.NewFake(sampleNow)
	set, err := tracking.Open(tracking.Options{Kind: catalog.KindTencentPush, App: testApp, StatePath: filepath.Join(t.TempDir(), "state.json"), Clock: fc})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := set.Prepare(tracking.Config{Cap: 100})
	if err != nil {
		t.Fatal(err)
	}
	ch.Commit()
	f := &fixture{set: set, logs: &syncBuffer{}, now: fc}
	o.Clock = fc
	o.Logger = log.NewLogfmtLogger(f.logs)
	if o.Apps == nil {
		o.Apps = func(id string) (App, bool) {
			if id != testApp {
				return App{}, false
			}
			return App{Token: token, Tasks: set}, true
		}
	}
	f.r = New(o)
	return f
}

// post sends a callback and returns the status and answer.
func (f *fixture) post(t testing.TB, query string, body []byte) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, Path+"?"+query, bytes.NewReader(body))
	w := httptest.NewRecorder()
	f.r.ServeHTTP(w, req)
	return w.Code, w.Body.String()
}

func query(cmd string) string {
	return "SdkAppid=" + testApp + "&CallbackCommand=" + cmd + "&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI"
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const okBody = `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}` + "\n"

// TestDocumentedSamples posts the sample batches of Tencent's pages: the
// TaskIds are tracked with their TaskTime, the events counted per
// platform and code, and a wrong SdkAppid is refused and not counted.
func TestDocumentedSamples(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "", Options{})
	for _, tc := range []struct{ cmd, file string }{
		{"Push.AllMemberPush", "all_member_push.json"},
		{"Push.OfflinePush", "offline_push.json"},
	} {
		if code, body := f.post(t, query(tc.cmd), readTestdata(t, tc.file)); code != http.StatusOK || body != okBody {
			t.Fatalf("%s: %d %s, want 200 %s", tc.cmd, code, body, okBody)
		}
	}
	taskTime := time.Unix(1557481127, 0).UTC()
	ids := f.set.IDs()
	if len(ids) != 2 {
		t.Fatalf("tracked %v, want the two TaskIds", ids)
	}
	for _, id := range ids {
		if !strings.HasPrefix(id.ID, "657bf434_537529d8_2000005e80aa873_2780d131_") || !id.Sent.Equal(taskTime) || id.Origin != tracking.OriginCallback {
			t.Errorf("tracked %+v, want a sample TaskId sent at %v from callback", id, taskTime)
		}
	}

	wrong := strings.Replace(query("Push.AllMemberPush"), testApp, "1400000002", 1)
	if code, body := f.post(t, wrong, readTestdata(t, "all_member_push.json")); code != http.StatusForbidden || !strings.Contains(body, `"ActionStatus":"FAIL"`) {
		t.Fatalf("unknown SdkAppid: %d %s, want 403 and FAIL", code, body)
	}

	want := `
# HELP tencent_im_push_events_total Push events received from Tencent's push callbacks (Push.AllMemberPush, Push.OfflinePush), by SdkAppid, command, EventType, PushPlatform, PushStage and ErrCode.
# TYPE tencent_im_push_events_total counter
tencent_im_push_events_total{code="0",command="all_member_push",event_type="offline",platform="apns",sdkappid="1400000001",stage="1"} 1
tencent_im_push_events_total{code="0",command="all_member_push",event_type="online",platform="unknown",sdkappid="1400000001",stage="1"} 1
tencent_im_push_events_total{code="0",command="offline_push",event_type="c2c",platform="apns",sdkappid="1400000001",stage="1"} 1
tencent_im_push_events_total{code="0",command="offline_push",event_type="group",platform="apns",sdkappid="1400000001",stage="1"} 1
`
	if err := testutil.CollectAndCompare(f.r, strings.NewReader(want), "tencent_im_push_events_total"); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(f.r.rejected.WithLabelValues(reasonUnknownApp)); got != 1 {
		t.Errorf("rejected{reason=%q} = %v, want 1", reasonUnknownApp, got)
	}
	if n := f.r.Counted("1400000002"); n != 0 {
		t.Errorf("%d events counted for the unknown SdkAppid", n)
	}
}

// TestSignatureVector checks Sign against the sample of Tencent's webhook
// authentication.
func TestSignatureVector(t *testing.T) {
	t.Parallel()
	if got, want := Sign("xxxxyyyy", 1669872112), "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061"; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestSignature(t *testing.T) {
	t.Parallel()
	now := sampleNow.Unix()
	good := Sign(testToken, now)
	for _, tc := range []struct {
		name   string
		extra  string
		status int
	}{
		{"signed", fmt.Sprintf("&Sign=%s&RequestTime=%d", good, now), http.StatusOK},
		{"upper-case hex", fmt.Sprintf("&Sign=%s&RequestTime=%d", strings.ToUpper(good), now), http.StatusOK},
		{"a minute early", fmt.Sprintf("&Sign=%s&RequestTime=%d", Sign(testToken, now-60), now-60), http.StatusOK},
		{"missing", "", http.StatusUnauthorized},
		{"no time", "&Sign=" + good, http.StatusUnauthorized},
		{"wrong token", fmt.Sprintf("&Sign=%s&RequestTime=%d", Sign("other", now), now), http.StatusForbidden},
		{"another time", fmt.Sprintf("&Sign=%s&RequestTime=%d", good, now+1), http.StatusForbidden},
		{"not hex", fmt.Sprintf("&Sign=%s&RequestTime=%d", strings.Repeat("z", 64), now), http.StatusForbidden},
		{"short", fmt.Sprintf("&Sign=%s&RequestTime=%d", good[:10], now), http.StatusForbidden},
		{"stale replay", fmt.Sprintf("&Sign=%s&RequestTime=%d", Sign(testToken, now-61), now-61), http.StatusForbidden},
		{"future", fmt.Sprintf("&Sign=%s&RequestTime=%d", Sign(testToken, now+61), now+61), http.StatusForbidden},
		{"time not a number", "&Sign=" + Sign(testToken, 0)[:0] + hexSignOf("x1") + "&RequestTime=x1", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, testToken, Options{})
			code, body := f.post(t, query("Push.AllMemberPush")+tc.extra, readTestdata(t, "all_member_push.json"))
			if code != tc.status {
				t.Fatalf("%d %s, want %d", code, body, tc.status)
			}
			if want := uint64(0); code != http.StatusOK && (f.r.Counted(testApp) != want || f.set.Len() != 0) {
				t.Errorf("refused, yet %d counted and %d tracked", f.r.Counted(testApp), f.set.Len())
			}
		})
	}
}

// hexSignOf signs a RequestTime that is not a number.
func hexSignOf(requestTime string) string {
	sum := sign(testToken, requestTime)
	return fmt.Sprintf("%x", sum[:])
}

// TestBadInput: every malformed callback gets a 4xx (and Tencent's FAIL
// answer), and nothing is counted, tracked or logged that names a user.
func TestBadInput(t *testing.T) {
	t.Parallel()
	const user = "private-user-7c1f"
	ev := func(fields string) string {
		return `{"CallbackCommand":"Push.AllMemberPush","EventType":1,"TaskId":"task_1","TaskTime":1557481127,"EventTime":1557481128,"To_Account":"` + user + `","PushPlatform":3,"PushStage":1,"ErrCode":0,"ErrInfo":"OK"` + fields + `}`
	}
	events := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = ev("")
		}
		return `{"Events":[` + strings.Join(parts, ",") + `]}`
	}
	replace := func(old, new string) string { return `{"Events":[` + strings.Replace(ev(""), old, new, 1) + `]}` }
	amp := query("Push.AllMemberPush")
	for _, tc := range []struct {
		name   string
		method string
		query  string
		body   string
		status int
	}{
		{name: "GET", method: http.MethodGet, query: amp, body: events(1), status: http.StatusMethodNotAllowed},
		{name: "unknown command", query: query("Push.Nothing"), body: events(1), status: http.StatusBadRequest},
		{name: "no command", query: "SdkAppid=" + testApp, body: events(1), status: http.StatusBadRequest},
		{name: "SdkAppid not a number", query: strings.Replace(amp, testApp, "14x", 1), body: events(1), status: http.StatusBadRequest},
		{name: "unknown SdkAppid", query: strings.Replace(amp, testApp, "1400000009", 1), body: events(1), status: http.StatusForbidden},
		{name: "contenttype xml", query: strings.Replace(amp, "contenttype=json", "contenttype=xml", 1), body: events(1), status: http.StatusBadRequest},
		{name: "malformed JSON", query: amp, body: `{"Events":[` + ev(""), status: http.StatusBadRequest},
		{name: "not an object", query: amp, body: `[` + ev("") + `]`, status: http.StatusBadRequest},
		{name: "no Events", query: amp, body: `{"Evts":[` + ev("") + `]}`, status: http.StatusBadRequest},
		{name: "Events null", query: amp, body: `{"Events":null}`, status: http.StatusBadRequest},
		{name: "no events", query: amp, body: `{"Events":[]}`, status: http.StatusBadRequest},
		{name: "101 events", query: amp, body: events(101), status: http.StatusBadRequest},
		{name: "trailing data", query: amp, body: events(1) + `{}`, status: http.StatusBadRequest},
		{name: "EventType a string", query: amp, body: replace(`"EventType":1`, `"EventType":"1"`), status: http.StatusBadRequest},
		{name: "TaskTime a fraction", query: amp, body: replace(`"TaskTime":1557481127`, `"TaskTime":1557481127.5`), status: http.StatusBadRequest},
		{name: "TaskId a number", query: amp, body: replace(`"TaskId":"task_1"`, `"TaskId":1`), status: http.StatusBadRequest},
		{name: "ErrCode null", query: amp, body: replace(`"ErrCode":0`, `"ErrCode":null`), status: http.StatusBadRequest},
		{name: "ErrCode missing", query: amp, body: replace(`,"ErrCode":0`, ``), status: http.StatusBadRequest},
		{name: "ErrCode twice", query: amp, body: replace(`"ErrCode":0`, `"ErrCode":0,"ErrCode":1`), status: http.StatusBadRequest},
		{name: "PushPlatform out of range", query: amp, body: replace(`"PushPlatform":3`, `"PushPlatform":99999999999999999999`), status: http.StatusBadRequest},
		{name: "other command in the event", query: amp, body: replace(`"Push.AllMemberPush"`, `"Push.OfflinePush"`), status: http.StatusBadRequest},
		{name: "TaskId with a comma", query: amp, body: replace(`"task_1"`, `"task,1"`), status: http.StatusBadRequest},
		{name: "TaskTime zero", query: amp, body: replace(`"TaskTime":1557481127`, `"TaskTime":0`), status: http.StatusBadRequest},
		{name: "TaskTime in the far future", query: amp, body: replace(`"TaskTime":1557481127`, `"TaskTime":253402300800`), status: http.StatusBadRequest},
		{name: "one bad event among good ones", query: amp, body: `{"Events":[` + ev("") + `,` + strings.Replace(ev(""), `"PushStage":1`, `"PushStage":true`, 1) + `]}`, status: http.StatusBadRequest},
		{name: "nested too deep", query: amp, body: `{"Events":[` + strings.Replace(ev(""), `"ErrInfo":"OK"`, `"ErrInfo":`+strings.Repeat("[", 40)+strings.Repeat("]", 40), 1) + `]}`, status: http.StatusBadRequest},
		{name: "past the body limit", query: amp, body: `{"Events":[` + ev(`,"Pad":"`+strings.Repeat("x", 70000)+`"`) + `]}`, status: http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, "", Options{MaxBodyBytes: 64 << 10})
			f.r.opts.Logger = log.NewLogfmtLogger(f.logs)
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, Path+"?"+tc.query, strings.NewReader(tc.body))
			w := httptest.NewRecorder()
			f.r.ServeHTTP(w, req)
			if w.Code != tc.status {
				t.Fatalf("%d %s, want %d", w.Code, w.Body, tc.status)
			}
			if !strings.Contains(w.Body.String(), `"ActionStatus":"FAIL"`) || !strings.Contains(w.Body.String(), fmt.Sprintf(`"ErrorCode":%d`, tc.status)) {
				t.Errorf("answer %s, want Tencent's FAIL answer with ErrorCode %d", w.Body, tc.status)
			}
			if n := f.r.Counted(testApp); n != 0 {
				t.Errorf("%d events counted", n)
			}
			if n := f.set.Len(); n != 0 {
				t.Errorf("%d TaskIds tracked", n)
			}
			if strings.Contains(f.logs.String(), user) || strings.Contains(w.Body.String(), user) {
				t.Errorf("the recipient appears in the log or the answer: %s %s", f.logs, w.Body)
			}
		})
	}
}

// failingTracker fails every Add, as a set whose state file cannot be
// written does.
type failingTracker struct{}

func (failingTracker) Changed() <-chan struct{} { return nil }

func (failingTracker) Add(context.Context, []string, tracking.Origin, time.Time) (int, error) {
	return 0, fmt.Errorf("%w: disk full", tracking.ErrNotSaved)
}

// TestNotSaved: a TaskId that cannot be tracked durably gets 503, which
// Tencent retries, and nothing is counted.
func TestNotSaved(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "", Options{Apps: func(string) (App, bool) { return App{Tasks: failingTracker{}}, true }})
	code, _ := f.post(t, query("Push.AllMemberPush"), readTestdata(t, "all_member_push.json"))
	if code != http.StatusServiceUnavailable || f.r.Counted(testApp) != 0 {
		t.Fatalf("%d with %d counted, want 503 and nothing counted", code, f.r.Counted(testApp))
	}
	// Chat message pushes track nothing and are counted.
	if code, _ := f.post(t, query("Push.OfflinePush"), readTestdata(t, "offline_push.json")); code != http.StatusOK || f.r.Counted(testApp) != 2 {
		t.Fatalf("%d with %d counted, want 200 and 2", code, f.r.Counted(testApp))
	}
}

// countingTracker counts Adds; change closes its change channel, as a
// removal from a real set does.
type countingTracker struct {
	mu      sync.Mutex
	adds    int
	changed chan struct{}
}

func (c *countingTracker) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changed == nil {
		c.changed = make(chan struct{})
	}
	return c.changed
}

func (c *countingTracker) change() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changed != nil {
		close(c.changed)
	}
	c.changed = make(chan struct{})
}

func (c *countingTracker) Add(context.Context, []string, tracking.Origin, time.Time) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.adds++
	return 1, nil
}

// TestKnownTaskIDsSkipTheSet: a TaskId repeated within a batch and across
// batches reaches the set once.
func TestKnownTaskIDsSkipTheSet(t *testing.T) {
	t.Parallel()
	ct := &countingTracker{}
	f := newFixture(t, "", Options{Apps: func(string) (App, bool) { return App{Tasks: ct}, true }})
	body := benchBody(AllMemberPush, 100, 1)
	for range 10 {
		if code, body := f.post(t, query("Push.AllMemberPush"), body); code != http.StatusOK {
			t.Fatalf("%d %s", code, body)
		}
	}
	if ct.adds != 1 || f.r.Counted(testApp) != 1000 {
		t.Fatalf("%d Adds and %d counted, want 1 and 1000", ct.adds, f.r.Counted(testApp))
	}

	// Once the set changes (the TaskId deleted through the API, aged out
	// or evicted), the next callback naming it tracks it again.
	ct.change()
	for range 2 {
		if code, body := f.post(t, query("Push.AllMemberPush"), body); code != http.StatusOK {
			t.Fatalf("%d %s", code, body)
		}
	}
	if ct.adds != 2 {
		t.Fatalf("%d Adds after the set changed, want 2", ct.adds)
	}
}

// TestLabelBounds: codes past the cap count as other, unknown values of
// the bounded labels as other or code_N, and past the series cap events
// fold into one overflow series.
func TestLabelBounds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "", Options{MaxCodes: 2, MaxSeries: 6})
	ev := func(eventType, platform, stage, code int) string {
		return fmt.Sprintf(`{"EventType":%d,"PushPlatform":%d,"PushStage":%d,"ErrCode":%d}`, eventType, platform, stage, code)
	}
	body := `{"Events":[` + strings.Join([]string{
		ev(1, 3, 1, 0), ev(1, 3, 1, 0), ev(1, 3, 1, 1), ev(1, 3, 1, 2), ev(1, 3, 1, 3), // codes 2 and 3 past the cap of 2 (0 is free)
		ev(7, 20, 99, 0), // unknown event type and stage, a platform without a name
		ev(2, 5000, 1, 0),
	}, ",") + `]}`
	if code, answer := f.post(t, query("Push.OfflinePush"), []byte(body)); code != http.StatusOK {
		t.Fatalf("%d %s", code, answer)
	}
	more := `{"Events":[` + ev(2, 4, 2, 0) + `,` + ev(2, 4, 3, 0) + `]}`
	if code, answer := f.post(t, query("Push.OfflinePush"), []byte(more)); code != http.StatusOK {
		t.Fatalf("%d %s", code, answer)
	}
	want := `
# HELP tencent_im_push_events_total Push events received from Tencent's push callbacks (Push.AllMemberPush, Push.OfflinePush), by SdkAppid, command, EventType, PushPlatform, PushStage and ErrCode.
# TYPE tencent_im_push_events_total counter
tencent_im_push_events_total{code="0",command="offline_push",event_type="c2c",platform="huawei",sdkappid="1400000001",stage="1"} 2
tencent_im_push_events_total{code="1",command="offline_push",event_type="c2c",platform="huawei",sdkappid="1400000001",stage="1"} 1
tencent_im_push_events_total{code="2",command="offline_push",event_type="c2c",platform="huawei",sdkappid="1400000001",stage="1"} 1
tencent_im_push_events_total{code="other",command="offline_push",event_type="c2c",platform="huawei",sdkappid="1400000001",stage="1"} 1
tencent_im_push_events_total{code="0",command="offline_push",event_type="other",platform="code_20",sdkappid="1400000001",stage="other"} 1
tencent_im_push_events_total{code="0",command="offline_push",event_type="group",platform="other",sdkappid="1400000001",stage="1"} 1
tencent_im_push_events_total{code="other",command="offline_push",event_type="other",platform="other",sdkappid="1400000001",stage="other"} 2
`
	if err := testutil.CollectAndCompare(f.r, strings.NewReader(want), "tencent_im_push_events_total"); err != nil {
		t.Error(err)
	}
}

// TestConcurrentCallbacks: many batches at once, several new TaskIds among
// them; each is tracked, every acknowledged event counted.
func TestConcurrentCallbacks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "", Options{})
	var wg sync.WaitGroup
	var failed sync.Map
	const workers, perWorker = 8, 20
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				body := benchBody(AllMemberPush, 50, (w+i)%5+1)
				if code, answer := f.post(t, query("Push.AllMemberPush"), body); code != http.StatusOK {
					failed.Store(w, errors.New(answer))
				}
			}
		})
	}
	wg.Wait()
	failed.Range(func(k, v any) bool { t.Errorf("worker %v: %v", k, v); return true })
	if got, want := f.r.Counted(testApp), uint64(workers*perWorker*50); got != want {
		t.Errorf("counted %d, want %d", got, want)
	}
	if got := f.set.Len(); got != 5 {
		t.Errorf("tracked %d TaskIds, want 5", got)
	}
}
