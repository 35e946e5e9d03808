package collector

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// normalPushAnswer decodes a testdata answer the way the exporter does: the
// Tencent IM client reading it from a server.
func normalPushAnswer(t *testing.T, name string) tencentim.NormalPushResult {
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
	c := tencentim.New(tencentim.Options{SDKAppID: 1400000000, Identifier: "admin", SecretKey: "k", BaseURL: srv.URL})
	end := time.Now()
	r, err := c.NormalPushStatistics(context.Background(), end.Add(-24*time.Hour), end)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestNormalPushWindowSamples compares the mapping with exposition text
// written by hand: from the vendor's documented sample (Tencent Chat "普通推送
// 数据统计", https://trtc.io/zh/document/71897), and from an answer with a
// null count, an unknown platform code and a channel listed twice.
func TestNormalPushWindowSamples(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		answer, window, want string
	}{
		{"normal_push_sample.json", "24h", "normal_push_sample.prom"},
		{"normal_push_mixed.json", "7d", "normal_push_mixed.prom"},
	} {
		t.Run(tc.answer, func(t *testing.T) {
			t.Parallel()
			got := NormalPushWindowSamples("1400000000", tc.window, normalPushAnswer(t, tc.answer), nil)
			want, err := os.ReadFile(filepath.Join("testdata", tc.want))
			if err != nil {
				t.Fatal(err)
			}
			if err := testutil.CollectAndCompare(sampleCollector(got), strings.NewReader(string(want))); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestNormalPushWindowSamplesEmpty(t *testing.T) {
	t.Parallel()
	if got := NormalPushWindowSamples("1400000000", "24h", tencentim.NormalPushResult{}, nil); len(got) != 0 {
		t.Errorf("%d series from an answer without counts, want none", len(got))
	}
}
