package collector

import (
	"maps"
	"slices"
	"time"

	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/jpush"
)

// JPushSettledAfter is when a JPush message's numbers stop changing: the
// Report API stops counting receipts, displays and clicks 5 days after the
// push (JPush "REST API v3 Report", 消息生命周期状态定义).
const JPushSettledAfter = 5 * 24 * time.Hour

// jpushStage is one stage of the JPush message funnel.
type jpushStage struct {
	name  string
	field string
	count func(jpush.Funnel) jpush.Count
}

var jpushStages = []jpushStage{
	{"target", "target", func(f jpush.Funnel) jpush.Count { return f.Target }},
	{"sent", "sent", func(f jpush.Funnel) jpush.Count { return f.Sent }},
	{"received", "received", func(f jpush.Funnel) jpush.Count { return f.Received }},
	{"displayed", "display", func(f jpush.Funnel) jpush.Count { return f.Display }},
	{"clicked", "click", func(f jpush.Funnel) jpush.Count { return f.Click }},
}

// jpushFamilies are the descriptors of one kind of JPush app: an app
// (jpush_, app_key, msg_id) or a group app (jpush_group_, group_key,
// group_msg_id).
type jpushFamilies struct {
	message  [5]*expo.Family // {key, id, type}
	channel  [5]*expo.Family // {key, id, type, platform, channel}
	combined [5]*expo.Family // {key, id, type, platform, channel}: counts over several channels
	users    [3]*expo.Family // new, online, active {key, platform}
	usersDay *expo.Family    // {key}
}

func newJPushFamilies(prefix, key, id, api, usersAPI string) *jpushFamilies {
	f := &jpushFamilies{}
	for i, st := range jpushStages {
		f.message[i] = expo.NewFamily(prefix+"message_"+st.name, "Per message and type: "+st.field+" count of "+api+".", key, id, "type")
		f.channel[i] = expo.NewFamily(prefix+"message_channel_"+st.name, "Per message, type, platform and channel: "+st.field+" count of "+api+".", key, id, "type", "platform", "channel")
		f.combined[i] = expo.NewFamily(prefix+"message_combined_"+st.name, "Per message: "+st.field+" count of "+api+" the vendor reports over several channels or platforms together; it includes "+prefix+"message_channel_"+st.name+" series, do not add them up.", key, id, "type", "platform", "channel")
	}
	for i, n := range []string{"new", "online", "active"} {
		f.users[i] = expo.NewFamily(prefix+"users_"+n, "Users of the latest complete day by platform ("+usersAPI+" "+n+").", key, "platform")
	}
	f.usersDay = expo.NewFamily(prefix+"users_day_timestamp_seconds", "Start of the day (in the configured timezone) the "+prefix+"users_* values are for.", key)
	return f
}

var (
	jpushAppFamilies   = newJPushFamilies("jpush_", "app_key", "msg_id", "/messages/detail", "/users")
	jpushGroupFamilies = newJPushFamilies("jpush_group_", "group_key", "group_msg_id", "/group/messages/detail", "/group/users")

	jpushDeliverySent = expo.NewFamily("jpush_message_delivery_sent",
		"Per message, type, platform and channel: a sent count of /received/detail (android_pns_sent, ios_apns_sent, wp_mpns_sent, quickapp_pns_sent).", "app_key", "msg_id", "type", "platform", "channel")
	jpushDeliveryReceived = expo.NewFamily("jpush_message_delivery_received",
		"Per message, type, platform and channel: a received count of /received/detail (android_pns_received, ios_apns_received, ios_msg_received, quickapp_jpush_received) or /received (android_received).", "app_key", "msg_id", "type", "platform", "channel")
	jpushDeliveryCombinedReceived = expo.NewFamily("jpush_message_delivery_combined_received",
		"Per message: jpush_received of /received/detail, the JPush channel's receipts of Android notifications and custom messages and iOS custom messages together; it includes the ios_msg_received series of jpush_message_delivery_received, do not add them up.", "app_key", "msg_id", "type", "platform", "channel")
	jpushDevices = expo.NewFamily("jpush_message_devices",
		"Configured canary registration IDs of the message in each delivery status of /status/message; missing: asked about and left out of the answer.", "app_key", "msg_id", "status")
)

// gauge appends a series when the vendor reported a count.
func gauge(out []expo.Sample, f *expo.Family, c jpush.Count, labels ...string) []expo.Sample {
	if c == nil {
		return out
	}
	return append(out, f.Gauge(float64(*c), labels...))
}

// receivedField is where a received or received/detail field prefix goes: the
// type, platform and channel its definition on JPush's "REST API v3 Report"
// page names, and whether it includes another field's count.
type receivedField struct {
	typ, platform, channel string
	combined               bool
}

// receivedFields maps the documented "<prefix>_sent" and "<prefix>_received"
// fields of received/detail (送达统计详情) and received (送达统计). A field
// JPush adds later is not exported: nothing says what it counts.
var receivedFields = map[string]receivedField{
	// 极光通道用户送达数;包含普通Android用户的通知+自定义消息送达,iOS用户自定义消息送达.
	"jpush": {jpush.TypeNotificationAndMessage, jpush.PlatformAndroidAndIOS, jpush.ChannelJPush, true},
	// Android厂商用户推送到厂商服务器成功数 / 推送达到设备数.
	"android_pns": {jpush.TypeAll, jpush.PlatformAndroid, jpush.ChannelPNS, false},
	// iOS 通知推送到 APNs 成功 / 送达到设备.
	"ios_apns": {jpush.TypeNotification, jpush.PlatformIOS, "apns", false},
	// iOS 自定义消息送达数; iOS custom messages go through the JPush channel.
	"ios_msg": {jpush.TypeMessage, jpush.PlatformIOS, jpush.ChannelJPush, false},
	// wp_mpns_sent, "winphone通知送达" on /received and /received/detail,
	// is a sent count: the same pushes' count on /messages is
	// winphone.mpns_sent, "MPNS 通知成功推送数" (pushed to Microsoft's
	// MPNs successfully), and like ios_apns_sent ("iOS 通知推送到 APNs
	// 成功") it is an acceptance by the platform's push service, not a
	// receipt on the device: no API gives a winphone device receipt (JPush
	// "REST API v3 Report", 送达统计 and 消息统计).
	"wp_mpns": {jpush.TypeNotification, jpush.PlatformWinPhone, "mpns", false},
	// 快应用推送走极光通道送达设备成功的用户数量.
	"quickapp_jpush": {jpush.TypeAll, jpush.PlatformQuickApp, jpush.ChannelJPush, false},
	// 快应用推送走厂商通道请求成功的用户数量.
	"quickapp_pns": {jpush.TypeAll, jpush.PlatformQuickApp, jpush.ChannelPNS, false},
	// The legacy /received's android_received, "Android 送达": every channel.
	"android": {jpush.TypeAll, jpush.PlatformAndroid, "all", false},
}

// ReceivedSamples turns one message's received or received/detail counts
// into the jpush_message_delivery_* metrics of app key, each field under the
// labels receivedFields gives it.
func ReceivedSamples(key string, r jpush.Received) []expo.Sample {
	var out []expo.Sample
	for _, p := range slices.Sorted(maps.Keys(r.Channels)) {
		f, ok := receivedFields[p]
		if !ok {
			continue
		}
		c := r.Channels[p]
		if f.combined {
			// Only jpush_received is documented; a jpush_sent would be new.
			out = gauge(out, jpushDeliveryCombinedReceived, c.Received, key, r.MsgID, f.typ, f.platform, f.channel)
			continue
		}
		out = gauge(out, jpushDeliverySent, c.Sent, key, r.MsgID, f.typ, f.platform, f.channel)
		out = gauge(out, jpushDeliveryReceived, c.Received, key, r.MsgID, f.typ, f.platform, f.channel)
	}
	return out
}

// The JPush label values the documents name (JPush "REST API v3 Report" and
// the README's field table); a LabelLimit admits them without counting.
var (
	jpushKnownTypes     = setOf(jpush.TypeNotification, jpush.TypeMessage, jpush.TypeInApp, jpush.TypeNotificationAndMessage, jpush.TypeAll)
	jpushKnownPlatforms = setOf(jpush.PlatformAndroid, jpush.PlatformIOS, jpush.PlatformQuickApp, jpush.PlatformWinPhone, jpush.PlatformAndroidAndIOS)
	jpushKnownChannels  = setOf(jpush.ChannelJPush, "xiaomi", "huawei", "honor", "oppo", "vivo", "meizu", "fcm", "asus", "tuibida", "apns", "voip", "mpns", jpush.ChannelPNS, "all")
)

func setOf(values ...string) map[string]bool {
	m := make(map[string]bool, len(values))
	for _, v := range values {
		m[v] = true
	}
	return m
}

// MessageSamples turns one message's funnels into series of an app
// (jpush_) or, with group, of a group app (jpush_group_): a type's total in
// the message family, a channel's funnel in the channel family, or in the
// combined family when the vendor counts it over several channels or
// platforms at once (jpush.ChannelFunnel.Combined), so that no family counts
// a delivery twice. Without detail, only the per-type totals.
//
// lim bounds the label values the answer decides: a type it refuses is
// dropped (a type's total added to another's means nothing); a platform and
// channel it refuses is summed into channel other of its platform, or of
// platform other when the platform is not a documented one.
func MessageSamples(group bool, key string, m jpush.Message, detail bool, lim *LabelLimit) []expo.Sample {
	fam := jpushAppFamilies
	if group {
		fam = jpushGroupFamilies
	}
	var out []expo.Sample
	for _, t := range m.Types {
		if !lim.admit(LimitType, t.Type, jpushKnownTypes[t.Type]) {
			continue
		}
		for i, st := range jpushStages {
			out = gauge(out, fam.message[i], st.count(t.Funnel), key, m.MsgID, t.Type)
		}
		if !detail {
			continue
		}
		others := map[string]jpush.Funnel{} // platform → refused channels summed
		for _, ch := range t.Channels {
			known := jpushKnownPlatforms[ch.Platform] && jpushKnownChannels[ch.Channel]
			if !lim.admit(LimitChannel, ch.Platform+"/"+ch.Channel, known) {
				p := ch.Platform
				if !jpushKnownPlatforms[p] {
					p = LabelOther
				}
				prev, seen := others[p]
				others[p] = sumFunnels(prev, ch.Funnel, seen)
				continue
			}
			fs := &fam.channel
			if ch.Combined {
				fs = &fam.combined
			}
			for i, st := range jpushStages {
				out = gauge(out, fs[i], st.count(ch.Funnel), key, m.MsgID, t.Type, ch.Platform, ch.Channel)
			}
		}
		for _, p := range slices.Sorted(maps.Keys(others)) {
			for i, st := range jpushStages {
				out = gauge(out, fam.channel[i], st.count(others[p]), key, m.MsgID, t.Type, p, LabelOther)
			}
		}
	}
	return out
}

// sumFunnels adds b to a stage by stage (b alone when !both); a stage either
// lacks is unknown in the sum.
func sumFunnels(a, b jpush.Funnel, both bool) jpush.Funnel {
	return jpush.Funnel{Target: addCounts(a.Target, b.Target, both), Sent: addCounts(a.Sent, b.Sent, both),
		Received: addCounts(a.Received, b.Received, both), Display: addCounts(a.Display, b.Display, both), Click: addCounts(a.Click, b.Click, both)}
}

// addCounts returns x + y, or y alone when !both; unknown when either is.
func addCounts(x, y jpush.Count, both bool) jpush.Count {
	if !both {
		return y
	}
	if x == nil || y == nil {
		return nil
	}
	s := *x + *y
	return &s
}

// UsersDayMetrics turns one day of /users (or, for a group app, /group/users)
// into the jpush_users_* (jpush_group_users_*) metrics of app or group key,
// with that day's start in loc; false when the day does not parse.
//
// lim bounds the platforms the documents do not name: the users of a refused
// one are summed into platform other.
func UsersDayMetrics(group bool, key string, d jpush.UsersDay, loc *time.Location, lim *LabelLimit) ([]expo.Sample, time.Time, bool) {
	fam := jpushAppFamilies
	if group {
		fam = jpushGroupFamilies
	}
	day, ok := UsersDay(d, loc)
	if !ok {
		return nil, time.Time{}, false
	}
	var out []expo.Sample
	var other [3]jpush.Count
	var others int
	for _, p := range slices.Sorted(maps.Keys(d.Platforms)) {
		c := d.Platforms[p]
		counts := []jpush.Count{c.New, c.Online, c.Active}
		if !lim.admit(LimitPlatform, p, jpushKnownPlatforms[p]) {
			for i, n := range counts {
				other[i] = addCounts(other[i], n, others > 0)
			}
			others++
			continue
		}
		for i, n := range counts {
			out = gauge(out, fam.users[i], n, key, p)
		}
	}
	if others > 0 {
		for i, n := range other {
			out = gauge(out, fam.users[i], n, key, LabelOther)
		}
	}
	out = append(out, fam.usersDay.Gauge(float64(day.Unix()), key))
	return out, day, true
}

// UsersDay returns the start in loc of the day a /users item is for; false
// when its time does not parse.
func UsersDay(d jpush.UsersDay, loc *time.Location) (time.Time, bool) {
	day, err := time.ParseInLocation(time.DateOnly, d.Day, loc)
	return day, err == nil
}

// StartOfDay returns the start of t's day in loc.
func StartOfDay(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// StatusMissing is the status of a canary that was asked about and that the
// /status/message answer leaves out. JPush's own sample asks about
// 1506bfd3a7c568d4761 and answers for 1507bfd3a7c568d4761 (JPush "REST API
// v3 Report", /status/message): the answer's keys are not to be trusted to
// be the IDs asked.
const StatusMissing = "missing"

// statusNames are the statuses always exported, 0 when no canary is in them:
// the five the documentation lists, and missing.
var statusNames = []string{jpush.StatusName(0), jpush.StatusName(1), jpush.StatusName(2), jpush.StatusName(3), jpush.StatusName(4), StatusMissing}

// StatusSamples counts the canary devices asked about (asked, the configured
// registration IDs) in each status of a status/message answer: the five
// documented statuses and missing always (0 when no canary is in them), a
// code the documentation does not list as code_N. Only the IDs asked count:
// a key of the answer that was not asked about counts nowhere, and an ID
// asked about that the answer leaves out (or gives no readable status)
// counts as missing. An ID asked twice counts once.
//
// lim bounds the codes the documentation does not list: a refused one is
// counted under other.
func StatusSamples(key, msgID string, asked []string, res map[string]int, lim *LabelLimit) []expo.Sample {
	counts := map[string]int{}
	for _, n := range statusNames {
		counts[n] = 0
	}
	seen := make(map[string]bool, len(asked))
	for _, id := range asked {
		if seen[id] {
			continue
		}
		seen[id] = true
		if code, ok := res[id]; ok {
			name := jpush.StatusName(code)
			if !lim.admit(LimitStatus, name, code >= 0 && code <= 4) {
				name = LabelOther
			}
			counts[name]++
		} else {
			counts[StatusMissing]++
		}
	}
	names := slices.Sorted(maps.Keys(counts))
	out := make([]expo.Sample, 0, len(names))
	for _, n := range names {
		out = append(out, jpushDevices.Gauge(float64(counts[n]), key, msgID, n))
	}
	return out
}
