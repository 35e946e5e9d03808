package collector

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/clock"
)

var testDesc = prometheus.NewDesc("test_value", "Test value.", nil, nil)

// fakeSource answers each Refresh with the next scripted result; when gate is
// set, a refresh blocks until the gate is closed.
type fakeSource struct {
	calls   atomic.Int32
	gate    chan struct{}
	mu      sync.Mutex
	results []error // error per call; nil = success; past the end: success
	value   float64
}

func (f *fakeSource) Refresh(ctx context.Context) ([]prometheus.Metric, error) {
	n := int(f.calls.Add(1))
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var err error
	if n <= len(f.results) {
		err = f.results[n-1]
	}
	if err != nil {
		return nil, err
	}
	f.value = float64(n)
	return []prometheus.Metric{prometheus.MustNewConstMetric(testDesc, prometheus.GaugeValue, f.value)}, nil
}

func newTestExporter(src Source, fc *clock.Fake, logger log.Logger) *Exporter {
	return NewExporter([]Target{{Source: "tencent_operations", App: "1400000000", Interval: time.Minute, Fetcher: src}}, nil, RefreshOptions{
		Clock:          fc,
		Logger:         logger,
		BackoffInitial: 10 * time.Second,
		BackoffMax:     time.Minute,
		Jitter:         func(d time.Duration) time.Duration { return d },
	})
}

func TestConcurrentScrapesShareOneRefresh(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(time.Unix(1700000000, 0))
	src := &fakeSource{gate: make(chan struct{})}
	e := newTestExporter(src, fc, nil)
	defer e.Close()

	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.Prepare(context.Background())
		}()
	}
	for src.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(src.gate)
	wg.Wait()
	if got := src.calls.Load(); got != 1 {
		t.Fatalf("20 concurrent scrapes made %d refreshes, want 1", got)
	}
	// Within the TTL nothing is refreshed again.
	for range 20 {
		e.Prepare(context.Background())
	}
	if got := src.calls.Load(); got != 1 {
		t.Fatalf("scrapes within the TTL made %d refreshes, want 1", got)
	}
	fc.Advance(time.Minute)
	e.Prepare(context.Background())
	if got := src.calls.Load(); got != 2 {
		t.Fatalf("a scrape after the TTL made %d refreshes in all, want 2", got)
	}
}

func TestScrapeDeadlineServesLastSnapshot(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(time.Unix(1700000000, 0))
	src := &fakeSource{}
	e := newTestExporter(src, fc, nil)
	defer e.Close()
	e.Prepare(context.Background()) // first snapshot: value 1

	src.gate = make(chan struct{})
	fc.Advance(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	returned := make(chan struct{})
	go func() {
		e.Prepare(ctx)
		close(returned)
	}()
	for src.calls.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	cancel() // the scrape's deadline passes while the vendor is still answering
	<-returned
	want := "# HELP test_value Test value.\n# TYPE test_value gauge\ntest_value 1\n"
	if err := testutil.CollectAndCompare(e, strings.NewReader(want), "test_value"); err != nil {
		t.Fatalf("after the deadline: %v", err)
	}
	close(src.gate) // the refresh finishes after the scrape gave up ...
	for snapshotValue(t, e) != 2 {
		time.Sleep(time.Millisecond)
	}
	// ... and the next scrape serves it without another call.
	e.Prepare(context.Background())
	if got := src.calls.Load(); got != 2 {
		t.Fatalf("refreshes = %d, want 2", got)
	}
}

func snapshotValue(t *testing.T, e *Exporter) float64 {
	t.Helper()
	var m dto.Metric
	if err := e.entries[0].snapshot().metrics[0].Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	transient := &apierr.Error{Class: apierr.Transient, Code: "500"}
	for _, tc := range []struct {
		name  string
		errs  []error
		waits []time.Duration // wait before each retry; a retry one second earlier must not happen
	}{
		{"exponential, capped", []error{transient, transient, transient, transient}, []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute}},
		{"rate limited waits what the vendor asks", []error{&apierr.Error{Class: apierr.RateLimited, Code: "70050", RetryAfter: 90 * time.Second}}, []time.Duration{90 * time.Second}},
		{"unavailable is polled rarely", []error{&apierr.Error{Class: apierr.Unavailable, Code: "90045"}}, []time.Duration{6 * time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fc := clock.NewFake(time.Unix(1700000000, 0))
			src := &fakeSource{results: tc.errs}
			e := newTestExporter(src, fc, nil)
			defer e.Close()
			e.Prepare(context.Background())
			for i, w := range tc.waits {
				fc.Advance(w - time.Second)
				e.Prepare(context.Background())
				if got := int(src.calls.Load()); got != i+1 {
					t.Fatalf("retry %d happened before %v", i+1, w)
				}
				fc.Advance(time.Second)
				e.Prepare(context.Background())
				if got := int(src.calls.Load()); got != i+2 {
					t.Fatalf("retry %d did not happen after %v (calls %d)", i+1, w, got)
				}
			}
		})
	}
}

func TestFailureKeepsLastValuesAndLogsOncePerChange(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(time.Unix(1700000000, 0))
	boom := &apierr.Error{Vendor: "tencent_im", API: "openconfigsvr/getappinfo", Class: apierr.Transient, Code: "502", Message: "bad gateway"}
	src := &fakeSource{results: []error{nil, boom, boom, boom, &apierr.Error{Class: apierr.Unavailable, Code: "90045"}}}
	var buf bytes.Buffer
	e := newTestExporter(src, fc, log.NewLogfmtLogger(log.NewSyncWriter(&buf)))
	defer e.Close()

	e.Prepare(context.Background())
	for range 3 {
		fc.Advance(time.Hour)
		e.Prepare(context.Background())
	}
	want := `# HELP imstats_exporter_refresh_success Whether the last refresh of the source for the app succeeded (1) or failed (0).
# TYPE imstats_exporter_refresh_success gauge
imstats_exporter_refresh_success{app="1400000000",source="tencent_operations"} 0
# HELP imstats_exporter_source_available Whether the account may use the source's API (0 after a not-permitted or not-enabled answer).
# TYPE imstats_exporter_source_available gauge
imstats_exporter_source_available{app="1400000000",source="tencent_operations"} 1
# HELP imstats_exporter_last_refresh_success_timestamp_seconds Unix time of the last successful refresh of the source for the app.
# TYPE imstats_exporter_last_refresh_success_timestamp_seconds gauge
imstats_exporter_last_refresh_success_timestamp_seconds{app="1400000000",source="tencent_operations"} 1.7e+09
# HELP test_value Test value.
# TYPE test_value gauge
test_value 1
`
	if err := testutil.CollectAndCompare(e, strings.NewReader(want), "test_value", "imstats_exporter_refresh_success",
		"imstats_exporter_source_available", "imstats_exporter_last_refresh_success_timestamp_seconds"); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "refresh failed"); n != 1 {
		t.Fatalf("3 identical failures logged %d times, want once:\n%s", n, buf.String())
	}
	fc.Advance(time.Hour)
	e.Prepare(context.Background())
	if e.entries[0].snapshot().available {
		t.Fatal("source still available after 90045")
	}
	if !strings.Contains(buf.String(), "source not available") {
		t.Fatalf("unavailability not logged:\n%s", buf.String())
	}
	fc.Advance(7 * time.Hour)
	e.Prepare(context.Background())
	if !strings.Contains(buf.String(), "refresh recovered") {
		t.Fatalf("recovery not logged:\n%s", buf.String())
	}
	if !e.entries[0].snapshot().available {
		t.Fatal("source still unavailable after a success")
	}
}

func TestInheritCarriesSnapshotsAcrossReload(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(time.Unix(1700000000, 0))
	src := &fakeSource{}
	old := newTestExporter(src, fc, nil)
	old.Prepare(context.Background())

	var h Holder
	h.Swap(old)
	next := newTestExporter(src, fc, nil)
	if prev := h.Swap(next); prev != old {
		t.Fatal("Swap did not return the previous exporter")
	}
	h.Prepare(context.Background())
	if got := src.calls.Load(); got != 1 {
		t.Fatalf("a reload within the TTL made %d calls in all, want 1", got)
	}
	if got := snapshotValue(t, next); got != 1 {
		t.Fatalf("inherited value = %v, want 1", got)
	}
	if !errors.Is(old.ctx.Err(), context.Canceled) {
		t.Fatal("the replaced exporter was not closed")
	}
}

func TestScrapeWait(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", 10 * time.Second},
		{"3", 2500 * time.Millisecond},
		{"0.2", 0},
		{"60", 10 * time.Second},
		{"garbage", 10 * time.Second},
		{"-1", 10 * time.Second},
	} {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if tc.header != "" {
			r.Header.Set(ScrapeTimeoutHeader, tc.header)
		}
		if got := ScrapeWait(r, 500*time.Millisecond, 10*time.Second); got != tc.want {
			t.Errorf("header %q: wait %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestKick(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(time.Unix(1700000000, 0))
	src := &fakeSource{results: []error{nil, nil, &apierr.Error{Class: apierr.Transient, Code: "500"}}}
	e := newTestExporter(src, fc, nil)
	defer e.Close()
	e.Prepare(context.Background())
	wait := func(n int32) {
		t.Helper()
		for src.calls.Load() < n {
			time.Sleep(time.Millisecond)
		}
		// Let the refresh record its outcome.
		e.Prepare(context.Background())
	}
	e.Kick("tencent_operations", "other") // another app: nothing
	e.Kick("tencent_operations", "1400000000")
	wait(2)
	e.Kick("tencent_operations", "1400000000")
	wait(3) // fails: backing off
	e.Kick("tencent_operations", "1400000000")
	if got := src.calls.Load(); got != 3 {
		t.Fatalf("a kick during backoff refreshed: %d calls, want 3", got)
	}
}

// dupSource answers with the same series twice.
type dupSource struct{}

func (dupSource) Refresh(context.Context) ([]prometheus.Metric, error) {
	m := prometheus.MustNewConstMetric(testDesc, prometheus.GaugeValue, 1)
	return []prometheus.Metric{m, m}, nil
}

func TestDuplicateSeriesNeverFailTheScrape(t *testing.T) {
	t.Parallel()
	e := newTestExporter(dupSource{}, clock.NewFake(time.Unix(1700000000, 0)), nil)
	defer e.Close()
	e.Prepare(context.Background())
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("gather with a duplicate from the vendor: %v", err)
	}
}
