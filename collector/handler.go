package collector

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Holder is the prometheus.Collector registered once for the process; it
// serves whichever Exporter the last successful configuration load built.
type Holder struct {
	mu  sync.RWMutex
	cur *Exporter
}

// Swap installs e, carries the previous exporter's snapshots over, closes the
// previous one and returns it.
func (h *Holder) Swap(e *Exporter) *Exporter {
	h.mu.Lock()
	prev := h.cur
	e.Inherit(prev)
	h.cur = e
	h.mu.Unlock()
	if prev != nil {
		prev.Close()
	}
	return prev
}

func (h *Holder) current() *Exporter {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.cur
}

// Describe implements prometheus.Collector (unchecked).
func (h *Holder) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector over the current exporter.
func (h *Holder) Collect(ch chan<- prometheus.Metric) {
	if e := h.current(); e != nil {
		e.Collect(ch)
	}
}

// Prepare refreshes the current exporter's stale snapshots within ctx.
func (h *Holder) Prepare(ctx context.Context) {
	if e := h.current(); e != nil {
		e.Prepare(ctx)
	}
}

// Kick starts a refresh of (source, app) in the current exporter.
func (h *Holder) Kick(source, app string) {
	if e := h.current(); e != nil {
		e.Kick(source, app)
	}
}

// ScrapeTimeoutHeader is the header in which Prometheus tells its scrape timeout.
const ScrapeTimeoutHeader = "X-Prometheus-Scrape-Timeout-Seconds"

// ScrapeWait returns how long a scrape may wait for refreshes: the timeout
// Prometheus announced minus margin, capped by maxWait; maxWait when the
// header is absent or unparsable; never negative.
func ScrapeWait(r *http.Request, margin, maxWait time.Duration) time.Duration {
	wait := maxWait
	if v := r.Header.Get(ScrapeTimeoutHeader); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 && secs < 1e6 {
			wait = min(time.Duration(secs*float64(time.Second))-margin, maxWait)
		}
	}
	return max(wait, 0)
}

// Handler serves /metrics: it gives stale snapshots until the scrape's
// deadline to refresh, then renders whatever snapshot there is. limits
// returns the configured margin and longest wait (read per scrape, so that a
// reload applies).
func Handler(h *Holder, g prometheus.Gatherer, limits func() (margin, maxWait time.Duration), opts promhttp.HandlerOpts) http.Handler {
	render := promhttp.HandlerFor(g, opts)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		margin, maxWait := limits()
		ctx, cancel := context.WithTimeout(r.Context(), ScrapeWait(r, margin, maxWait))
		h.Prepare(ctx)
		cancel()
		render.ServeHTTP(w, r)
	})
}
