package collector

import (
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/jpush"
)

// JPushSettledAfter is when a JPush message's numbers stop changing: the
// Report API stops counting receipts, displays and clicks 5 days after the
// push (jpush-report-api-v3.txt, 消息生命周期状态定义).
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
	users    [3]*expo.Family // new, online, active {key, platform}
	usersDay *expo.Family    // {key}
}

func newJPushFamilies(prefix, key, id, api, usersAPI string) *jpushFamilies {
	f := &jpushFamilies{}
	for i, st := range jpushStages {
		f.message[i] = expo.NewFamily(prefix+"message_"+st.name, "Per message and type: "+st.field+" count of "+api+".", key, id, "type")
		f.channel[i] = expo.NewFamily(prefix+"message_channel_"+st.name, "Per message, type, platform and channel: "+st.field+" count of "+api+".", key, id, "type", "platform", "channel")
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
		"Per message and channel: sent count of /received/detail (<channel>_sent).", "app_key", "msg_id", "channel")
	jpushDeliveryReceived = expo.NewFamily("jpush_message_delivery_received",
		"Per message and channel: received count of /received/detail (<channel>_received).", "app_key", "msg_id", "channel")
	jpushDevices = expo.NewFamily("jpush_message_devices",
		"Canary registration IDs of the message in each delivery status (/status/message).", "app_key", "msg_id", "status")
)

// gauge appends a series when the vendor reported a count.
func gauge(out []expo.Sample, f *expo.Family, c jpush.Count, labels ...string) []expo.Sample {
	if c == nil {
		return out
	}
	return append(out, f.Gauge(float64(*c), labels...))
}

// ReceivedSamples turns one message's /received/detail (or /received)
// answer into its per-channel series.
func ReceivedSamples(key string, r jpush.Received) []expo.Sample {
	var out []expo.Sample
	for _, ch := range slices.Sorted(maps.Keys(r.Channels)) {
		c := r.Channels[ch]
		out = gauge(out, jpushDeliverySent, c.Sent, key, r.MsgID, ch)
		out = gauge(out, jpushDeliveryReceived, c.Received, key, r.MsgID, ch)
	}
	return out
}

// MessageSamples turns one message's funnels into series of an app
// (jpush_) or, with group, of a group app (jpush_group_); without detail,
// only the per-type totals (no per-platform and per-channel series).
func MessageSamples(group bool, key string, m jpush.Message, detail bool) []expo.Sample {
	fam := jpushAppFamilies
	if group {
		fam = jpushGroupFamilies
	}
	var out []expo.Sample
	for _, t := range m.Types {
		for i, st := range jpushStages {
			out = gauge(out, fam.message[i], st.count(t.Funnel), key, m.MsgID, t.Type)
		}
		if !detail {
			continue
		}
		for _, ch := range t.Channels {
			for i, st := range jpushStages {
				out = gauge(out, fam.channel[i], st.count(ch.Funnel), key, m.MsgID, t.Type, ch.Platform, ch.Channel)
			}
		}
	}
	return out
}

// UsersDayMetrics turns one day of /users (or, for a group app, /group/users)
// into the jpush_users_* (jpush_group_users_*) metrics of app or group key,
// with that day's start in loc; false when the day does not parse.
func UsersDayMetrics(group bool, key string, d jpush.UsersDay, loc *time.Location) ([]expo.Sample, time.Time, bool) {
	fam := jpushAppFamilies
	if group {
		fam = jpushGroupFamilies
	}
	day, err := time.ParseInLocation(time.DateOnly, d.Day, loc)
	if err != nil {
		return nil, time.Time{}, false
	}
	platforms := make([]string, 0, len(d.Platforms))
	for p := range d.Platforms {
		platforms = append(platforms, p)
	}
	sort.Strings(platforms)
	var out []expo.Sample
	for _, p := range platforms {
		c := d.Platforms[p]
		for i, n := range []jpush.Count{c.New, c.Online, c.Active} {
			out = gauge(out, fam.users[i], n, key, p)
		}
	}
	out = append(out, fam.usersDay.Gauge(float64(day.Unix()), key))
	return out, day, true
}

// StartOfDay returns the start of t's day in loc.
func StartOfDay(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// statusNames are the statuses always exported, 0 when no canary is in them.
var statusNames = []string{jpush.StatusName(0), jpush.StatusName(1), jpush.StatusName(2), jpush.StatusName(3), jpush.StatusName(4)}

// StatusSamples counts the canary devices of one message in each delivery
// status of a /status/message answer (registration ID → status code).
func StatusSamples(key, msgID string, res map[string]int) []expo.Sample {
	counts := map[string]int{}
	for _, n := range statusNames {
		counts[n] = 0
	}
	for _, code := range res {
		counts[jpush.StatusName(code)]++
	}
	out := make([]expo.Sample, 0, len(counts))
	for _, n := range slices.Sorted(maps.Keys(counts)) {
		out = append(out, jpushDevices.Gauge(float64(counts[n]), key, msgID, n))
	}
	return out
}
