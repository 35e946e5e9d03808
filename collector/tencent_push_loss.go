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
// series count (a limits knob for label caps would replace these constants).
const (
	// MaxLossCodes is how many error codes of one (app, stage, channel) get
	// a series of their own, the largest losses first; the rest are summed
	// into code "other".
	MaxLossCodes = 20
	// MaxLossChannels is how many (event_type, platform) pairs of one stage
	// get series of their own, the largest losses first; the rest are summed
	// into event_type and platform "other".
	MaxLossChannels = 16
	// MaxLossReasons is how many codes of an app get a
	// tencent_im_push_loss_reason_info series.
	MaxLossReasons = 100
	// MaxLossReasonBytes bounds the reason label.
	MaxLossReasonBytes = 128
)

// OtherLoss is the code, event_type and platform label of the losses summed
// beyond a cap.
const OtherLoss = "other"

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
// (nil: not noted). Without detail, only the task's totals.
func PushTaskLossSamples(sdkappid string, r tencentim.LossReport, detail bool, reasons LossReasons) []expo.Sample {
	out := appendLoss(nil, pushTaskLossFamily, r, reasons, sdkappid, r.TaskID)
	if detail {
		out = appendPlatformLoss(out, pushTaskPlatformLossFamily, true, r, reasons, sdkappid, r.TaskID)
	}
	return out
}

// PushWindowLossSamples maps the overall loss report of a rolling window,
// the result with an empty TaskID if the answer has one, to the
// tencent_im_push_window_loss and tencent_im_push_window_platform_loss series.
func PushWindowLossSamples(sdkappid, window string, res []tencentim.LossReport, reasons LossReasons) []expo.Sample {
	for _, r := range res {
		if r.TaskID == "" {
			out := appendLoss(nil, pushWindowLossFamily, r, reasons, sdkappid, window)
			return appendPlatformLoss(out, pushWindowPlatformLossFamily, true, r, reasons, sdkappid, window)
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
func NormalPushWindowLossSamples(sdkappid, window string, r tencentim.LossReport, reasons LossReasons) []expo.Sample {
	out := appendLoss(nil, normalPushWindowLossFamily, r, reasons, sdkappid, window)
	return appendPlatformLoss(out, normalPushWindowPlatformLossFamily, false, r, reasons, sdkappid, window)
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
func appendLoss(out []expo.Sample, f *expo.Family, r tencentim.LossReport, reasons LossReasons, labels ...string) []expo.Sample {
	for _, s := range stageEntries(r, false) {
		for _, c := range capCodes(s.entries, reasons) {
			out = append(out, f.Gauge(c.count, slices.Concat(labels, []string{s.stage, c.code})...))
		}
	}
	return out
}

// appendPlatformLoss adds the per-channel losses of each stage, capped by
// channel and, within a channel, by code. withEvent adds the event_type
// label.
func appendPlatformLoss(out []expo.Sample, f *expo.Family, withEvent bool, r tencentim.LossReport, reasons LossReasons, labels ...string) []expo.Sample {
	type channel struct{ event, platform string }
	for _, s := range stageEntries(r, true) {
		byChannel := map[channel][]tencentim.LossEntry{}
		totals := map[channel]float64{}
		for _, e := range s.entries {
			ch := channel{platform: tencentim.PlatformName(e.PushPlatform)}
			if withEvent {
				ch.event = tencentim.EventTypeName(e.EventType)
			}
			byChannel[ch] = append(byChannel[ch], e)
			totals[ch] += float64(e.Count)
		}
		channels := make([]channel, 0, len(byChannel))
		for ch := range byChannel {
			channels = append(channels, ch)
		}
		slices.SortFunc(channels, func(a, b channel) int {
			return cmp.Or(cmp.Compare(totals[b], totals[a]), cmp.Compare(a.event, b.event), cmp.Compare(a.platform, b.platform))
		})
		if len(channels) > MaxLossChannels {
			other := channel{platform: OtherLoss}
			if withEvent {
				other.event = OtherLoss
			}
			var rest []tencentim.LossEntry
			for _, ch := range channels[MaxLossChannels:] {
				rest = append(rest, byChannel[ch]...)
			}
			channels = append(channels[:MaxLossChannels], other)
			byChannel[other] = append(byChannel[other], rest...)
		}
		for _, ch := range channels {
			for _, c := range capCodes(byChannel[ch], reasons) {
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

// capCodes sums entries by code and returns the MaxLossCodes largest
// (ties by code), then, if any is left, code "other" with the rest summed; a
// vendor code "other" is counted there too. It notes the text of the codes
// it returns in reasons.
func capCodes(entries []tencentim.LossEntry, reasons LossReasons) []codeLoss {
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
	if len(codes) > MaxLossCodes {
		for _, c := range codes[MaxLossCodes:] {
			other += c.count
		}
		codes = codes[:MaxLossCodes]
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
