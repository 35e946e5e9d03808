package simulator

import (
	"testing"
	"time"
)

// platform returns the offline entry of a PushPlatform code in s.
func platform(t *testing.T, s wireStats, code int) wirePlatform {
	t.Helper()
	for _, p := range s.PlatformStatistics {
		if p.EventType == eventOffline && p.PushPlatform == code {
			return p
		}
	}
	t.Fatalf("no offline entry for PushPlatform %d in %+v", code, s)
	return wirePlatform{}
}

func TestTencentDegradePlatform(t *testing.T) {
	t.Parallel()
	const huawei, xiaomi = 3, 2 // All/Tagged Users Push Data Statistics PushPlatform codes
	for _, tc := range []struct {
		name   string
		factor float64
		want   float64 // share of the healthy delivered and clicked counts left
	}{
		{"half", 0.5, 0.5},
		{"none", 0, 0},
		{"negative counts as 0", -2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHarness(t)
			id := h.push(t, testApp, 24*time.Hour)
			h.clk.Advance(7 * time.Hour) // settled: only the degradation changes the figures
			healthy := h.stats(t, testApp, id)[0]
			healthyOverall := h.stats(t, testApp)[0]

			h.sim.DegradePlatform(huawei, tc.factor)
			degraded := h.stats(t, testApp, id)[0]
			hb, hd := platform(t, healthy, huawei), platform(t, degraded, huawei)
			if hd.TotalCount != hb.TotalCount || hd.SentCount != hb.SentCount {
				t.Errorf("target/sent changed: %+v → %+v", hb, hd)
			}
			for stage, counts := range map[string][2]int64{
				"delivered": {hb.DeliveredCount, hd.DeliveredCount},
				"clicked":   {hb.ClickCount, hd.ClickCount},
			} {
				if want := int64(float64(counts[0]) * tc.want); counts[1] < want-1 || counts[1] > want+1 {
					t.Errorf("degraded %s = %d, want about %v of %d", stage, counts[1], tc.want, counts[0])
				}
			}
			if platform(t, degraded, xiaomi) != platform(t, healthy, xiaomi) {
				t.Error("degrading huawei changed xiaomi")
			}
			if lost := hb.DeliveredCount - hd.DeliveredCount; degraded.DeliveredCount != healthy.DeliveredCount-lost {
				t.Errorf("task DeliveredCount %d, want %d (the platforms' sum)", degraded.DeliveredCount, healthy.DeliveredCount-lost)
			}
			if got := platform(t, h.stats(t, testApp)[0], huawei); got != hd {
				t.Errorf("overall huawei entry %+v, want the only task's %+v", got, hd)
			}

			h.sim.DegradePlatform(huawei, 1)
			if restored := h.stats(t, testApp)[0]; !equalStats(restored, healthyOverall) {
				t.Errorf("factor 1: overall %+v, want it restored to %+v", restored, healthyOverall)
			}
		})
	}
}
