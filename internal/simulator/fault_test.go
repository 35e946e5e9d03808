package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// send posts a valid getappinfo request and returns the response, or the
// transport's error.
func (h *harness) send(t *testing.T) (*http.Response, error) {
	t.Helper()
	u := h.srv.URL + "/v4/" + TencentGetAppInfo + "?" + h.query(t, testApp).Encode()
	return h.srv.Client().Post(u, "application/json", strings.NewReader(getAppInfoOK))
}

func TestFaults(t *testing.T) {
	t.Parallel()
	html := []byte("<html><body>502 Bad Gateway</body></html>")
	for _, tc := range []struct {
		name          string
		fault         Fault
		wantErr       bool // the transport fails: no response
		wantStatus    int
		wantErrorCode int // logged in Calls
		check         func(t *testing.T, normal, body []byte, readErr error)
	}{
		{name: "HTTP status with an HTML page", fault: Fault{HTTPStatus: 502, Body: html}, wantStatus: 502,
			check: func(t *testing.T, _, body []byte, _ error) {
				if !bytes.Equal(body, html) {
					t.Errorf("body %q, want %q", body, html)
				}
			}},
		{name: "HTTP status alone", fault: Fault{HTTPStatus: 503}, wantStatus: 503,
			check: func(t *testing.T, _, body []byte, _ error) {
				if len(body) != 0 {
					t.Errorf("body %q, want none", body)
				}
			}},
		{name: "garbage JSON", fault: Fault{Body: []byte(`{"ErrorCode":0,"Result":[{`)}, wantStatus: 200,
			check: func(t *testing.T, _, body []byte, _ error) {
				if string(body) != `{"ErrorCode":0,"Result":[{` {
					t.Errorf("body %q, want the garbage", body)
				}
			}},
		{name: "vendor error code", fault: Fault{ErrorCode: 60018}, wantStatus: 200, wantErrorCode: 60018,
			check: func(t *testing.T, _, body []byte, _ error) {
				var got struct {
					ActionStatus string
					ErrorCode    int
				}
				if err := json.Unmarshal(body, &got); err != nil || got.ActionStatus != "FAIL" || got.ErrorCode != 60018 {
					t.Errorf("body %s, want ActionStatus FAIL and ErrorCode 60018", body)
				}
			}},
		{name: "truncated", fault: Fault{Truncate: true}, wantStatus: 200,
			check: func(t *testing.T, normal, body []byte, readErr error) {
				if !errors.Is(readErr, io.ErrUnexpectedEOF) {
					t.Errorf("reading the body: %v, want unexpected EOF", readErr)
				}
				if len(body) != len(normal)/2 || !bytes.HasPrefix(normal, body) {
					t.Errorf("got %d bytes, want the first %d of the normal body", len(body), len(normal)/2)
				}
			}},
		{name: "oversize", fault: Fault{Oversize: 1 << 20}, wantStatus: 200,
			check: func(t *testing.T, normal, body []byte, _ error) {
				if len(body) != 1<<20 {
					t.Fatalf("body of %d bytes, want %d", len(body), 1<<20)
				}
				var got, want appInfoAnswer
				if err := json.Unmarshal(body, &got); err != nil {
					t.Fatalf("padded body is not valid JSON: %v", err)
				}
				if err := json.Unmarshal(normal, &want); err != nil {
					t.Fatal(err)
				}
				if len(got.Result) != 30 || got.Result[0]["Date"] != want.Result[0]["Date"] {
					t.Errorf("padded body carries other data than the normal one")
				}
			}},
		{name: "oversize below the body's size", fault: Fault{Oversize: 10}, wantStatus: 200,
			check: func(t *testing.T, normal, body []byte, _ error) {
				if !bytes.Equal(body, normal) {
					t.Errorf("body changed")
				}
			}},
		{name: "reset", fault: Fault{Reset: true}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHarness(t)
			_, normal := h.post(t, TencentGetAppInfo, h.query(t, testApp), getAppInfoOK)
			h.sim.SetFault(TencentGetAppInfo, &tc.fault)
			resp, err := h.send(t)
			if tc.wantErr {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("got HTTP %d, want a transport error", resp.StatusCode)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				body, readErr := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.wantStatus {
					t.Errorf("HTTP %d, want %d", resp.StatusCode, tc.wantStatus)
				}
				tc.check(t, normal, body, readErr)
			}
			calls := h.sim.Calls()
			if len(calls) != 2 || calls[1].ErrorCode != tc.wantErrorCode {
				t.Errorf("Calls() = %+v, want the faulty call logged with ErrorCode %d", calls, tc.wantErrorCode)
			}
			h.sim.SetFault(TencentGetAppInfo, nil)
			if code := h.call(t, TencentGetAppInfo, testApp, getAppInfoOK, nil); code != 0 {
				t.Errorf("after clearing the fault: ErrorCode = %d, want 0", code)
			}
		})
	}
}

func TestFaultDelay(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	h.sim.SetFault(TencentGetAppInfo, &Fault{Delay: 30 * time.Second})
	type result struct {
		status int
		err    error
	}
	done := make(chan result)
	go func() {
		resp, err := h.send(t)
		if err != nil {
			done <- result{err: err}
			return
		}
		resp.Body.Close()
		done <- result{status: resp.StatusCode}
	}()
	for h.clk.Waiters() == 0 {
		runtime.Gosched() // until the handler waits on the fake clock
	}
	h.clk.Advance(30 * time.Second)
	if r := <-done; r.err != nil || r.status != http.StatusOK {
		t.Fatalf("HTTP %d, %v; want 200", r.status, r.err)
	}
	calls := h.sim.Calls()
	if len(calls) != 1 || calls[0].ErrorCode != 0 || !calls[0].Time.Equal(testStart.Add(30*time.Second)) {
		t.Errorf("Calls() = %+v, want one call handled after the delay", calls)
	}
}

func TestFaultDelayCancelled(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	h.sim.SetFault(TencentGetAppInfo, &Fault{Delay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v4/"+TencentGetAppInfo+"?"+h.query(t, testApp).Encode(), strings.NewReader(getAppInfoOK))
	rec := httptest.NewRecorder()
	h.sim.ServeHTTP(rec, req) // returns although the fake clock never moves
	if rec.Body.Len() != 0 {
		t.Errorf("answered %q to a client that gave up", rec.Body)
	}
	if calls := h.sim.Calls(); len(calls) != 1 || calls[0].ErrorCode != 0 {
		t.Errorf("Calls() = %+v, want the abandoned call logged", calls)
	}
}

func TestFaultScope(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	codes := func() map[string]int {
		h.clk.Advance(2 * time.Second)
		got := map[string]int{}
		for _, api := range tencentAPIs {
			got[api.name] = h.call(t, api.name, testApp, h.okBody(api.name), nil)
		}
		return got
	}
	all := func(code int) map[string]int {
		return map[string]int{TencentGetAppInfo: code, TencentPushStatistics: code, TencentIMPush: code}
	}
	for _, step := range []struct {
		name  string
		api   string
		fault *Fault
		want  map[string]int
	}{
		{"every API", "", &Fault{ErrorCode: 60018}, all(60018)},
		{"one API over every API", TencentGetAppInfo, &Fault{ErrorCode: 60019},
			map[string]int{TencentGetAppInfo: 60019, TencentPushStatistics: 60018, TencentIMPush: 60018}},
		{"one API cleared", TencentGetAppInfo, nil, all(60018)},
		{"every API cleared", "", nil, all(0)},
	} {
		h.sim.SetFault(step.api, step.fault)
		got := codes()
		for api, want := range step.want {
			if got[api] != want {
				t.Errorf("%s: %s answers %d, want %d", step.name, api, got[api], want)
			}
		}
	}

	// A fault applies before authentication but after routing.
	h.sim.SetFault("", &Fault{ErrorCode: 60018})
	q := h.query(t, testApp)
	q.Del("usersig")
	if code := h.callQuery(t, TencentGetAppInfo, q, getAppInfoOK, nil); code != 60018 {
		t.Errorf("unsigned request under a fault: ErrorCode = %d, want 60018", code)
	}
	resp, err := h.srv.Client().Post(h.srv.URL+"/v4/no/such/api", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown path under a fault: HTTP %d, want 404", resp.StatusCode)
	}

	// SetFault keeps its own copy.
	f := &Fault{ErrorCode: 60019}
	h.sim.SetFault(TencentGetAppInfo, f)
	f.ErrorCode = 0
	if code := h.call(t, TencentGetAppInfo, testApp, getAppInfoOK, nil); code != 60019 {
		t.Errorf("after the caller changed its Fault: ErrorCode = %d, want 60019", code)
	}
}

func TestPadded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		body string
		size int64
		want int64 // resulting length
	}{
		{"object", `{"a":1}`, 100, 100},
		{"empty object", `{}`, 50, 50},
		{"already larger", `{"a":1}`, 5, 7},
		{"too small to pad", `{"a":1}`, 15, 7},
		{"smallest padding", `{"a":1}`, 20, 20},
		{"not an object", `[1,2]`, 100, 5},
		{"empty", ``, 100, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, n := padded([]byte(tc.body), tc.size)
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.want || int64(len(got)) != n {
				t.Fatalf("length %d (announced %d), want %d", len(got), n, tc.want)
			}
			if n == int64(len(tc.body)) {
				if string(got) != tc.body {
					t.Errorf("body changed to %q", got)
				}
				return
			}
			var v map[string]any
			if err := json.Unmarshal(got, &v); err != nil {
				t.Fatalf("padded %q is not a JSON object: %v", got, err)
			}
			if strings.Contains(tc.body, `"a"`) && v["a"] != 1.0 {
				t.Errorf("padded %q lost the member a", got)
			}
		})
	}
}

func TestFaultResetWithoutHijack(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	h.sim.SetFault(TencentGetAppInfo, &Fault{Reset: true})
	req := httptest.NewRequest(http.MethodPost, "/v4/"+TencentGetAppInfo+"?"+h.query(t, testApp).Encode(), strings.NewReader(getAppInfoOK))
	defer func() {
		if r := recover(); r != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler, which makes net/http drop the connection", r)
		}
	}()
	h.sim.ServeHTTP(httptest.NewRecorder(), req) // a recorder, like an HTTP/2 stream, cannot be hijacked
}
