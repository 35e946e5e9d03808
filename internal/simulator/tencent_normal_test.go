package simulator

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// normalBody is a normal_push_statistics request.
func normalBody(start, end time.Time) string {
	return fmt.Sprintf(`{"StartTime":%d,"EndTime":%d}`, start.Unix(), end.Unix())
}

// normalWire is normal_push_statistics' answer as a client decodes it.
type normalWire struct {
	ActionStatus                                      string
	ErrorCode                                         int
	ErrorInfo                                         string
	TotalCount, SentCount, DeliveredCount, ClickCount int64
	PlatformStatistics                                []normalWirePlatform
}

type normalWirePlatform struct {
	PushPlatform                                      int
	TotalCount, SentCount, DeliveredCount, ClickCount int64
}

// normal queries normal_push_statistics over [start, end] for app, a second
// after the previous query so that the rate limit lets it pass.
func (h *harness) normal(t *testing.T, app uint64, start, end time.Time) normalWire {
	t.Helper()
	h.clk.Advance(time.Second)
	var ans normalWire
	if code := h.call(t, TencentNormalPushStatistics, app, normalBody(start, end), &ans); code != 0 {
		t.Fatalf("normal_push_statistics: ErrorCode = %d", code)
	}
	return ans
}

// lastDay queries the 24 hours up to now.
func (h *harness) lastDay(t *testing.T, app uint64) normalWire {
	t.Helper()
	return h.normal(t, app, h.clk.Now().Add(1*time.Second-24*time.Hour), h.clk.Now().Add(time.Second))
}

// entry returns the entry of a PushPlatform code in s.
func (s normalWire) entry(t *testing.T, code int) normalWirePlatform {
	t.Helper()
	for _, p := range s.PlatformStatistics {
		if p.PushPlatform == code {
			return p
		}
	}
	t.Fatalf("no entry for PushPlatform %d in %+v", code, s)
	return normalWirePlatform{}
}

func TestTencentNormalPushLimits(t *testing.T) {
	t.Parallel()
	now := testStart
	day := 24 * time.Hour
	for _, tc := range []struct {
		name string
		body string
		want int
	}{
		{"a day", normalBody(now.Add(-day), now), 0},
		{"30 days", normalBody(now.Add(-30*day), now), 0},
		{"31 days", normalBody(now.Add(-31*day), now), 90100},
		{"30 days and a second", normalBody(now.Add(-30*day-time.Second), now), 90100},
		{"end before start", normalBody(now, now.Add(-time.Second)), 90100},
		{"start equals end", normalBody(now, now), 90100},
		{"no StartTime", fmt.Sprintf(`{"EndTime":%d}`, now.Unix()), 90100},
		{"no EndTime", fmt.Sprintf(`{"StartTime":%d}`, now.Unix()), 90100},
		{"StartTime a string", fmt.Sprintf(`{"StartTime":"%d","EndTime":%d}`, now.Add(-day).Unix(), now.Unix()), 90100},
		{"bad JSON", `{"StartTime":`, 90100},
		{"empty body", ``, 90100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHarness(t)
			if code := h.call(t, TencentNormalPushStatistics, testApp, tc.body, nil); code != tc.want {
				t.Errorf("ErrorCode = %d, want %d", code, tc.want)
			}
		})
	}
}

func TestTencentNormalPushRate(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	body := func() string { return normalBody(h.clk.Now().Add(-time.Hour), h.clk.Now()) }
	steps := []struct {
		at   time.Duration
		want int
	}{
		{0, 0},
		{0, 60007},
		{999 * time.Millisecond, 60007},
		{time.Second, 0},
		{1500 * time.Millisecond, 60007},
		{2 * time.Second, 0},
	}
	for i, s := range steps {
		h.clk.Advance(testStart.Add(s.at).Sub(h.clk.Now()))
		if code := h.call(t, TencentNormalPushStatistics, testApp, body(), nil); code != s.want {
			t.Errorf("call %d at +%v: ErrorCode = %d, want %d", i, s.at, code, s.want)
		}
	}
	// The limit is per API and per app.
	if code := h.call(t, TencentPushStatistics, testApp, statsBody(h.clk.Now().Add(-time.Hour), h.clk.Now()), nil); code != 0 {
		t.Errorf("all_member_push_statistics in the same second: ErrorCode = %d, want 0", code)
	}
	if code := h.call(t, TencentNormalPushStatistics, otherApp, body(), nil); code != 0 {
		t.Errorf("another app in the same second: ErrorCode = %d, want 0", code)
	}
	calls := h.sim.Calls()
	for i, s := range steps {
		if c := calls[i]; c.API != TencentNormalPushStatistics || c.ErrorCode != s.want || c.EndTime-c.StartTime != 3600 || c.SDKAppID != testApp {
			t.Errorf("call %d logged as %+v", i, c)
		}
	}
}

func TestTencentNormalPushDisabled(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	if code := h.call(t, TencentNormalPushStatistics, disabledApp, h.okBody(TencentNormalPushStatistics), nil); code != 90045 {
		t.Errorf("ErrorCode = %d, want 90045", code)
	}
}

func TestTencentNormalPushShape(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	var raw map[string]json.RawMessage
	if code := h.call(t, TencentNormalPushStatistics, testApp, h.okBody(TencentNormalPushStatistics), &raw); code != 0 {
		t.Fatalf("ErrorCode = %d", code)
	}
	for _, key := range []string{"Results", "EventType", "TaskID"} {
		if _, ok := raw[key]; ok {
			t.Errorf("the answer has %s, which the vendor's has not", key)
		}
	}
	h.clk.Advance(time.Second)
	s := h.lastDay(t, testApp)
	if s.ActionStatus != "OK" || s.ErrorInfo != "sucess" {
		t.Errorf("ActionStatus %q, ErrorInfo %q; want the vendor sample's OK, sucess", s.ActionStatus, s.ErrorInfo)
	}
	if len(s.PlatformStatistics) != len(offlineChannels) {
		t.Fatalf("%d channels, want the %d offline ones", len(s.PlatformStatistics), len(offlineChannels))
	}
	var sum normalWirePlatform
	rates := map[int]float64{}
	for i, p := range s.PlatformStatistics {
		if p.PushPlatform != i+1 {
			t.Errorf("entry %d is PushPlatform %d, want %d: ordered by code", i, p.PushPlatform, i+1)
		}
		if p.TotalCount < p.SentCount || p.SentCount < p.DeliveredCount || p.DeliveredCount < p.ClickCount || p.ClickCount <= 0 {
			t.Errorf("PushPlatform %d: funnel %+v does not narrow", p.PushPlatform, p)
		}
		rates[p.PushPlatform] = float64(p.DeliveredCount) / float64(p.SentCount)
		sum.TotalCount += p.TotalCount
		sum.SentCount += p.SentCount
		sum.DeliveredCount += p.DeliveredCount
		sum.ClickCount += p.ClickCount
	}
	if sum.TotalCount != s.TotalCount || sum.SentCount != s.SentCount || sum.DeliveredCount != s.DeliveredCount || sum.ClickCount != s.ClickCount {
		t.Errorf("totals %+v, want the channels' sum %+v", s, sum)
	}
	// Channels differ: FCM (4) delivers worst in mainland China, Huawei (3) best.
	if rates[4] >= rates[3]-0.1 {
		t.Errorf("delivery rates fcm %.2f, huawei %.2f: want fcm well below", rates[4], rates[3])
	}

	// Chat pushes far outnumber a campaign to every user.
	task := h.stats(t, testApp, h.push(t, testApp, 24*time.Hour))[0]
	if s.TotalCount < 2*task.TotalCount {
		t.Errorf("a day's chat pushes target %d devices, a campaign %d: want far more", s.TotalCount, task.TotalCount)
	}
}

func TestTencentNormalPushDayByDay(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	day := 24 * time.Hour
	// Beijing midnights: three complete days before the current one.
	today := time.Date(testStart.Year(), testStart.Month(), testStart.Day(), 0, 0, 0, 0, shanghai)
	d0, d1, d2 := today.Add(-3*day), today.Add(-2*day), today.Add(-day)
	a := h.normal(t, testApp, d0, d1)
	b := h.normal(t, testApp, d1, d2)
	both := h.normal(t, testApp, d0, d2)
	if a.TotalCount == b.TotalCount {
		t.Errorf("two days with the same figures: %d", a.TotalCount)
	}
	// Windows add up, but for the rounding of each channel's count.
	if diff := both.TotalCount - a.TotalCount - b.TotalCount; diff < 0 || diff > int64(len(offlineChannels)) {
		t.Errorf("two days %d, want the sum of each %d + %d", both.TotalCount, a.TotalCount, b.TotalCount)
	}
	half := h.normal(t, testApp, d0, d0.Add(12*time.Hour))
	if r := float64(half.TotalCount) / float64(a.TotalCount); r < 0.49 || r > 0.51 {
		t.Errorf("half a day holds %.3f of the day, want a half", r)
	}

	// Nothing is pushed in the future.
	future := h.normal(t, testApp, h.clk.Now().Add(time.Hour), h.clk.Now().Add(2*time.Hour))
	if future.TotalCount != 0 || len(future.PlatformStatistics) != 0 {
		t.Errorf("a window in the future: %+v, want nothing", future)
	}

	// A rolling window moves.
	before := h.lastDay(t, testApp)
	h.clk.Advance(time.Hour)
	if after := h.lastDay(t, testApp); after.TotalCount == before.TotalCount {
		t.Errorf("the last day's figures did not move in an hour: %d", after.TotalCount)
	}

	// The same seed gives the same figures.
	other := newTestHarness(t)
	other.clk.Advance(h.clk.Now().Sub(other.clk.Now()) - time.Second)
	if got, want := other.normal(t, testApp, d0, d2), both; got.TotalCount != want.TotalCount || got.ClickCount != want.ClickCount {
		t.Errorf("another simulator with the same seed: %+v, want %+v", got, want)
	}
}

func TestTencentNormalPushDegrade(t *testing.T) {
	t.Parallel()
	const huawei, xiaomi = 3, 2
	h := newTestHarness(t)
	start, end := h.clk.Now().Add(-48*time.Hour), h.clk.Now().Add(-24*time.Hour)
	healthy := h.normal(t, testApp, start, end)
	h.sim.DegradePlatform(huawei, 0.3)
	degraded := h.normal(t, testApp, start, end)
	hb, hd := healthy.entry(t, huawei), degraded.entry(t, huawei)
	if hd.TotalCount != hb.TotalCount || hd.SentCount != hb.SentCount {
		t.Errorf("target/sent changed: %+v → %+v", hb, hd)
	}
	if want := int64(float64(hb.DeliveredCount) * 0.3); hd.DeliveredCount < want-1 || hd.DeliveredCount > want+1 {
		t.Errorf("degraded delivered %d, want about 0.3 of %d", hd.DeliveredCount, hb.DeliveredCount)
	}
	if degraded.entry(t, xiaomi) != healthy.entry(t, xiaomi) {
		t.Error("degrading huawei changed xiaomi")
	}
	if lost := hb.DeliveredCount - hd.DeliveredCount; degraded.DeliveredCount != healthy.DeliveredCount-lost {
		t.Errorf("DeliveredCount %d, want %d (the channels' sum)", degraded.DeliveredCount, healthy.DeliveredCount-lost)
	}
	h.sim.DegradePlatform(huawei, 1)
	if restored := h.normal(t, testApp, start, end); restored.DeliveredCount != healthy.DeliveredCount {
		t.Errorf("factor 1: DeliveredCount %d, want it restored to %d", restored.DeliveredCount, healthy.DeliveredCount)
	}
}

func TestTencentArrivals(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	if got := h.sim.Arrivals(TencentNormalPushStatistics, testApp); got != (Arrivals{}) {
		t.Errorf("before any call: %+v", got)
	}
	body := func() string { return normalBody(h.clk.Now().Add(-time.Hour), h.clk.Now()) }
	for _, step := range []time.Duration{0, 1500 * time.Millisecond, 300 * time.Millisecond, 2 * time.Second} {
		h.clk.Advance(step)
		h.call(t, TencentNormalPushStatistics, testApp, body(), nil)
	}
	h.sim.SetFault(TencentNormalPushStatistics, &Fault{ErrorCode: 60007})
	h.clk.Advance(5 * time.Second)
	h.call(t, TencentNormalPushStatistics, testApp, body(), nil)
	h.call(t, TencentPushStatistics, testApp, statsBody(h.clk.Now().Add(-time.Hour), h.clk.Now()), nil)

	want := Arrivals{Count: 5, RateLimited: 2, MinGap: 300 * time.Millisecond, First: testStart, Last: h.clk.Now()}
	if got := h.sim.Arrivals(TencentNormalPushStatistics, testApp); got != want {
		t.Errorf("Arrivals = %+v, want %+v", got, want)
	}
	if got := h.sim.Arrivals(TencentPushStatistics, testApp); got.Count != 1 || got.MinGap != 0 {
		t.Errorf("all_member_push_statistics: %+v, want one call counted apart", got)
	}
	if got := h.sim.Arrivals(TencentNormalPushStatistics, otherApp); got.Count != 0 {
		t.Errorf("another app: %+v, want none", got)
	}
}
