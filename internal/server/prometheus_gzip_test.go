package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/expo"
)

// TestPrometheusReadsTheGzipBody has real Prometheus servers scrape the
// segmented gzip body (asking for OpenMetrics and gzip, as they do) while
// series change between scrapes, and checks that they store every series:
// a body they could not decode would make up 0. The prometheus on PATH is
// used, and each binary IMSTATS_TEST_PROMETHEUS lists (colon-separated),
// such as a Prometheus 3 build; the test skips without any.
func TestPrometheusReadsTheGzipBody(t *testing.T) {
	var bins []string
	if p, err := exec.LookPath("prometheus"); err == nil {
		bins = append(bins, p)
	}
	for _, p := range strings.Split(os.Getenv("IMSTATS_TEST_PROMETHEUS"), ":") {
		if p != "" {
			bins = append(bins, p)
		}
	}
	if len(bins) == 0 {
		t.Skip("no prometheus on PATH or in IMSTATS_TEST_PROMETHEUS")
	}
	const n = 20_000
	s := renderServer(t, n)
	target := s.units.Load().units[0].target
	srv := httptest.NewServer(http.HandlerFunc(s.serveMetrics))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	go func() { // a new generation, with one changed segment, every 200 ms
		for i := 0; ctx.Err() == nil; i++ {
			id := renderTask(i % n)
			target.Put(id, []expo.Sample{benchFamily.Gauge(float64(-i), "1400000000", id)})
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	for _, bin := range bins {
		t.Run(filepath.Base(filepath.Dir(bin))+"/"+filepath.Base(bin), func(t *testing.T) {
			promReadsAll(ctx, t, bin, srv.Listener.Addr().String(), n)
		})
	}
}

// promReadsAll runs the Prometheus at bin scraping addr every second until
// three scrapes in a row stored n series of the bench family.
func promReadsAll(ctx context.Context, t *testing.T, bin, addr string, n int) {
	dir := t.TempDir()
	cfg := fmt.Sprintf("global: {scrape_interval: 1s, scrape_timeout: 1s}\nscrape_configs:\n- job_name: gz\n  static_configs: [{targets: [%q]}]\n", addr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	web := l.Addr().String()
	l.Close()
	cmd := exec.CommandContext(ctx, bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+web)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	query := func(q string) (float64, bool) {
		resp, err := http.Get("http://" + web + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return 0, false
		}
		defer resp.Body.Close()
		var r struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(body, &r) != nil || len(r.Data.Result) != 1 {
			return 0, false
		}
		str, _ := r.Data.Result[0].Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		return v, err == nil
	}
	for ctx.Err() == nil {
		up, ok1 := query(`min_over_time(up{job="gz"}[3s])`)
		count, ok2 := query(`count(tencent_im_push_task_target{job="gz"})`)
		if ok1 && ok2 && up == 1 && count == float64(n) {
			return
		}
		if ok1 && up == 0 {
			t.Fatalf("Prometheus failed a scrape; its logs:\n%s", logs.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("Prometheus did not store the %d series in time; its logs:\n%s", n, logs.String())
}

// syncBuffer is a bytes.Buffer a process writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
