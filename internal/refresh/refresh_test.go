package refresh

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
	"github.com/imstats/imstats_exporter/internal/expo"
)

var (
	testFamily = expo.NewFamily("test_value", "Test value.", "app")
	testSchema = expo.NewSchema(testFamily)
)

// scriptedJob answers each step with the next scripted error (nil past the
// end) and puts the step's number as the value; it tells the test about
// every step on steps.
type scriptedJob struct {
	calls atomic.Int32
	errs  []error
	wait  time.Duration
	wake  chan struct{}
	steps chan bool // woken flag of each step
}

func (j *scriptedJob) Step(_ context.Context, t *Target, woken bool) (time.Duration, error) {
	n := int(j.calls.Add(1))
	defer func() { j.steps <- woken }()
	if n <= len(j.errs) && j.errs[n-1] != nil {
		return 0, j.errs[n-1]
	}
	t.Put("", []expo.Sample{testFamily.Gauge(float64(n), "a")})
	return j.wait, nil
}

func (j *scriptedJob) Wake() <-chan struct{} { return j.wake }

// run starts the loop of job on a fake clock and returns the target and the
// clock; the loop stops with the test.
func run(t *testing.T, job *scriptedJob, opts Options, logger log.Logger) (*Target, *clocktest.Fake) {
	t.Helper()
	fc := clocktest.NewFake(time.Unix(1700000000, 0))
	opts.Clock = fc
	if opts.Jitter == nil {
		opts.Jitter = func(d time.Duration) time.Duration { return d }
	}
	job.steps = make(chan bool, 16)
	target := NewTarget("src", "app", testSchema, logger)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { NewLoop(target, job, opts).Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return target, fc
}

// step waits for the loop's next step and for it to start waiting again.
func step(t *testing.T, job *scriptedJob, fc *clocktest.Fake) bool {
	t.Helper()
	select {
	case woken := <-job.steps:
		waitForWaiter(t, fc)
		return woken
	case <-time.After(10 * time.Second):
		t.Fatal("the loop did not step")
		return false
	}
}

func waitForWaiter(t *testing.T, fc *clocktest.Fake) {
	t.Helper()
	for range 1000 {
		if fc.Waiters() > 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// noStep fails if the loop steps within a short real time.
func noStep(t *testing.T, job *scriptedJob, what string) {
	t.Helper()
	select {
	case <-job.steps:
		t.Fatalf("the loop stepped %s", what)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	transient := &apierr.Error{Class: apierr.Transient, Code: "500"}
	for _, tc := range []struct {
		name  string
		errs  []error
		waits []time.Duration // wait before each retry
	}{
		{"exponential, capped", []error{transient, transient, transient, transient}, []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute}},
		{"rate limited waits what the vendor asks", []error{&apierr.Error{Class: apierr.RateLimited, Code: "70050", RetryAfter: 90 * time.Second}}, []time.Duration{90 * time.Second}},
		{"unavailable is polled rarely", []error{&apierr.Error{Class: apierr.Unavailable, Code: "90045"}}, []time.Duration{6 * time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			job := &scriptedJob{errs: tc.errs, wait: time.Hour}
			_, fc := run(t, job, Options{BackoffInitial: 10 * time.Second, BackoffMax: time.Minute}, nil)
			step(t, job, fc)
			for i, w := range tc.waits {
				fc.Advance(w - time.Second)
				noStep(t, job, "before its backoff ended")
				fc.Advance(time.Second)
				step(t, job, fc)
				if got := int(job.calls.Load()); got != i+2 {
					t.Fatalf("retry %d: %d steps, want %d", i+1, got, i+2)
				}
			}
		})
	}
}

func TestFailureKeepsLastValuesAndLogsOncePerChange(t *testing.T) {
	t.Parallel()
	boom := &apierr.Error{Vendor: "tencent_im", API: "openconfigsvr/getappinfo", Class: apierr.Transient, Code: "502", Message: "bad gateway"}
	var buf safeBuffer
	job := &scriptedJob{errs: []error{nil, boom, boom, boom, &apierr.Error{Class: apierr.Unavailable, Code: "90045"}}, wait: time.Minute}
	target, fc := run(t, job, Options{}, log.NewLogfmtLogger(&buf))
	step(t, job, fc)
	for range 4 {
		fc.Advance(time.Hour)
		step(t, job, fc)
	}
	h := target.Health()
	if h.OK || h.Available || h.Failures != 4 || h.Series != 1 {
		t.Fatalf("health after 3 failures and a 90045 = %+v; want failed, unavailable, 4 failures, the first value kept", h)
	}
	if n := strings.Count(buf.String(), "refresh failed"); n != 1 {
		t.Fatalf("3 identical failures logged %d times, want once:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "source not available") {
		t.Fatalf("unavailability not logged:\n%s", buf.String())
	}
	fc.Advance(6 * time.Hour)
	step(t, job, fc)
	if h := target.Health(); !h.OK || !h.Available {
		t.Fatalf("health after a success = %+v", h)
	}
	if !strings.Contains(buf.String(), "refresh recovered") {
		t.Fatalf("recovery not logged:\n%s", buf.String())
	}
}

func TestOnDemandWaitsForAScrape(t *testing.T) {
	t.Parallel()
	job := &scriptedJob{wait: time.Minute}
	target, fc := run(t, job, Options{OnDemand: true}, nil)
	step(t, job, fc)
	select {
	case <-target.Ready():
	default:
		t.Fatal("Ready not closed after the first step")
	}
	fc.Advance(time.Hour)
	noStep(t, job, "with nobody scraping")
	target.Demand()
	if woken := step(t, job, fc); woken {
		t.Fatal("a demand reported as a wake")
	}
}

func TestWakeCutsTheWaitShort(t *testing.T) {
	t.Parallel()
	job := &scriptedJob{wait: time.Hour, wake: make(chan struct{}, 1)}
	_, fc := run(t, job, Options{}, nil)
	step(t, job, fc)
	job.wake <- struct{}{}
	if woken := step(t, job, fc); !woken {
		t.Fatal("the step after a wake was not told it was woken")
	}
}

func TestTargetPutRetain(t *testing.T) {
	t.Parallel()
	target := NewTarget("src", "app", testSchema, nil)
	for _, k := range []string{"a", "b", "c", "d"} {
		target.Put(k, []expo.Sample{testFamily.Gauge(1, k)})
	}
	target.Put("b", []expo.Sample{testFamily.Gauge(2, "b"), testFamily.Gauge(2, "b")})
	target.Retain(func(k string) bool { return k != "a" && k != "c" })
	g := expo.Group{Schema: testSchema}
	gen := target.Gen()
	target.Lend(&g)
	if g.Counts[0] != 2 {
		t.Fatalf("the group counts %v series, want 2", g.Counts)
	}
	var buf bytes.Buffer
	if err := expo.Write(&buf, expo.Text, []expo.Group{g}); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	if strings.Contains(got, `app="a"`) || strings.Contains(got, `app="c"`) || !strings.Contains(got, `test_value{app="b"} 2`) || !strings.Contains(got, `test_value{app="d"} 1`) {
		t.Fatalf("snapshot after put and retain:\n%s", got)
	}
	if h := target.Health(); h.Series != 2 {
		t.Fatalf("Series = %d, want 2", h.Series)
	}
	target.Put("e", []expo.Sample{testFamily.Gauge(1, "e")})
	if target.Gen() == gen {
		t.Fatal("the generation did not change with the snapshot")
	}
}

func TestQueueOrder(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	p := QueuePolicy{BatchSize: 2, Interval: time.Minute, SettledInterval: time.Hour, SettledAfter: 24 * time.Hour}
	q := NewQueue()
	q.Sync([]QueueID{{"new1", now}, {"new2", now.Add(-time.Hour)}, {"old", now.Add(-48 * time.Hour)}})
	batch, _ := q.Next(now, p)
	if strings.Join(batch, ",") != "new1,new2" {
		t.Fatalf("first batch %v, want the never-asked newest first", batch)
	}
	q.Done(batch, now)
	batch, _ = q.Next(now, p)
	if strings.Join(batch, ",") != "old" {
		t.Fatalf("second batch %v", batch)
	}
	q.Done(batch, now)
	batch, wait := q.Next(now.Add(30*time.Second), p)
	if len(batch) != 0 || wait != 30*time.Second {
		t.Fatalf("nothing is due: got %v, wait %v; want none, 30s", batch, wait)
	}
	batch, _ = q.Next(now.Add(2*time.Minute), p)
	if strings.Join(batch, ",") != "new1,new2" {
		t.Fatalf("unsettled IDs are asked again after Interval, settled ones not: got %v", batch)
	}
	tracked := q.Sync([]QueueID{{"new1", now}})
	if tracked("new2") || !tracked("new1") || q.Len() != 1 {
		t.Fatal("Sync did not follow the tracked list")
	}
}

// safeBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// blockingJob's first step waits until its context ends, as a vendor call
// or a rate-limit wait does.
type blockingJob struct{ started chan struct{} }

func (j *blockingJob) Step(ctx context.Context, _ *Target, _ bool) (time.Duration, error) {
	close(j.started)
	<-ctx.Done()
	return 0, ctx.Err()
}

func (j *blockingJob) Wake() <-chan struct{} { return nil }

// TestCancelBeforeFirstStepReleasesWaiters checks that a scrape waiting for
// the first snapshot of a unit is released when the unit is cancelled (a
// reload removed it) before its first step finished, not at the end of the
// scrape's budget.
func TestCancelBeforeFirstStepReleasesWaiters(t *testing.T) {
	t.Parallel()
	fc := clocktest.NewFake(time.Unix(1700000000, 0))
	job := &blockingJob{started: make(chan struct{})}
	target := NewTarget("src", "app", testSchema, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { NewLoop(target, job, Options{Clock: fc}).Run(ctx); close(done) }()
	waiter := make(chan struct{})
	go func() { <-target.Ready(); close(waiter) }()
	<-job.started
	select {
	case <-target.Ready():
		t.Fatal("ready before any step finished")
	default:
	}
	cancel()
	<-done
	// The loop has returned: the waiter must be free now, whatever its budget.
	select {
	case <-target.Ready():
	default:
		t.Fatal("the loop stopped and Ready is still open: a waiting scrape would wait its whole budget")
	}
	<-waiter
	if h := target.Health(); h.Attempted {
		t.Errorf("health %+v: a cancelled step is no attempt", h)
	}
}

// TestQueueNextAllocatesOnlyTheBatch: Next runs before every vendor call;
// its list of due IDs, as long as the tracked set, was garbage each time
// (half of what the daemon allocated with 10 000 tracked messages).
func TestQueueNextAllocatesOnlyTheBatch(t *testing.T) {
	q := NewQueue()
	ids := make([]QueueID, 10_000)
	for i := range ids {
		ids[i] = QueueID{ID: "msg-" + strconv.Itoa(i)}
	}
	q.Sync(ids)
	p := QueuePolicy{BatchSize: 100, Interval: time.Minute, SettledInterval: time.Hour, SettledAfter: 24 * time.Hour}
	now := time.Unix(1_700_000_000, 0)
	q.Next(now, p)
	allocs := testing.AllocsPerRun(10, func() { q.Next(now, p) })
	if allocs > 3 {
		t.Fatalf("Next made %.0f allocations with 10 000 IDs due; want the batch's only", allocs)
	}
}

// TestDeflatedFollowsConcurrentChanges: puts and retains run while gzip
// scrapes deflate the target (under -race in make test); afterwards the
// deflated lines are exactly the lines a text scrape writes.
func TestDeflatedFollowsConcurrentChanges(t *testing.T) {
	t.Parallel()
	target := NewTarget("src", "app", testSchema, nil)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 3000 {
			k := strconv.Itoa(i * 7919 % 500)
			target.Put(k, []expo.Sample{testFamily.Gauge(float64(i), k)})
			if i%300 == 299 {
				target.Retain(func(k string) bool { return len(k)%2 == i%2 })
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			for range 200 {
				target.Deflated()
			}
		})
	}
	wg.Wait()
	g := expo.Group{Schema: testSchema}
	target.Lend(&g)
	var want bytes.Buffer
	if err := expo.Write(&want, expo.Text, []expo.Group{g}); err != nil {
		t.Fatal(err)
	}
	var body expo.Body
	if d := target.Deflated(); d[0].Size() > 0 {
		body.Append(expo.HeaderSegment(testFamily, expo.Text))
		body.Append(&d[0])
	}
	var gz bytes.Buffer
	if err := expo.WriteGzip(&gz, &body, nil); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&gz)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("deflated %d bytes that differ from the %d a text scrape writes", len(got), want.Len())
	}
}

// TestLentBlocksDoNotChange: a scrape's lent block list stays as it was
// lent while the target replaces, adds and removes blocks.
func TestLentBlocksDoNotChange(t *testing.T) {
	t.Parallel()
	target := NewTarget("src", "app", testSchema, nil)
	for _, k := range []string{"a", "b", "c"} {
		target.Put(k, []expo.Sample{testFamily.Gauge(1, k)})
	}
	var g expo.Group
	target.Lend(&g)
	var before bytes.Buffer
	_ = expo.Write(&before, expo.Text, []expo.Group{g})
	target.Put("b", []expo.Sample{testFamily.Gauge(2, "b")})
	target.Put("d", []expo.Sample{testFamily.Gauge(1, "d")})
	target.Retain(func(k string) bool { return k != "a" })
	var after bytes.Buffer
	_ = expo.Write(&after, expo.Text, []expo.Group{g})
	if after.String() != before.String() {
		t.Fatalf("the lent blocks changed:\n%s\nwas\n%s", after.String(), before.String())
	}
	var now expo.Group
	target.Lend(&now)
	var cur bytes.Buffer
	_ = expo.Write(&cur, expo.Text, []expo.Group{now})
	if got := cur.String(); !strings.Contains(got, `test_value{app="b"} 2`) || strings.Contains(got, `app="a"`) || !strings.Contains(got, `app="d"`) {
		t.Fatalf("the target's blocks after the changes:\n%s", got)
	}
}
