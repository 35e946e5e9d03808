package refresh

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/go-kit/log/level"

	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/clock"
)

// Job is the work behind a target: a periodic refresh, or a queue of
// tracked IDs asked for a batch at a time.
type Job interface {
	// Step does the next unit of work (typically one vendor call), puts
	// what it learned into t, and returns how long to wait before the
	// next step. woken says that the job's Wake channel fired since the
	// last step. An error keeps the values already in t; the loop backs
	// off.
	Step(ctx context.Context, t *Target, woken bool) (wait time.Duration, err error)
	// Wake returns a channel that cuts a wait short (new tracked IDs), or
	// nil.
	Wake() <-chan struct{}
}

// Options tune a target's loop; zero values take defaults. A reload
// replaces them with Configure.
type Options struct {
	Clock            clock.Clock
	BackoffInitial   time.Duration // first wait after a failure (default 10s)
	BackoffMax       time.Duration // longest wait after failures (default 15m)
	UnavailableRetry time.Duration // wait after "not available to this account" (default 6h)
	StepTimeout      time.Duration // longest a single step may run (default 2m)
	// OnDemand makes the loop wait, once a step's wait is over, until a
	// scrape asks for fresh data (Target.Demand): a source refreshed on
	// scrape costs the vendor nothing while nobody scrapes. A step that
	// returns no wait (more of its round to do) is followed at once.
	OnDemand bool
	// Jitter returns the wait actually used for a computed backoff d; the
	// default picks uniformly from [d/2, d).
	Jitter func(d time.Duration) time.Duration
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = clock.Real{}
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
	if o.StepTimeout <= 0 {
		o.StepTimeout = 2 * time.Minute
	}
	if o.Jitter == nil {
		o.Jitter = func(d time.Duration) time.Duration {
			return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
		}
	}
	return o
}

// Loop runs a Job for a Target until its context ends.
type Loop struct {
	target *Target
	job    Job
	opts   atomic.Pointer[Options]
}

// NewLoop returns the loop of job over t with opts.
func NewLoop(t *Target, job Job, opts Options) *Loop {
	l := &Loop{target: t, job: job}
	l.Configure(opts)
	return l
}

// Configure replaces the loop's options; the next wait uses them.
func (l *Loop) Configure(opts Options) {
	o := opts.withDefaults()
	l.opts.Store(&o)
}

// Run steps the job until ctx ends. When it returns, the target is ready
// (Target.Ready is closed) even if no step finished: a scrape waiting for the
// first snapshot of a unit that a reload cancelled is released at once
// instead of waiting its whole budget for a step that will never come.
func (l *Loop) Run(ctx context.Context) {
	defer l.target.release()
	woken := false
	for {
		o := l.opts.Load()
		stepCtx, cancel := context.WithTimeout(ctx, o.StepTimeout)
		start := o.Clock.Now()
		wait, err := l.job.Step(stepCtx, l.target, woken)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if backoff := l.finish(o, start, o.Clock.Now(), err); err != nil {
			wait = backoff
		}
		var ok bool
		if woken, ok = l.sleep(ctx, o, wait, err == nil); !ok {
			return
		}
		if o.OnDemand && !woken && wait > 0 {
			if woken, ok = l.awaitDemand(ctx); !ok {
				return
			}
		}
	}
}

// sleep waits d, or less when the job's Wake channel fires and wakeable is
// set. It reports whether it was woken, and false when ctx ended.
func (l *Loop) sleep(ctx context.Context, o *Options, d time.Duration, wakeable bool) (woken, ok bool) {
	var wake <-chan struct{}
	if wakeable {
		wake = l.job.Wake()
	}
	if d <= 0 {
		select {
		case <-ctx.Done():
			return false, false
		case <-wake:
			return true, true
		default:
			return false, true
		}
	}
	select {
	case <-ctx.Done():
		return false, false
	case <-o.Clock.After(d):
		return false, true
	case <-wake:
		return true, true
	}
}

// awaitDemand waits for a scrape's demand or the job's Wake channel.
func (l *Loop) awaitDemand(ctx context.Context) (woken, ok bool) {
	select {
	case <-ctx.Done():
		return false, false
	case <-l.target.demand:
		return false, true
	case <-l.job.Wake():
		return true, true
	}
}

// finish records a step's outcome in the target's health, logs a change of
// outcome, and returns the backoff after a failure.
func (l *Loop) finish(o *Options, start, end time.Time, err error) time.Duration {
	t := l.target
	t.mu.Lock()
	prev, prevVerdict := t.health, t.verdict
	h := prev
	h.Attempted = true
	h.LastDuration = end.Sub(start)
	var wait time.Duration
	if err == nil {
		h.OK, h.Available, h.Failures = true, true, 0
		h.LastSuccess = end
		t.verdict = "ok"
	} else {
		h.OK = false
		h.Failures++
		h.Available = apierr.ClassOf(err) != apierr.Unavailable
		wait = retryAfter(o, err, h.Failures)
		t.verdict = verdictOf(err)
	}
	t.health = h
	verdict := t.verdict
	t.mu.Unlock()
	t.release()
	logChange(t, prev, prevVerdict, h, verdict, wait, err)
	return wait
}

// retryAfter is how long a target waits after its n-th consecutive failure.
func retryAfter(o *Options, err error, n int) time.Duration {
	if apierr.ClassOf(err) == apierr.Unavailable {
		return o.UnavailableRetry
	}
	d := o.BackoffInitial
	for i := 1; i < n && d < o.BackoffMax; i++ {
		d *= 2
	}
	d = o.Jitter(min(d, o.BackoffMax))
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

// logChange logs a step's outcome only when it differs from the previous
// one, so that a failing vendor costs one log line, not one per step.
func logChange(t *Target, prev Health, prevVerdict string, cur Health, verdict string, wait time.Duration, err error) {
	switch {
	case verdict == prevVerdict:
		level.Debug(t.logger).Log("msg", "refresh step finished", "outcome", verdict, "duration", cur.LastDuration)
	case err == nil && prev.Attempted:
		level.Info(t.logger).Log("msg", "refresh recovered", "after_failures", prev.Failures)
	case err == nil:
		level.Debug(t.logger).Log("msg", "first refresh succeeded", "duration", cur.LastDuration)
	case !cur.Available:
		level.Warn(t.logger).Log("msg", "source not available to this account; polling rarely", "retry_in", wait, "err", err)
	default:
		level.Warn(t.logger).Log("msg", "refresh failed; serving last good values", "retry_in", wait, "err", err)
	}
}
