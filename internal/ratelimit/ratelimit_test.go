package ratelimit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/clock"
)

// take runs Wait in a goroutine and reports whether it returned before the
// fake clock was advanced by adv.
func take(t *testing.T, fc *clock.Fake, b *Bucket, adv time.Duration) (immediate bool) {
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
	fc := clock.NewFake(time.Unix(1700000000, 0))
	b := New(fc, Rate{time.Second, 1})
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
	fc := clock.NewFake(time.Unix(1700000000, 0))
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
	fc := clock.NewFake(time.Unix(1700000000, 0))
	b := New(fc, Rate{time.Second, 1})
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
	fc := clock.NewFake(time.Unix(1700000000, 0))
	b := New(fc, Rate{time.Hour, 1})
	_ = b.Wait(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a wait longer than the deadline: err = %v", err)
	}
}
