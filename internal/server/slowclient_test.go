package server

import (
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imstats/imstats_exporter/internal/webguard"
)

// smallSendBuffers gives every accepted connection a small send buffer, so
// that an answer to a client that does not read stalls after kilobytes,
// not after the megabytes loopback's autotuned buffers take.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// TestScrapeWhileClientsDoNotRead runs /metrics behind the web guard, as
// the exporter does, and fills every scrape slot with clients that ask
// for the page and never read it: a scrape that reads still gets the
// whole page, plain and gzip alike, and the clients that do not read are
// cut off.
func TestScrapeWhileClientsDoNotRead(t *testing.T) {
	t.Parallel()
	const series = 50000
	s := renderServer(t, series)
	o := webguard.DefaultOptions()
	o.MaxScrapes = 2
	o.WriteStallTimeout = time.Second
	reg := prometheus.NewRegistry()
	g, err := webguard.New(o, reg)
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{}, 2*o.MaxScrapes)
	srv := httptest.NewUnstartedServer(g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("bad") {
			w = &firstWrite{ResponseWriter: w, c: entered}
		}
		s.serveMetrics(w, r)
	})))
	srv.Listener = smallSendBuffers{srv.Listener}
	webguard.Configure(srv.Config, o)
	srv.Config.ConnState = g.ConnState
	srv.Start()
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	const failsafe = 30 * time.Second

	for _, gz := range []bool{false, true} {
		encoding := "identity"
		if gz {
			encoding = "gzip"
		}
		for range o.MaxScrapes {
			c, err := net.DialTimeout("tcp", addr, failsafe)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetReadBuffer(4 << 10)
			}
			fmt.Fprintf(c, "GET /metrics?bad HTTP/1.1\r\nHost: x\r\nAccept-Encoding: %s\r\n\r\n", encoding)
		}
		for range o.MaxScrapes {
			select {
			case <-entered:
			case <-time.After(failsafe):
				t.Fatalf("%s: the non-reading clients' answers never started", encoding)
			}
		}
		// Their answers are going out (or stuck): their slots are free.
		for deadline := time.Now().Add(failsafe); value(t, reg, "imstats_exporter_http_request_slots_in_use") != 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the non-reading clients still hold their scrape slots", encoding)
			}
		}

		req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		// Set by hand, the client leaves the body compressed.
		req.Header.Set("Accept-Encoding", encoding)
		resp, err := (&http.Client{Timeout: failsafe}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = resp.Body
		if gz {
			if body, err = gzip.NewReader(resp.Body); err != nil {
				t.Fatal(err)
			}
		}
		page, err := io.ReadAll(body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil || strings.Count(string(page), "\ntencent_im_push_task_target{") != series {
			t.Fatalf("%s scrape while %d clients do not read: status %d, %d bytes, %v; want 200 and %d series", encoding, o.MaxScrapes, resp.StatusCode, len(page), err, series)
		}
	}

	// Every client that did not read was cut off.
	const stalled = "imstats_exporter_http_answers_stalled_total"
	for deadline := time.Now().Add(failsafe); value(t, reg, stalled) < float64(2*o.MaxScrapes); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%v of %d answers to clients that do not read were cut off", value(t, reg, stalled), 2*o.MaxScrapes)
		}
	}
}

// firstWrite tells c when serveMetrics writes the answer's first bytes.
type firstWrite struct {
	http.ResponseWriter
	c    chan<- struct{}
	told bool
}

func (w *firstWrite) Write(p []byte) (int, error) {
	if !w.told {
		w.told = true
		w.c <- struct{}{}
	}
	return w.ResponseWriter.Write(p)
}

// value returns the value of the registry's first series named name: the
// scrape class's for imstats_exporter_http_request_slots_in_use.
func value(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) > 0 && m.GetLabel()[0].GetValue() != "scrape" {
				continue
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no %s", name)
	return 0
}
