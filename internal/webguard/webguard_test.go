package webguard

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// failsafe only bounds a failing test; no assertion depends on it.
const failsafe = 30 * time.Second

func newGuard(t *testing.T, o Options) (*Guard, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	g, err := New(o, reg)
	if err != nil {
		t.Fatal(err)
	}
	return g, reg
}

func rejected(t *testing.T, g *Guard, reason string) float64 {
	t.Helper()
	return testutil.ToFloat64(g.rejected.WithLabelValues(reason))
}

// serve starts g around h on loopback with o's timeouts.
func serve(t *testing.T, g *Guard, o Options, h http.Handler) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(g.Handler(h))
	Configure(srv.Config, o)
	srv.Config.ConnState = g.ConnState
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(failsafe)); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestReadTimeoutCutsASlowBody(t *testing.T) {
	t.Parallel()
	o := DefaultOptions()
	o.ReadTimeout = 100 * time.Millisecond
	g, _ := newGuard(t, o)
	readErr := make(chan error, 1)
	addr := serve(t, g, o, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
	}))

	// Headers promising 1000 bytes, then 10 and nothing more.
	c := dial(t, addr)
	fmt.Fprintf(c, "POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n%s", strings.Repeat("a", 10))
	select {
	case err := <-readErr:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("reading the trickled body: %v, want the read deadline", err)
		}
	case <-time.After(failsafe):
		t.Fatal("the slow body was never cut off")
	}
	// The server closes the connection.
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Fatalf("the connection was not closed: %v", err)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	o := DefaultOptions()
	g, _ := newGuard(t, o)
	type result struct {
		n   int
		err error
	}
	// Room for every request, so that a failing case never blocks a handler.
	results := make(chan result, 8)
	addr := serve(t, g, o, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		results <- result{int(n), err}
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		}
	}))

	t.Run("a declared 2 MiB body is refused before it is sent", func(t *testing.T) {
		c := dial(t, addr)
		// Only the headers and 1 KiB: the answer comes without the rest.
		fmt.Fprintf(c, "POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", 2<<20, strings.Repeat("a", 1024))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !resp.Close {
			t.Fatalf("status %d, close %v; want 413 and the connection closed", resp.StatusCode, resp.Close)
		}
		select {
		case r := <-results:
			t.Fatalf("the handler read the body: %+v", r)
		default:
		}
		c.Close()
	})

	for _, tc := range []struct {
		name string
		size int
		cut  bool
	}{
		{"a chunked 2 MiB body is cut at the limit", 2 << 20, true},
		{"a chunked body at the limit passes", int(DefaultMaxBodyBytes), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// An io.Reader of unknown length makes the client send chunks.
			body := io.MultiReader(bytes.NewReader(make([]byte, tc.size)))
			resp, err := http.Post("http://"+addr+"/api", "application/json", body)
			if err == nil {
				resp.Body.Close()
			}
			var r result
			select {
			case r = <-results:
			case <-time.After(failsafe):
				t.Fatal("the handler never finished")
			}
			var tooLarge *http.MaxBytesError
			if got := errors.As(r.err, &tooLarge); got != tc.cut {
				t.Fatalf("read %d bytes, err %v; want cut %v", r.n, r.err, tc.cut)
			}
			if r.n > int(DefaultMaxBodyBytes) {
				t.Fatalf("the handler read %d bytes, over the limit", r.n)
			}
		})
	}
	if v := rejected(t, g, reasonBodyTooLarge); v != 1 {
		t.Errorf("rejected body_too_large = %v, want 1", v)
	}
}

func TestConcurrencyCaps(t *testing.T) {
	t.Parallel()
	o := DefaultOptions()
	o.MaxRequests, o.MaxScrapes, o.MaxCallbacks = 3, 2, 2
	o.EnableCallbacks, o.CallbacksPath = true, "/callbacks/x"
	g, _ := newGuard(t, o)
	started := make(chan struct{})
	release := make(chan struct{})
	addr := serve(t, g, o, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("block") {
			// Bounded by the client's timeout if the test fails.
			select {
			case started <- struct{}{}:
			case <-r.Context().Done():
				return
			}
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	client := &http.Client{Timeout: failsafe}
	get := func(path string) (*http.Response, error) {
		resp, err := client.Get("http://" + addr + path)
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}

	for _, tc := range []struct {
		path string
		cap  int
	}{{"/api/v1/x", o.MaxRequests}, {o.TelemetryPath, o.MaxScrapes}, {o.CallbacksPath, o.MaxCallbacks}} {
		var wg sync.WaitGroup
		for range tc.cap {
			wg.Go(func() {
				if _, err := get(tc.path + "?block"); err != nil {
					t.Error(err)
				}
			})
		}
		for range tc.cap {
			select {
			case <-started:
			case <-time.After(failsafe):
				t.Fatalf("%s: fewer than %d requests got in", tc.path, tc.cap)
			}
		}
		resp, err := get(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s request %d of %d: status %d, Retry-After %q; want 503 with Retry-After", tc.path, tc.cap+1, tc.cap, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		// The other class is not held up by this one.
		other := o.TelemetryPath
		if tc.path == o.TelemetryPath {
			other = "/-/healthy"
		}
		if resp, err := get(other); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("%s while %s is full: %v %v", other, tc.path, resp, err)
		}
		for range tc.cap {
			release <- struct{}{}
		}
		wg.Wait()
		// Freed slots serve again.
		if resp, err := get(tc.path); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("%s after the others finished: %v %v", tc.path, resp, err)
		}
	}
	if v := rejected(t, g, reasonConcurrency); v != 3 {
		t.Errorf("rejected concurrency_limit = %v, want 3", v)
	}
}

func TestWriteGating(t *testing.T) {
	t.Parallel()
	const token = "write-token-5d0c7e1b"
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	withToken := func(o Options) Options { o.WriteTokenFile = tokenFile; return o }
	off := DefaultOptions()
	on := DefaultOptions()
	on.EnableLifecycle, on.EnableTrackingAPI = true, true
	on.CallbacksPath = "/callbacks/tencent_im"
	callbacks := on
	callbacks.EnableCallbacks = true
	header := func(k, v string) http.Header { return http.Header{k: {v}} }
	basic := header("Authorization", "Basic cHJvbWV0aGV1czpzY3JhcGU=")

	for _, tc := range []struct {
		name         string
		opts         Options
		method, path string
		header       http.Header
		code         int
	}{
		{"reload off", off, "POST", "/-/reload", nil, 403},
		{"reload off, even with the token", withToken(off), "POST", "/-/reload", header(TokenHeader, token), 403},
		{"reload on, no token configured", on, "POST", "/-/reload", nil, 200},
		{"reload on, token missing", withToken(on), "POST", "/-/reload", nil, 401},
		{"reload on, basic auth only", withToken(on), "POST", "/-/reload", basic, 401},
		{"reload on, wrong token", withToken(on), "POST", "/-/reload", header(TokenHeader, token+"x"), 403},
		{"reload on, a prefix of the token", withToken(on), "POST", "/-/reload", header(TokenHeader, token[:5]), 403},
		{"reload on, token in its header", withToken(on), "POST", "/-/reload", header(TokenHeader, token), 200},
		{"reload on, token as a bearer", withToken(on), "POST", "/-/reload", header("Authorization", "Bearer "+token), 200},
		{"tracking write without the token", withToken(on), "POST", "/api/v1/jpush/k/messages", basic, 401},
		{"tracking delete with a wrong token", withToken(on), "DELETE", "/api/v1/jpush/k/messages/1", header(TokenHeader, "nope"), 403},
		{"tracking write with the token", withToken(on), "POST", "/api/v1/jpush/k/messages", header(TokenHeader, token), 200},
		{"tracking read needs no token", withToken(on), "GET", "/api/v1/jpush/k/messages", basic, 200},
		{"scrape needs no token", withToken(on), "GET", "/metrics", basic, 200},
		{"config needs no token", withToken(off), "GET", "/config", nil, 200},
		{"push callbacks need no token", withToken(callbacks), "POST", "/callbacks/tencent_im", nil, 200},
		{"the callback path needs the token while callbacks are off", withToken(on), "POST", "/callbacks/tencent_im", nil, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, _ := newGuard(t, tc.opts)
			req := httptest.NewRequest(tc.method, tc.path, nil)
			for k, v := range tc.header {
				req.Header[k] = v
			}
			w := httptest.NewRecorder()
			g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(w, req)
			if w.Code != tc.code {
				t.Fatalf("%s %s: %d %q, want %d", tc.method, tc.path, w.Code, w.Body.String(), tc.code)
			}
			if w.Code == 401 && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if tc.path == ReloadPath && w.Code == 403 && !tc.opts.EnableLifecycle && !strings.Contains(w.Body.String(), "Lifecycle API is not enabled.") {
				t.Errorf("body %q", w.Body.String())
			}
			if strings.Contains(w.Body.String(), token) {
				t.Error("the answer shows the token")
			}
		})
	}
}

func TestWritesOpen(t *testing.T) {
	t.Parallel()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("t"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lifecycle, tracking bool
		token               string
		open                bool
	}{
		{false, false, "", false},
		{true, false, "", true},
		{false, true, "", true},
		{true, true, tokenFile, false},
	} {
		g, _ := newGuard(t, Options{EnableLifecycle: tc.lifecycle, EnableTrackingAPI: tc.tracking, WriteTokenFile: tc.token})
		if got := g.WritesOpen(); got != tc.open {
			t.Errorf("%+v: WritesOpen() = %v", tc, got)
		}
	}
}

func TestNewRefusesABadTokenFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{empty, filepath.Join(dir, "missing")} {
		if _, err := New(Options{WriteTokenFile: file}, nil); err == nil {
			t.Errorf("%s: no error", file)
		}
	}
}

func TestConfigure(t *testing.T) {
	t.Parallel()
	var s http.Server
	o := DefaultOptions()
	Configure(&s, o)
	if s.ReadHeaderTimeout != o.ReadHeaderTimeout || s.ReadTimeout != o.ReadTimeout || s.WriteTimeout != o.WriteTimeout || s.IdleTimeout != o.IdleTimeout || s.MaxHeaderBytes != maxHeaderBytes {
		t.Fatalf("timeouts %v %v %v %v, header limit %d from %+v", s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout, s.MaxHeaderBytes, o)
	}
}

func TestRequestDeadline(t *testing.T) {
	t.Parallel()
	o := DefaultOptions()
	g, _ := newGuard(t, o)
	var deadline time.Time
	var ok bool
	g.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		deadline, ok = r.Context().Deadline()
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/metrics", nil))
	if !ok || deadline.IsZero() {
		t.Fatal("the handler's context has no deadline")
	}
}

func TestAddFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want func(*Options)
	}{
		{nil, func(*Options) {}},
		{[]string{"--web.enable-lifecycle", "--web.enable-tracking-api", "--web.write-token-file=/t", "--web.write-timeout=5m", "--web.max-scrapes=3", "--web.max-request-body=4KiB", "--web.telemetry-path=/m"}, func(o *Options) {
			o.EnableLifecycle, o.EnableTrackingAPI, o.WriteTokenFile = true, true, "/t"
			o.WriteTimeout, o.MaxScrapes, o.MaxBodyBytes, o.TelemetryPath = 5*time.Minute, 3, 4096, "/m"
		}},
		{[]string{"--web.write-stall-timeout=2s", "--web.max-write-requests=4", "--web.max-connections=0"}, func(o *Options) {
			o.WriteStallTimeout, o.MaxWrites, o.MaxConnections = 2*time.Second, 4, 0
		}},
		{[]string{"--web.enable-callbacks", "--web.callbacks-listen-address=:9788", "--web.callbacks-config.file=/w", "--web.max-callbacks=5"}, func(o *Options) {
			o.EnableCallbacks, o.CallbacksListenAddress, o.CallbacksConfigFile, o.MaxCallbacks = true, ":9788", "/w", 5
		}},
	} {
		app := kingpin.New("test", "")
		got := AddFlags(app)
		if _, err := app.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		want := DefaultOptions()
		tc.want(&want)
		if *got != want {
			t.Errorf("%v: %+v, want %+v", tc.args, *got, want)
		}
	}
}

func TestSlogLogger(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"logfmt", "json"} {
		var buf bytes.Buffer
		var l log.Logger
		if format == "json" {
			l = log.NewJSONLogger(&buf)
		} else {
			l = log.NewLogfmtLogger(&buf)
		}
		SlogLogger(l).Info("Listening on", "address", "127.0.0.1:9787")
		line := buf.String()
		if format == "json" {
			if strings.Contains(line, `"time"`) || !strings.Contains(line, `"ts"`) || !strings.Contains(line, `"msg":"Listening on"`) {
				t.Errorf("json: %s", line)
			}
			continue
		}
		if strings.Contains(line, "time=") || strings.Count(line, "ts=") != 1 {
			t.Errorf("logfmt: one ts and no time wanted: %s", line)
		}
		var keys []string
		for f := range strings.FieldsSeq(line) {
			if k, _, ok := strings.Cut(f, "="); ok && !strings.Contains(k, `"`) {
				keys = append(keys, k)
			}
		}
		if got := strings.Join(keys, " "); !strings.HasPrefix(got, "level ts caller msg address") {
			t.Errorf("logfmt keys %q, want the project's order level ts caller msg …: %s", got, line)
		}
		if !strings.HasPrefix(line, "level=info ts=") || !strings.Contains(line, "Z caller=") {
			t.Errorf("logfmt: %s", line)
		}
	}
}
