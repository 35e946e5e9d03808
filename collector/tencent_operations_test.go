package collector

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// serveFile answers every request with a testdata file.
func serveFile(t *testing.T, name string) *httptest.Server {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// collectSource refreshes src once and returns a collector over the result.
func collectSource(t *testing.T, src Source) prometheus.Collector {
	t.Helper()
	metrics, err := src.Refresh(context.Background())
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	return metricsCollector(metrics)
}

type metricsCollector []prometheus.Metric

func (m metricsCollector) Describe(chan<- *prometheus.Desc) {}
func (m metricsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, x := range m {
		ch <- x
	}
}

func shanghai(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func newTestTencentClient(url string) *tencentim.Client {
	return tencentim.New(tencentim.Options{SDKAppID: 1400000000, Identifier: "admin", SecretKey: "k", BaseURL: url})
}

func TestTencentOperationsSeedSample(t *testing.T) {
	t.Parallel()
	srv := serveFile(t, "getappinfo.json")
	client := tencentim.New(tencentim.Options{SDKAppID: 1104620500, Identifier: "admin", SecretKey: "k", BaseURL: srv.URL})
	src := newTencentOperations(client, 1104620500, shanghai(t), log.NewNopLogger())
	want, err := os.ReadFile(filepath.Join("testdata", "getappinfo.prom"))
	if err != nil {
		t.Fatal(err)
	}
	if err := testutil.CollectAndCompare(collectSource(t, src), bytes.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

func TestTencentOperationsMessyValues(t *testing.T) {
	t.Parallel()
	srv := serveFile(t, "getappinfo_messy.json")
	var logs bytes.Buffer
	src := newTencentOperations(newTestTencentClient(srv.URL), 1400000000, time.UTC, log.NewLogfmtLogger(&logs))
	// The latest valid Date wins; numbers sent as numbers and padded strings
	// are read; n/a, null and an out-of-range value give no series.
	want := `# HELP tencent_im_active_users Active users on the day (getappinfo ActiveUserNum).
# TYPE tencent_im_active_users gauge
tencent_im_active_users{sdkappid="1400000000"} 2014
# HELP tencent_im_downstream_messages Downstream one-to-one and group messages on the day (getappinfo DownMsgNum).
# TYPE tencent_im_downstream_messages gauge
tencent_im_downstream_messages{sdkappid="1400000000"} 42
# HELP tencent_im_operations_day_timestamp_seconds Start of the day (in the configured timezone) the tencent_im operations values are for (getappinfo Date).
# TYPE tencent_im_operations_day_timestamp_seconds gauge
tencent_im_operations_day_timestamp_seconds{sdkappid="1400000000"} 1.4652576e+09
`
	c := collectSource(t, src)
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c, "tencent_im_max_online_users", "tencent_im_logins", "tencent_im_upstream_messages"); n != 0 {
		t.Fatalf("unparsable values produced %d series", n)
	}
	if !strings.Contains(logs.String(), "fields=MaxOnlineNum,UpMsgNum") {
		t.Fatalf("the unparsable fields were not named in a warning:\n%s", logs.String())
	}
	// The same problem on the next refresh is not logged again.
	logs.Reset()
	collectSource(t, src)
	if logs.Len() != 0 {
		t.Fatalf("repeated warning:\n%s", logs.String())
	}
}

func TestLatestOperationsDayIsComplete(t *testing.T) {
	t.Parallel()
	loc := shanghai(t)
	rows := []tencentim.AppInfoRow{
		{"Date": "20261129", "ActiveUserNum": "1"},
		{"Date": "20261201", "ActiveUserNum": "3"}, // today in Shanghai: still running
		{"Date": "20261130", "ActiveUserNum": "2"},
		{"Date": "2026-11-30", "ActiveUserNum": "9"},
		{"Date": "20261202", "ActiveUserNum": "4"}, // a day not yet begun
	}
	for _, tc := range []struct {
		name string
		now  time.Time
		want string
	}{
		{"today's row is skipped", time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC), "20261130"},
		{"Shanghai's day starts at 16:00 UTC", time.Date(2026, 11, 30, 16, 30, 0, 0, time.UTC), "20261130"},
		{"before it, 20261130 is still running", time.Date(2026, 11, 30, 15, 30, 0, 0, time.UTC), "20261129"},
		{"everything ended", time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), "20261202"},
	} {
		row, day, ok := latestOperationsDay(rows, tc.now, loc)
		if !ok || row["Date"] != tc.want || day.Format("20060102") != tc.want {
			t.Errorf("%s: row %v day %v ok %v, want %s", tc.name, row, day, ok, tc.want)
		}
	}
	if _, _, ok := latestOperationsDay(rows[1:2], time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC), loc); ok {
		t.Error("only today's row: want no complete day")
	}
}

func TestTencentOperationsEmptyResult(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"ErrorCode":0,"ErrorInfo":"OK","Result":[]}`))
	}))
	defer srv.Close()
	src := newTencentOperations(newTestTencentClient(srv.URL), 1400000000, time.UTC, log.NewNopLogger())
	metrics, err := src.Refresh(context.Background())
	if err != nil || len(metrics) != 0 {
		t.Fatalf("empty Result: %d metrics, err %v; want none and no error", len(metrics), err)
	}
}
