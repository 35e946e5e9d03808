package sources

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
	"github.com/imstats/imstats_exporter/internal/simulator"
	"github.com/imstats/imstats_exporter/internal/tencentim"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

const (
	simSDKAppID = 1400000000
	simApp      = "1400000000"
	simKey      = "sources-test-secret-key-0123456789abcdef"
)

// tencentSim is the Tencent simulator on e's clock, served on loopback.
func tencentSim(t testing.TB, c clock.Clock, apps ...simulator.TencentApp) (*simulator.Tencent, string) {
	t.Helper()
	if len(apps) == 0 {
		apps = []simulator.TencentApp{{SDKAppID: simSDKAppID, Identifier: "admin", SecretKey: simKey}}
	}
	sim := simulator.NewTencent(simulator.TencentOptions{Apps: apps, Clock: c, Seed: 3})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv.URL
}

// tencentConfig is a configuration of one Tencent app at url; extra is
// added under the app (indented by four spaces) and top is added at the
// top level.
func tencentConfig(url, app, top string) string {
	return fmt.Sprintf("tencent_im:\n  - sdkappid: %d\n    secret_key: %q\n    endpoint: %s\n%s%s", simSDKAppID, simKey, url, app, top)
}

// simPush creates n push tasks in the simulator, 2 s apart (the simulator
// wants pushes more than a second apart), and returns their TaskIds.
func simPush(t testing.TB, sim *simulator.Tencent, fc *clocktest.Fake, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		fc.Advance(2 * time.Second)
		id, err := sim.Push(simSDKAppID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	return ids
}

// round steps u until it has nothing due (a step that waits), and returns
// that wait.
func (e *env) round(u *unit) time.Duration {
	e.t.Helper()
	for range 1000 {
		if w := e.mustStep(u, false); w > 0 {
			return w
		}
	}
	e.t.Fatal("the round did not end")
	return 0
}

// statsCalls returns the simulator's all_member_push_statistics calls from
// the from-th on.
func statsCalls(sim *simulator.Tencent, from int) []simulator.Call {
	var out []simulator.Call
	for _, c := range sim.Calls() {
		if c.API == simulator.TencentPushStatistics {
			out = append(out, c)
		}
	}
	return out[min(from, len(out)):]
}

// askedIDs lists the TaskIDs the calls asked about, sorted.
func askedIDs(calls []simulator.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.TaskIDs...)
	}
	slices.Sort(out)
	return out
}

func TestTencentPushSeedSample(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	fs := serveFiles(t, map[string]string{tencentim.APIPushStatistics: "push_statistics.json"})
	cfg := e.config(tencentConfig(fs.url, "    push:\n      windows: []\n", ""))
	u := e.unit(catalog.SourceTencentPush, e.tencentApp(cfg, e.set(cfg, catalog.KindTencentPush, "xxx-yyy-zzz", "aaa-bbb-ccc")))
	e.round(u)
	expectFile(t, u.target, "push_statistics.prom")
	if n := len(fs.requests()); n != 1 {
		t.Fatalf("2 tasks and no window took %d calls, want 1", n)
	}
}

// TestTencentPushAgainstSimulatorLimits runs the source with the real client
// and the production limiters on a fake clock against the simulator, which
// refuses more than 5 TaskIDs, windows over 30 days and more than one call a
// second, as the vendor does.
func TestTencentPushAgainstSimulatorLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	sim, url := tencentSim(t, e.fc)
	ids := simPush(t, sim, e.fc, 12)
	cfg := e.config(tencentConfig(url, "    push:\n      windows: [24h, 30d]\n", ""))
	set := e.set(cfg, catalog.KindTencentPush)
	e.add(set, time.Time{}, ids...)
	u := e.unit(catalog.SourceTencentPush, e.tencentApp(cfg, set))
	if w := e.round(u); w <= 0 || w > time.Minute {
		t.Errorf("after the round the job waits %v, want up to the 1m interval", w)
	}
	calls := statsCalls(sim, 0)
	if len(calls) != 2+3 {
		t.Fatalf("%d calls, want 2 windows + 3 batches: %+v", len(calls), calls)
	}
	for i, c := range calls {
		if c.ErrorCode != 0 {
			t.Errorf("call %d refused by the simulator with %d", i, c.ErrorCode)
		}
		if len(c.TaskIDs) > tencentim.MaxTaskIDsPerCall {
			t.Errorf("call %d asked for %d TaskIDs", i, len(c.TaskIDs))
		}
		if w := time.Duration(c.EndTime-c.StartTime) * time.Second; w <= 0 || w > tencentim.MaxStatisticsWindow {
			t.Errorf("call %d asked over %v", i, w)
		}
		if i > 0 && c.Time.Sub(calls[i-1].Time) < time.Second {
			t.Errorf("calls %d and %d arrived %v apart", i-1, i, c.Time.Sub(calls[i-1].Time))
		}
	}
	// The windows come first, each asked over its own duration.
	for i, want := range []time.Duration{24 * time.Hour, 30 * 24 * time.Hour} {
		c := calls[i]
		if len(c.TaskIDs) != 0 || time.Duration(c.EndTime-c.StartTime)*time.Second != want {
			t.Errorf("call %d = %d TaskIDs over %ds, want the %v window", i, len(c.TaskIDs), c.EndTime-c.StartTime, want)
		}
	}
	if got, want := askedIDs(calls[2:]), slices.Sorted(slices.Values(ids)); !slices.Equal(got, want) {
		t.Errorf("the batches asked for %v, want each of the 12 tasks once: %v", got, want)
	}
	text := render(t, u.target)
	if got := labelValues(t, text, "tencent_im_push_task_target", "task_id"); len(got) != 12 {
		t.Errorf("%d of 12 tasks exported", len(got))
	}
	if got := labelValues(t, text, "tencent_im_push_window_target", "window"); !slices.Equal(got, []string{"24h", "30d"}) {
		t.Errorf("windows exported: %v", got)
	}
}

// TestTencentPushSchedule checks the order and pace of the queue: new tasks
// first, unsettled ones every interval, settled ones (7 days past their
// sent_at, or past when they were first tracked) every
// settled_refresh_interval.
func TestTencentPushSchedule(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	sim, url := tencentSim(t, e.fc)
	// old was pushed 8 days ago: settled from the start, given its sent time.
	oldSent := e.fc.Now()
	old := simPush(t, sim, e.fc, 1)[0]
	e.fc.Advance(8 * 24 * time.Hour)
	recent := simPush(t, sim, e.fc, 6)
	cfg := e.config(tencentConfig(url, "    push:\n      windows: []\n", `
refresh_intervals:
  tencent_push: 1m
tracking:
  max_age: 30d
  settled_refresh_interval: 30m
`))
	set := e.set(cfg, catalog.KindTencentPush)
	e.add(set, oldSent, old)
	e.add(set, time.Time{}, recent...)
	u := e.unit(catalog.SourceTencentPush, e.tencentApp(cfg, set))

	e.round(u)
	if got := askedIDs(statsCalls(sim, 0)); len(got) != 7 {
		t.Fatalf("the first round asked %v, want all 7 tasks", got)
	}
	// Within the interval nothing is due.
	n := len(statsCalls(sim, 0))
	if w := e.mustStep(u, false); w <= 0 || len(statsCalls(sim, n)) != 0 {
		t.Fatalf("a step within the interval made %d calls (wait %v)", len(statsCalls(sim, n)), w)
	}
	// A newly registered task wakes the job, and is asked first and alone.
	wake := u.job.Wake()
	fresh := simPush(t, sim, e.fc, 1)[0]
	e.add(set, e.fc.Now(), fresh)
	select {
	case <-wake:
	default:
		t.Fatal("registering a task did not wake the job")
	}
	e.mustStep(u, true)
	if calls := statsCalls(sim, n); len(calls) != 1 || !slices.Equal(calls[0].TaskIDs, []string{fresh}) {
		t.Fatalf("after registering: calls %+v, want one for [%s]", calls, fresh)
	}
	// After the interval every unsettled task is due again, the settled
	// one not.
	e.fc.Advance(time.Minute)
	n = len(statsCalls(sim, 0))
	e.round(u)
	want := slices.Sorted(slices.Values(append(slices.Clone(recent), fresh)))
	if got := askedIDs(statsCalls(sim, n)); !slices.Equal(got, want) {
		t.Fatalf("after the interval asked %v, want the 7 unsettled tasks %v", got, want)
	}
	// The settled one is asked again settled_refresh_interval after it last was.
	e.fc.Advance(30 * time.Minute)
	n = len(statsCalls(sim, 0))
	e.round(u)
	if got := askedIDs(statsCalls(sim, n)); !slices.Contains(got, old) || len(got) != 8 {
		t.Fatalf("after the settled interval asked %v, want all 8 tasks", got)
	}
	// Seven days after they were first tracked (no sent_at) or sent, every
	// task is settled: nothing is due after the interval, all after the
	// settled interval.
	e.fc.Advance(7 * 24 * time.Hour)
	e.round(u)
	e.fc.Advance(time.Minute)
	n = len(statsCalls(sim, 0))
	if w := e.mustStep(u, false); len(statsCalls(sim, n)) != 0 || w < 28*time.Minute {
		t.Fatalf("settled tasks asked again after the interval: %d calls, wait %v", len(statsCalls(sim, n)), w)
	}
	e.fc.Advance(30 * time.Minute)
	e.round(u)
	if got := askedIDs(statsCalls(sim, n)); len(got) != 8 {
		t.Fatalf("settled tasks after the settled interval: asked %v, want all 8", got)
	}
	for i, c := range statsCalls(sim, 0) {
		if c.ErrorCode != 0 {
			t.Errorf("call %d refused with %d", i, c.ErrorCode)
		}
	}
}

// TestTencentPushFollowsTheTrackedSet checks what stays in the snapshot as
// the tracked set and the windows change: an untracked task's series go at
// the next step, the windows stay while they are configured.
func TestTencentPushFollowsTheTrackedSet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	sim, url := tencentSim(t, e.fc)
	ids := simPush(t, sim, e.fc, 3)
	yml := tencentConfig(url, "    push:\n      windows: [24h]\n", "")
	cfg := e.config(yml)
	set := e.set(cfg, catalog.KindTencentPush)
	e.add(set, time.Time{}, ids...)
	u := e.unit(catalog.SourceTencentPush, e.tencentApp(cfg, set))
	e.round(u)
	tasks := func() []string {
		return labelValues(t, render(t, u.target), "tencent_im_push_task_target", "task_id")
	}
	windows := func() []string {
		return labelValues(t, render(t, u.target), "tencent_im_push_window_target", "window")
	}
	if got := tasks(); len(got) != 3 || !slices.Equal(windows(), []string{"24h"}) {
		t.Fatalf("after the first round: tasks %v, windows %v", got, windows())
	}

	if _, err := set.Remove(context.Background(), ids[:1], tracking.OriginAPI); err != nil {
		t.Fatal(err)
	}
	e.mustStep(u, true)
	if got, want := tasks(), slices.Sorted(slices.Values(ids[1:])); !slices.Equal(got, want) {
		t.Fatalf("after removing %s: tasks %v, want %v", ids[0], got, want)
	}
	if _, err := set.Remove(context.Background(), ids[1:], tracking.OriginAPI); err != nil {
		t.Fatal(err)
	}
	e.fc.Advance(minSyncGap) // the set is read again at most every minSyncGap
	e.mustStep(u, true)
	if got := tasks(); len(got) != 0 || !slices.Equal(windows(), []string{"24h"}) {
		t.Fatalf("with no task tracked: tasks %v, windows %v; want none, the window kept", got, windows())
	}

	// A reload that changes the windows drops the one no longer configured.
	cfg = e.config(strings.Replace(yml, "[24h]", "[7d]", 1))
	u.job.Configure(e.tencentApp(cfg, set))
	e.fc.Advance(time.Minute)
	e.round(u)
	if got := windows(); !slices.Equal(got, []string{"7d"}) {
		t.Fatalf("after the reload the windows are %v, want [7d]", got)
	}
}

// TestTencentPushChannelDetail checks that channel_detail: false drops the
// per-platform series of each task and nothing else.
func TestTencentPushChannelDetail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		top      string
		platform bool
	}{
		{"default", "", true},
		{"off", "channel_detail:\n  tencent_push: false\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
			fs := serveFiles(t, map[string]string{tencentim.APIPushStatistics: "push_statistics.json"})
			cfg := e.config(tencentConfig(fs.url, "    push:\n      windows: []\n", tc.top))
			u := e.unit(catalog.SourceTencentPush, e.tencentApp(cfg, e.set(cfg, catalog.KindTencentPush, "xxx-yyy-zzz", "aaa-bbb-ccc")))
			e.round(u)
			text := render(t, u.target)
			if got := labelValues(t, text, "tencent_im_push_task_target", "task_id"); len(got) != 2 {
				t.Errorf("tasks exported: %v", got)
			}
			if got := len(labelValues(t, text, "tencent_im_push_task_platform_sent", "task_id")) > 0; got != tc.platform {
				t.Errorf("per-platform series present: %v, want %v", got, tc.platform)
			}
		})
	}
}

// TestTencentPushReloadKeepsWhatItKnew reconfigures the job as a reload
// does: the snapshot stays, and within the interval nothing is asked again,
// neither the windows nor the tasks.
func TestTencentPushReloadKeepsWhatItKnew(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	sim, url := tencentSim(t, e.fc)
	ids := simPush(t, sim, e.fc, 12)
	yml := tencentConfig(url, "    push:\n      windows: [24h]\n", "")
	cfg := e.config(yml)
	set := e.set(cfg, catalog.KindTencentPush)
	e.add(set, time.Time{}, ids...)
	u := e.unit(catalog.SourceTencentPush, e.tencentApp(cfg, set))
	e.round(u)
	before, calls := render(t, u.target), len(statsCalls(sim, 0))

	u.job.Configure(e.tencentApp(e.config(yml), set))
	if got := render(t, u.target); got != before {
		t.Fatalf("a reload changed the snapshot:\n%s", got)
	}
	if w := e.mustStep(u, false); w <= 0 || len(statsCalls(sim, calls)) != 0 {
		t.Fatalf("the first step after a reload made %d calls (wait %v), want none within the interval", len(statsCalls(sim, calls)), w)
	}
}

// transit delays every request to the push statistics APIs on its way to
// the vendor, on the fake clock, by the next of delays in turn: a call held
// up in transit arrives late, and one sent right after it could arrive
// right behind it.
func transit(delays ...time.Duration) func(*clocktest.Fake, http.Handler) http.Handler {
	var n atomic.Int64
	return func(fc *clocktest.Fake, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "_push_statistics") {
				if d := delays[int(n.Add(1)-1)%len(delays)]; d > 0 {
					<-fc.After(d)
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// TestPushCallsSpacedFromTheirEnd runs rounds of both push statistics APIs
// with the production limiters while requests take a varying time to reach
// the vendor: the buckets start a call a second after the previous one
// ended, so no two arrive less than a second apart and none is refused.
func TestPushCallsSpacedFromTheirEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		source, api string
		calls       int
	}{
		{catalog.SourceTencentPush, simulator.TencentPushStatistics, 3 + 2}, // 3 windows, 6 tasks in 2 batches
		{catalog.SourceTencentNormalPush, simulator.TencentNormalPushStatistics, 3},
	} {
		t.Run(tc.source, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, "", transit(900*time.Millisecond, 0, 600*time.Millisecond, 0))
			ids := simPush(t, r.tencent, r.fc, 6)
			cfg := r.config(tencentConfig(r.cfg.TencentIM[0].Endpoint, "    push:\n      windows: [1h, 24h, 7d]\n", ""))
			set := r.set(cfg, catalog.KindTencentPush, ids...)
			u := r.unit(tc.source, r.tencentApp(cfg, set))
			for range 2 {
				r.round(u)
				r.fc.Advance(time.Minute)
			}
			a := r.tencent.Arrivals(tc.api, simSDKAppID)
			if a.Count != 2*tc.calls || a.RateLimited != 0 || a.MinGap < time.Second {
				t.Fatalf("arrivals %+v, want %d calls at least 1s apart, none refused", a, 2*tc.calls)
			}
		})
	}
}
