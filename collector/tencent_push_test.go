package collector

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/simulator"
	"github.com/imstats/imstats_exporter/internal/tencentim"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

func newTestSet(t *testing.T, fc clock.Clock, ids ...string) *tracking.Set {
	t.Helper()
	s, err := tracking.New(tracking.Options{Static: ids, Clock: fc, MaxAge: 7 * 24 * time.Hour, Cap: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTencentPushSeedSample(t *testing.T) {
	t.Parallel()
	srv := serveFile(t, "push_statistics.json")
	src := newTencentPush(tencentPushOptions{
		Client:   newTestTencentClient(srv.URL),
		SDKAppID: 1400000000,
		Tasks:    newTestSet(t, nil, "xxx-yyy-zzz", "aaa-bbb-ccc"),
		Interval: time.Minute,
	})
	want, err := os.ReadFile(filepath.Join("testdata", "push_statistics.prom"))
	if err != nil {
		t.Fatal(err)
	}
	if err := testutil.CollectAndCompare(collectSource(t, src), bytes.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

// recordingPush answers every task it is asked for with a funnel whose
// target is the call number, and records the calls.
type recordingPush struct {
	mu    sync.Mutex
	calls []pushCall
	fail  error
}

type pushCall struct {
	start, end time.Time
	ids        []string
}

func count(n int64) tencentim.Count { return &n }

func (r *recordingPush) PushStatistics(_ context.Context, start, end time.Time, ids []string) ([]tencentim.PushResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, pushCall{start, end, slices.Clone(ids)})
	if r.fail != nil {
		return nil, r.fail
	}
	n := int64(len(r.calls))
	if len(ids) == 0 {
		return []tencentim.PushResult{{PushStats: tencentim.PushStats{TotalCount: count(n)}, Platforms: []tencentim.PlatformStats{
			{EventType: 1, PushPlatform: 3, PushStats: tencentim.PushStats{SentCount: count(2)}},
			{EventType: 1, PushPlatform: 3, PushStats: tencentim.PushStats{SentCount: count(3)}}, // duplicate channel: summed
			{EventType: 2, PushPlatform: 42, PushStats: tencentim.PushStats{SentCount: count(1)}},
		}}}, nil
	}
	var out []tencentim.PushResult
	for _, id := range ids {
		out = append(out, tencentim.PushResult{TaskID: id, PushStats: tencentim.PushStats{TotalCount: count(n)}})
	}
	return out, nil
}

func taskIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("task-%02d", i)
	}
	return ids
}

func TestTencentPushBatchesAndWindows(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(time.Unix(1700000000, 0))
	rec := &recordingPush{}
	src := newTencentPush(tencentPushOptions{
		Client:   rec,
		SDKAppID: 1400000000,
		Windows:  []PushWindow{{Label: "24h", Duration: 24 * time.Hour}},
		Tasks:    newTestSet(t, fc, taskIDs(12)...),
		Clock:    fc,
		Interval: time.Minute,
	})
	c := collectSource(t, src)
	if len(rec.calls) != 4 {
		t.Fatalf("12 tasks and a window took %d calls, want 1 + 3", len(rec.calls))
	}
	seen := map[string]bool{}
	for i, call := range rec.calls {
		if len(call.ids) > tencentim.MaxTaskIDsPerCall {
			t.Errorf("call %d asked for %d IDs", i, len(call.ids))
		}
		if w := call.end.Sub(call.start); w > tencentim.MaxStatisticsWindow || w <= 0 {
			t.Errorf("call %d window %v", i, w)
		}
		for _, id := range call.ids {
			seen[id] = true
		}
	}
	if len(seen) != 12 {
		t.Fatalf("%d distinct tasks asked for, want 12", len(seen))
	}
	if w := rec.calls[0]; w.ids != nil || w.end.Sub(w.start) != 24*time.Hour {
		t.Fatalf("window call = %+v, want no IDs and 24h", w)
	}
	if n := testutil.CollectAndCount(c, "tencent_im_push_task_target"); n != 12 {
		t.Fatalf("%d tasks exported, want 12", n)
	}
	want := `# HELP tencent_im_push_window_platform_sent All pushes in the rolling window, per vendor channel: Pushes sent (all_member_push_statistics SentCount).
# TYPE tencent_im_push_window_platform_sent gauge
tencent_im_push_window_platform_sent{event_type="offline",platform="huawei",sdkappid="1400000000",window="24h"} 5
tencent_im_push_window_platform_sent{event_type="online",platform="code_42",sdkappid="1400000000",window="24h"} 1
# HELP tencent_im_push_window_target All pushes in the rolling window: Devices the push could be sent to (all_member_push_statistics TotalCount).
# TYPE tencent_im_push_window_target gauge
tencent_im_push_window_target{sdkappid="1400000000",window="24h"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "tencent_im_push_window_target", "tencent_im_push_window_platform_sent"); err != nil {
		t.Fatal(err)
	}
}

func TestTencentPushSchedule(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(time.Unix(1700000000, 0))
	rec := &recordingPush{}
	tasks := newTestSet(t, fc, taskIDs(7)...)
	src := newTencentPush(tencentPushOptions{
		Client: rec, SDKAppID: 1, Tasks: tasks, Clock: fc,
		Interval: time.Minute, SettledInterval: 30 * time.Minute, SettledAfter: time.Hour,
	})
	refresh := func() []pushCall {
		t.Helper()
		before := len(rec.calls)
		if _, err := src.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		return rec.calls[before:]
	}
	refresh()
	// Within the interval nothing is due.
	if calls := refresh(); len(calls) != 0 {
		t.Fatalf("refresh within the interval made %d calls", len(calls))
	}
	// A newly registered task comes first, and alone if nothing else is due.
	fc.Advance(time.Second)
	if _, err := tasks.Add([]string{"fresh"}, tracking.OriginAPI); err != nil {
		t.Fatal(err)
	}
	if calls := refresh(); len(calls) != 1 || !slices.Equal(calls[0].ids, []string{"fresh"}) {
		t.Fatalf("after registering: calls %+v, want one for [fresh]", calls)
	}
	// After the interval every unsettled task is due again.
	fc.Advance(time.Minute)
	if calls := refresh(); len(calls) != 2 {
		t.Fatalf("after the interval: %d calls, want 2 (8 tasks)", len(calls))
	}
	// Once settled, tasks are asked every SettledInterval only.
	fc.Advance(time.Hour)
	refresh()
	fc.Advance(10 * time.Minute)
	if calls := refresh(); len(calls) != 0 {
		t.Fatalf("settled tasks asked again after 10m: %d calls", len(calls))
	}
	fc.Advance(20 * time.Minute)
	if calls := refresh(); len(calls) != 2 {
		t.Fatalf("settled tasks after SettledInterval: %d calls, want 2", len(calls))
	}
}

func TestTencentPushEndsQuietlyAtDeadline(t *testing.T) {
	t.Parallel()
	rec := &recordingPush{}
	src := newTencentPush(tencentPushOptions{Client: rec, SDKAppID: 1, Tasks: newTestSet(t, nil, taskIDs(3)...), Interval: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec.fail = fmt.Errorf("wrapped: %w", context.Canceled)
	if _, err := src.Refresh(ctx); err != nil {
		t.Fatalf("a refresh cut short by its deadline failed: %v", err)
	}
	rec.fail = fmt.Errorf("vendor down")
	if _, err := src.Refresh(context.Background()); err == nil {
		t.Fatal("a vendor error was not reported")
	}
}

// TestTencentPushAgainstSimulatorLimits runs the source with the real client
// and the production limiter on a fake clock against the simulator, which
// refuses more than 5 TaskIDs, windows over 30 days and more than one call a
// second, as the vendor does.
func TestTencentPushAgainstSimulatorLimits(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(time.Now())
	const key = "simulator-key"
	sim := simulator.NewTencent(simulator.TencentOptions{Apps: []simulator.TencentApp{{SDKAppID: 1400000000, Identifier: "admin", SecretKey: key}}, Clock: fc, Seed: 3})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	var ids []string
	for range 12 {
		fc.Advance(2 * time.Second) // the simulator wants pushes more than 1 s apart
		id, err := sim.Push(1400000000, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	client := tencentim.New(tencentim.Options{SDKAppID: 1400000000, Identifier: "admin", SecretKey: key, BaseURL: srv.URL, Clock: fc,
		Limiter: tencentLimiter(NewLimiters(fc), "1400000000")})
	src := newTencentPush(tencentPushOptions{
		Client: client, SDKAppID: 1400000000, Clock: fc, Interval: time.Minute,
		Windows: []PushWindow{{Label: "24h", Duration: 24 * time.Hour}, {Label: "30d", Duration: 30 * 24 * time.Hour}},
		Tasks:   newTestSet(t, fc, ids...),
	})
	type result struct {
		c   metricsCollector
		err error
	}
	done := make(chan result)
	go func() {
		m, err := src.Refresh(context.Background())
		done <- result{m, err}
	}()
	var res result
	for waiting := true; waiting; {
		select {
		case res = <-done:
			waiting = false
		default:
			if fc.Waiters() > 0 {
				fc.Advance(100 * time.Millisecond)
			} else {
				time.Sleep(time.Millisecond)
			}
		}
	}
	if res.err != nil {
		t.Fatalf("refresh against the simulator: %v", res.err)
	}
	calls := sim.Calls()
	if len(calls) != 2+3 {
		t.Fatalf("%d calls, want 2 windows + 3 batches", len(calls))
	}
	for i, c := range calls {
		if c.ErrorCode != 0 {
			t.Errorf("call %d refused by the simulator with %d", i, c.ErrorCode)
		}
		if len(c.TaskIDs) > 5 {
			t.Errorf("call %d asked for %d TaskIDs", i, len(c.TaskIDs))
		}
		if i > 0 && c.Time.Sub(calls[i-1].Time) < time.Second {
			t.Errorf("calls %d and %d %v apart", i-1, i, c.Time.Sub(calls[i-1].Time))
		}
	}
	if n := testutil.CollectAndCount(res.c, "tencent_im_push_task_target"); n != 12 {
		t.Fatalf("%d of 12 tasks exported", n)
	}
	if n := testutil.CollectAndCount(res.c, "tencent_im_push_window_target"); n != 2 {
		t.Fatalf("%d of 2 windows exported", n)
	}
}

func TestTencentPushReloadKeepsWhatItKnew(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(time.Unix(1700000000, 0))
	rec := &recordingPush{}
	tasks := newTestSet(t, fc, taskIDs(12)...)
	opts := tencentPushOptions{Client: rec, SDKAppID: 1, Tasks: tasks, Clock: fc, Interval: time.Minute, SettledAfter: time.Hour, SettledInterval: 30 * time.Minute,
		Windows: []PushWindow{{Label: "24h", Duration: 24 * time.Hour}}}
	old := newTencentPush(opts)
	before, err := old.Refresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	calls := len(rec.calls)

	reloaded := newTencentPush(opts)
	reloaded.inheritFrom(old)
	if got := len(reloaded.snapshot()); got != len(before) {
		t.Fatalf("after a reload the snapshot has %d series, want the %d it had", got, len(before))
	}
	// Within the interval only the window is asked again, not the 12 tasks.
	if _, err := reloaded.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.calls) - calls; got != 1 {
		t.Fatalf("the first refresh after a reload made %d calls, want 1 (the window)", got)
	}
}

func TestTrackedIDMetrics(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(time.Unix(1700000000, 0))
	tasks, err := tracking.New(tracking.Options{Clock: fc, MaxAge: time.Hour, Cap: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range taskIDs(3) {
		fc.Advance(time.Second) // distinct ages: the oldest is evicted
		if _, err := tasks.Add([]string{id}, tracking.OriginAPI); err != nil {
			t.Fatal(err)
		}
	}
	src := newTencentPush(tencentPushOptions{Client: &recordingPush{}, SDKAppID: 1, Tasks: tasks, Cap: 2, Clock: fc, Interval: time.Minute})
	e := NewExporter([]Target{{Source: "tencent_push", App: "1", Interval: time.Minute, Fetcher: src}}, nil, RefreshOptions{Clock: fc})
	defer e.Close()
	want := `# HELP imstats_exporter_tracked_ids Number of push task or message IDs the source polls for the app.
# TYPE imstats_exporter_tracked_ids gauge
imstats_exporter_tracked_ids{app="1",source="tencent_push"} 2
# HELP imstats_exporter_tracked_ids_evicted_total IDs dropped oldest-first because the per-app cap was reached.
# TYPE imstats_exporter_tracked_ids_evicted_total counter
imstats_exporter_tracked_ids_evicted_total{app="1",source="tencent_push"} 1
# HELP imstats_exporter_tracked_ids_limit Most IDs the source tracks for the app (tracking.max_ids_per_app).
# TYPE imstats_exporter_tracked_ids_limit gauge
imstats_exporter_tracked_ids_limit{app="1",source="tencent_push"} 2
`
	if err := testutil.CollectAndCompare(e, strings.NewReader(want), "imstats_exporter_tracked_ids", "imstats_exporter_tracked_ids_evicted_total", "imstats_exporter_tracked_ids_limit"); err != nil {
		t.Fatal(err)
	}
	if ids := tasks.IDs(); len(ids) != 2 || ids[1].ID != "task-01" {
		t.Fatalf("tracked %v, want the two newest", ids)
	}
}
