// Package ratelimit holds the token buckets that keep the exporter inside the
// vendors' documented call rates. A bucket belongs to one credential and one
// API (or, for JPush, one AppKey across the Report API); every request a
// vendor client sends first takes a token from it.
package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/imstats/imstats_exporter/internal/clock"
)

// Bucket is a token bucket that can also be paused until a time the vendor
// names (a rate-limit error, or a quota header saying nothing is left).
type Bucket struct {
	clock    clock.Clock
	interval time.Duration // time to earn one token

	mu           sync.Mutex
	burst        float64
	tokens       float64
	last         time.Time
	blockedUntil time.Time
	remaining    int // last value the vendor reported; -1 when unknown
}

// Rate is a call rate: a token is earned every Interval, and at most Burst
// (at least 1) are saved up.
type Rate struct {
	Interval time.Duration
	Burst    int
}

// PerMinute is n calls a minute, with a burst of n/60 (at least 1) so that a
// minute's quota is never spent in a second.
func PerMinute(n int) Rate {
	n = max(n, 1)
	return Rate{Interval: time.Minute / time.Duration(n), Burst: max(1, n/60)}
}

// New returns a bucket allowing calls at rate r. It starts full.
func New(c clock.Clock, r Rate) *Bucket {
	burst := max(r.Burst, 1)
	return &Bucket{clock: c, interval: r.Interval, burst: float64(burst), tokens: float64(burst), last: c.Now(), remaining: -1}
}

// refill adds the tokens earned since the last call. Callers hold mu.
func (b *Bucket) refill(now time.Time) {
	if now.After(b.last) {
		if b.interval > 0 {
			b.tokens += float64(now.Sub(b.last)) / float64(b.interval)
		} else {
			b.tokens = b.burst
		}
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
		b.last = now
	}
}

// Wait takes a token, waiting until one is available or ctx ends. A wait
// cancelled by ctx gives its token back: no request was sent with it.
func (b *Bucket) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	now := b.clock.Now()
	b.refill(now)
	b.tokens--
	var wait time.Duration
	if b.tokens < 0 {
		wait = time.Duration(-b.tokens * float64(b.interval))
	}
	if d := b.blockedUntil.Sub(now); d > wait {
		wait = d
	}
	b.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	// The deadline is wall-clock time whatever clock the bucket uses.
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
		b.giveBack()
		return context.DeadlineExceeded
	}
	select {
	case <-b.clock.After(wait):
		return nil
	case <-ctx.Done():
		b.giveBack()
		return ctx.Err()
	}
}

func (b *Bucket) giveBack() {
	b.mu.Lock()
	b.tokens++
	b.mu.Unlock()
}

// BlockUntil stops the bucket from handing out tokens before t, as the vendor
// asked (a rate-limit error code, a 429 with a reset time).
func (b *Bucket) BlockUntil(t time.Time) {
	b.mu.Lock()
	if t.After(b.blockedUntil) {
		b.blockedUntil = t
	}
	b.mu.Unlock()
}

// Observe records what the vendor reported of its quota: remaining calls in
// the current window and the time until the window resets. When nothing is
// left, the bucket is blocked until the reset.
func (b *Bucket) Observe(remaining int, reset time.Duration) {
	b.mu.Lock()
	b.remaining = remaining
	now := b.clock.Now()
	if remaining <= 0 && reset > 0 {
		if t := now.Add(reset); t.After(b.blockedUntil) {
			b.blockedUntil = t
		}
	}
	b.refill(now)
	if float64(remaining) < b.tokens {
		b.tokens = float64(max(remaining, 0))
	}
	b.mu.Unlock()
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
