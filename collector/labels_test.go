package collector

import (
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/jpush"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

func has(samples []expo.Sample, family string, value float64, labels ...string) bool {
	for _, s := range samples {
		if s.Family.Name != family || s.Value != value || len(s.Labels) != len(labels) {
			continue
		}
		match := true
		for i := range labels {
			match = match && s.Labels[i] == labels[i]
		}
		if match {
			return true
		}
	}
	return false
}

// TestLabelLimitOtherLabels checks the label limit on the other labels
// vendors decide: /users platforms (summed into other), getappinfo's unknown
// fields (dropped), /status/message codes (counted under other). Known
// values are never refused; each refusal is counted once.
func TestLabelLimitOtherLabels(t *testing.T) {
	t.Parallel()
	c := func(v int64) jpush.Count { return &v }
	lim := NewLabelLimit(1)
	users, _, ok := UsersDayMetrics(false, "k", jpush.UsersDay{Day: "2024-03-01", Platforms: map[string]jpush.UserCounts{
		"android": {Active: c(5)}, "harmony": {Active: c(1)}, "p2": {Active: c(2)}, "p3": {Active: c(3)},
	}}, time.UTC, lim)
	if !ok || !has(users, "jpush_users_active", 5, "k", "android") || !has(users, "jpush_users_active", 1, "k", "harmony") ||
		!has(users, "jpush_users_active", 5, "k", LabelOther) || len(users) != 4 {
		t.Errorf("users %v, want android, harmony and other = 2+3", users)
	}
	ops, _ := operationsMetrics(tencentim.AppInfoRow{"ActiveUserNum": "1", "NewA": "2", "NewB": "3"}, "1", lim)
	if !has(ops, "tencent_im_operations_field", 2, "1", "NewA") || len(ops) != 2 {
		t.Errorf("operations %v, want ActiveUserNum and NewA only", ops)
	}
	status := StatusSamples("k", "1", []string{"a", "b", "c"}, map[string]int{"a": 0, "b": 9, "c": 8}, lim)
	if !has(status, "jpush_message_devices", 1, "k", "1", "code_9") || !has(status, "jpush_message_devices", 1, "k", "1", LabelOther) {
		t.Errorf("status %v, want code_9 and other 1", status)
	}
	refused := lim.Take()
	if refused[LimitPlatform] != 2 || refused[LimitField] != 1 || refused[LimitStatus] != 1 {
		t.Errorf("refused %v", refused)
	}
	if again := lim.Take(); again != nil {
		t.Errorf("second Take %v, want nothing", again)
	}
}
