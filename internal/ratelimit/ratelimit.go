// Package ratelimit holds the token buckets that keep the exporter inside the
// vendors' documented call rates. A bucket belongs to one credential and one
// API (or, for JPush, one AppKey across the Report API); every request a
// vendor client sends first takes a token from it.
//
// The token bucket itself is golang.org/x/time/rate's, driven by the bucket's
// clock.Clock so that a fake clock drives it in tests. This package adds what
// the vendors need on top: a pause until a time the vendor names (BlockUntil,
// Observe), the quota the vendor last reported (Remaining), and spacing
// between calls as the vendor sees them (Rate.MinGap, Done).
package ratelimit

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/imstats/imstats_exporter/internal/clock"
)

// Rate is a call rate: a token is earned every Interval (0: no limit), and at
// most Burst (at least 1) are saved up.
//
// MinGap, when positive, also spaces the calls as the vendor sees them. A
// token bucket spaces the moments calls are granted, but a vendor counts the
// moments they arrive: a call held up on the way arrives late, and the next,
// granted one Interval later and sent at once, can arrive right behind it.
// A bucket with a MinGap therefore lets one call out at a time and starts it
// no earlier than MinGap after the previous one completed (Done). A call
// arrives before it completes and the next one arrives after it starts, so
// arrivals are at least MinGap apart whatever the network does.
type Rate struct {
	Interval time.Duration
	Burst    int
	MinGap   time.Duration
}

// PerMinute is n calls a minute, with a burst of n/60 (at least 1) so that a
// minute's quota is never spent in a second.
func PerMinute(n int) Rate {
	n = max(n, 1)
	return Rate{Interval: time.Minute / time.Duration(n), Burst: max(1, n/60)}
}

// Bucket is a token bucket that can also be paused until a time the vendor
// names (a rate-limit error, or a quota header saying nothing is left) and,
// with a Rate.MinGap, spaces calls from the end of the previous one. It is
// safe for concurrent use.
type Bucket struct {
	clock  clock.Clock
	lim    *rate.Limiter
	minGap time.Duration
	// slot, for a bucket with a MinGap, holds the one call in flight from
	// Wait to Done; nil otherwise.
	slot chan struct{}

	// mu guards the fields below. It is taken after slot, never before,
	// and nothing outside this package is called while it is held.
	mu           sync.Mutex
	blockedUntil time.Time
	remaining    int       // last value the vendor reported; -1 when unknown
	lastEnd      time.Time // when the last call completed (Done)
}

// New returns a bucket allowing calls at rate r. It starts full.
func New(c clock.Clock, r Rate) *Bucket {
	b := &Bucket{clock: c, lim: rate.NewLimiter(r.limit(), max(r.Burst, 1)), minGap: r.MinGap, remaining: -1}
	if r.MinGap > 0 {
		b.slot = make(chan struct{}, 1)
	}
	return b
}

// limit is r's token rate.
func (r Rate) limit() rate.Limit {
	if r.Interval > 0 {
		return rate.Every(r.Interval)
	}
	return rate.Inf
}

// SetRate changes the bucket's rate and burst from now on, keeping what it
// has spent (a reload that changes a configured rate must not refill it).
// The MinGap stays the one the bucket was made with.
func (b *Bucket) SetRate(r Rate) {
	now := b.clock.Now()
	b.lim.SetLimitAt(now, r.limit())
	b.lim.SetBurstAt(now, max(r.Burst, 1))
}

// Wait takes a token, waiting until one is available, the bucket is no
// longer blocked and, with a MinGap, the previous call is Done and MinGap
// has passed since, or until ctx ends. A wait cancelled by ctx gives its
// token back: no request was sent with it. After a Wait that returned nil, a
// bucket with a MinGap needs Done once the request completed; Done is
// harmless on other buckets.
func (b *Bucket) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.slot != nil {
		select {
		case b.slot <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := b.wait(ctx); err != nil {
		if b.slot != nil {
			<-b.slot
		}
		return err
	}
	return nil
}

// wait waits out the vendor's pause and the gap, then takes a token at the
// time the call may go: a token taken earlier, at a time still blocked, would
// let a later caller's reservation be timed before this one. A pause the
// vendor asks for while the token is awaited is waited out too.
func (b *Bucket) wait(ctx context.Context) error {
	var r *rate.Reservation
	for {
		b.mu.Lock()
		now := b.clock.Now()
		until := b.blockedUntil
		if b.minGap > 0 && !b.lastEnd.IsZero() {
			until = later(until, b.lastEnd.Add(b.minGap))
		}
		var d time.Duration
		switch {
		case until.After(now):
			d = until.Sub(now)
		case r == nil:
			r = b.lim.ReserveN(now, 1)
			d = r.DelayFrom(now)
		}
		b.mu.Unlock()
		if d <= 0 {
			return nil
		}
		if err := b.sleep(ctx, d); err != nil {
			if r != nil {
				r.CancelAt(b.clock.Now())
			}
			return err
		}
	}
}

// sleep waits d on the bucket's clock, or until ctx ends. It gives up at once
// when ctx's deadline, which is wall-clock time whatever clock the bucket
// uses, comes before d is over.
func (b *Bucket) sleep(ctx context.Context, d time.Duration) error {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return context.DeadlineExceeded
	}
	select {
	case <-b.clock.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done records that the call a Wait let out completed at end (when its
// answer was read, or when it failed). On a bucket with a MinGap it lets the
// next call start MinGap after end; on others it does nothing. A Done without
// a Wait is ignored.
func (b *Bucket) Done(end time.Time) {
	if b.slot == nil {
		return
	}
	b.mu.Lock()
	b.lastEnd = later(b.lastEnd, end)
	b.mu.Unlock()
	select {
	case <-b.slot:
	default:
	}
}

// BlockUntil stops the bucket from handing out tokens before t, as the vendor
// asked (a rate-limit error code, a 429 with a reset time).
func (b *Bucket) BlockUntil(t time.Time) {
	b.mu.Lock()
	b.blockedUntil = later(b.blockedUntil, t)
	b.mu.Unlock()
}

// Observe records what the vendor reported of its quota: remaining calls in
// the current window and the time until the window resets. The bucket keeps
// no more tokens than remain, and when nothing is left it is blocked until
// the reset.
func (b *Bucket) Observe(remaining int, reset time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.remaining = remaining
	now := b.clock.Now()
	if remaining <= 0 && reset > 0 {
		b.blockedUntil = later(b.blockedUntil, now.Add(reset))
	}
	// Spending the surplus at once, without waiting for it, brings the
	// bucket down to what the vendor says is left.
	if surplus := math.Ceil(b.lim.TokensAt(now) - float64(max(remaining, 0))); surplus > 0 && surplus <= float64(b.lim.Burst()) {
		b.lim.ReserveN(now, int(surplus))
	}
}

// Remaining returns the last quota the vendor reported, and false when it has
// never reported one.
func (b *Bucket) Remaining() (int, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.remaining, b.remaining >= 0
}

// BlockedUntil returns the time before which no token is handed out.
func (b *Bucket) BlockedUntil() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.blockedUntil
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
