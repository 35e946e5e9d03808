// Package collector turns the vendors' statistics into Prometheus metrics.
//
// Each (source, app) pair is a Target whose Source fetches from the vendor.
// The Exporter keeps one snapshot per target with a TTL: a scrape that finds a
// snapshot stale starts one refresh, shared by every concurrent scrape, and
// waits for it at most until the scrape's deadline; Collect only ever reads
// snapshots, so /metrics never blocks on a vendor.
package collector

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imstats/imstats_exporter/internal/ratelimit"
)

const namespace = "imstats_exporter"

// RateLimit names a vendor rate-limit bucket whose vendor-reported remaining
// quota is exported.
type RateLimit struct {
	Vendor string
	App    string
	Bucket *ratelimit.Bucket
}

// Exporter serves the snapshots of its targets and its own health metrics.
type Exporter struct {
	entries    []*entry
	rateLimits []RateLimit
	opts       RefreshOptions

	ctx    context.Context // parent of every refresh; cancelled by Close
	cancel context.CancelFunc
}

var (
	refreshSuccessDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "refresh_success"),
		"Whether the last refresh of the source for the app succeeded (1) or failed (0).", []string{"source", "app"}, nil)
	lastSuccessDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "last_refresh_success_timestamp_seconds"),
		"Unix time of the last successful refresh of the source for the app.", []string{"source", "app"}, nil)
	refreshDurationDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "last_refresh_duration_seconds"),
		"How long the last refresh of the source for the app took.", []string{"source", "app"}, nil)
	availableDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "source_available"),
		"Whether the account may use the source's API (0 after a not-permitted or not-enabled answer).", []string{"source", "app"}, nil)
	intervalDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "refresh_interval_seconds"),
		"Configured time to live of the source's snapshot for the app.", []string{"source", "app"}, nil)
	trackedDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "tracked_ids"),
		"Number of push task or message IDs the source polls for the app.", []string{"source", "app"}, nil)
	trackedLimitDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "tracked_ids_limit"),
		"Most IDs the source tracks for the app (tracking.max_ids_per_app).", []string{"source", "app"}, nil)
	evictedDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "tracked_ids_evicted_total"),
		"IDs dropped oldest-first because the per-app cap was reached.", []string{"source", "app"}, nil)
	rateLimitDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "rate_limit_remaining"),
		"Calls left in the vendor's current rate-limit window, as the vendor last reported it.", []string{"vendor", "app"}, nil)
)

// NewExporter returns an Exporter for targets. Call Close when it is replaced.
func NewExporter(targets []Target, rateLimits []RateLimit, opts RefreshOptions) *Exporter {
	opts.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	e := &Exporter{rateLimits: rateLimits, opts: opts, ctx: ctx, cancel: cancel}
	for _, t := range targets {
		e.entries = append(e.entries, &entry{target: t, opts: &e.opts, st: state{available: true}})
	}
	return e
}

// inheritor is a source with state of its own to take over from the source
// it replaces on a reload.
type inheritor interface {
	inheritFrom(old Source)
}

// Inherit copies the snapshots of prev's targets into the targets of e with
// the same source and app, and lets their sources take over what the old
// ones knew, so that a configuration reload does not blank the metrics or
// trigger a burst of vendor calls.
func (e *Exporter) Inherit(prev *Exporter) {
	if prev == nil {
		return
	}
	old := make(map[[2]string]*entry, len(prev.entries))
	for _, pe := range prev.entries {
		old[[2]string{pe.target.Source, pe.target.App}] = pe
	}
	for _, ne := range e.entries {
		pe, ok := old[[2]string{ne.target.Source, ne.target.App}]
		if !ok {
			continue
		}
		st := pe.snapshot()
		ne.mu.Lock()
		ne.st = st
		ne.mu.Unlock()
		if in, ok := ne.target.Fetcher.(inheritor); ok {
			in.inheritFrom(pe.target.Fetcher)
		}
	}
}

// Close cancels the refreshes still running.
func (e *Exporter) Close() { e.cancel() }

// Prepare starts a refresh of every stale snapshot (a refresh already running
// is shared, not repeated) and waits until they end or ctx is done, whichever
// comes first. Refreshes outlive ctx: a scrape that gives up still leaves the
// refresh to finish for the next one.
func (e *Exporter) Prepare(ctx context.Context) {
	var wg sync.WaitGroup
	for _, en := range e.entries {
		done := en.due(e.ctx)
		if done == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-done:
			case <-ctx.Done():
			}
		}()
	}
	wg.Wait()
}

// Kick starts a refresh of the target (source, app) now, if it exists, is
// not already refreshing and is not backing off: a newly tracked ID gets
// numbers without waiting for the TTL.
func (e *Exporter) Kick(source, app string) {
	for _, en := range e.entries {
		if en.target.Source == source && en.target.App == app {
			en.kick(e.ctx)
		}
	}
}

// Describe sends nothing: the exporter is an unchecked collector, its series
// depend on what the vendors answer.
func (e *Exporter) Describe(chan<- *prometheus.Desc) {}

// Collect sends the current snapshot of every target and the exporter's own
// health metrics. It never calls a vendor.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	for _, en := range e.entries {
		st := en.snapshot()
		t := en.target
		for _, m := range st.metrics {
			ch <- m
		}
		ch <- prometheus.MustNewConstMetric(refreshSuccessDesc, prometheus.GaugeValue, boolFloat(st.ok), t.Source, t.App)
		ch <- prometheus.MustNewConstMetric(availableDesc, prometheus.GaugeValue, boolFloat(st.available), t.Source, t.App)
		ch <- prometheus.MustNewConstMetric(intervalDesc, prometheus.GaugeValue, t.Interval.Seconds(), t.Source, t.App)
		if st.attempted {
			ch <- prometheus.MustNewConstMetric(refreshDurationDesc, prometheus.GaugeValue, st.lastDuration.Seconds(), t.Source, t.App)
		}
		if !st.lastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(lastSuccessDesc, prometheus.GaugeValue, float64(st.lastSuccess.UnixNano())/1e9, t.Source, t.App)
		}
		if tr, ok := t.Fetcher.(Tracker); ok {
			n, limit, evicted := tr.Tracked()
			ch <- prometheus.MustNewConstMetric(trackedDesc, prometheus.GaugeValue, float64(n), t.Source, t.App)
			ch <- prometheus.MustNewConstMetric(trackedLimitDesc, prometheus.GaugeValue, float64(limit), t.Source, t.App)
			ch <- prometheus.MustNewConstMetric(evictedDesc, prometheus.CounterValue, float64(evicted), t.Source, t.App)
		}
	}
	for _, rl := range e.rateLimits {
		if n, ok := rl.Bucket.Remaining(); ok {
			ch <- prometheus.MustNewConstMetric(rateLimitDesc, prometheus.GaugeValue, float64(n), rl.Vendor, rl.App)
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
