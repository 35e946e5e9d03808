package simulator

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// lossWireItem is an element of a loss array as a client decodes it;
// EventType is 0 in the totals and in normal_push_loss.
type lossWireItem struct {
	EventType, PushPlatform int
	ErrCode                 string
	ErrCount                int64
	ErrInfo                 string
}

// lossWire is a loss report as a client decodes it.
type lossWire struct {
	TaskID                        string
	ReadyToSendLoss               []lossWireItem
	PostSendDeliveredLoss         []lossWireItem
	PlatformReadyToSendLoss       []lossWireItem
	PlatformPostSendDeliveredLoss []lossWireItem
}

// platformLost returns, per (EventType, PushPlatform), the pushes lost at
// both stages.
func (l lossWire) platformLost() map[[2]int]int64 {
	out := map[[2]int]int64{}
	for _, items := range [][]lossWireItem{l.PlatformReadyToSendLoss, l.PlatformPostSendDeliveredLoss} {
		for _, it := range items {
			out[[2]int{it.EventType, it.PushPlatform}] += it.ErrCount
		}
	}
	return out
}

// byCode sums items by code.
func byCode(items []lossWireItem) map[string]int64 {
	out := map[string]int64{}
	for _, it := range items {
		out[it.ErrCode] += it.ErrCount
	}
	return out
}

// checkTotals checks that each total array is its platform array summed by
// code.
func checkTotals(t *testing.T, l lossWire) {
	t.Helper()
	for _, pair := range [][2][]lossWireItem{{l.ReadyToSendLoss, l.PlatformReadyToSendLoss}, {l.PostSendDeliveredLoss, l.PlatformPostSendDeliveredLoss}} {
		if got, want := byCode(pair[0]), byCode(pair[1]); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("totals %v, want the channels summed %v", got, want)
		}
	}
}

// loss queries all_member_push_loss for ids (none: overall) over the last
// day, a second after the previous query.
func (h *harness) loss(t *testing.T, app uint64, ids ...string) []lossWire {
	t.Helper()
	h.clk.Advance(time.Second)
	var ans struct {
		ActionStatus string
		Results      []lossWire
	}
	body := statsBody(h.clk.Now().Add(-24*time.Hour), h.clk.Now(), ids...)
	if code := h.call(t, TencentPushLoss, app, body, &ans); code != 0 {
		t.Fatalf("all_member_push_loss: ErrorCode = %d", code)
	}
	return ans.Results
}

// normalLoss queries normal_push_loss over [start, end].
func (h *harness) normalLoss(t *testing.T, app uint64, start, end time.Time) lossWire {
	t.Helper()
	h.clk.Advance(time.Second)
	var ans lossWire
	if code := h.call(t, TencentNormalPushLoss, app, normalBody(start, end), &ans); code != 0 {
		t.Fatalf("normal_push_loss: ErrorCode = %d", code)
	}
	return ans
}

func TestTencentPushLossLimits(t *testing.T) {
	t.Parallel()
	now := testStart
	day := 24 * time.Hour
	for _, tc := range []struct {
		name string
		api  string
		body string
		want int
	}{
		{"a day", TencentPushLoss, statsBody(now.Add(-day), now), 0},
		{"7 days", TencentPushLoss, statsBody(now.Add(-7*day), now), 0},
		{"7 days and a second", TencentPushLoss, statsBody(now.Add(-7*day-time.Second), now), 90100},
		{"30 days, allowed for the statistics", TencentPushLoss, statsBody(now.Add(-30*day), now), 90100},
		{"5 TaskIDs", TencentPushLoss, statsBody(now.Add(-day), now, "a", "b", "c", "d", "e"), 0},
		{"6 TaskIDs", TencentPushLoss, statsBody(now.Add(-day), now, "a", "b", "c", "d", "e", "f"), 90100},
		{"end before start", TencentPushLoss, statsBody(now, now.Add(-time.Second)), 90100},
		{"no StartTime", TencentPushLoss, fmt.Sprintf(`{"EndTime":%d,"TaskID":[]}`, now.Unix()), 90100},
		{"bad JSON", TencentPushLoss, `{"StartTime":`, 90100},
		{"chat pushes, 7 days", TencentNormalPushLoss, normalBody(now.Add(-7*day), now), 0},
		{"chat pushes, 7 days and a second", TencentNormalPushLoss, normalBody(now.Add(-7*day-time.Second), now), 90100},
		{"chat pushes, empty window", TencentNormalPushLoss, normalBody(now, now), 90100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHarness(t)
			if code := h.call(t, tc.api, testApp, tc.body, nil); code != tc.want {
				t.Errorf("ErrorCode = %d, want %d", code, tc.want)
			}
			if c := h.sim.Calls(); len(c) != 1 || c[0].API != tc.api || c[0].ErrorCode != tc.want {
				t.Errorf("calls %+v", c)
			}
		})
	}
}

// TestTencentPushLossRate checks 1 call/s per API and app, each loss API on
// a budget of its own.
func TestTencentPushLossRate(t *testing.T) {
	t.Parallel()
	for _, api := range []string{TencentPushLoss, TencentNormalPushLoss} {
		t.Run(api, func(t *testing.T) {
			t.Parallel()
			h := newTestHarness(t)
			for i, s := range []struct {
				at   time.Duration
				want int
			}{{0, 0}, {0, 60007}, {999 * time.Millisecond, 60007}, {time.Second, 0}, {1500 * time.Millisecond, 60007}, {2 * time.Second, 0}} {
				h.clk.Advance(testStart.Add(s.at).Sub(h.clk.Now()))
				if code := h.call(t, api, testApp, h.okBody(api), nil); code != s.want {
					t.Errorf("call %d at +%v: ErrorCode = %d, want %d", i, s.at, code, s.want)
				}
			}
			for _, other := range []string{TencentPushLoss, TencentNormalPushLoss, TencentPushStatistics, TencentNormalPushStatistics} {
				if other == api {
					continue
				}
				if code := h.call(t, other, testApp, h.okBody(other), nil); code != 0 {
					t.Errorf("%s in the same second: ErrorCode = %d, want 0", other, code)
				}
			}
			if code := h.call(t, api, otherApp, h.okBody(api), nil); code != 0 {
				t.Errorf("another app in the same second: ErrorCode = %d, want 0", code)
			}
			if a := h.sim.Arrivals(api, testApp); a.Count != 6 || a.RateLimited != 3 {
				t.Errorf("arrivals %+v, want 6 with 3 refused", a)
			}
		})
	}
}

func TestTencentPushLossDisabled(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	for _, api := range []string{TencentPushLoss, TencentNormalPushLoss} {
		if code := h.call(t, api, disabledApp, h.okBody(api), nil); code != 90045 {
			t.Errorf("%s: ErrorCode = %d, want 90045", api, code)
		}
	}
}

// TestTencentPushLossMatchesStatistics checks that a task's and a window's
// losses are what its statistics miss: per channel, targeted minus
// delivered, split into the two stages.
func TestTencentPushLossMatchesStatistics(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	a := h.push(t, testApp, 24*time.Hour)
	b := h.push(t, testApp, 0)
	h.clk.Advance(20 * time.Minute)
	for _, tc := range []struct {
		name string
		ids  []string
	}{{"task", []string{a}}, {"online-only task", []string{b}}, {"overall", nil}} {
		stats := h.stats(t, testApp, tc.ids...)
		h.clk.Advance(-time.Second) // the same instant for both answers
		loss := h.loss(t, testApp, tc.ids...)
		if len(loss) != 1 || len(stats) != 1 || loss[0].TaskID != stats[0].TaskID {
			t.Fatalf("%s: %d loss results, %d statistics", tc.name, len(loss), len(stats))
		}
		lost := loss[0].platformLost()
		for _, p := range stats[0].PlatformStatistics {
			if got, want := lost[[2]int{p.EventType, p.PushPlatform}], p.TotalCount-p.DeliveredCount; got != want {
				t.Errorf("%s: channel %d/%d lost %d, want target − delivered = %d", tc.name, p.EventType, p.PushPlatform, got, want)
			}
		}
		checkTotals(t, loss[0])
		if len(loss[0].ReadyToSendLoss) == 0 || len(loss[0].PostSendDeliveredLoss) == 0 {
			t.Errorf("%s: %+v, want losses at both stages", tc.name, loss[0])
		}
	}
	if got := h.loss(t, testApp, "unknown-task"); len(got) != 0 {
		t.Errorf("an unknown task: %+v, want left out", got)
	}
}

// TestTencentPushLossDegrade checks that a degraded channel loses the pushes
// it no longer delivers for one reason, which then leads its losses.
func TestTencentPushLossDegrade(t *testing.T) {
	t.Parallel()
	const huawei = 3
	h := newTestHarness(t)
	id := h.push(t, testApp, 24*time.Hour)
	h.clk.Advance(3 * time.Hour)
	healthy := h.loss(t, testApp, id)[0]
	h.sim.DegradePlatform(huawei, 0.1)
	degraded := h.loss(t, testApp, id)[0]
	h.clk.Advance(-time.Second)
	stats := h.stats(t, testApp, id)[0]
	var top lossWireItem
	for _, it := range degraded.PlatformPostSendDeliveredLoss {
		if it.PushPlatform == huawei && it.ErrCount > top.ErrCount {
			top = it
		}
		if it.PushPlatform != huawei && it.ErrCode == "80300007" {
			t.Errorf("degrading huawei lost pushes of channel %d for its reason", it.PushPlatform)
		}
	}
	if top.ErrCode != "80300007" || top.ErrInfo != "token invalid" {
		t.Errorf("huawei's top loss %+v, want 80300007 token invalid", top)
	}
	for _, it := range healthy.PlatformPostSendDeliveredLoss {
		if it.ErrCode == "80300007" {
			t.Errorf("a healthy channel lost %d pushes for the degradation's reason", it.ErrCount)
		}
	}
	for _, p := range stats.PlatformStatistics {
		if got, want := degraded.platformLost()[[2]int{p.EventType, p.PushPlatform}], p.TotalCount-p.DeliveredCount; got != want {
			t.Errorf("channel %d/%d lost %d, want %d", p.EventType, p.PushPlatform, got, want)
		}
	}
	checkTotals(t, degraded)
}

func TestTencentNormalPushLoss(t *testing.T) {
	t.Parallel()
	const huawei = 3
	h := newTestHarness(t)
	var raw map[string]json.RawMessage
	if code := h.call(t, TencentNormalPushLoss, testApp, h.okBody(TencentNormalPushLoss), &raw); code != 0 {
		t.Fatalf("ErrorCode = %d", code)
	}
	for _, key := range []string{"ReadyToSendLoss", "PostSendDeliveredLoss", "PlatformReadyToSendLoss", "PlatformPostSendDeliveredLoss"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("no %s at the top level", key)
		}
	}
	start, end := h.clk.Now().Add(-48*time.Hour), h.clk.Now().Add(-24*time.Hour)
	for _, factor := range []float64{1, 0.1} {
		h.sim.DegradePlatform(huawei, factor)
		stats := h.normal(t, testApp, start, end)
		loss := h.normalLoss(t, testApp, start, end)
		for _, it := range loss.PlatformPostSendDeliveredLoss {
			if it.EventType != 0 {
				t.Errorf("an EventType %d, which normal_push_loss does not report", it.EventType)
			}
		}
		lost := loss.platformLost()
		for _, p := range stats.PlatformStatistics {
			if got, want := lost[[2]int{0, p.PushPlatform}], p.TotalCount-p.DeliveredCount; got != want {
				t.Errorf("factor %v: channel %d lost %d, want %d", factor, p.PushPlatform, got, want)
			}
		}
		checkTotals(t, loss)
		reason := byCode(loss.PostSendDeliveredLoss)["80300007"]
		if (factor == 1) != (reason == 0) {
			t.Errorf("factor %v: %d lost for 80300007", factor, reason)
		}
	}
}
