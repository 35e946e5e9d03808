package collector

import (
	"slices"

	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// pushStage is one stage of the Tencent push funnel and the count it reads.
type pushStage struct {
	name  string
	help  string
	count func(tencentim.PushStats) tencentim.Count
}

var pushStages = []pushStage{
	{"target", "Devices the push could be sent to (all_member_push_statistics TotalCount).", func(s tencentim.PushStats) tencentim.Count { return s.TotalCount }},
	{"sent", "Pushes sent (all_member_push_statistics SentCount).", func(s tencentim.PushStats) tencentim.Count { return s.SentCount }},
	{"delivered", "Pushes delivered to devices (all_member_push_statistics DeliveredCount).", func(s tencentim.PushStats) tencentim.Count { return s.DeliveredCount }},
	{"clicked", "Pushes clicked (all_member_push_statistics ClickCount).", func(s tencentim.PushStats) tencentim.Count { return s.ClickCount }},
}

// pushFamily is one of the four families of push metrics: a stage's desc
// each, all with the same labels.
type pushFamily [4]*expo.Family

func newPushFamily(prefix, scope string, labels ...string) pushFamily {
	var f pushFamily
	for i, st := range pushStages {
		f[i] = expo.NewFamily(prefix+st.name, scope+": "+st.help, labels...)
	}
	return f
}

var (
	pushTaskFamily           = newPushFamily("tencent_im_push_task_", "Per push task", "sdkappid", "task_id")
	pushTaskPlatformFamily   = newPushFamily("tencent_im_push_task_platform_", "Per push task and vendor channel", "sdkappid", "task_id", "event_type", "platform")
	pushWindowFamily         = newPushFamily("tencent_im_push_window_", "All pushes in the rolling window", "sdkappid", "window")
	pushWindowPlatformFamily = newPushFamily("tencent_im_push_window_platform_", "All pushes in the rolling window, per vendor channel", "sdkappid", "window", "event_type", "platform")
)

// appendStats adds a series per stage whose count the vendor reported; a
// count it did not report gives no series (never a fake 0).
func appendStats(out []expo.Sample, f pushFamily, s tencentim.PushStats, labels ...string) []expo.Sample {
	for i, st := range pushStages {
		if c := st.count(s); c != nil {
			out = append(out, f[i].Gauge(float64(*c), labels...))
		}
	}
	return out
}

// appendResult adds a result's totals and its per-channel statistics. Two
// entries for the same channel are summed: a duplicate series would fail the
// whole scrape. lim bounds the EventType and PushPlatform codes the
// documents do not list: a refused one is summed into other.
func appendResult(out []expo.Sample, total, platform pushFamily, r tencentim.PushResult, lim *LabelLimit, labels ...string) []expo.Sample {
	out = appendStats(out, total, r.PushStats, labels...)
	type key struct{ event, platform string }
	merged := map[key]tencentim.PushStats{}
	var order []key
	for _, p := range r.Platforms {
		k := key{eventTypeLabel(p.EventType, lim), platformLabel(p.PushPlatform, lim)}
		prev, seen := merged[k]
		if !seen {
			order = append(order, k)
		}
		merged[k] = sumStats(prev, p.PushStats, seen)
	}
	for _, k := range order {
		out = appendStats(out, platform, merged[k], slices.Concat(labels, []string{k.event, k.platform})...)
	}
	return out
}

// platformLabel is the platform label of a PushPlatform code: its name for
// a documented code (0 to 8), code_N for another one that lim admits, else
// other.
func platformLabel(code int, lim *LabelLimit) string {
	name := tencentim.PlatformName(code)
	if !lim.admit(LimitPlatform, name, tencentim.KnownPlatform(code)) {
		return LabelOther
	}
	return name
}

// eventTypeLabel is the event_type label of an EventType: offline, online,
// code_N for another one that lim admits, else other.
func eventTypeLabel(t int, lim *LabelLimit) string {
	name := tencentim.EventTypeName(t)
	if !lim.admit(LimitEventType, name, t == 1 || t == 2) {
		return LabelOther
	}
	return name
}

func sumStats(a, b tencentim.PushStats, both bool) tencentim.PushStats {
	if !both {
		return b
	}
	add := func(x, y tencentim.Count) tencentim.Count {
		if x == nil || y == nil {
			return nil
		}
		s := *x + *y
		return &s
	}
	return tencentim.PushStats{
		TotalCount:     add(a.TotalCount, b.TotalCount),
		SentCount:      add(a.SentCount, b.SentCount),
		DeliveredCount: add(a.DeliveredCount, b.DeliveredCount),
		ClickCount:     add(a.ClickCount, b.ClickCount),
	}
}

// PushTaskSamples returns the series of one task's statistics; without
// detail, only the task's totals (no per-channel series). lim bounds the
// codes as for appendResult.
func PushTaskSamples(sdkappid string, r tencentim.PushResult, detail bool, lim *LabelLimit) []expo.Sample {
	if !detail {
		return appendStats(nil, pushTaskFamily, r.PushStats, sdkappid, r.TaskID)
	}
	return appendResult(nil, pushTaskFamily, pushTaskPlatformFamily, r, lim, sdkappid, r.TaskID)
}

// PushWindowSamples returns the series of the overall statistics of one
// rolling window: the result with an empty TaskID, if the answer has one.
// lim bounds the codes as for appendResult.
func PushWindowSamples(sdkappid, window string, res []tencentim.PushResult, lim *LabelLimit) []expo.Sample {
	for _, r := range res {
		if r.TaskID == "" {
			return appendResult(nil, pushWindowFamily, pushWindowPlatformFamily, r, lim, sdkappid, window)
		}
	}
	return nil
}
