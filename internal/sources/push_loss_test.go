package sources

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/simulator"
	"github.com/imstats/imstats_exporter/internal/tencentim"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

// lossCalls returns the simulator's calls to api.
func lossCalls(sim *simulator.Tencent, api string) []simulator.Call {
	var out []simulator.Call
	for _, c := range sim.Calls() {
		if c.API == api {
			out = append(out, c)
		}
	}
	return out
}

// TestPushLossSeedSample serves the vendor's sample (All/Tagged Users Push
// Loss Analysis) for two tracked tasks: one call, and the sample's series
// with the reason texts.
func TestPushLossSeedSample(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	fs := serveFiles(t, map[string]string{tencentim.APIPushLoss: "conformance/push_loss_tasks.json"})
	cfg := e.config(tencentConfig(fs.url, "    push:\n      windows: []\n", ""))
	u := e.unit(catalog.SourceTencentPushLoss, e.tencentApp(cfg, e.set(cfg, catalog.KindTencentPush, "xxx-yyy-zzz", "aaa-bbb-ccc")))
	e.round(u)
	expectFile(t, u.target, "conformance/push_loss_tasks.prom")
	if n := len(fs.requests()); n != 1 {
		t.Fatalf("2 tasks and no window took %d calls, want 1", n)
	}
}

// TestPushLossBadEntries checks that entries with a negative, fractional or
// non-numeric ErrCount, or an ErrCode that is not a short token, give no
// series, that the rest of the answer is kept, and that the log says so
// once.
func TestPushLossBadEntries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	fs := serveFiles(t, map[string]string{tencentim.APIPushLoss: "push_loss_bad.json"})
	cfg := e.config(tencentConfig(fs.url, "    push:\n      windows: []\n", "refresh_intervals:\n  tencent_push_loss: 1m\n"))
	u := e.unit(catalog.SourceTencentPushLoss, e.tencentApp(cfg, e.set(cfg, catalog.KindTencentPush, "xxx-yyy-zzz")))
	for range 3 {
		e.round(u)
		e.fc.Advance(time.Minute)
	}
	if n := len(fs.requests()); n != 3 {
		t.Fatalf("%d requests, want one a round", n)
	}
	expectFile(t, u.target, "push_loss_bad.prom")
	if n := e.logs.lines("vendor counts that are not non-negative integers are not exported", "refused=4"); n != 1 {
		t.Errorf("%d log lines about the bad entries, want 1:\n%s", n, e.logs.String())
	}
}

// TestPushLossAgainstSimulatorLimits runs the source with the real client
// and the production limiters against the simulator, which refuses more
// than 5 TaskIDs, windows over 7 days and more than one call a second: a
// 30d window is asked over 7 days and keeps its label.
func TestPushLossAgainstSimulatorLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	sim, url := tencentSim(t, e.fc)
	ids := simPush(t, sim, e.fc, 12)
	e.fc.Advance(time.Hour)
	cfg := e.config(tencentConfig(url, "    push:\n      windows: [24h, 30d]\n", ""))
	set := e.set(cfg, catalog.KindTencentPush)
	e.add(set, time.Time{}, ids...)
	u := e.unit(catalog.SourceTencentPushLoss, e.tencentApp(cfg, set))
	if w := e.round(u); w <= 0 || w > 5*time.Minute {
		t.Errorf("after the round the job waits %v, want up to the 5m interval", w)
	}
	calls := lossCalls(sim, simulator.TencentPushLoss)
	if len(calls) != 2+3 {
		t.Fatalf("%d calls, want 2 windows + 3 batches: %+v", len(calls), calls)
	}
	for i, c := range calls {
		if c.ErrorCode != 0 || len(c.TaskIDs) > tencentim.MaxTaskIDsPerCall {
			t.Errorf("call %d: code %d, %d TaskIDs", i, c.ErrorCode, len(c.TaskIDs))
		}
		if w := time.Duration(c.EndTime-c.StartTime) * time.Second; w <= 0 || w > tencentim.MaxLossWindow {
			t.Errorf("call %d asked over %v", i, w)
		}
		if i > 0 && c.Time.Sub(calls[i-1].Time) < time.Second {
			t.Errorf("calls %d and %d arrived %v apart", i-1, i, c.Time.Sub(calls[i-1].Time))
		}
	}
	for i, want := range []time.Duration{24 * time.Hour, tencentim.MaxLossWindow} {
		if c := calls[i]; len(c.TaskIDs) != 0 || time.Duration(c.EndTime-c.StartTime)*time.Second != want {
			t.Errorf("window call %d = %d TaskIDs over %ds, want %v", i, len(c.TaskIDs), c.EndTime-c.StartTime, want)
		}
	}
	if got, want := askedIDs(calls[2:]), slices.Sorted(slices.Values(ids)); !slices.Equal(got, want) {
		t.Errorf("the batches asked for %v, want each of the 12 tasks once: %v", got, want)
	}
	text := render(t, u.target)
	if got := labelValues(t, text, "tencent_im_push_task_loss", "task_id"); len(got) != 12 {
		t.Errorf("%d of 12 tasks exported", len(got))
	}
	if got := labelValues(t, text, "tencent_im_push_window_loss", "window"); !slices.Equal(got, []string{"24h", "30d"}) {
		t.Errorf("windows exported: %v", got)
	}
	if got := labelValues(t, text, "tencent_im_push_loss_reason_info", "reason"); !slices.Contains(got, "Certificate id not set") {
		t.Errorf("reasons exported: %v", got)
	}
	if n := len(lossCalls(sim, simulator.TencentPushStatistics)); n != 0 {
		t.Errorf("%d statistics calls from the loss source", n)
	}
}

// TestPushLossFollowsTheTrackedSet checks that a task no longer tracked loses
// its series and its reason texts.
func TestPushLossFollowsTheTrackedSet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	fs := serveFiles(t, map[string]string{tencentim.APIPushLoss: "conformance/push_loss_tasks.json"})
	cfg := e.config(tencentConfig(fs.url, "    push:\n      windows: []\n", ""))
	set := e.set(cfg, catalog.KindTencentPush)
	e.add(set, time.Time{}, "xxx-yyy-zzz")
	u := e.unit(catalog.SourceTencentPushLoss, e.tencentApp(cfg, set))
	e.round(u)
	if got := labelValues(t, render(t, u.target), "tencent_im_push_loss_reason_info", "code"); len(got) != 4 {
		t.Fatalf("reason codes %v, want the sample's 4", got)
	}
	if _, err := set.Remove(t.Context(), []string{"xxx-yyy-zzz"}, tracking.OriginAPI); err != nil {
		t.Fatal(err)
	}
	e.fc.Advance(minSyncGap) // the set is read again at most every minSyncGap
	e.mustStep(u, true)
	text := render(t, u.target)
	if got := labelValues(t, text, "tencent_im_push_task_loss", "task_id"); len(got) != 0 {
		t.Errorf("tasks %v still exported", got)
	}
	if got := labelValues(t, text, "tencent_im_push_loss_reason_info", "code"); len(got) != 0 {
		t.Errorf("reasons %v of a task no longer tracked", got)
	}
}

// TestNormalPushLossWindows serves the sample of Chat Service Push Loss
// Analysis with its arrays in a nested object, one window a step: a 30d
// window is asked over 7 days and keeps its label.
func TestNormalPushLossWindows(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	fs := serveFiles(t, map[string]string{tencentim.APINormalPushLoss: "conformance/normal_push_loss_nested.json"})
	cfg := e.config(tencentConfig(fs.url, "    push:\n      windows: [24h, 30d]\n", "refresh_intervals:\n  tencent_normal_push_loss: 3m\n"))
	u := e.unit(catalog.SourceTencentNormalPushLoss, e.tencentApp(cfg, nil))
	for i, want := range []time.Duration{0, 3 * time.Minute} {
		if w := e.mustStep(u, false); w != want {
			t.Fatalf("step %d waits %v, want %v", i, w, want)
		}
	}
	for i, r := range fs.requests() {
		var req map[string]int64
		if err := json.Unmarshal(r.body, &req); err != nil || len(req) != 2 {
			t.Fatalf("request %d: %v: %s", i, err, r.body)
		}
		if got, want := time.Duration(req["EndTime"]-req["StartTime"])*time.Second, []time.Duration{24 * time.Hour, tencentim.MaxLossWindow}[i]; got != want {
			t.Errorf("request %d asked over %v, want %v", i, got, want)
		}
	}
	if got := labelValues(t, render(t, u.target), "tencent_im_normal_push_window_loss", "window"); !slices.Equal(got, []string{"24h", "30d"}) {
		t.Errorf("windows exported: %v", got)
	}
	u24 := e.unit(catalog.SourceTencentNormalPushLoss, e.tencentApp(e.config(tencentConfig(fs.url, "    push:\n      windows: [24h]\n", "")), nil))
	e.mustStep(u24, false)
	expectFile(t, u24.target, "conformance/normal_push_loss.prom")
}

func TestPushLossNotEnabledIsUnavailable(t *testing.T) {
	t.Parallel()
	for _, source := range []string{catalog.SourceTencentPushLoss, catalog.SourceTencentNormalPushLoss} {
		t.Run(source, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
			_, url := tencentSim(t, e.fc, simulator.TencentApp{SDKAppID: simSDKAppID, Identifier: "admin", SecretKey: simKey, PushDisabled: true})
			cfg := e.config(tencentConfig(url, "", ""))
			u := e.unit(source, e.tencentApp(cfg, e.set(cfg, catalog.KindTencentPush)))
			_, err := e.step(u, false)
			if apierr.ClassOf(err) != apierr.Unavailable {
				t.Fatalf("push not enabled: err %v, want class unavailable", err)
			}
		})
	}
}

// TestPushLossOwnBudgets steps the four push APIs' sources of one app one
// after the other without the clock moving: each API has its own 1 call/s
// bucket, so none waits for another's call.
func TestPushLossOwnBudgets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	sim, url := tencentSim(t, e.fc)
	cfg := e.config(tencentConfig(url, "    push:\n      windows: [24h]\n", ""))
	start := e.fc.Now()
	for _, source := range []string{catalog.SourceTencentPush, catalog.SourceTencentPushLoss, catalog.SourceTencentNormalPush, catalog.SourceTencentNormalPushLoss} {
		u := e.unit(source, e.tencentApp(cfg, e.set(cfg, catalog.KindTencentPush)))
		e.mustStep(u, false)
	}
	if !e.fc.Now().Equal(start) {
		t.Errorf("the clock moved %v: a source waited for another API's bucket", e.fc.Now().Sub(start))
	}
	for _, api := range []string{simulator.TencentPushStatistics, simulator.TencentPushLoss, simulator.TencentNormalPushStatistics, simulator.TencentNormalPushLoss} {
		if a := sim.Arrivals(api, simSDKAppID); a.Count != 1 || a.RateLimited != 0 {
			t.Errorf("%s: %+v, want one call, accepted", api, a)
		}
	}
}
