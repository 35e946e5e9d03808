package ratelimit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
)

// take runs Wait in a goroutine and reports whether it returned before the
// fake clock was advanced by adv.
func take(t *testing.T, fc *clocktest.Fake, b *Bucket, adv time.Duration) (immediate bool) {
	t.Helper()
	done := make(chan error, 1)
	waiters := fc.Waiters()
	go func() { done <- b.Wait(context.Background()) }()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return true
		default:
		}
		if fc.Waiters() > waiters {
			break
		}
		time.Sleep(time.Millisecond)
	}
	fc.Advance(adv)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return false
}

func TestBucketSpacesCalls(t *testing.T) {
	t.Parallel()
	fc := clocktest.NewFake(time.Unix(1700000000, 0))
	b := New(fc, Rate{Interval: time.Second, Burst: 1})
	if !take(t, fc, b, 0) {
		t.Fatal("the first call waited on a full bucket")
	}
	start := fc.Now()
	if take(t, fc, b, time.Second) {
		t.Fatal("the second call did not wait")
	}
	if got := fc.Now().Sub(start); got != time.Second {
		t.Fatalf("second call after %v, want 1s", got)
	}
	fc.Advance(5 * time.Second) // idle time refills at most one token (burst 1)
	if !take(t, fc, b, 0) {
		t.Fatal("a call after idle time waited")
	}
	if take(t, fc, b, time.Second) {
		t.Fatal("burst exceeded 1 after idle time")
	}
}

func TestBucketBlockAndObserve(t *testing.T) {
	t.Parallel()
	fc := clocktest.NewFake(time.Unix(1700000000, 0))
	b := New(fc, PerMinute(2400))
	if _, ok := b.Remaining(); ok {
		t.Fatal("Remaining known before the vendor said anything")
	}
	b.Observe(0, 30*time.Second)
	if n, ok := b.Remaining(); !ok || n != 0 {
		t.Fatalf("Remaining = %d, %v", n, ok)
	}
	if !b.BlockedUntil().Equal(fc.Now().Add(30 * time.Second)) {
		t.Fatalf("blocked until %v", b.BlockedUntil())
	}
	if take(t, fc, b, 30*time.Second) {
		t.Fatal("a call went out with no quota left")
	}
	b.BlockUntil(fc.Now().Add(time.Minute))
	if take(t, fc, b, time.Minute) {
		t.Fatal("a call went out while blocked")
	}
}

func TestBucketCancelGivesTokenBack(t *testing.T) {
	t.Parallel()
	fc := clocktest.NewFake(time.Unix(1700000000, 0))
	b := New(fc, Rate{Interval: time.Second, Burst: 1})
	_ = b.Wait(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	cancel()
	if err := b.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	// Had the cancelled wait kept its token, the next call would wait 2 s.
	start := fc.Now()
	take(t, fc, b, time.Second)
	if got := fc.Now().Sub(start); got != time.Second {
		t.Fatalf("next call waited %v, want 1s", got)
	}
}

func TestBucketRefusesWaitPastDeadline(t *testing.T) {
	t.Parallel()
	fc := clocktest.NewFake(time.Unix(1700000000, 0))
	b := New(fc, Rate{Interval: time.Hour, Burst: 1})
	_ = b.Wait(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a wait longer than the deadline: err = %v", err)
	}
}

// waitFor returns once fc has more than n waiters.
func waitFor(fc *clocktest.Fake, n int) {
	for fc.Waiters() <= n {
		time.Sleep(time.Millisecond)
	}
}

// startsAfter checks that a Wait begun now returns exactly d later.
func startsAfter(t *testing.T, fc *clocktest.Fake, b *Bucket, d time.Duration) {
	t.Helper()
	base := fc.Waiters()
	done := make(chan error, 1)
	go func() { done <- b.Wait(context.Background()) }()
	waitFor(fc, base)
	fc.Advance(d - time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("started early (err %v)", err)
	default:
	}
	if fc.Waiters() <= base {
		t.Fatal("the wait ended before its time")
	}
	fc.Advance(time.Millisecond)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestBucketUnlimited(t *testing.T) {
	t.Parallel()
	fc := clocktest.NewFake(time.Unix(1700000000, 0))
	b := New(fc, Rate{})
	for i := range 100 {
		if !take(t, fc, b, 0) {
			t.Fatalf("call %d waited on a bucket without a limit", i)
		}
	}
}

// TestBucketMinGapSpacesFromDone is the case of a call held up on its way:
// a bucket that spaced grants only would let the next call out 1 s after the
// previous one started, 300 ms after it ended.
func TestBucketMinGapSpacesFromDone(t *testing.T) {
	t.Parallel()
	fc := clocktest.NewFake(time.Unix(1700000000, 0))
	b := New(fc, Rate{Interval: time.Second, Burst: 1, MinGap: time.Second})
	if !take(t, fc, b, 0) {
		t.Fatal("the first call waited on a full bucket")
	}
	for _, latency := range []time.Duration{700 * time.Millisecond, 0, 2 * time.Second, 50 * time.Millisecond} {
		fc.Advance(latency)
		b.Done(fc.Now())
		startsAfter(t, fc, b, time.Second)
	}
}

func TestBucketMinGapOneCallAtATime(t *testing.T) {
	t.Parallel()
	fc := clocktest.NewFake(time.Unix(1700000000, 0))
	b := New(fc, Rate{Interval: time.Second, Burst: 1, MinGap: time.Second})
	if err := b.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Wait(context.Background()) }()
	fc.Advance(10 * time.Second) // the first call is still in flight
	select {
	case err := <-done:
		t.Fatalf("a second call started while the first was in flight (err %v)", err)
	case <-time.After(20 * time.Millisecond):
	}
	b.Done(fc.Now())
	waitFor(fc, 0)
	fc.Advance(time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := fc.Now(); !got.Equal(time.Unix(1700000011, 0)) {
		t.Fatalf("second call started at %v", got)
	}

	// A caller that gives up while another call is in flight takes no slot.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- b.Wait(ctx) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	b.Done(fc.Now())
	startsAfter(t, fc, b, time.Second)
	b.Done(fc.Now())
	b.Done(fc.Now()) // a stray Done is ignored
	startsAfter(t, fc, b, time.Second)
}

func TestBucketMinGapCancelledWaitFreesTheSlot(t *testing.T) {
	t.Parallel()
	fc := clocktest.NewFake(time.Unix(1700000000, 0))
	b := New(fc, Rate{Interval: time.Second, Burst: 1, MinGap: time.Second})
	_ = b.Wait(context.Background())
	b.Done(fc.Now())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Wait(ctx) }() // waits out the gap, holding the slot
	waitFor(fc, 0)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	startsAfter(t, fc, b, time.Second)
}

func TestBucketObserveSpendsTheSurplus(t *testing.T) {
	t.Parallel()
	fc := clocktest.NewFake(time.Unix(1700000000, 0))
	b := New(fc, PerMinute(2400)) // a burst of 40
	b.Observe(1, time.Minute)
	if !take(t, fc, b, 0) {
		t.Fatal("the one call the vendor has left waited")
	}
	startsAfter(t, fc, b, PerMinute(2400).Interval)
}

func TestBucketBlockedWhileWaitingForAToken(t *testing.T) {
	t.Parallel()
	fc := clocktest.NewFake(time.Unix(1700000000, 0))
	start := fc.Now()
	b := New(fc, Rate{Interval: time.Second, Burst: 1})
	_ = b.Wait(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Wait(context.Background()) }()
	waitFor(fc, 0)
	b.BlockUntil(start.Add(5 * time.Second))
	fc.Advance(time.Second) // the token is earned, the block still holds
	waitFor(fc, 0)
	select {
	case <-done:
		t.Fatal("a call went out while the bucket was blocked")
	default:
	}
	fc.Advance(4 * time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSetRateKeepsWhatWasSpent(t *testing.T) {
	t.Parallel()
	fc := clocktest.NewFake(time.Unix(1700000000, 0))
	b := New(fc, Rate{Interval: time.Second, Burst: 2})
	ctx := context.Background()
	for range 2 {
		if err := b.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// A new rate with a larger burst must not hand out the spent tokens
	// again: the next token comes after the new interval.
	b.SetRate(Rate{Interval: 2 * time.Second, Burst: 4})
	done := make(chan error, 1)
	go func() { done <- b.Wait(ctx) }()
	for fc.Waiters() == 0 {
		time.Sleep(time.Millisecond)
	}
	select {
	case <-done:
		t.Fatal("a token was handed out right after SetRate")
	default:
	}
	fc.Advance(2 * time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
