package collector

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// Bounds of the push loss series, so that no vendor answer can explode the
// series count. The channels' labels are bounded by the source's LabelLimit
// (limits.max_label_values) as for the push statistics.
const (
	// MaxLossCodes is how many error codes of one (app, stage, channel) get
	// a series of their own, the largest losses first, without a LabelLimit;
	// with one, its limits.max_label_values is the cap. The rest are summed
	// into code "other" and counted as refused values of LimitCode.
	MaxLossCodes = 20
	// MaxLossReasons is how many codes of an app get a
	// tencent_im_push_loss_reason_info series.
	MaxLossReasons = 100
	// MaxLossReasonBytes bounds the reason label.
	MaxLossReasonBytes = 128
)

// OtherLoss is the code label of the losses summed beyond the cap.
const OtherLoss = LabelOther

// LimitCode is the label of the push loss error codes, as
// imstats_exporter_labels_dropped_total names it.
const LimitCode = "code"

// codeCap is how many codes of one (stage, channel) get a series of their
// own under lim.
func (l *LabelLimit) codeCap() int {
	if l == nil || l.max <= 0 {
		return MaxLossCodes
	}
	return l.max
}

// refuse counts n values of label refused, for the next Take.
func (l *LabelLimit) refuse(label string, n int) {
	if l != nil && n > 0 {
		l.refused[label] += n
	}
}

// Loss stages: ReadyToSendLoss and PostSendDeliveredLoss.
const (
	LossStageNotSent      = "not_sent"
	LossStageNotDelivered = "not_delivered"
)

var (
	pushTaskLossFamily = expo.NewFamily("tencent_im_push_task_loss",
		"Per push task: pushes lost by stage and error code (all_member_push_loss ReadyToSendLoss, PostSendDeliveredLoss ErrCount).",
		"sdkappid", "task_id", "stage", "code")
	pushTaskPlatformLossFamily = expo.NewFamily("tencent_im_push_task_platform_loss",
		"Per push task and vendor channel: pushes lost by stage and error code (all_member_push_loss PlatformReadyToSendLoss, PlatformPostSendDeliveredLoss ErrCount).",
		"sdkappid", "task_id", "stage", "event_type", "platform", "code")
	pushWindowLossFamily = expo.NewFamily("tencent_im_push_window_loss",
		"All pushes in the rolling window: pushes lost by stage and error code (all_member_push_loss ReadyToSendLoss, PostSendDeliveredLoss ErrCount).",
		"sdkappid", "window", "stage", "code")
	pushWindowPlatformLossFamily = expo.NewFamily("tencent_im_push_window_platform_loss",
		"All pushes in the rolling window, per vendor channel: pushes lost by stage and error code (all_member_push_loss PlatformReadyToSendLoss, PlatformPostSendDeliveredLoss ErrCount).",
		"sdkappid", "window", "stage", "event_type", "platform", "code")
	normalPushWindowLossFamily = expo.NewFamily("tencent_im_normal_push_window_loss",
		"Offline pushes of chat messages in the rolling window: pushes lost by stage and error code (normal_push_loss ReadyToSendLoss, PostSendDeliveredLoss ErrCount).",
		"sdkappid", "window", "stage", "code")
	normalPushWindowPlatformLossFamily = expo.NewFamily("tencent_im_normal_push_window_platform_loss",
		"Offline pushes of chat messages in the rolling window, per vendor channel: pushes lost by stage and error code (normal_push_loss PlatformReadyToSendLoss, PlatformPostSendDeliveredLoss ErrCount).",
		"sdkappid", "window", "stage", "platform", "code")
	pushLossReasonFamily = expo.NewFamily("tencent_im_push_loss_reason_info",
		"The vendor's text for a push loss error code (all_member_push_loss ErrInfo); always 1.",
		"sdkappid", "code", "reason")
)

// The schemas of the push loss sources. PushLossSchema holds the reason
// texts too: a family belongs to one schema, and tencent_push_loss' answers
// name the codes both loss APIs report.
var (
	PushLossSchema       = expo.NewSchema(pushWindowLossFamily, pushWindowPlatformLossFamily, pushTaskLossFamily, pushTaskPlatformLossFamily, pushLossReasonFamily)
	NormalPushLossSchema = expo.NewSchema(normalPushWindowLossFamily, normalPushWindowPlatformLossFamily)
)

// LossReasons maps error codes to the vendor's text, sanitised: what a
// mapping saw, for tencent_im_push_loss_reason_info. A code keeps the first
// text seen for it; at most MaxLossReasons codes are kept.
type LossReasons map[string]string

// add notes the text of code, sanitised; an empty text or a full map adds
// nothing.
func (r LossReasons) add(code, info string) {
	if r == nil || code == OtherLoss {
		return
	}
	if _, ok := r[code]; ok || len(r) >= MaxLossReasons {
		return
	}
	if reason := SanitizeLossReason(info); reason != "" {
		r[code] = reason
	}
}

// Merge adds the codes of from that r does not have yet, within
// MaxLossReasons.
func (r LossReasons) Merge(from LossReasons) {
	codes := make([]string, 0, len(from))
	for c := range from {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		if _, ok := r[c]; !ok && len(r) < MaxLossReasons {
			r[c] = from[c]
		}
	}
}

// SanitizeLossReason makes a vendor's ErrInfo a label value: characters
// that are not printable become spaces, runs of spaces one space, the ends
// trimmed, and the text cut to MaxLossReasonBytes on a character boundary.
func SanitizeLossReason(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(s, "") {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		n := utf8.RuneLen(r)
		if space {
			n++
		}
		if b.Len()+n > MaxLossReasonBytes {
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// PushTaskLossSamples maps the loss report of one push task (Tencent Chat
// "All/Tagged Users Push Loss Analysis", all_member_push_loss,
// https://intl.cloud.tencent.com/document/product/1047/71895) to the
// tencent_im_push_task_loss and tencent_im_push_task_platform_loss series of
// sdkappid, and notes the vendor's text of the codes it exports in reasons
// (nil: not noted). Without detail, only the task's totals. lim bounds the
// channels and codes (nil: MaxLossCodes codes, any channel).
func PushTaskLossSamples(sdkappid string, r tencentim.LossReport, detail bool, reasons LossReasons, lim *LabelLimit) []expo.Sample {
	out := appendLoss(nil, pushTaskLossFamily, r, reasons, lim, sdkappid, r.TaskID)
	if detail {
		out = appendPlatformLoss(out, pushTaskPlatformLossFamily, true, r, reasons, lim, sdkappid, r.TaskID)
	}
	return out
}

// PushWindowLossSamples maps the overall loss report of a rolling window,
// the result with an empty TaskID if the answer has one, to the
// tencent_im_push_window_loss and tencent_im_push_window_platform_loss series.
func PushWindowLossSamples(sdkappid, window string, res []tencentim.LossReport, reasons LossReasons, lim *LabelLimit) []expo.Sample {
	for _, r := range res {
		if r.TaskID == "" {
			out := appendLoss(nil, pushWindowLossFamily, r, reasons, lim, sdkappid, window)
			return appendPlatformLoss(out, pushWindowPlatformLossFamily, true, r, reasons, lim, sdkappid, window)
		}
	}
	return nil
}

// NormalPushWindowLossSamples maps a normal_push_loss answer for a rolling
// window (Tencent Chat "Chat Service Push Loss Analysis",
// https://intl.cloud.tencent.com/document/product/1047/71898) to the
// tencent_im_normal_push_window_loss and
// tencent_im_normal_push_window_platform_loss series; the API reports no
// EventType.
func NormalPushWindowLossSamples(sdkappid, window string, r tencentim.LossReport, reasons LossReasons, lim *LabelLimit) []expo.Sample {
	out := appendLoss(nil, normalPushWindowLossFamily, r, reasons, lim, sdkappid, window)
	return appendPlatformLoss(out, normalPushWindowPlatformLossFamily, false, r, reasons, lim, sdkappid, window)
}

// LossReasonSamples returns the tencent_im_push_loss_reason_info series of
// the codes in reasons, by code.
func LossReasonSamples(sdkappid string, reasons LossReasons) []expo.Sample {
	codes := make([]string, 0, len(reasons))
	for c := range reasons {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	out := make([]expo.Sample, 0, len(codes))
	for _, c := range codes {
		out = append(out, pushLossReasonFamily.Gauge(1, sdkappid, c, reasons[c]))
	}
	return out
}

// stageLoss is the entries of one stage.
type stageLoss struct {
	stage   string
	entries []tencentim.LossEntry
}

// stageEntries returns the totals' entries of r by stage, or with platform
// the per-channel ones.
func stageEntries(r tencentim.LossReport, platform bool) [2]stageLoss {
	if platform {
		return [2]stageLoss{{LossStageNotSent, r.PlatformNotSent}, {LossStageNotDelivered, r.PlatformNotDelivered}}
	}
	return [2]stageLoss{{LossStageNotSent, r.NotSent}, {LossStageNotDelivered, r.NotDelivered}}
}

// appendLoss adds the totals of each stage, capped by code.
func appendLoss(out []expo.Sample, f *expo.Family, r tencentim.LossReport, reasons LossReasons, lim *LabelLimit, labels ...string) []expo.Sample {
	for _, s := range stageEntries(r, false) {
		for _, c := range capCodes(s.entries, reasons, lim) {
			out = append(out, f.Gauge(c.count, slices.Concat(labels, []string{s.stage, c.code})...))
		}
	}
	return out
}

// appendPlatformLoss adds the per-channel losses of each stage, capped by
// code within a channel. lim bounds the EventType and PushPlatform codes
// the documents do not list, as for the push statistics: a refused one is
// summed into other. withEvent adds the event_type label.
func appendPlatformLoss(out []expo.Sample, f *expo.Family, withEvent bool, r tencentim.LossReport, reasons LossReasons, lim *LabelLimit, labels ...string) []expo.Sample {
	type channel struct{ event, platform string }
	for _, s := range stageEntries(r, true) {
		byChannel := map[channel][]tencentim.LossEntry{}
		var order []channel
		for _, e := range s.entries {
			ch := channel{platform: platformLabel(e.PushPlatform, lim)}
			if withEvent {
				ch.event = eventTypeLabel(e.EventType, lim)
			}
			if _, seen := byChannel[ch]; !seen {
				order = append(order, ch)
			}
			byChannel[ch] = append(byChannel[ch], e)
		}
		for _, ch := range order {
			for _, c := range capCodes(byChannel[ch], reasons, lim) {
				l := slices.Concat(labels, []string{s.stage})
				if withEvent {
					l = append(l, ch.event)
				}
				out = append(out, f.Gauge(c.count, append(l, ch.platform, c.code)...))
			}
		}
	}
	return out
}

// codeLoss is the loss of one code.
type codeLoss struct {
	code  string
	count float64
	info  string
}

// capCodes sums entries by code and returns the lim.codeCap() largest
// (ties by code), then, if any is left, code "other" with the rest summed
// and counted as refused; a vendor code "other" is counted there too. It
// notes the text of the codes it returns in reasons.
func capCodes(entries []tencentim.LossEntry, reasons LossReasons, lim *LabelLimit) []codeLoss {
	var codes []codeLoss
	idx := map[string]int{}
	var other float64
	hasOther := false
	for _, e := range entries {
		if e.Code == OtherLoss {
			other += float64(e.Count)
			hasOther = true
			continue
		}
		i, ok := idx[e.Code]
		if !ok {
			i = len(codes)
			idx[e.Code] = i
			codes = append(codes, codeLoss{code: e.Code})
		}
		codes[i].count += float64(e.Count)
		if codes[i].info == "" {
			codes[i].info = e.Info
		}
	}
	slices.SortFunc(codes, func(a, b codeLoss) int {
		return cmp.Or(cmp.Compare(b.count, a.count), cmp.Compare(a.code, b.code))
	})
	if n := lim.codeCap(); len(codes) > n {
		for _, c := range codes[n:] {
			other += c.count
		}
		lim.refuse(LimitCode, len(codes)-n)
		codes = codes[:n]
		hasOther = true
	}
	for _, c := range codes {
		reasons.add(c.code, c.info)
	}
	if hasOther {
		codes = append(codes, codeLoss{code: OtherLoss, count: other})
	}
	return codes
}
