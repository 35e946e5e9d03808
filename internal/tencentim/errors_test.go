package tencentim

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/apierr"
)

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	html := reply{header: map[string]string{"Content-Type": "text/html"}, body: "<html><body>Bad Gateway</body></html>"}
	for _, tc := range []struct {
		name       string
		reply      reply
		wantClass  apierr.Class
		wantCode   string
		wantHTTP   int
		wantRetry  time.Duration
		wantTries  int // requests sent
		wantInText string
	}{
		{"60007 rate limited", vendorErr(60007), apierr.RateLimited, "60007", 200, time.Second, 1, "error 60007"},
		{"60011 rate limited", vendorErr(60011), apierr.RateLimited, "60011", 200, time.Second, 1, ""},
		{"60018 rate limited", vendorErr(60018), apierr.RateLimited, "60018", 200, time.Second, 1, ""},
		{"60019 rate limited", vendorErr(60019), apierr.RateLimited, "60019", 200, time.Second, 1, ""},
		{"70050 locked for a minute", vendorErr(70050), apierr.RateLimited, "70050", 200, time.Minute, 1, ""},
		{"70001 expired, retried once", vendorErr(70001), apierr.SigExpired, "70001", 200, 0, 2, ""},
		{"70016 wrong region", vendorErr(70016), apierr.WrongRegion, "70016", 200, 0, 1, ""},
		{"70020 wrong region", vendorErr(70020), apierr.WrongRegion, "70020", 200, 0, 1, ""},
		{"90009 no permission", vendorErr(90009), apierr.Unavailable, "90009", 200, 0, 1, ""},
		{"90045 not enabled", vendorErr(90045), apierr.Unavailable, "90045", 200, 0, 1, ""},
		{"60010 not enabled", vendorErr(60010), apierr.Unavailable, "60010", 200, 0, 1, ""},
		{"70003 bad usersig", vendorErr(70003), apierr.Auth, "70003", 200, 0, 1, ""},
		{"70107 account", vendorErr(70107), apierr.Auth, "70107", 200, 0, 1, ""},
		{"60008 timeout", vendorErr(60008), apierr.Transient, "60008", 200, 0, 1, ""},
		{"90102 internal", vendorErr(90102), apierr.Transient, "90102", 200, 0, 1, ""},
		{"130009 SQL", vendorErr(130009), apierr.Transient, "130009", 200, 0, 1, ""},
		{"130010 SQL", vendorErr(130010), apierr.Transient, "130010", 200, 0, 1, ""},
		{"130011 SQL", vendorErr(130011), apierr.Transient, "130011", 200, 0, 1, ""},
		{"130012 SQL", vendorErr(130012), apierr.Transient, "130012", 200, 0, 1, ""},
		{"130001 request JSON", vendorErr(130001), apierr.Fatal, "130001", 200, 0, 1, ""},
		{"90100 bad parameter", vendorErr(90100), apierr.Fatal, "90100", 200, 0, 1, ""},
		{"91000 request error", vendorErr(91000), apierr.Fatal, "91000", 200, 0, 1, ""},
		{"no ErrorInfo", reply{body: `{"ErrorCode":91000}`}, apierr.Fatal, "91000", 200, 0, 1, "vendor error"},
		{"HTTP 500", reply{status: 500}, apierr.Transient, "500", 500, 0, 1, "500 Internal Server Error"},
		{"HTTP 502 HTML", reply{status: 502, header: html.header, body: html.body}, apierr.Transient, "502", 502, 0, 1, ""},
		{"HTTP 408", reply{status: 408}, apierr.Transient, "408", 408, 0, 1, ""},
		{"HTTP 429 Retry-After", reply{status: 429, header: map[string]string{"Retry-After": "5"}}, apierr.RateLimited, "429", 429, 5 * time.Second, 1, ""},
		{"HTTP 429 date Retry-After", reply{status: 429, header: map[string]string{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}}, apierr.RateLimited, "429", 429, time.Second, 1, ""},
		{"HTTP 429 huge Retry-After", reply{status: 429, header: map[string]string{"Retry-After": "999999"}}, apierr.RateLimited, "429", 429, time.Hour, 1, ""},
		{"HTTP 400", reply{status: 400}, apierr.Fatal, "400", 400, 0, 1, ""},
		{"HTTP 404", reply{status: 404}, apierr.Fatal, "404", 404, 0, 1, ""},
		{"HTML with 200", html, apierr.InvalidResponse, apierr.CodeInvalidResponse, 200, 0, 1, "not a JSON object"},
		{"Result of the wrong type", reply{body: `{"ErrorCode":0,"Result":"none"}`}, apierr.InvalidResponse, apierr.CodeInvalidResponse, 200, 0, 1, "decoding response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVendor(t, always(tc.reply))
			c, _ := newTestClient(t, v.srv.URL, nil)
			_, err := c.GetAppInfo(context.Background())
			e := asAPIError(t, err)
			if e.Vendor != Vendor || e.API != APIGetAppInfo {
				t.Errorf("vendor/api %s %s", e.Vendor, e.API)
			}
			if e.Class != tc.wantClass || e.Code != tc.wantCode || e.HTTPStatus != tc.wantHTTP || e.RetryAfter != tc.wantRetry {
				t.Errorf("got class %v code %s HTTP %d retry %v; want %v %s %d %v",
					e.Class, e.Code, e.HTTPStatus, e.RetryAfter, tc.wantClass, tc.wantCode, tc.wantHTTP, tc.wantRetry)
			}
			if n := len(v.requests()); n != tc.wantTries {
				t.Errorf("%d requests, want %d", n, tc.wantTries)
			}
			if !strings.Contains(e.Message, tc.wantInText) {
				t.Errorf("message %q does not contain %q", e.Message, tc.wantInText)
			}
		})
	}
}

func TestErrorInfoSanitized(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		info string
		want string
	}{
		{"control characters", "line one\nline two\ttab\x1b[31m", "line one line two tab [31m"},
		{"bidi override", "abc\u202edef", "abc def"},
		{"long text cut", strings.Repeat("é", 300), strings.Repeat("é", maxMessageRunes) + "…"},
		{"secret before the cut is removed whole", strings.Repeat("x", 190) + vecKey, strings.Repeat("x", 190) + "<secret>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			info, err := json.Marshal(tc.info)
			if err != nil {
				t.Fatal(err)
			}
			body := `{"ErrorCode":91000,"ErrorInfo":` + string(info) + `}`
			v := newVendor(t, always(reply{body: body}))
			c, _ := newTestClient(t, v.srv.URL, nil)
			e := asAPIError(t, c.Call(context.Background(), APIGetAppInfo, struct{}{}, nil))
			if e.Message != tc.want {
				t.Errorf("message %q, want %q", e.Message, tc.want)
			}
		})
	}
}

func TestStatusErrorNoBodyRead(t *testing.T) {
	t.Parallel()
	// A gateway's JSON must not be taken for a verdict: only 2xx bodies are.
	v := newVendor(t, always(reply{status: http.StatusServiceUnavailable, body: `{"ErrorCode":0}`}))
	c, _ := newTestClient(t, v.srv.URL, nil)
	if e := asAPIError(t, c.Call(context.Background(), APIGetAppInfo, struct{}{}, nil)); e.Code != "503" {
		t.Errorf("code %s, want 503", e.Code)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		client *http.Client
	}{
		{"default client", nil},
		{"caller's client that follows redirects", &http.Client{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVendor(t, func(n int, _ request) reply {
				if n == 0 {
					return reply{status: http.StatusFound, header: map[string]string{"Location": "/elsewhere"}}
				}
				return reply{body: okBody}
			})
			c, _ := newTestClient(t, v.srv.URL, func(o *Options) { o.HTTPClient = tc.client })
			err := c.Call(context.Background(), APIGetAppInfo, struct{}{}, nil)
			if e := asAPIError(t, err); e.Class != apierr.Fatal || e.Code != "302" {
				t.Errorf("err = %v, want fatal 302", err)
			}
			if n := len(v.requests()); n != 1 {
				t.Errorf("%d requests, want 1: the redirect was followed with the UserSig", n)
			}
		})
	}
}
