package collector

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/clock"
)

// Source fetches the data of one (source, app) pair from its vendor.
type Source interface {
	// Refresh asks the vendor and returns every metric of the new snapshot.
	// It may return metrics together with an error (a partial refresh): the
	// metrics are served and the refresh counts as failed.
	Refresh(ctx context.Context) ([]prometheus.Metric, error)
}

type publishKey struct{}

// Publish replaces the snapshot of the refresh running with ctx by metrics
// before the refresh ends. A source whose refresh is a long queue (many
// tracked IDs under a 1 call/s limit) publishes after each batch, so that a
// newly registered ID has numbers within seconds. Without a running refresh
// it does nothing.
func Publish(ctx context.Context, metrics []prometheus.Metric) {
	if f, ok := ctx.Value(publishKey{}).(func([]prometheus.Metric)); ok {
		f(metrics)
	}
}

// Tracker is implemented by sources that poll a set of tracked IDs.
type Tracker interface {
	// Tracked returns how many IDs are tracked, the cap, and how many were
	// evicted by the cap since the process started.
	Tracked() (n, limit int, evicted uint64)
}

// Target is one (source, app) pair the exporter keeps a snapshot of.
type Target struct {
	Source   string        // source name, one of config.SourceNames
	App      string        // sdkappid, app_key or group_key
	Interval time.Duration // snapshot TTL
	Fetcher  Source
}

// RefreshOptions tune the refresh machinery; zero values take defaults.
type RefreshOptions struct {
	Clock            clock.Clock
	Logger           log.Logger
	BackoffInitial   time.Duration // first wait after a failure (default 10s)
	BackoffMax       time.Duration // longest wait after failures (default 15m)
	UnavailableRetry time.Duration // wait after "not available to this account" (default 6h)
	RefreshTimeout   time.Duration // longest a single refresh may run (default 2m)
	// Jitter returns the wait actually used for a computed backoff d; the
	// default picks uniformly from [d/2, d).
	Jitter func(d time.Duration) time.Duration
}

func (o *RefreshOptions) defaults() {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	if o.BackoffInitial <= 0 {
		o.BackoffInitial = 10 * time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 15 * time.Minute
	}
	if o.UnavailableRetry <= 0 {
		o.UnavailableRetry = 6 * time.Hour
	}
	if o.RefreshTimeout <= 0 {
		o.RefreshTimeout = 2 * time.Minute
	}
	if o.Jitter == nil {
		o.Jitter = func(d time.Duration) time.Duration {
			return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
		}
	}
}

// state is what a target's last refresh left behind; it is replaced as a
// whole under entry.mu so that Collect always sees one consistent snapshot.
type state struct {
	metrics      []prometheus.Metric
	attempted    bool          // a refresh has finished at least once
	ok           bool          // the last refresh succeeded
	available    bool          // false after an Unavailable error
	lastSuccess  time.Time     // zero until the first success
	lastDuration time.Duration // how long the last refresh took
	next         time.Time     // no refresh is started before this
	failures     int           // consecutive failures
	verdict      string        // "ok" or the error's class and code, for logging changes only
}

type entry struct {
	target Target
	opts   *RefreshOptions

	mu       sync.Mutex
	st       state
	inflight chan struct{} // closed when the running refresh ends; nil when none runs
}

// due starts a refresh when the snapshot is stale and none is running, and
// returns the channel that is closed when the running refresh ends (nil when
// the snapshot is fresh).
func (e *entry) due(base context.Context) <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inflight != nil {
		return e.inflight
	}
	if e.opts.Clock.Now().Before(e.st.next) {
		return nil
	}
	done := make(chan struct{})
	e.inflight = done
	go e.run(base, done)
	return done
}

// kick starts a refresh now, even within the TTL, unless one is running
// (which will see what is new) or the target is backing off after a failure.
func (e *entry) kick(base context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inflight != nil || (e.st.failures > 0 && e.opts.Clock.Now().Before(e.st.next)) {
		return
	}
	e.inflight = make(chan struct{})
	go e.run(base, e.inflight)
}

func (e *entry) run(base context.Context, done chan struct{}) {
	defer close(done)
	ctx, cancel := context.WithTimeout(base, e.opts.RefreshTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, publishKey{}, func(m []prometheus.Metric) {
		e.mu.Lock()
		e.st.metrics = m
		e.mu.Unlock()
	})
	start := e.opts.Clock.Now()
	metrics, err := e.target.Fetcher.Refresh(ctx)
	end := e.opts.Clock.Now()
	metrics, dropped := dedupe(metrics)
	if dropped > 0 {
		level.Debug(e.opts.Logger).Log("msg", "dropped duplicate series from a vendor answer", "source", e.target.Source, "app", e.target.App, "dropped", dropped)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	e.inflight = nil
	prev := e.st
	st := prev
	st.attempted = true
	st.lastDuration = end.Sub(start)
	if metrics != nil {
		st.metrics = metrics
	}
	if err == nil {
		st.ok, st.available, st.failures = true, true, 0
		st.lastSuccess = end
		st.next = end.Add(e.target.Interval)
		st.verdict = "ok"
	} else {
		st.ok = false
		st.failures++
		st.next = end.Add(e.retryAfter(err, st.failures))
		class := apierr.ClassOf(err)
		st.available = class != apierr.Unavailable
		st.verdict = verdictOf(err)
	}
	e.st = st
	e.logChange(prev, st, err)
}

// dedupe drops the second and later of series with the same name and
// labels, and says how many it dropped: one duplicate would fail the whole
// scrape, and a vendor answer listing something twice must not do that.
// Sources that publish during a refresh dedupe each ID's answer as it
// arrives (see idPoller.store); this pass over the final result is the
// safety net, once per refresh, never per scrape.
func dedupe(metrics []prometheus.Metric) ([]prometheus.Metric, int) {
	type key struct {
		desc   *prometheus.Desc
		labels string
	}
	seen := make(map[key]bool, len(metrics))
	out := metrics[:0:0]
	for _, m := range metrics {
		k := key{desc: m.Desc()}
		if s, ok := m.(*sample); ok {
			k.labels = strings.Join(s.labels, "\xff")
		} else {
			var pb dto.Metric
			if err := m.Write(&pb); err != nil {
				continue
			}
			for _, lp := range pb.GetLabel() {
				k.labels += lp.GetValue() + "\xff"
			}
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, m)
		}
	}
	return out, len(metrics) - len(out)
}

// retryAfter is how long a target waits after its n-th consecutive failure.
func (e *entry) retryAfter(err error, n int) time.Duration {
	if apierr.ClassOf(err) == apierr.Unavailable {
		return e.opts.UnavailableRetry
	}
	d := e.opts.BackoffInitial
	for i := 1; i < n && d < e.opts.BackoffMax; i++ {
		d *= 2
	}
	d = e.opts.Jitter(min(d, e.opts.BackoffMax))
	if ra := apierr.RetryAfterOf(err); ra > d {
		d = ra
	}
	return d
}

func verdictOf(err error) string {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return fmt.Sprintf("%s/%s", ae.Class, ae.Code)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "error"
}

// logChange logs a refresh outcome only when it differs from the previous
// one, so that a failing vendor costs one log line, not one per scrape.
func (e *entry) logChange(prev, cur state, err error) {
	l := log.With(e.opts.Logger, "source", e.target.Source, "app", e.target.App)
	switch {
	case cur.verdict == prev.verdict:
		level.Debug(l).Log("msg", "refresh finished", "outcome", cur.verdict, "duration", cur.lastDuration)
	case err == nil && prev.attempted:
		level.Info(l).Log("msg", "refresh recovered", "after_failures", prev.failures)
	case err == nil:
		level.Debug(l).Log("msg", "first refresh succeeded", "duration", cur.lastDuration)
	case !cur.available:
		level.Warn(l).Log("msg", "source not available to this account; polling rarely", "retry_in", cur.next.Sub(e.opts.Clock.Now()), "err", err)
	default:
		level.Warn(l).Log("msg", "refresh failed; serving last good values", "retry_in", cur.next.Sub(e.opts.Clock.Now()), "err", err)
	}
}

func (e *entry) snapshot() state {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.st
}
