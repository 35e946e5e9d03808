package collector

import (
	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// normalPushHelp is the HELP of each stage of the chat-message push funnel,
// in the order of pushStages.
var normalPushHelp = [len(pushFamily{})]string{
	"Devices the pushes could be sent to (normal_push_statistics TotalCount).",
	"Pushes sent (normal_push_statistics SentCount).",
	"Pushes delivered to devices (normal_push_statistics DeliveredCount).",
	"Pushes clicked (normal_push_statistics ClickCount).",
}

func newNormalPushFamily(prefix, scope string, labels ...string) pushFamily {
	var f pushFamily
	for i, st := range pushStages {
		f[i] = expo.NewFamily(prefix+st.name, scope+": "+normalPushHelp[i], labels...)
	}
	return f
}

var (
	normalPushWindowFamily         = newNormalPushFamily("tencent_im_normal_push_window_", "Offline pushes of chat messages in the rolling window", "sdkappid", "window")
	normalPushWindowPlatformFamily = newNormalPushFamily("tencent_im_normal_push_window_platform_", "Offline pushes of chat messages in the rolling window, per vendor channel", "sdkappid", "window", "platform")
)

// NormalPushWindowSamples maps a normal_push_statistics answer for one rolling
// window (Tencent Chat "普通推送数据统计", Normal Push Data Statistics,
// https://trtc.io/zh/document/71897) to the
// tencent_im_normal_push_window_{target,sent,delivered,clicked} and
// tencent_im_normal_push_window_platform_… series of sdkappid. The platform
// label is tencentim.PlatformName of the PushPlatform code (code_N for one it
// does not know, other for one lim refuses). A count the vendor did not
// report gives no series; two entries for the same channel are summed, since
// a duplicate series would fail the whole scrape.
func NormalPushWindowSamples(sdkappid, window string, r tencentim.NormalPushResult, lim *LabelLimit) []expo.Sample {
	out := appendStats(nil, normalPushWindowFamily, r.PushStats, sdkappid, window)
	merged := map[string]tencentim.PushStats{}
	var order []string
	for _, p := range r.Platforms {
		name := platformLabel(p.PushPlatform, lim)
		prev, seen := merged[name]
		if !seen {
			order = append(order, name)
		}
		merged[name] = sumStats(prev, p.PushStats, seen)
	}
	for _, name := range order {
		out = appendStats(out, normalPushWindowPlatformFamily, merged[name], sdkappid, window, name)
	}
	return out
}
