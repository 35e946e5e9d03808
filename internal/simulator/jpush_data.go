package simulator

import (
	"math"
	"strings"
	"time"
)

// jpushChannel is a delivery channel of the simulated JPush funnels, keyed as
// the details block of messages/detail keys it (JPush "REST API v3 Report").
type jpushChannel struct {
	typ  string // notification, message or inapp
	sub  string // the details sub-block: subAndroid, subios, subqicukapp
	key  string // the vendor's key inside the sub-block (camelCase)
	name string // the key in snake_case, as DegradeChannel takes it
	// legacy is the android_pns "<legacy>_detail" block of the metrics before
	// 2021-09-01, "" when that block has none for this channel.
	legacy string
	// vendor marks a manufacturer channel (PNS), as opposed to Jiguang's own.
	vendor bool
	// noDisplay reports display and click as null: the simulator's way of
	// exercising the nulls JPush "REST API v3 Report" announces (如果无此项数据则为
	// null).
	noDisplay bool
	share     float64 // share of the message's audience
	// The final received/sent ratio is drawn from [deliveredLow, deliveredHi).
	deliveredLow, deliveredHi float64
}

// jpushChannels are the channels every simulated message may use.
// JPush "REST API v3 Report" spells the quick-app sub-block "subqicukapp"; the
// simulator answers with that spelling.
var jpushChannels = []jpushChannel{
	{typ: "notification", sub: "subAndroid", key: "jgAndroid", name: "jg_android", share: 0.22, deliveredLow: 0.60, deliveredHi: 0.85},
	{typ: "notification", sub: "subAndroid", key: "xiaomi", name: "xiaomi", legacy: "xm", vendor: true, share: 0.14, deliveredLow: 0.85, deliveredHi: 0.97},
	{typ: "notification", sub: "subAndroid", key: "huawei", name: "huawei", legacy: "hw", vendor: true, share: 0.15, deliveredLow: 0.88, deliveredHi: 0.98},
	{typ: "notification", sub: "subAndroid", key: "honor", name: "honor", vendor: true, share: 0.05, deliveredLow: 0.85, deliveredHi: 0.96},
	{typ: "notification", sub: "subAndroid", key: "oppo", name: "oppo", legacy: "oppo", vendor: true, share: 0.10, deliveredLow: 0.75, deliveredHi: 0.92},
	{typ: "notification", sub: "subAndroid", key: "vivo", name: "vivo", legacy: "vivo", vendor: true, share: 0.09, deliveredLow: 0.75, deliveredHi: 0.92},
	{typ: "notification", sub: "subAndroid", key: "meizu", name: "meizu", legacy: "mz", vendor: true, share: 0.02, deliveredLow: 0.65, deliveredHi: 0.85},
	{typ: "notification", sub: "subAndroid", key: "fcm", name: "fcm", legacy: "fcm", vendor: true, share: 0.03, deliveredLow: 0.55, deliveredHi: 0.80},
	{typ: "notification", sub: "subios", key: "apns", name: "apns", vendor: true, share: 0.18, deliveredLow: 0.90, deliveredHi: 0.98},
	{typ: "notification", sub: "subqicukapp", key: "quickXiaomi", name: "quick_xiaomi", vendor: true, noDisplay: true, share: 0.01, deliveredLow: 0.80, deliveredHi: 0.95},
	{typ: "notification", sub: "subqicukapp", key: "quickJg", name: "quick_jg", noDisplay: true, share: 0.01, deliveredLow: 0.60, deliveredHi: 0.85},
	{typ: "message", sub: "subAndroid", key: "jgAndroid", name: "jg_android", share: 0.45, deliveredLow: 0.60, deliveredHi: 0.85},
	{typ: "message", sub: "subios", key: "jgIos", name: "jg_ios", share: 0.25, deliveredLow: 0.50, deliveredHi: 0.80},
	{typ: "inapp", sub: "subAndroid", key: "jgAndroid", name: "jg_android", share: 0.30, deliveredLow: 0.60, deliveredHi: 0.85},
	{typ: "inapp", sub: "subios", key: "jgIos", name: "jg_ios", share: 0.20, deliveredLow: 0.50, deliveredHi: 0.80},
}

// label is the channel label the exporter gives the channel: JPush's own
// channel (jgAndroid, jgIos, quickJg) is jpush, a quick-app channel loses its
// quick prefix (quickXiaomi is xiaomi on platform quickapp).
func (ch jpushChannel) label() string {
	name := ch.name
	if ch.sub == "subqicukapp" {
		name = strings.TrimPrefix(name, "quick_")
	}
	if name == "jg" || strings.HasPrefix(name, "jg_") {
		return "jpush"
	}
	return name
}

// jpushTypes are the message types, in the order JPush "REST API v3 Report"
// lists them.
var jpushTypes = []string{"notification", "message", "inapp"}

// How a simulated push spreads. JPush "REST API v3 Report": deliveries,
// displays and clicks after 5 days are not counted (5天之后的…不被计算在内),
// so every stage settles by then.
const (
	jpushSentIn      = 10 * time.Minute
	jpushReceivedIn  = 6 * time.Hour
	jpushDisplayedIn = 12 * time.Hour
	jpushSettled     = 5 * 24 * time.Hour
)

// jpushMessage is a pushed message (or group message); its funnel is a pure
// function of the seed, its ID and its age.
type jpushMessage struct {
	id       string
	owner    string // the app or group key that pushed it
	pushed   time.Time
	audience float64
	types    map[string]bool // the message types it carries
	// legacyOnly: messages/detail answers the blocks before 2021-09-01 only.
	legacyOnly bool
}

func newJPushMessage(seed int64, owner, id string, pushed time.Time) *jpushMessage {
	m := &jpushMessage{id: id, owner: owner, pushed: pushed, types: map[string]bool{"notification": true}}
	m.audience = m.draw(seed, 2e3, 2e5, tag("audience"))
	m.types["message"] = m.draw(seed, 0, 1, tag("message")) < 0.6
	m.types["inapp"] = m.draw(seed, 0, 1, tag("inapp")) < 0.3
	return m
}

// draw returns a number in [lo, hi) determined by the seed, the message and
// parts.
func (m *jpushMessage) draw(seed int64, lo, hi float64, parts ...uint64) float64 {
	return lo + (hi-lo)*unit(seed, append([]uint64{tag(m.id)}, parts...)...)
}

// jpushStages is a channel's funnel at one time.
type jpushStages struct {
	target, sent, received, display, click int64
}

// stages returns the funnel of jpushChannels[i] at now, with received and the
// later stages multiplied by factor (DegradeChannel). Every stage rises along
// an ease-out curve from the push and is final after jpushSettled, so for a
// fixed factor no stage ever falls; each stage is at most the one before.
func (m *jpushMessage) stages(seed int64, i int, now time.Time, factor float64) jpushStages {
	ch := jpushChannels[i]
	age := min(max(now.Sub(m.pushed), 0), jpushSettled)
	target := math.Floor(m.audience * ch.share * m.draw(seed, 0.8, 1.2, tag("target"), uint64(i)))
	sent := target * m.draw(seed, 0.92, 0.995, tag("sent"), uint64(i))
	received := sent * m.draw(seed, ch.deliveredLow, ch.deliveredHi, tag("received"), uint64(i))
	display := received * m.draw(seed, 0.85, 0.99, tag("display"), uint64(i))
	click := display * m.draw(seed, 0.02, 0.12, tag("click"), uint64(i))
	s := jpushStages{target: int64(target), sent: int64(sent * ease(age, jpushSentIn))}
	s.received = min(s.sent, int64(received*ease(age, jpushReceivedIn)*factor))
	s.display = min(s.received, int64(display*ease(age, jpushDisplayedIn)*factor))
	s.click = min(s.display, int64(click*ease(age, jpushSettled)*factor))
	return s
}

// jpushFunnels is every channel's funnel of one message at one time, indexed
// like jpushChannels; used is false for a channel of a type the message does
// not carry.
type jpushFunnels struct {
	stages []jpushStages
	used   []bool
}

func (m *jpushMessage) funnels(seed int64, now time.Time, degraded map[string]float64) jpushFunnels {
	f := jpushFunnels{stages: make([]jpushStages, len(jpushChannels)), used: make([]bool, len(jpushChannels))}
	for i, ch := range jpushChannels {
		if !m.types[ch.typ] {
			continue
		}
		factor, ok := degraded[ch.name]
		if !ok {
			factor, ok = degraded[ch.label()]
		}
		if !ok {
			factor = 1
		}
		f.used[i] = true
		f.stages[i] = m.stages(seed, i, now, factor)
	}
	return f
}

// sum adds up a stage over the used channels that match.
func (f jpushFunnels) sum(stage func(jpushStages) int64, match func(jpushChannel) bool) int64 {
	var n int64
	for i, ch := range jpushChannels {
		if f.used[i] && match(ch) {
			n += stage(f.stages[i])
		}
	}
	return n
}

// uses reports whether a used channel matches.
func (f jpushFunnels) uses(match func(jpushChannel) bool) bool {
	for i, ch := range jpushChannels {
		if f.used[i] && match(ch) {
			return true
		}
	}
	return false
}

// find returns the stages of the channel of type typ keyed key, and whether
// the message uses it.
func (f jpushFunnels) find(typ, key string) (jpushStages, bool) {
	for i, ch := range jpushChannels {
		if ch.typ == typ && ch.key == key {
			return f.stages[i], f.used[i]
		}
	}
	return jpushStages{}, false
}

func stageTarget(s jpushStages) int64   { return s.target }
func stageSent(s jpushStages) int64     { return s.sent }
func stageReceived(s jpushStages) int64 { return s.received }
func stageDisplay(s jpushStages) int64  { return s.display }
func stageClick(s jpushStages) int64    { return s.click }

// details is the messages/detail "details" block (the metrics since
// 2021-09-01): per type its total funnel and a funnel per channel, grouped by
// platform sub-block. A noDisplay channel reports display and click as null
// and adds nothing to the type's totals of those stages.
func (f jpushFunnels) details() map[string]any {
	out := map[string]any{}
	for _, typ := range jpushTypes {
		ofType := func(ch jpushChannel) bool { return ch.typ == typ }
		if !f.uses(ofType) {
			continue
		}
		shown := func(ch jpushChannel) bool { return ch.typ == typ && !ch.noDisplay }
		block := map[string]any{
			"target":   f.sum(stageTarget, ofType),
			"sent":     f.sum(stageSent, ofType),
			"received": f.sum(stageReceived, ofType),
			"display":  f.sum(stageDisplay, shown),
			"click":    f.sum(stageClick, shown),
		}
		for i, ch := range jpushChannels {
			if !f.used[i] || ch.typ != typ {
				continue
			}
			sub, ok := block[ch.sub].(map[string]any)
			if !ok {
				sub = map[string]any{}
				block[ch.sub] = sub
			}
			s := f.stages[i]
			counts := map[string]any{"target": s.target, "sent": s.sent, "received": s.received, "display": s.display, "click": s.click}
			if ch.noDisplay {
				counts["display"], counts["click"] = nil, nil
			}
			sub[ch.key] = counts
		}
		out[typ] = block
	}
	return out
}

// legacy returns the blocks of the metrics before 2021-09-01, as JPush's
// "REST API v3 Report" page defines them (2021.09.01前旧体系指标) and shapes
// them in its group/messages/detail sample: jpush is JPush's own channel
// ("普通Android用户通知/自定义消息 以及 iOS用户自定义消息": every Android and iOS
// channel that is not a vendor's, click the notification clicks, msg_click the
// custom message clicks), android_pns the vendor channels that have a
// <x>_detail block and their sums, ios APNs notifications (apns_*) and custom
// messages (msg_*), quickapp_jpush and quickapp_pns the quick apps' JPush and
// vendor channels, and an empty winphone.
func (f jpushFunnels) legacy() map[string]any {
	apns, _ := f.find("notification", "apns")
	msgIos, _ := f.find("message", "jgIos")
	on := func(sub string, vendor bool) func(jpushChannel) bool {
		return func(ch jpushChannel) bool { return ch.sub == sub && ch.vendor == vendor }
	}
	jg := func(ch jpushChannel) bool { return !ch.vendor && (ch.sub == "subAndroid" || ch.sub == "subios") }
	jgNotification := func(ch jpushChannel) bool { return jg(ch) && ch.typ == "notification" }
	jgMessage := func(ch jpushChannel) bool { return jg(ch) && ch.typ == "message" }
	pns := map[string]any{}
	hasDetail := func(ch jpushChannel) bool { return ch.legacy != "" }
	for i, ch := range jpushChannels {
		if f.used[i] && hasDetail(ch) {
			s := f.stages[i]
			pns[ch.legacy+"_detail"] = map[string]any{"target": s.target, "sent": s.sent, "received": s.received, "display": s.display}
		}
	}
	pns["pns_target"] = f.sum(stageTarget, hasDetail)
	pns["pns_sent"] = f.sum(stageSent, hasDetail)
	pns["pns_received"] = f.sum(stageReceived, hasDetail)
	pns["pns_display"] = f.sum(stageDisplay, hasDetail)
	quickJg := on("subqicukapp", false)
	quickPns := on("subqicukapp", true)
	return map[string]any{
		"jpush": map[string]any{
			"target": f.sum(stageTarget, jg), "online_push": f.sum(stageSent, jg), "received": f.sum(stageReceived, jg),
			"display": f.sum(stageDisplay, jg), "click": f.sum(stageClick, jgNotification), "msg_click": f.sum(stageClick, jgMessage),
		},
		"android_pns": pns,
		"ios": map[string]any{
			"apns_target": apns.target, "apns_sent": apns.sent, "apns_received": apns.received, "apns_display": apns.display, "apns_click": apns.click,
			"msg_target": msgIos.target, "msg_received": msgIos.received, "msg_display": msgIos.display, "msg_click": msgIos.click,
		},
		"winphone": map[string]any{"click": 0, "mpns_sent": 0, "mpns_target": 0},
		"quickapp_jpush": map[string]any{
			"target": f.sum(stageTarget, quickJg), "online_push": f.sum(stageSent, quickJg), "received": f.sum(stageReceived, quickJg),
			"click":     f.sum(stageClick, func(ch jpushChannel) bool { return quickJg(ch) && ch.typ == "notification" }),
			"msg_click": f.sum(stageClick, func(ch jpushChannel) bool { return quickJg(ch) && ch.typ == "message" }),
		},
		"quickapp_pns": map[string]any{"pns_target": f.sum(stageTarget, quickPns), "pns_sent": f.sum(stageSent, quickPns)},
	}
}

// old is an entry of the old /messages (消息统计, 旧) without its msg_id:
// android over every Android channel (target, received; online_push the
// Jiguang channel's sends; click and msg_click the notification and custom
// message clicks), ios (APNs notifications and custom messages), and an
// empty winphone block.
func (f jpushFunnels) old() map[string]any {
	apns, _ := f.find("notification", "apns")
	msgIos, _ := f.find("message", "jgIos")
	android := func(ch jpushChannel) bool { return ch.sub == "subAndroid" }
	return map[string]any{
		"android": map[string]any{
			"target": f.sum(stageTarget, android), "received": f.sum(stageReceived, android),
			"online_push": f.sum(stageSent, func(ch jpushChannel) bool { return android(ch) && !ch.vendor }),
			"click":       f.sum(stageClick, func(ch jpushChannel) bool { return android(ch) && ch.typ == "notification" }),
			"msg_click":   f.sum(stageClick, func(ch jpushChannel) bool { return android(ch) && ch.typ == "message" }),
		},
		"ios": map[string]any{
			"apns_target": apns.target, "apns_sent": apns.sent, "apns_received": apns.received, "click": apns.click,
			"target": msgIos.target, "received": msgIos.received, "msg_click": msgIos.click,
		},
		"winphone": map[string]any{"mpns_target": 0, "mpns_sent": 0, "click": 0},
	}
}

// received is an entry of received/detail (detail) or of the legacy
// received. received/detail splits deliveries as JPush "REST API v3 Report"
// defines them: jpush_received is the Jiguang channel (Android notifications
// and custom messages, iOS custom messages; in-app messages too, which the
// document predates), android_pns_* the Android vendor channels, ios_apns_* APNs,
// ios_msg_received iOS custom messages, quickapp_* the quick apps' Jiguang and
// vendor channels. The legacy android_received is every Android delivery.
// Nothing is pushed to Windows Phone: wp_mpns_sent is null, and so is
// ios_msg_received for a message without a custom message.
func (f jpushFunnels) received(msgID string, detail bool) map[string]any {
	on := func(sub string, vendor bool) func(jpushChannel) bool {
		return func(ch jpushChannel) bool { return ch.sub == sub && ch.vendor == vendor }
	}
	var iosMsg any
	if s, ok := f.find("message", "jgIos"); ok {
		iosMsg = s.received
	}
	apns, _ := f.find("notification", "apns")
	out := map[string]any{
		"msg_id":            msgID,
		"ios_apns_sent":     apns.sent,
		"ios_apns_received": apns.received,
		"ios_msg_received":  iosMsg,
		"wp_mpns_sent":      nil,
	}
	jgAndroid := f.sum(stageReceived, on("subAndroid", false))
	pnsReceived := f.sum(stageReceived, on("subAndroid", true))
	if !detail {
		out["android_received"] = jgAndroid + pnsReceived
		return out
	}
	out["jpush_received"] = jgAndroid + f.sum(stageReceived, on("subios", false))
	out["android_pns_sent"] = f.sum(stageSent, on("subAndroid", true))
	out["android_pns_received"] = pnsReceived
	out["quickapp_jpush_received"] = f.sum(stageReceived, on("subqicukapp", false))
	out["quickapp_pns_sent"] = f.sum(stageSent, on("subqicukapp", true))
	return out
}

// nullReceived is the received(/detail) entry of a message the app did not
// push: every count null.
func nullReceived(msgID string, detail bool) map[string]any {
	keys := []string{"ios_apns_sent", "ios_apns_received", "ios_msg_received", "wp_mpns_sent", "android_received"}
	if detail {
		keys = []string{"jpush_received", "android_pns_sent", "android_pns_received", "ios_apns_sent", "ios_apns_received",
			"ios_msg_received", "wp_mpns_sent", "quickapp_jpush_received", "quickapp_pns_sent"}
	}
	out := map[string]any{"msg_id": msgID}
	for _, k := range keys {
		out[k] = nil
	}
	return out
}

// jpushUsersDays is how far back the simulated users statistics reach; older
// days answer an item with no platform.
const jpushUsersDays = 90

// usersItem is the users item of day d for the app or group key: new, online
// and active users per platform, scaled down to the elapsed part of the day
// for today.
func usersItem(seed int64, key string, d, today civilDay, dayDone float64) map[string]any {
	item := map[string]any{"time": d.utc().Format(time.DateOnly)}
	if d <= today-jpushUsersDays {
		return item
	}
	draw := func(lo, hi float64, parts ...uint64) float64 {
		return lo + (hi-lo)*unit(seed, append([]uint64{tag(key)}, parts...)...)
	}
	base := draw(2e4, 2e5, tag("users"))
	for _, p := range []struct {
		name  string
		share float64
	}{{"android", 1}, {"ios", draw(0.2, 0.6, tag("ios share"))}} {
		active := base * p.share * draw(0.85, 1.15, tag(p.name), uint64(d))
		if d == today {
			active *= dayDone
		}
		item[p.name] = map[string]int64{
			"new":    int64(active * draw(0.01, 0.04, tag(p.name+" new"), uint64(d))),
			"online": int64(active * draw(1.1, 1.4, tag(p.name+" online"), uint64(d))),
			"active": int64(active),
		}
	}
	return item
}

// deliveryStatus is the status/message status of registration ID reg for
// message m (nil: a message the app did not push) at now: 2 for the few IDs
// that belong to no app, 3 for a device the message did not target, 4 for a
// rare system error, else 1 until the device's delivery time, 0 after it;
// some devices never get it.
func deliveryStatus(seed int64, owner string, m *jpushMessage, reg string, now time.Time) int {
	if unit(seed, tag(owner), tag(reg), tag("app")) < 0.05 {
		return 2
	}
	if m == nil {
		return 3
	}
	switch u := unit(seed, tag(m.id), tag(reg), tag("status")); {
	case u < 0.10:
		return 3
	case u < 0.12:
		return 4
	case u < 0.22:
		return 1 // never delivered
	default:
		// The rest are delivered within jpushReceivedIn, most of them early.
		v := unit(seed, tag(m.id), tag(reg), tag("delay"))
		if now.Sub(m.pushed) < time.Duration(v*v*float64(jpushReceivedIn)) {
			return 1
		}
		return 0
	}
}

// groupMsgIDAlphabet is that of the group_msgid "bsp54sn8bpn8hc3etq40" in
// JPush "REST API v3 Report": 20 characters of lower-case base32hex.
const groupMsgIDAlphabet = "0123456789abcdefghijklmnopqrstuv"

// drawGroupMsgID draws the seq-th group_msgid of group key.
func drawGroupMsgID(seed int64, key string, seq uint64) string {
	b := make([]byte, 20)
	for i := range b {
		b[i] = groupMsgIDAlphabet[int(unit(seed, tag(key), seq, uint64(i))*32)]
	}
	return string(b)
}

// msgIDStep draws the gap between the seq-th msg_id and the one before: the
// IDs grow like JPush's, by a few at a time.
func msgIDStep(seed int64, seq uint64) int64 {
	return 1 + int64(unit(seed, tag("msg_id"), seq)*997)
}

// firstMsgID is where the simulator's msg_ids start, a ten-digit number like
// 1613113584 in JPush "REST API v3 Report".
func firstMsgID(seed int64) int64 {
	return 1_000_000_000 + int64(unit(seed, tag("first msg_id"))*1e9)
}
