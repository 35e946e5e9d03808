package jpush

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
	"github.com/imstats/imstats_exporter/internal/ratelimit"
)

// The credentials of the seed's request samples.
const (
	seedAppKey       = "7d431e42dfa6a6d693ac2d04"
	seedMasterSecret = "5e987ac6d2e04d95a9d8f0d1"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// seen is what the stub server received.
type seen struct {
	method, path, query, auth, contentType string
	body                                   string
}

// stub is an httptest server that records requests and answers with h.
type stub struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newStub(t *testing.T, h http.HandlerFunc) *stub {
	t.Helper()
	s := &stub{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, seen{
			method: r.Method, path: r.URL.Path, query: r.URL.RawQuery,
			auth: r.Header.Get("Authorization"), contentType: r.Header.Get("Content-Type"), body: string(body),
		})
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *stub) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.reqs...)
}

// client returns a Client for the stub; o's BaseURL and HTTPClient are set,
// and its Clock and credentials defaulted.
func (s *stub) client(o Options) *Client {
	o.BaseURL = s.srv.URL
	o.HTTPClient = s.srv.Client()
	if o.Clock == nil {
		o.Clock = clocktest.NewFake(t0)
	}
	if o.Username == "" {
		o.Username, o.Password = seedAppKey, seedMasterSecret
	}
	return New(o)
}

// answer serves a fixed status, headers and body.
func answer(status int, headers map[string]string, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// file serves testdata/name with status 200.
func file(t *testing.T, name string) http.HandlerFunc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return answer(http.StatusOK, map[string]string{"Content-Type": "application/json"}, string(b))
}

// observed records Options.Observe calls.
type observed struct {
	mu    sync.Mutex
	calls []string // "api code"
}

func (o *observed) observe(api, code string, _ time.Duration) {
	o.mu.Lock()
	o.calls = append(o.calls, api+" "+code)
	o.mu.Unlock()
}

func (o *observed) list() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.calls...)
}

func asAPIErr(t *testing.T, err error) *apierr.Error {
	t.Helper()
	var e *apierr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *apierr.Error", err, err)
	}
	return e
}

func TestRequestEncoding(t *testing.T) {
	t.Parallel()
	shanghai := time.FixedZone("Asia/Shanghai", 8*3600)
	regs := []string{"1506bfd3a7c568d4761", "02078f0f1b8", "0207870a9b8"}
	tests := []struct {
		name       string
		answer     string
		call       func(*Client) error
		wantMethod string
		wantPath   string
		wantQuery  string
		wantBody   string
	}{
		{
			name:   "received/detail joins msg_ids with plain commas as the seed does",
			answer: "[]",
			call: func(c *Client) error {
				_, err := c.ReceivedDetail(context.Background(), []string{"1613113584", "1229760629"})
				return err
			},
			wantMethod: "GET", wantPath: "/v3/received/detail", wantQuery: "msg_ids=1613113584,1229760629",
		},
		{
			name:   "legacy received",
			answer: "[]",
			call: func(c *Client) error {
				_, err := c.Received(context.Background(), []string{"1613113584"})
				return err
			},
			wantMethod: "GET", wantPath: "/v3/received", wantQuery: "msg_ids=1613113584",
		},
		{
			name:   "messages/detail escapes odd IDs",
			answer: "[]",
			call: func(c *Client) error {
				_, err := c.MessagesDetail(context.Background(), []string{"269978303", "a b&c"})
				return err
			},
			wantMethod: "GET", wantPath: "/v3/messages/detail", wantQuery: "msg_ids=269978303,a+b%26c",
		},
		{
			name:   "group/messages/detail uses group_msgids",
			answer: "[]",
			call: func(c *Client) error {
				_, err := c.GroupMessagesDetail(context.Background(), []string{"bsp54sn8bpn8hc3etq40"})
				return err
			},
			wantMethod: "GET", wantPath: "/v3/group/messages/detail", wantQuery: "group_msgids=bsp54sn8bpn8hc3etq40",
		},
		{
			name:   "users formats start in the caller's location",
			answer: `{"items":[]}`,
			call: func(c *Client) error {
				// 2024-02-29 18:00 UTC is already 2024-03-01 in Beijing.
				_, err := c.Users(context.Background(), time.Date(2024, 2, 29, 18, 0, 0, 0, time.UTC).In(shanghai), 3)
				return err
			},
			wantMethod: "GET", wantPath: "/v3/users", wantQuery: "duration=3&start=2024-03-01&time_unit=DAY",
		},
		{
			name:   "group/users",
			answer: `{"items":[]}`,
			call: func(c *Client) error {
				_, err := c.GroupUsers(context.Background(), time.Date(2020, 8, 6, 0, 0, 0, 0, shanghai), 30)
				return err
			},
			wantMethod: "GET", wantPath: "/v3/group/users", wantQuery: "duration=30&start=2020-08-06&time_unit=DAY",
		},
		{
			name:   "status/message sends a numeric msg_id as a number and omits a zero date",
			answer: "{}",
			call: func(c *Client) error {
				_, err := c.StatusMessage(context.Background(), "327640176", regs, time.Time{})
				return err
			},
			wantMethod: "POST", wantPath: "/v3/status/message",
			wantBody: `{"msg_id":327640176,"registration_ids":["1506bfd3a7c568d4761","02078f0f1b8","0207870a9b8"]}`,
		},
		{
			name:   "status/message sends other msg_ids as strings, with the date",
			answer: "{}",
			call: func(c *Client) error {
				_, err := c.StatusMessage(context.Background(), "0123", regs[:1], time.Date(2024, 3, 1, 23, 0, 0, 0, shanghai))
				return err
			},
			wantMethod: "POST", wantPath: "/v3/status/message",
			wantBody: `{"msg_id":"0123","registration_ids":["1506bfd3a7c568d4761"],"date":"2024-03-01"}`,
		},
		{
			name:   "status/message sends an msg_id beyond int64 as a string",
			answer: "{}",
			call: func(c *Client) error {
				_, err := c.StatusMessage(context.Background(), "99999999999999999999", regs[:1], time.Time{})
				return err
			},
			wantMethod: "POST", wantPath: "/v3/status/message",
			wantBody: `{"msg_id":"99999999999999999999","registration_ids":["1506bfd3a7c568d4761"]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStub(t, answer(http.StatusOK, nil, tt.answer))
			if err := tt.call(s.client(Options{})); err != nil {
				t.Fatal(err)
			}
			reqs := s.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.method != tt.wantMethod || r.path != tt.wantPath || r.query != tt.wantQuery || r.body != tt.wantBody {
				t.Errorf("got %s %s?%s body %q\nwant %s %s?%s body %q", r.method, r.path, r.query, r.body, tt.wantMethod, tt.wantPath, tt.wantQuery, tt.wantBody)
			}
			if tt.wantBody != "" && r.contentType != "application/json" {
				t.Errorf("Content-Type %q, want application/json", r.contentType)
			}
		})
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	groupUser, groupSecret := "group-9439ee12e91bd4c895d1b0f5", "01bad4e44cecb42b36ea370a"
	tests := []struct {
		name               string
		username, password string
		call               func(*Client) error
		want               string
	}{
		{
			name:     "app credential gives the seed's header",
			username: seedAppKey, password: seedMasterSecret,
			call: func(c *Client) error {
				_, err := c.ReceivedDetail(context.Background(), []string{"1613113584"})
				return err
			},
			want: "Basic N2Q0MzFlNDJkZmE2YTZkNjkzYWMyZDA0OjVlOTg3YWM2ZDJlMDRkOTVhOWQ4ZjBkMQ==",
		},
		{
			name:     "group credential is sent as given, group- prefix included",
			username: groupUser, password: groupSecret,
			call: func(c *Client) error {
				_, err := c.GroupMessagesDetail(context.Background(), []string{"bsp54sn8bpn8hc3etq40"})
				return err
			},
			want: "Basic " + base64.StdEncoding.EncodeToString([]byte(groupUser+":"+groupSecret)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStub(t, answer(http.StatusOK, nil, "[]"))
			if err := tt.call(s.client(Options{Username: tt.username, Password: tt.password})); err != nil {
				t.Fatal(err)
			}
			if got := s.requests()[0].auth; got != tt.want {
				t.Errorf("Authorization %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		base, want string
	}{
		{"", "/v3/received/detail"}, // a host: /v3 appended
		{"/", "/v3/received/detail"},
		{"/v3", "/v3/received/detail"}, // the documented root, https://report.jpush.cn/v3
		{"/v3/", "/v3/received/detail"},
		{"/v3/report", "/v3/report/received/detail"}, // a zone or proxy with its own root
		{"/v3/report/", "/v3/report/received/detail"},
		{"/proxy/jpush/v3", "/proxy/jpush/v3/received/detail"},
	} {
		t.Run(tc.base, func(t *testing.T) {
			t.Parallel()
			s := newStub(t, answer(http.StatusOK, nil, "[]"))
			c := New(Options{BaseURL: s.srv.URL + tc.base, HTTPClient: s.srv.Client(), Username: seedAppKey, Password: seedMasterSecret})
			if _, err := c.ReceivedDetail(context.Background(), []string{"1"}); err != nil {
				t.Fatal(err)
			}
			if got := s.requests()[0].path; got != tc.want {
				t.Errorf("path %q, want %q", got, tc.want)
			}
		})
	}
	if got := apiRoot(""); got != "https://report.jpush.cn/v3" {
		t.Errorf("default root %q", got)
	}
}

func TestStatusDate(t *testing.T) {
	t.Parallel()
	utc8 := time.FixedZone("UTC+8", 8*3600)
	for _, tc := range []struct {
		name string
		sent time.Time
		loc  *time.Location
		want string
	}{
		{"evening UTC is the next day in Shanghai", time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC), nil, "2026-11-29"},
		{"morning UTC is the same day", time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC), nil, "2026-11-28"},
		{"another location", time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC), time.UTC, "2026-11-28"},
		{"a location equal to the vendor's", time.Date(2026, 11, 28, 15, 59, 59, 0, time.UTC), utc8, "2026-11-28"},
	} {
		got := StatusDate(tc.sent, tc.loc)
		if f := got.Format(time.DateOnly); f != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, f, tc.want)
		}
		if got.Hour() != 0 || got.Minute() != 0 {
			t.Errorf("%s: %v is not the start of a day", tc.name, got)
		}
	}
	if !StatusDate(time.Time{}, nil).IsZero() {
		t.Error("a zero time must give a zero date")
	}
}

func TestStatusMessageAsksAboutTheDayTheMessageWasSent(t *testing.T) {
	t.Parallel()
	s := newStub(t, answer(http.StatusOK, nil, `{"1506bfd3a7c568d4761":{"status":0}}`))
	// Sent at 23:30 Beijing time two days before the call.
	sent := time.Date(2026, 11, 27, 15, 30, 0, 0, time.UTC)
	if _, err := s.client(Options{}).StatusMessage(context.Background(), "327640176", []string{"1506bfd3a7c568d4761"}, StatusDate(sent, nil)); err != nil {
		t.Fatal(err)
	}
	want := `{"msg_id":327640176,"registration_ids":["1506bfd3a7c568d4761"],"date":"2026-11-27"}`
	if got := string(s.requests()[0].body); got != want {
		t.Errorf("body %s, want %s", got, want)
	}
}

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	errBody := func(code string) string { return `{"error":{"code":` + code + `,"message":"m"}}` }
	tests := []struct {
		name      string
		status    int
		headers   map[string]string
		body      string
		wantClass apierr.Class
		wantCode  string
		wantRetry time.Duration
	}{
		{name: "401 with 3001 (seed sample) is auth", status: 401, body: `{ "error": { "code": 3001, "message": "Basic authentication failed" } }`, wantClass: apierr.Auth, wantCode: "3001"},
		{name: "401 without a body is auth", status: 401, wantClass: apierr.Auth, wantCode: "401"},
		{name: "2003 is a VIP-only API", status: 403, body: errBody("2003"), wantClass: apierr.Unavailable, wantCode: "2003"},
		{name: "2003 as a string code", status: 403, body: errBody(`"2003"`), wantClass: apierr.Unavailable, wantCode: "2003"},
		{name: "429 with 2002 waits for the reset", status: 429, headers: map[string]string{"X-Rate-Limit-Reset": "17", "X-Rate-Limit-Remaining": "0"}, body: errBody("2002"), wantClass: apierr.RateLimited, wantCode: "2002", wantRetry: 17 * time.Second},
		{name: "429 without body or reset waits 1s", status: 429, wantClass: apierr.RateLimited, wantCode: "429", wantRetry: time.Second},
		{name: "429 with reset 0 waits 1s", status: 429, headers: map[string]string{"X-Rate-Limit-Reset": "0"}, wantClass: apierr.RateLimited, wantCode: "429", wantRetry: time.Second},
		{name: "older over-quota code 2001", status: 400, body: errBody("2001"), wantClass: apierr.RateLimited, wantCode: "2001", wantRetry: time.Second},
		{name: "a bogus reset is capped", status: 429, headers: map[string]string{"X-Rate-Limit-Reset": "99999999999"}, wantClass: apierr.RateLimited, wantCode: "429", wantRetry: time.Hour},
		{name: "3004 time_unit mismatch is fatal", status: 400, body: errBody("3004"), wantClass: apierr.Fatal, wantCode: "3004"},
		{name: "3005 window too long is fatal", status: 400, body: errBody("3005"), wantClass: apierr.Fatal, wantCode: "3005"},
		{name: "other 4xx is fatal", status: 404, body: "<html>not found</html>", wantClass: apierr.Fatal, wantCode: "404"},
		{name: "code 10 is transient", status: 400, body: errBody("10"), wantClass: apierr.Transient, wantCode: "10"},
		{name: "5xx HTML is transient", status: 502, body: "<html>bad gateway</html>", wantClass: apierr.Transient, wantCode: "502"},
		{name: "an error body on 200 is still an error", status: 200, body: errBody("2003"), wantClass: apierr.Unavailable, wantCode: "2003"},
		{name: "HTML on 200 is invalid", status: 200, body: "<html>login</html>", wantClass: apierr.InvalidResponse, wantCode: apierr.CodeInvalidResponse},
		{name: "truncated JSON is invalid", status: 200, body: `[{"msg_id":"1","jpush_rec`, wantClass: apierr.InvalidResponse, wantCode: apierr.CodeInvalidResponse},
		{name: "wrong shape is invalid", status: 200, body: `{"msg_id":"1"}`, wantClass: apierr.InvalidResponse, wantCode: apierr.CodeInvalidResponse},
		{name: "oversize is invalid", status: 200, body: "[" + strings.Repeat(" ", 2048) + "]", wantClass: apierr.InvalidResponse, wantCode: apierr.CodeInvalidResponse},
		{name: "error code 0 is no code", status: 400, body: errBody("0"), wantClass: apierr.Fatal, wantCode: "400"},
		{name: "304 is neither success nor error", status: 304, wantClass: apierr.InvalidResponse, wantCode: "304"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStub(t, answer(tt.status, tt.headers, tt.body))
			var obs observed
			_, err := s.client(Options{MaxResponseBytes: 1024, Observe: obs.observe}).ReceivedDetail(context.Background(), []string{"1"})
			e := asAPIErr(t, err)
			if e.Class != tt.wantClass || e.Code != tt.wantCode || e.RetryAfter != tt.wantRetry || e.HTTPStatus != tt.status || e.Vendor != "jpush" || e.API != APIReceivedDetail {
				t.Errorf("got %+v\nwant class %v code %s retry %v status %d", *e, tt.wantClass, tt.wantCode, tt.wantRetry, tt.status)
			}
			if got, want := obs.list(), []string{"received/detail " + tt.wantCode}; strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("Observe calls %q, want %q", got, want)
			}
		})
	}
}

func TestNetworkError(t *testing.T) {
	t.Parallel()
	s := newStub(t, answer(http.StatusOK, nil, "[]"))
	s.srv.Close()
	var obs observed
	_, err := s.client(Options{Observe: obs.observe}).MessagesDetail(context.Background(), []string{"1"})
	e := asAPIErr(t, err)
	if e.Class != apierr.Transient || e.Code != apierr.CodeNetwork || e.HTTPStatus != 0 {
		t.Errorf("got %+v, want transient network error", *e)
	}
	if got := obs.list(); len(got) != 1 || got[0] != "messages/detail network" {
		t.Errorf("Observe calls %q, want one with code network", got)
	}
}

func TestSuccessObserved(t *testing.T) {
	t.Parallel()
	s := newStub(t, file(t, "status.json"))
	var obs observed
	if _, err := s.client(Options{Observe: obs.observe}).StatusMessage(context.Background(), "1", []string{"a"}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := obs.list(); len(got) != 1 || got[0] != "status/message 0" {
		t.Errorf("Observe calls %q, want [status/message 0]", got)
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		bucket bool
	}{
		{name: "waiting for a token", bucket: true},
		{name: "without a bucket", bucket: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStub(t, answer(http.StatusOK, nil, "[]"))
			fc := clocktest.NewFake(t0)
			o := Options{Clock: fc}
			if tt.bucket {
				o.Bucket = ratelimit.New(fc, ratelimit.PerMinute(60))
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := s.client(o).ReceivedDetail(ctx, []string{"1"})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if n := len(s.requests()); n != 0 {
				t.Errorf("%d requests reached the server, want 0", n)
			}
		})
	}
}

func TestRateLimitHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		headers       map[string]string
		wantRemaining int
		wantQuota     int
		wantOK        bool
	}{
		{name: "current names", headers: map[string]string{"X-Rate-Limit-Quota": "2400", "X-Rate-Limit-Remaining": "2399", "X-Rate-Limit-Reset": "60"}, wantRemaining: 2399, wantQuota: 2400, wantOK: true},
		{name: "older quota name", headers: map[string]string{"X-Rate-Limit-Limit": "600", "X-Rate-Limit-Remaining": "10", "X-Rate-Limit-Reset": "5"}, wantRemaining: 10, wantQuota: 600, wantOK: true},
		{name: "current name wins over the older one", headers: map[string]string{"X-Rate-Limit-Quota": "2400", "X-Rate-Limit-Limit": "600", "X-Rate-Limit-Remaining": "1"}, wantRemaining: 1, wantQuota: 2400, wantOK: true},
		{name: "no headers", headers: nil},
		{name: "garbage remaining", headers: map[string]string{"X-Rate-Limit-Quota": "2400", "X-Rate-Limit-Remaining": "lots"}, wantQuota: 2400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStub(t, answer(http.StatusOK, tt.headers, "[]"))
			fc := clocktest.NewFake(t0)
			bucket := ratelimit.New(fc, ratelimit.PerMinute(2400))
			c := s.client(Options{Clock: fc, Bucket: bucket})
			if _, err := c.ReceivedDetail(context.Background(), []string{"1"}); err != nil {
				t.Fatal(err)
			}
			remaining, quota, ok := c.RateLimit()
			if remaining != tt.wantRemaining || quota != tt.wantQuota || ok != tt.wantOK {
				t.Errorf("RateLimit() = %d, %d, %v; want %d, %d, %v", remaining, quota, ok, tt.wantRemaining, tt.wantQuota, tt.wantOK)
			}
			wantBucket := tt.wantRemaining
			if !tt.wantOK {
				wantBucket = -1 // never observed
			}
			if r, ok := bucket.Remaining(); r != wantBucket || ok != tt.wantOK {
				t.Errorf("bucket.Remaining() = %d, %v; want %d, %v", r, ok, wantBucket, tt.wantOK)
			}
		})
	}
}

func TestRateLimitedBlocksBucketUntilReset(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	n := 0
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			answer(429, map[string]string{"X-Rate-Limit-Quota": "2400", "X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": "30"},
				`{"error":{"code":2002,"message":"Request times exceeds the limit"}}`)(w, r)
			return
		}
		answer(200, map[string]string{"X-Rate-Limit-Quota": "2400", "X-Rate-Limit-Remaining": "2399", "X-Rate-Limit-Reset": "60"}, "[]")(w, r)
	})
	fc := clocktest.NewFake(t0)
	bucket := ratelimit.New(fc, ratelimit.PerMinute(2400))
	c := s.client(Options{Clock: fc, Bucket: bucket})

	_, err := c.ReceivedDetail(context.Background(), []string{"1"})
	if e := asAPIErr(t, err); e.Class != apierr.RateLimited || e.RetryAfter != 30*time.Second {
		t.Fatalf("got %+v, want rate limited for 30s", *e)
	}
	if got := bucket.BlockedUntil(); !got.Equal(t0.Add(30 * time.Second)) {
		t.Fatalf("bucket blocked until %v, want %v", got, t0.Add(30*time.Second))
	}

	done := make(chan error, 1)
	go func() {
		_, err := c.ReceivedDetail(context.Background(), []string{"1"})
		done <- err
	}()
	for fc.Waiters() == 0 {
		time.Sleep(time.Millisecond) // until the call waits on the fake clock
	}
	if got := len(s.requests()); got != 1 {
		t.Fatalf("%d requests while blocked, want 1", got)
	}
	fc.Advance(30 * time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := len(s.requests()); got != 2 {
		t.Errorf("%d requests after the reset, want 2", got)
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "1" + strings.Repeat("0", i%5)
		}
		return out
	}
	ctx := context.Background()
	tests := []struct {
		name         string
		call         func(*Client) error
		wantRefused  bool
		wantRequests int
	}{
		{name: "101 msg_ids for received/detail", wantRefused: true, call: func(c *Client) error { _, err := c.ReceivedDetail(ctx, ids(101)); return err }},
		{name: "100 msg_ids for received/detail", wantRequests: 1, call: func(c *Client) error { _, err := c.ReceivedDetail(ctx, ids(100)); return err }},
		{name: "101 msg_ids for received", wantRefused: true, call: func(c *Client) error { _, err := c.Received(ctx, ids(101)); return err }},
		{name: "101 msg_ids for messages/detail", wantRefused: true, call: func(c *Client) error { _, err := c.MessagesDetail(ctx, ids(101)); return err }},
		{name: "11 group_msgids", wantRefused: true, call: func(c *Client) error { _, err := c.GroupMessagesDetail(ctx, ids(11)); return err }},
		{name: "10 group_msgids", wantRequests: 1, call: func(c *Client) error { _, err := c.GroupMessagesDetail(ctx, ids(10)); return err }},
		{name: "an msg_id with a comma", wantRefused: true, call: func(c *Client) error { _, err := c.ReceivedDetail(ctx, []string{"1,2"}); return err }},
		{name: "an empty msg_id", wantRefused: true, call: func(c *Client) error { _, err := c.MessagesDetail(ctx, []string{"1", ""}); return err }},
		{name: "no msg_ids sends nothing", call: func(c *Client) error { _, err := c.ReceivedDetail(ctx, nil); return err }},
		{name: "users for 0 days", wantRefused: true, call: func(c *Client) error { _, err := c.Users(ctx, t0, 0); return err }},
		{name: "users for 61 days", wantRefused: true, call: func(c *Client) error { _, err := c.Users(ctx, t0, 61); return err }},
		{name: "users for 60 days", wantRequests: 1, call: func(c *Client) error { _, err := c.Users(ctx, t0, 60); return err }},
		{name: "group users for 31 days", wantRefused: true, call: func(c *Client) error { _, err := c.GroupUsers(ctx, t0, 31); return err }},
		{name: "1001 registration_ids", wantRefused: true, call: func(c *Client) error { _, err := c.StatusMessage(ctx, "1", ids(1001), time.Time{}); return err }},
		{name: "1000 registration_ids", wantRequests: 1, call: func(c *Client) error { _, err := c.StatusMessage(ctx, "1", ids(1000), time.Time{}); return err }},
		{name: "status without msg_id", wantRefused: true, call: func(c *Client) error { _, err := c.StatusMessage(ctx, "", ids(1), time.Time{}); return err }},
		{name: "status without registration_ids sends nothing", call: func(c *Client) error { _, err := c.StatusMessage(ctx, "1", nil, time.Time{}); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
				body := "[]"
				switch r.URL.Path {
				case "/v3/users", "/v3/group/users":
					body = `{"items":[]}`
				case "/v3/status/message":
					body = "{}"
				}
				answer(200, nil, body)(w, r)
			})
			var obs observed
			err := tt.call(s.client(Options{Observe: obs.observe}))
			if tt.wantRefused {
				e := asAPIErr(t, err)
				if e.Class != apierr.Fatal || e.Code != "refused" {
					t.Errorf("got %+v, want a fatal refusal", *e)
				}
			} else if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if got := len(s.requests()); got != tt.wantRequests {
				t.Errorf("%d requests, want %d", got, tt.wantRequests)
			}
			if got := len(obs.list()); got != tt.wantRequests {
				t.Errorf("%d Observe calls, want %d", got, tt.wantRequests)
			}
		})
	}
}

func TestNoSecretInErrors(t *testing.T) {
	t.Parallel()
	token := base64.StdEncoding.EncodeToString([]byte(seedAppKey + ":" + seedMasterSecret))
	echo := `{"error":{"code":3001,"message":"bad credential ` + seedMasterSecret + ` in Authorization: Basic ` + token + `\n\u0007 end"}}`
	tests := []struct {
		name    string
		baseURL func(s *stub) string
		handler http.HandlerFunc
		wantMsg string
	}{
		{
			name:    "vendor text echoing the secret and the header",
			handler: answer(401, nil, echo),
			wantMsg: "bad credential <secret> in Authorization: Basic <secret> end",
		},
		{
			name: "network error with userinfo in the endpoint",
			baseURL: func(s *stub) string {
				return strings.Replace(s.srv.URL, "http://", "http://u:"+seedMasterSecret+"@", 1) + "/closed"
			},
			handler: func(w http.ResponseWriter, _ *http.Request) { panic(http.ErrAbortHandler) },
		},
		{
			name:    "unparsable endpoint with userinfo",
			baseURL: func(*stub) string { return "http://u:" + seedMasterSecret + "@[::1" },
			handler: answer(200, nil, "[]"),
			wantMsg: "invalid endpoint URL",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStub(t, tt.handler)
			c := s.client(Options{})
			if tt.baseURL != nil {
				c = New(Options{BaseURL: tt.baseURL(s), HTTPClient: s.srv.Client(), Username: seedAppKey, Password: seedMasterSecret})
			}
			_, err := c.ReceivedDetail(context.Background(), []string{"1"})
			e := asAPIErr(t, err)
			for _, secret := range []string{seedMasterSecret, token} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains a secret", err)
				}
			}
			if tt.wantMsg != "" && e.Message != tt.wantMsg {
				t.Errorf("message %q, want %q", e.Message, tt.wantMsg)
			}
		})
	}
}

func TestLongVendorMessageTruncated(t *testing.T) {
	t.Parallel()
	s := newStub(t, answer(400, nil, `{"error":{"code":3004,"message":"`+strings.Repeat("x", 5000)+`"}}`))
	_, err := s.client(Options{}).ReceivedDetail(context.Background(), []string{"1"})
	if e := asAPIErr(t, err); len([]rune(e.Message)) != maxMessageLen+1 {
		t.Errorf("message of %d runes, want %d", len([]rune(e.Message)), maxMessageLen+1)
	}
}
