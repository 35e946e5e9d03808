package sources

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/simulator"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// TestNormalPushWindowsOnePerStep serves the vendor's sample and checks that
// each step asks for one window, over its own duration, and that the round
// ends with the interval's wait.
func TestNormalPushWindowsOnePerStep(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	fs := serveFiles(t, map[string]string{tencentim.APINormalPushStatistics: "normal_push_sample.json"})
	cfg := e.config(tencentConfig(fs.url, "    push:\n      windows: [24h, 7d]\n", "refresh_intervals:\n  tencent_normal_push: 3m\n"))
	u := e.unit(catalog.SourceTencentNormalPush, e.tencentApp(cfg, nil))
	for i, want := range []time.Duration{0, 3 * time.Minute, 0, 3 * time.Minute} {
		if w := e.mustStep(u, false); w != want {
			t.Fatalf("step %d waits %v, want %v", i, w, want)
		}
		if n := len(fs.requests()); n != i+1 {
			t.Fatalf("after step %d: %d requests, want one a step", i, n)
		}
	}
	for i, r := range fs.requests() {
		var req struct{ StartTime, EndTime int64 }
		if err := json.Unmarshal(r.body, &req); err != nil {
			t.Fatalf("request %d: %v: %s", i, err, r.body)
		}
		want := []time.Duration{24 * time.Hour, 7 * 24 * time.Hour}[i%2]
		if got := time.Duration(req.EndTime-req.StartTime) * time.Second; got != want {
			t.Errorf("request %d asked over %v, want %v", i, got, want)
		}
	}
	text := render(t, u.target)
	if got := labelValues(t, text, "tencent_im_normal_push_window_clicked", "window"); !slices.Equal(got, []string{"24h", "7d"}) {
		t.Errorf("windows exported: %v", got)
	}
	// The 24h window's series are the sample's, as the mapping's own test
	// expects them.
	cfg24 := e.config(tencentConfig(fs.url, "    push:\n      windows: [24h]\n", ""))
	u24 := e.unit(catalog.SourceTencentNormalPush, e.tencentApp(cfg24, nil))
	e.mustStep(u24, false)
	expectFile(t, u24.target, "normal_push_sample.prom")
}

func TestNormalPushNotEnabledIsUnavailable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	_, url := tencentSim(t, e.fc, simulator.TencentApp{SDKAppID: simSDKAppID, Identifier: "admin", SecretKey: simKey, PushDisabled: true})
	cfg := e.config(tencentConfig(url, "", ""))
	u := e.unit(catalog.SourceTencentNormalPush, e.tencentApp(cfg, nil))
	_, err := e.step(u, false)
	var ae *apierr.Error
	if apierr.ClassOf(err) != apierr.Unavailable {
		t.Fatalf("normal push not enabled: err %v, want class unavailable", err)
	}
	if !errors.As(err, &ae) || ae.Code != "90045" {
		t.Fatalf("normal push not enabled: err %v, want code 90045", err)
	}
}

// TestNormalPushOneCallPerSecond runs rounds of three windows against the
// simulator, which counts every arrival: none closer than a second, none
// refused.
func TestNormalPushOneCallPerSecond(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	sim, url := tencentSim(t, e.fc)
	cfg := e.config(tencentConfig(url, "    push:\n      windows: [1h, 24h, 7d]\n", ""))
	u := e.unit(catalog.SourceTencentNormalPush, e.tencentApp(cfg, nil))
	const rounds = 3
	for range rounds {
		e.round(u)
		e.fc.Advance(time.Minute)
	}
	a := sim.Arrivals(simulator.TencentNormalPushStatistics, simSDKAppID)
	if a.Count != 3*rounds || a.RateLimited != 0 || a.MinGap < time.Second {
		t.Fatalf("arrivals %+v, want %d calls at least 1s apart, none refused", a, 3*rounds)
	}
	if got := labelValues(t, render(t, u.target), "tencent_im_normal_push_window_sent", "window"); !slices.Equal(got, []string{"1h", "24h", "7d"}) {
		t.Errorf("windows exported: %v", got)
	}
}

// TestPushAPIsKeepTheirOwnRate runs the loops of tencent_push and
// tencent_normal_push of one app at the same time, scraped all along: each
// API keeps to its own 1 call/s, and neither waits for the other's calls.
func TestPushAPIsKeepTheirOwnRate(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", nil)
	r.cfg = r.config(tencentConfig(r.cfg.TencentIM[0].Endpoint, "    push:\n      windows: [24h, 7d]\n", ""))
	tasks := r.sets[catalog.KindTencentPush]
	push := r.run(r.unit(catalog.SourceTencentPush, r.tencentApp(r.cfg, tasks)))
	normal := r.run(r.unit(catalog.SourceTencentNormalPush, r.tencentApp(r.cfg, nil)))
	// Both loops make their first call before the clock moves.
	waitUntil(t, "both APIs' first calls", func() bool {
		return r.tencent.Arrivals(simulator.TencentPushStatistics, simSDKAppID).Count > 0 &&
			r.tencent.Arrivals(simulator.TencentNormalPushStatistics, simSDKAppID).Count > 0
	})
	const run = 3*time.Minute + 30*time.Second
	for end := r.fc.Now().Add(run); r.fc.Now().Before(end); {
		for _, l := range []*running{push, normal} {
			select {
			case <-l.lc.sleeps:
				l.seen++
			default:
			}
		}
		normal.u.target.Demand()
		// Both loops wait on the clock (a sleep or a bucket): none is in
		// the middle of a call.
		if r.fc.Waiters() == 2 {
			r.fc.Advance(50 * time.Millisecond)
		} else {
			time.Sleep(100 * time.Microsecond)
		}
	}
	p := r.tencent.Arrivals(simulator.TencentPushStatistics, simSDKAppID)
	n := r.tencent.Arrivals(simulator.TencentNormalPushStatistics, simSDKAppID)
	// A round is the two windows and the batch of the one task, and the two
	// windows; there is one a minute.
	if p.Count < 3*3 || n.Count < 2*3 {
		t.Errorf("%d all_member_push_statistics and %d normal_push_statistics calls in %v, want at least %d and %d", p.Count, n.Count, run, 3*3, 2*3)
	}
	for name, a := range map[string]simulator.Arrivals{"all_member_push_statistics": p, "normal_push_statistics": n} {
		if a.RateLimited != 0 || a.MinGap < time.Second {
			t.Errorf("%s: %+v, want calls at least 1s apart, none refused", name, a)
		}
	}
	if d := p.First.Sub(n.First).Abs(); d >= time.Second {
		t.Errorf("the two APIs' first calls arrived %v apart: one waited for the other's bucket", d)
	}
	for _, u := range []*unit{push.u, normal.u} {
		if h := u.target.Health(); !h.OK || h.Failures != 0 {
			t.Errorf("%s: health %+v", u.def.Name, h)
		}
	}
}

// TestNormalPushFollowsTheWindows reconfigures the job as a reload does: a
// window no longer configured loses its series at the next step, also when
// no window is left.
func TestNormalPushFollowsTheWindows(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	fs := serveFiles(t, map[string]string{tencentim.APINormalPushStatistics: "normal_push_sample.json"})
	u := e.unit(catalog.SourceTencentNormalPush, e.tencentApp(e.config(tencentConfig(fs.url, "    push:\n      windows: [24h, 7d]\n", "")), nil))
	e.round(u)
	windows := func() []string {
		return labelValues(t, render(t, u.target), "tencent_im_normal_push_window_sent", "window")
	}
	for _, tc := range []struct {
		windows string
		want    []string
	}{
		{"[7d]", []string{"7d"}},
		{"[1h, 7d]", []string{"1h", "7d"}},
		{"[]", []string{}},
	} {
		u.job.Configure(e.tencentApp(e.config(tencentConfig(fs.url, "    push:\n      windows: "+tc.windows+"\n", "")), nil))
		e.fc.Advance(time.Hour)
		e.round(u)
		if got := windows(); !slices.Equal(got, tc.want) {
			t.Errorf("after a reload to windows %s: series of %v, want %v", tc.windows, got, tc.want)
		}
	}
}
