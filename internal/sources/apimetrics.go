package sources

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// APIMetrics counts and times every request sent to a vendor, and counts
// the label values of the answers that the label limits refused. It lives
// for the whole process (reloads do not reset the counters).
type APIMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	dropped  *prometheus.CounterVec
}

// NewAPIMetrics creates the request metrics and registers them on reg.
func NewAPIMetrics(reg prometheus.Registerer) *APIMetrics {
	m := &APIMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "imstats_exporter",
			Name:      "api_requests_total",
			Help:      "Requests sent to a vendor API, by answer code (0 = ok, else the vendor error code, the HTTP status, network or invalid_response).",
		}, []string{"vendor", "api", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "imstats_exporter",
			Name:      "api_request_duration_seconds",
			Help:      "Time from sending a request to a vendor API to having its whole answer.",
			Buckets:   []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"vendor", "api"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "imstats_exporter",
			Name:      "labels_dropped_total",
			Help:      "Label values of vendor answers beyond limits.max_label_values (per family and app), each time an answer had one: summed into other, or dropped where a sum means nothing.",
		}, []string{"source", "app", "label"}),
	}
	reg.MustRegister(m.requests, m.duration, m.dropped)
	return m
}

// labelsDropped counts n label values of label refused by the limit of
// (source, app). A nil m counts nothing.
func (m *APIMetrics) labelsDropped(source, app, label string, n int) {
	if m != nil {
		m.dropped.WithLabelValues(source, app, label).Add(float64(n))
	}
}

// Observer returns the callback a vendor client calls once per request.
func (m *APIMetrics) Observer(vendor string) func(api, code string, d time.Duration) {
	return func(api, code string, d time.Duration) {
		m.requests.WithLabelValues(vendor, api, code).Inc()
		m.duration.WithLabelValues(vendor, api).Observe(d.Seconds())
	}
}
