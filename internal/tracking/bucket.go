package tracking

import "time"

// bucket is a token bucket of size tokens refilled evenly over a minute: it
// bounds how many new IDs the HTTP API registers per minute. Its zero value
// (size 0) admits everything. It is guarded by Set.mu.
type bucket struct {
	size   int
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

// resize sets the bucket's size, keeping the tokens left (a new or grown
// bucket starts full up to the old level plus the growth, never above size).
func (b *bucket) resize(size int, now time.Time) {
	if size <= 0 {
		*b = bucket{}
		return
	}
	if b.size == 0 {
		*b = bucket{size: size, tokens: float64(size), at: now}
		return
	}
	b.refill(now)
	b.tokens = min(b.tokens+float64(size-b.size), float64(size))
	b.size = size
}

// refill adds the tokens earned since the last update.
func (b *bucket) refill(now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(b.tokens+d.Minutes()*float64(b.size), float64(b.size))
	}
	b.at = now
}

// take takes n tokens if there are that many, or else reports how long until
// there will be (for n above the size, how long until the bucket is full).
func (b *bucket) take(n int, now time.Time) (wait time.Duration, ok bool) {
	if b.size <= 0 || n <= 0 {
		return 0, true
	}
	b.refill(now)
	if float64(n) <= b.tokens {
		b.tokens -= float64(n)
		return 0, true
	}
	need := min(float64(n), float64(b.size)) - b.tokens
	return time.Duration(need / float64(b.size) * float64(time.Minute)), false
}
