package collector

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/imstats/imstats_exporter/internal/clock"
)

// staticSamples is a source whose snapshot is fixed.
type staticSamples []prometheus.Metric

func (s staticSamples) Refresh(context.Context) ([]prometheus.Metric, error) { return s, nil }

// BenchmarkRenderSamples renders /metrics from snapshots of compact samples,
// as the sources build them (pushTaskFamily), sorted by task as tencent_push
// publishes them: the production path of BENCHMARKS.md (a). Compare with
// BenchmarkRender/…/client_golang in bench_test.go.
func BenchmarkRenderSamples(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("series=%d", n), func(b *testing.B) {
			snapshot := make(staticSamples, n)
			for i := range snapshot {
				snapshot[i] = pushTaskFamily[0].gauge(float64(i), "1400000000", fmt.Sprintf("1400000000_144115212910570789_%010d_17000000", i))
			}
			exp := NewExporter([]Target{{Source: "tencent_push", App: "1400000000", Interval: time.Hour, Fetcher: snapshot}}, nil, RefreshOptions{Clock: clock.NewFake(time.Unix(1700000000, 0))})
			defer exp.Close()
			var h Holder
			h.Swap(exp)
			reg := prometheus.NewRegistry()
			reg.MustRegister(&h)
			handler := Handler(&h, reg, func() (time.Duration, time.Duration) { return 0, time.Second }, promhttp.HandlerOpts{})
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			for b.Loop() {
				handler.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
