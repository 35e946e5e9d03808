package tencentim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
	"github.com/imstats/imstats_exporter/internal/ratelimit"
)

const (
	testAppID      = 1400000000
	testIdentifier = "admin"
)

// t0 is the fake clock's start.
var t0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// reply is one canned answer of the fake vendor.
type reply struct {
	status int // 0: 200
	header map[string]string
	body   string
}

// request is what the fake vendor received.
type request struct {
	method string
	path   string
	query  url.Values
	header http.Header
	body   []byte
}

// vendor is an httptest server on 127.0.0.1 answering with a handler of the
// test's choosing and recording every request.
type vendor struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []request
	respond func(n int, r request) reply // n: 0-based request index
}

func newVendor(t *testing.T, respond func(n int, r request) reply) *vendor {
	t.Helper()
	v := &vendor{respond: respond}
	v.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := request{method: r.Method, path: r.URL.Path, query: r.URL.Query(), header: r.Header.Clone(), body: body}
		v.mu.Lock()
		n := len(v.reqs)
		v.reqs = append(v.reqs, req)
		v.mu.Unlock()
		rep := v.respond(n, req)
		for k, val := range rep.header {
			w.Header().Set(k, val)
		}
		if rep.status != 0 {
			w.WriteHeader(rep.status)
		}
		_, _ = io.WriteString(w, rep.body)
	}))
	t.Cleanup(v.srv.Close)
	return v
}

func (v *vendor) requests() []request {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]request(nil), v.reqs...)
}

// always answers every request with rep.
func always(rep reply) func(int, request) reply {
	return func(int, request) reply { return rep }
}

// sequence answers request n with reps[n], repeating the last one.
func sequence(reps ...reply) func(int, request) reply {
	return func(n int, _ request) reply { return reps[min(n, len(reps)-1)] }
}

const okBody = `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`

func vendorErr(code int) reply {
	return reply{body: `{"ActionStatus":"FAIL","ErrorCode":` + strconv.Itoa(code) + `,"ErrorInfo":"error ` + strconv.Itoa(code) + `"}`}
}

// newTestClient returns a client of the fake vendor with the TLSSigAPIv2 test vector's key
// and a fake clock; mod, if not nil, adjusts the options.
func newTestClient(t *testing.T, baseURL string, mod func(*Options)) (*Client, *clocktest.Fake) {
	t.Helper()
	clk := clocktest.NewFake(t0)
	o := Options{SDKAppID: testAppID, Identifier: testIdentifier, SecretKey: vecKey, BaseURL: baseURL, Clock: clk}
	if mod != nil {
		mod(&o)
	}
	return New(o), o.Clock.(*clocktest.Fake)
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// asAPIError returns the *apierr.Error in err's chain or fails the test.
func asAPIError(t *testing.T, err error) *apierr.Error {
	t.Helper()
	var e *apierr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *apierr.Error", err, err)
	}
	return e
}

// closedPortURL returns the URL of a loopback port nothing listens on.
func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

func TestCallRequest(t *testing.T) {
	t.Parallel()
	v := newVendor(t, always(reply{body: okBody}))
	c, clk := newTestClient(t, v.srv.URL, nil)
	for range 2 {
		if err := c.Call(context.Background(), APIGetAppInfo, struct{}{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	reqs := v.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	for i, r := range reqs {
		if r.method != http.MethodPost || r.path != "/v4/"+APIGetAppInfo {
			t.Errorf("request %d: %s %s, want POST /v4/%s", i, r.method, r.path, APIGetAppInfo)
		}
		if got := r.header.Get("Content-Type"); got != "application/json" {
			t.Errorf("request %d: Content-Type %q", i, got)
		}
		if string(r.body) != "{}" {
			t.Errorf("request %d: body %q, want {}", i, r.body)
		}
		for key, want := range map[string]string{"sdkappid": "1400000000", "identifier": testIdentifier, "contenttype": "json"} {
			if got := r.query.Get(key); got != want {
				t.Errorf("request %d: %s = %q, want %q", i, key, got, want)
			}
		}
		if err := VerifyUserSig(r.query.Get("usersig"), testAppID, testIdentifier, vecKey, clk.Now()); err != nil {
			t.Errorf("request %d: usersig does not verify: %v", i, err)
		}
		if _, err := strconv.ParseUint(r.query.Get("random"), 10, 32); err != nil {
			t.Errorf("request %d: random %q is not a uint32", i, r.query.Get("random"))
		}
	}
	if reqs[0].query.Get("random") == reqs[1].query.Get("random") {
		t.Errorf("random %s repeated: want a fresh value per request", reqs[0].query.Get("random"))
	}
}

func TestCallIdentifierEscaped(t *testing.T) {
	t.Parallel()
	v := newVendor(t, always(reply{body: okBody}))
	c, _ := newTestClient(t, v.srv.URL, func(o *Options) { o.Identifier = "ad&min=1" })
	if err := c.Call(context.Background(), APIGetAppInfo, struct{}{}, nil); err != nil {
		t.Fatal(err)
	}
	q := v.requests()[0].query
	if got := q.Get("identifier"); got != "ad&min=1" {
		t.Errorf("identifier = %q, want ad&min=1", got)
	}
	if got := q.Get("contenttype"); got != "json" {
		t.Errorf("contenttype = %q: the identifier leaked into other parameters", got)
	}
}

func TestSigExpiredRetry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		replies   []reply
		wantClass apierr.Class // checked when wantErr
		wantErr   bool
	}{
		{"70001 then success", []reply{vendorErr(70001), {body: okBody}}, 0, false},
		{"70001 twice", []reply{vendorErr(70001), vendorErr(70001), {body: okBody}}, apierr.SigExpired, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := clocktest.NewFake(t0)
			v := newVendor(t, func(n int, r request) reply {
				// Time passes on the vendor's side before it answers, so
				// the regenerated UserSig carries a later TLS.time.
				clk.Advance(time.Minute)
				return tc.replies[min(n, len(tc.replies)-1)]
			})
			c, _ := newTestClient(t, v.srv.URL, func(o *Options) { o.Clock = clk })
			err := c.Call(context.Background(), APIGetAppInfo, struct{}{}, nil)
			reqs := v.requests()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			first, second := reqs[0].query.Get("usersig"), reqs[1].query.Get("usersig")
			if first == second {
				t.Error("the retry reused the expired UserSig")
			}
			if err := VerifyUserSig(second, testAppID, testIdentifier, vecKey, clk.Now()); err != nil {
				t.Errorf("retry usersig does not verify: %v", err)
			}
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			if e := asAPIError(t, err); e.Class != tc.wantClass || e.Code != "70001" {
				t.Errorf("error %v: class %v code %s, want %v 70001", err, e.Class, e.Code, tc.wantClass)
			}
		})
	}
}

func TestLimiterConsultedBeforeEveryRequest(t *testing.T) {
	t.Parallel()
	var (
		mu     sync.Mutex
		events []string
	)
	record := func(s string) {
		mu.Lock()
		events = append(events, s)
		mu.Unlock()
	}
	v := newVendor(t, func(n int, r request) reply {
		record("request " + r.path)
		if n == 0 {
			return vendorErr(70001)
		}
		return reply{body: okBody}
	})
	c, _ := newTestClient(t, v.srv.URL, func(o *Options) {
		o.Limiter = func(api string) *ratelimit.Bucket {
			record("limit " + api)
			return nil // nil bucket: no limit
		}
	})
	if err := c.Call(context.Background(), APIGetAppInfo, struct{}{}, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"limit " + APIGetAppInfo, "request /v4/" + APIGetAppInfo, "limit " + APIGetAppInfo, "request /v4/" + APIGetAppInfo}
	if strings.Join(events, "|") != strings.Join(want, "|") {
		t.Errorf("events %q, want %q", events, want)
	}
}

// waitForWaiter returns once a goroutine waits on clk.
func waitForWaiter(clk *clocktest.Fake) {
	for clk.Waiters() == 0 {
		time.Sleep(time.Millisecond)
	}
}

func TestLimiterBucketHoldsRequests(t *testing.T) {
	t.Parallel()
	v := newVendor(t, always(reply{body: okBody}))
	var bucket *ratelimit.Bucket
	c, clk := newTestClient(t, v.srv.URL, func(o *Options) {
		bucket = ratelimit.New(o.Clock, ratelimit.Rate{Interval: time.Second, Burst: 1})
		o.Limiter = func(string) *ratelimit.Bucket { return bucket }
	})
	if err := c.Call(context.Background(), APIGetAppInfo, struct{}{}, nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Call(context.Background(), APIGetAppInfo, struct{}{}, nil) }()
	waitForWaiter(clk)
	if n := len(v.requests()); n != 1 {
		t.Fatalf("%d requests while the bucket is empty, want 1", n)
	}
	clk.Advance(time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(v.requests()); n != 2 {
		t.Fatalf("%d requests after a token was earned, want 2", n)
	}

	// A context that ends while waiting for a token sends nothing.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- c.Call(ctx, APIGetAppInfo, struct{}{}, nil) }()
	waitForWaiter(clk)
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) || apierr.ClassOf(err) != apierr.Transient {
		t.Errorf("err = %v (class %v), want context.Canceled, transient", err, apierr.ClassOf(err))
	}
	if n := len(v.requests()); n != 2 {
		t.Errorf("%d requests, want 2: a cancelled wait must not send", n)
	}
}

func TestCallContextCancelled(t *testing.T) {
	t.Parallel()
	arrived, release := make(chan struct{}), make(chan struct{})
	v := newVendor(t, func(int, request) reply {
		arrived <- struct{}{}
		<-release
		return reply{body: okBody}
	})
	t.Cleanup(func() { close(release) }) // runs before the server closes
	var observed []string
	c, _ := newTestClient(t, v.srv.URL, func(o *Options) {
		o.Observe = func(_, code string, _ time.Duration) { observed = append(observed, code) }
	})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Call(ctx, APIGetAppInfo, struct{}{}, nil) }()
	<-arrived
	cancel()
	err := <-done
	if e := asAPIError(t, err); !errors.Is(err, context.Canceled) || e.Class != apierr.Transient || e.Code != apierr.CodeNetwork {
		t.Errorf("cancelled in flight: err = %v, want a transient network error wrapping context.Canceled", err)
	}

	// A context that is already done sends nothing.
	if err := c.Call(ctx, APIGetAppInfo, struct{}{}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before the call: err = %v, want context.Canceled", err)
	}
	if n := len(v.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if strings.Join(observed, ",") != apierr.CodeNetwork {
		t.Errorf("observed %q, want one %s", observed, apierr.CodeNetwork)
	}
}

func TestUserSigRenewal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		expire  time.Duration
		renewAt time.Duration // age at which a new UserSig is due
	}{
		{"default 24h: 10% margin", 0, 24*time.Hour - 24*time.Hour/10},
		{"5h: 1h margin", 5 * time.Hour, 4 * time.Hour},
		{"1h: margin capped at half", time.Hour, 30 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, clk := newTestClient(t, "http://127.0.0.1:1", func(o *Options) { o.UserSigExpire = tc.expire })
			first, err := c.userSig()
			if err != nil {
				t.Fatal(err)
			}
			clk.Advance(tc.renewAt - time.Second)
			if sig, _ := c.userSig(); sig != first {
				t.Errorf("new UserSig 1s before the renewal point")
			}
			clk.Advance(time.Second)
			renewed, _ := c.userSig()
			if renewed == first {
				t.Fatalf("same UserSig at the renewal point")
			}
			if err := VerifyUserSig(renewed, testAppID, testIdentifier, vecKey, clk.Now()); err != nil {
				t.Errorf("renewed UserSig: %v", err)
			}
			if sig, _ := c.userSig(); sig != renewed {
				t.Errorf("the renewed UserSig is not cached")
			}
		})
	}
}

func TestUserSigConcurrent(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, "http://127.0.0.1:1", nil)
	sigs := make([]string, 8)
	var wg sync.WaitGroup
	for i := range sigs {
		wg.Go(func() { sigs[i], _ = c.userSig() })
	}
	wg.Wait()
	for i, s := range sigs {
		if s == "" || s != sigs[0] {
			t.Errorf("goroutine %d got %q, want the one cached UserSig", i, s)
		}
	}
}

func TestRedaction(t *testing.T) {
	t.Parallel()
	echo := func(_ int, r request) reply {
		info := "bad sig " + r.query.Get("usersig") + " key " + vecKey + "\nline two"
		b, _ := json.Marshal(map[string]any{"ActionStatus": "FAIL", "ErrorCode": 70003, "ErrorInfo": info})
		return reply{body: string(b)}
	}
	for _, tc := range []struct {
		name    string
		baseURL func(t *testing.T) string
	}{
		{"vendor echoes secrets", func(t *testing.T) string { return newVendor(t, echo).srv.URL }},
		{"closed port", closedPortURL},
		{"gateway error", func(t *testing.T) string {
			return newVendor(t, always(reply{status: http.StatusBadGateway, body: "<html>502</html>"})).srv.URL
		}},
		{"bad base URL", func(*testing.T) string { return "http://127.0.0.1:1\x7f" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newTestClient(t, tc.baseURL(t), nil)
			err := c.Call(context.Background(), APIGetAppInfo, struct{}{}, nil)
			if err == nil {
				t.Fatal("no error")
			}
			sig, _ := c.userSig()
			msg := err.Error()
			for _, secret := range []string{vecKey, sig, "usersig", "\n"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q contains %q", msg, secret)
				}
			}
		})
	}
}

func TestOversizeBody(t *testing.T) {
	t.Parallel()
	const limit = 64
	exact := okBody + strings.Repeat(" ", limit-len(okBody))
	for _, tc := range []struct {
		name    string
		body    string
		wantErr bool
	}{
		{"at the limit", exact, false},
		{"one byte over", exact + " ", true},
		{"far over", okBody + strings.Repeat(" ", 1<<20), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVendor(t, always(reply{body: tc.body}))
			c, _ := newTestClient(t, v.srv.URL, func(o *Options) { o.MaxResponseBytes = limit })
			err := c.Call(context.Background(), APIGetAppInfo, struct{}{}, nil)
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			e := asAPIError(t, err)
			if e.Class != apierr.InvalidResponse || e.Code != apierr.CodeInvalidResponse || e.Message != "response larger than 64 bytes" {
				t.Errorf("error %v: want invalid_response \"response larger than 64 bytes\"", err)
			}
		})
	}
}

func TestObserveCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		replies []reply // nil: a closed port
		want    []string
	}{
		{"success", []reply{{body: okBody}}, []string{"0"}},
		{"70001 then success", []reply{vendorErr(70001), {body: okBody}}, []string{"70001", "0"}},
		{"vendor error", []reply{vendorErr(90009)}, []string{"90009"}},
		{"HTTP status", []reply{{status: http.StatusServiceUnavailable}}, []string{"503"}},
		{"HTML", []reply{{body: "<html>busy</html>"}}, []string{apierr.CodeInvalidResponse}},
		{"network", nil, []string{apierr.CodeNetwork}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := closedPortURL(t)
			if tc.replies != nil {
				base = newVendor(t, sequence(tc.replies...)).srv.URL
			}
			var got []string
			c, _ := newTestClient(t, base, func(o *Options) {
				o.Observe = func(api, code string, d time.Duration) {
					if api != APIGetAppInfo || d < 0 {
						t.Errorf("Observe(%q, %q, %v)", api, code, d)
					}
					got = append(got, code)
				}
			})
			_ = c.Call(context.Background(), APIGetAppInfo, struct{}{}, nil)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("observed %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecodeBodyVerdict(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		body      string
		wantCode  string // "" for success
		wantClass apierr.Class
	}{
		{"ErrorCode 0 without ActionStatus", `{"ErrorCode":0,"ErrorInfo":"OK"}`, "", 0},
		{"ActionStatus OK without ErrorCode", `{"ActionStatus":"OK"}`, "", 0},
		{"misspelt success text is ignored", `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"sucess"}`, "", 0},
		{"ErrorCode as a string", `{"ErrorCode":"60007","ErrorInfo":"busy"}`, "60007", apierr.RateLimited},
		{"ErrorCode wins over ActionStatus OK", `{"ActionStatus":"OK","ErrorCode":90045}`, "90045", apierr.Unavailable},
		{"FAIL with ErrorCode 0", `{"ActionStatus":"FAIL","ErrorCode":0}`, apierr.CodeInvalidResponse, apierr.InvalidResponse},
		{"FAIL without ErrorCode", `{"ActionStatus":"FAIL"}`, apierr.CodeInvalidResponse, apierr.InvalidResponse},
		{"empty object", `{}`, apierr.CodeInvalidResponse, apierr.InvalidResponse},
		{"ErrorCode not a number", `{"ErrorCode":"x"}`, apierr.CodeInvalidResponse, apierr.InvalidResponse},
		{"ErrorCode fractional", `{"ErrorCode":1.5}`, apierr.CodeInvalidResponse, apierr.InvalidResponse},
		{"null", `null`, apierr.CodeInvalidResponse, apierr.InvalidResponse},
		{"array", `[]`, apierr.CodeInvalidResponse, apierr.InvalidResponse},
		{"empty", ``, apierr.CodeInvalidResponse, apierr.InvalidResponse},
		{"trailing garbage", `{"ErrorCode":0} x`, apierr.CodeInvalidResponse, apierr.InvalidResponse},
		{"truncated", `{"ErrorCode":0,"Res`, apierr.CodeInvalidResponse, apierr.InvalidResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := decodeBody(APIGetAppInfo, []byte(tc.body), nil)
			if tc.wantCode == "" {
				if e != nil {
					t.Fatalf("err = %v, want success", e)
				}
				return
			}
			if e == nil {
				t.Fatal("success, want an error")
			}
			if e.Code != tc.wantCode || e.Class != tc.wantClass || e.Vendor != Vendor || e.API != APIGetAppInfo {
				t.Errorf("error %v: class %v code %s, want %v %s", e, e.Class, e.Code, tc.wantClass, tc.wantCode)
			}
		})
	}
}

func TestParseInt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw  string
		want int64
		ok   bool
	}{
		{`12`, 12, true},
		{`"12"`, 12, true},
		{`" 12 "`, 12, true},
		{`-5`, -5, true},
		{`1e3`, 1000, true},
		{`"2.0"`, 2, true},
		{`9223372036854775807`, 9223372036854775807, true},
		{`9223372036854775808`, 0, false},
		{`1.5`, 0, false},
		{`"0x10"`, 0, false},
		{`"NaN"`, 0, false},
		{`"abc"`, 0, false},
		{`""`, 0, false},
		{`null`, 0, false},
		{`true`, 0, false},
		{`{}`, 0, false},
		{``, 0, false},
	} {
		got, ok := parseInt(json.RawMessage(tc.raw))
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseInt(%s) = %d, %v; want %d, %v", tc.raw, got, ok, tc.want, tc.ok)
		}
	}
}

// checkFuzzError asserts what every error from a decoder must satisfy.
func checkFuzzError(t *testing.T, e *apierr.Error) {
	t.Helper()
	if e.Vendor != Vendor || e.Code == "" || e.Class < apierr.Transient || e.Class > apierr.Fatal {
		t.Fatalf("malformed error %#v", e)
	}
	if strings.Contains(e.Message, vecKey) {
		t.Fatalf("message %q contains the key", e.Message)
	}
	if utf8.RuneCountInString(e.Message) > maxMessageRunes+1 {
		t.Fatalf("message of %d runes", utf8.RuneCountInString(e.Message))
	}
	for _, r := range e.Message {
		if unicode.IsControl(r) {
			t.Fatalf("control character %U in message %q", r, e.Message)
		}
	}
}

func TestRateLimitPausesTheBucket(t *testing.T) {
	t.Parallel()
	fc := clocktest.NewFake(time.Unix(1700000000, 0))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"ActionStatus":"FAIL","ErrorCode":70050,"ErrorInfo":"too many"}`))
	}))
	defer srv.Close()
	bucket := ratelimit.New(fc, ratelimit.Rate{Interval: time.Millisecond, Burst: 10})
	c := New(Options{SDKAppID: 1400000000, Identifier: "admin", SecretKey: "k", BaseURL: srv.URL, Clock: fc,
		Limiter: func(string) *ratelimit.Bucket { return bucket }})
	err := c.Call(context.Background(), APIGetAppInfo, struct{}{}, &struct{}{})
	if apierr.ClassOf(err) != apierr.RateLimited {
		t.Fatalf("err = %v, want rate limited", err)
	}
	if got, want := bucket.BlockedUntil(), fc.Now().Add(apierr.RetryAfterOf(err)); !got.Equal(want) || apierr.RetryAfterOf(err) < time.Minute {
		t.Fatalf("bucket blocked until %v, want %v (70050 asks for at least a minute)", got, want)
	}
}
