package collector

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSampleWritesAsConstMetric(t *testing.T) {
	t.Parallel()
	f := newFamily("test_funnel", "Test funnel.", "msg_id", "channel", "app_key")
	want := prometheus.MustNewConstMetric(prometheus.NewDesc("test_funnel", "Test funnel.", []string{"msg_id", "channel", "app_key"}, nil), prometheus.GaugeValue, 42, "1613113584", "xiaomi", "k")
	wantText := gatherText(t, metricsCollector{want})
	if got := gatherText(t, metricsCollector{f.gauge(42, "1613113584", "xiaomi", "k")}); got != wantText {
		t.Fatalf("sample renders as\n%s\nconst metric as\n%s", got, wantText)
	}
	// A vendor's invalid UTF-8 is repaired rather than failing the scrape.
	got := gatherText(t, metricsCollector{f.gauge(1, "bad\xffid", "xiaomi", "k")})
	if !strings.Contains(got, "msg_id=\"bad\uFFFDid\"") {
		t.Fatalf("invalid UTF-8 not repaired:\n%s", got)
	}
	if n := testutil.CollectAndCount(metricsCollector{f.gauge(1, "a", "b", "c")}); n != 1 {
		t.Fatalf("count %d", n)
	}
}
