package webguard

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// smallBuffers gives every accepted connection a small send buffer, so that
// an answer to a client that does not read fills it after kilobytes
// rather than the megabytes loopback's autotuned buffers take.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// gauge returns the value of the registry's series name{labels}.
func gauge(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for i, lp := range m.GetLabel() {
				if 2*i+1 >= len(labels) || lp.GetName() != labels[2*i] || lp.GetValue() != labels[2*i+1] {
					continue metrics
				}
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no %s%v", name, labels)
	return 0
}

// A page as big as a large exporter's: several times what the socket
// buffers hold.
const pageSize = 8 << 20

func TestClientsThatDoNotReadHoldNoScrapeSlot(t *testing.T) {
	t.Parallel()
	o := DefaultOptions()
	o.MaxScrapes = 3
	o.WriteStallTimeout = time.Second
	g, _ := newGuard(t, o)
	entered := make(chan struct{}, o.MaxScrapes)
	writeErrs := make(chan error, o.MaxScrapes)
	srv := httptest.NewUnstartedServer(g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bad := r.URL.Query().Has("bad")
		if bad {
			entered <- struct{}{}
		}
		// As serveMetrics writes a page: 64 KiB at a time through a buffer.
		bw := bufio.NewWriterSize(w, 64<<10)
		line := []byte(strings.Repeat("x", 1023) + "\n")
		var err error
		for i := 0; i < pageSize/len(line) && err == nil; i++ {
			_, err = bw.Write(line)
		}
		if err == nil {
			err = bw.Flush()
		}
		if bad {
			writeErrs <- err
		}
	})))
	srv.Listener = smallBuffers{srv.Listener}
	Configure(srv.Config, o)
	srv.Config.ConnState = g.ConnState
	srv.Start()
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()

	// Every scrape slot taken by a client that asks and never reads.
	for range o.MaxScrapes {
		c := dial(t, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4 << 10)
		}
		fmt.Fprint(c, "GET /metrics?bad HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	for range o.MaxScrapes {
		select {
		case <-entered:
		case <-time.After(failsafe):
			t.Fatal("the non-reading clients' scrapes never started")
		}
	}

	// A scrape that reads gets its whole page while they hold on.
	client := &http.Client{Timeout: failsafe}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || n != pageSize/1024*1024 {
		t.Fatalf("scrape while %d clients do not read: status %d, %d bytes, %v; want 200 and the whole page", o.MaxScrapes, resp.StatusCode, n, err)
	}

	// The clients that do not read are cut off by a stalled piece's
	// deadline, long before --web.write-timeout.
	for range o.MaxScrapes {
		select {
		case err := <-writeErrs:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("writing to a client that does not read: %v, want the write deadline", err)
			}
		case <-time.After(failsafe):
			t.Fatal("an answer to a client that does not read was never cut off")
		}
	}
	if v := testutil.ToFloat64(g.stalled); v != float64(o.MaxScrapes) {
		t.Errorf("answers stalled = %v, want %d", v, o.MaxScrapes)
	}
	if v := rejected(t, g, reasonConcurrency); v != 0 {
		t.Errorf("rejected concurrency_limit = %v, want 0", v)
	}
}

func TestHealthChecksDuringTrickledWrites(t *testing.T) {
	t.Parallel()
	o := DefaultOptions()
	o.MaxWrites, o.MaxRequests = 2, 2
	o.ReadTimeout = failsafe
	g, _ := newGuard(t, o)
	entered := make(chan struct{}, 8)
	addr := serve(t, g, o, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			entered <- struct{}{}
			_, _ = io.Copy(io.Discard, r.Body)
		}
	}))

	// Writes whose bodies trickle fill their class, and one more.
	trickle := func() net.Conn {
		c := dial(t, addr)
		fmt.Fprintf(c, "POST /api/v1/jpush/k/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n%s", strings.Repeat("1", 10))
		return c
	}
	for range o.MaxWrites {
		trickle()
	}
	for range o.MaxWrites {
		select {
		case <-entered:
		case <-time.After(failsafe):
			t.Fatal("the trickled writes never started")
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(trickle()), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a write past the cap: %d, want 503", resp.StatusCode)
	}

	// Health, readiness and other reads answer all the same, more of them
	// at once than any cap.
	client := &http.Client{Timeout: failsafe}
	results := make(chan string, 30)
	for i := range cap(results) {
		path := []string{"/-/healthy", "/-/ready", "/config"}[i%3]
		go func() {
			resp, err := client.Get("http://" + addr + path)
			if err != nil {
				results <- fmt.Sprintf("%s: %v", path, err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK && (path != "/config" || resp.StatusCode != http.StatusServiceUnavailable) {
				results <- fmt.Sprintf("%s: %d", path, resp.StatusCode)
				return
			}
			results <- ""
		}()
	}
	for range cap(results) {
		if r := <-results; r != "" {
			t.Errorf("while writes trickle: %s", r)
		}
	}
}

func TestConnectionCap(t *testing.T) {
	t.Parallel()
	o := DefaultOptions()
	o.MaxConnections = 10
	g, reg := newGuard(t, o)
	release := make(chan struct{})
	entered := make(chan struct{}, o.MaxConnections)
	addr := serve(t, g, o, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("block") {
			entered <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	request := func(c net.Conn, path string) error {
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	closed := func(c net.Conn) bool {
		_, err := c.Read(make([]byte, 1))
		return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscallReset)
	}

	t.Run("idle connections make room, longest idle first", func(t *testing.T) {
		// Three times the cap of kept-alive connections, each idle after
		// one request, then as many that never send one.
		var kept []net.Conn
		for range 3 * o.MaxConnections {
			c := dial(t, addr)
			if err := request(c, "/-/healthy"); err != nil {
				t.Fatal(err)
			}
			kept = append(kept, c)
		}
		for range 3 * o.MaxConnections {
			dial(t, addr)
		}
		client := &http.Client{Timeout: failsafe}
		resp, err := client.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("scrape past %d idle connections: %d", 6*o.MaxConnections, resp.StatusCode)
		}
		// The kept-alive ones were idle longest: all closed.
		for i, c := range kept {
			if !closed(c) {
				t.Fatalf("kept-alive connection %d is still open", i)
			}
		}
		if v := gauge(t, reg, "imstats_exporter_http_open_connections"); v > float64(o.MaxConnections) {
			t.Errorf("%v connections open, over the cap of %d", v, o.MaxConnections)
		}
		if v := gauge(t, reg, "imstats_exporter_http_connections_closed_total", "reason", reasonIdleEvicted); v < float64(5*o.MaxConnections) {
			t.Errorf("%v idle connections evicted, want at least %d", v, 5*o.MaxConnections)
		}
	})

	t.Run("a new connection is closed when every one is busy", func(t *testing.T) {
		busy := make([]net.Conn, o.MaxConnections)
		for i := range busy {
			busy[i] = dial(t, addr)
			fmt.Fprint(busy[i], "GET /?block HTTP/1.1\r\nHost: x\r\n\r\n")
		}
		for range busy {
			select {
			case <-entered:
			case <-time.After(failsafe):
				t.Fatal("the blocking requests never started")
			}
		}
		if err := request(dial(t, addr), "/-/healthy"); err == nil {
			t.Error("a connection past the cap, none idle, was served")
		}
		if v := gauge(t, reg, "imstats_exporter_http_connections_closed_total", "reason", reasonConnLimit); v != 1 {
			t.Errorf("connections refused = %v, want 1", v)
		}
		close(release)
		// Busy ones finish and serve again.
		if _, err := http.ReadResponse(bufio.NewReader(busy[0]), nil); err != nil {
			t.Fatal(err)
		}
	})
}
