package server

import (
	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/prometheus/client_golang/prometheus"
)

const namespace = "imstats_exporter"

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

var (
	refreshSuccessDesc  = desc("refresh_success", "Whether the last refresh step of the source for the app succeeded (1) or failed (0).", "source", "app")
	lastSuccessDesc     = desc("last_refresh_success_timestamp_seconds", "Unix time of the last successful refresh step of the source for the app.", "source", "app")
	refreshDurationDesc = desc("last_refresh_duration_seconds", "How long the last refresh step of the source for the app took.", "source", "app")
	availableDesc       = desc("source_available", "Whether the account may use the source's API (0 after a not-permitted or not-enabled answer).", "source", "app")
	intervalDesc        = desc("refresh_interval_seconds", "Configured refresh interval of the source for the app.", "source", "app")
	seriesDesc          = desc("series", "Series the source currently exports for the app.", "source", "app")
	trackedDesc         = desc("tracked_ids", "Number of push task or message IDs the source polls for the app.", "source", "app")
	trackedLimitDesc    = desc("tracked_ids_limit", "Most IDs the source tracks for the app (tracking.max_ids_per_app).", "source", "app")
	evictedDesc         = desc("tracked_ids_evicted_total", "IDs dropped oldest-first because the per-app cap was reached.", "source", "app")
	saveFailuresDesc    = desc("state_save_failures_total", "Failed saves of the app's tracked-ID state file.", "source", "app")
	stateDurableDesc    = desc("state_durable", "Whether the app's tracked-ID state file holds every acknowledged ID (0 while saves fail).", "source", "app")
	rateLimitDesc       = desc("rate_limit_remaining", "Calls left in the vendor's current rate-limit window, as the vendor last reported it.", "vendor", "app")
)

// healthCollector exports the state of every target, tracked-ID set and
// rate-limit bucket: a few series per (source, app), built per scrape.
type healthCollector struct{ s *Server }

// Describe sends nothing: the collector is unchecked, its series follow the
// configuration.
func (healthCollector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c healthCollector) Collect(ch chan<- prometheus.Metric) {
	units := c.s.units.Load()
	cfg := c.s.safe.Get()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	for _, u := range units.units {
		t := u.target
		h := t.Health()
		gauge(refreshSuccessDesc, boolFloat(h.OK), t.Source, t.App)
		gauge(availableDesc, boolFloat(h.Available), t.Source, t.App)
		gauge(intervalDesc, cfg.RefreshIntervals.For(t.Source).Seconds(), t.Source, t.App)
		gauge(seriesDesc, float64(h.Series), t.Source, t.App)
		if h.Attempted {
			gauge(refreshDurationDesc, h.LastDuration.Seconds(), t.Source, t.App)
		}
		if !h.LastSuccess.IsZero() {
			gauge(lastSuccessDesc, float64(h.LastSuccess.UnixNano())/1e9, t.Source, t.App)
		}
		if u.set != nil {
			st := u.set.Stats()
			gauge(trackedDesc, float64(st.Tracked), t.Source, t.App)
			gauge(trackedLimitDesc, float64(st.Limit), t.Source, t.App)
			counter(evictedDesc, float64(st.Evicted), t.Source, t.App)
			counter(saveFailuresDesc, float64(st.SaveFailures), t.Source, t.App)
			gauge(stateDurableDesc, boolFloat(st.Durable), t.Source, t.App)
		}
	}
	for _, rl := range c.s.rateLimits() {
		if n, ok := rl.remaining(); ok {
			gauge(rateLimitDesc, float64(n), rl.vendor, rl.app)
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// rateLimit names a bucket whose vendor-reported quota is exported.
type rateLimit struct {
	vendor, app string
	remaining   func() (int, bool)
}

// rateLimits returns the buckets of the configured JPush apps and groups:
// JPush is the vendor that reports its quota.
func (s *Server) rateLimits() []rateLimit {
	cfg := s.safe.Get()
	var out []rateLimit
	for _, a := range cfg.JPush {
		out = append(out, rateLimit{catalog.VendorJPush, a.AppKey, s.deps.Limiters.JPushRemaining(a.AppKey, false)})
	}
	for _, g := range cfg.JPushGroups {
		out = append(out, rateLimit{catalog.VendorJPush, g.GroupKey, s.deps.Limiters.JPushRemaining(g.GroupKey, true)})
	}
	return out
}
