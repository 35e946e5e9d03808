package collector

import (
	"context"
	"sort"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/jpush"
)

// jpushSettledAfter is when a JPush message's numbers stop changing: the
// Report API stops counting receipts, displays and clicks 5 days after the
// push (JPush "REST API v3 Report", 消息生命周期状态定义).
const jpushSettledAfter = 5 * 24 * time.Hour

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
	message  [5]*family // {key, id, type}
	channel  [5]*family // {key, id, type, platform, channel}
	combined [5]*family // {key, id, type, platform, channel}: counts over several channels
	users    [3]*family // new, online, active {key, platform}
	usersDay *family    // {key}
}

func newJPushFamilies(prefix, key, id, api, usersAPI string) *jpushFamilies {
	f := &jpushFamilies{}
	for i, st := range jpushStages {
		f.message[i] = newFamily(prefix+"message_"+st.name, "Per message and type: "+st.field+" count of "+api+".", key, id, "type")
		f.channel[i] = newFamily(prefix+"message_channel_"+st.name, "Per message, type, platform and channel: "+st.field+" count of "+api+".", key, id, "type", "platform", "channel")
		f.combined[i] = newFamily(prefix+"message_combined_"+st.name, "Per message: "+st.field+" count of "+api+" the vendor reports over several channels or platforms together; it includes "+prefix+"message_channel_"+st.name+" series, do not add them up.", key, id, "type", "platform", "channel")
	}
	for i, n := range []string{"new", "online", "active"} {
		f.users[i] = newFamily(prefix+"users_"+n, "Users of the latest complete day by platform ("+usersAPI+" "+n+").", key, "platform")
	}
	f.usersDay = newFamily(prefix+"users_day_timestamp_seconds", "Start of the day (in the configured timezone) the "+prefix+"users_* values are for.", key)
	return f
}

var (
	jpushAppFamilies   = newJPushFamilies("jpush_", "app_key", "msg_id", "/messages/detail", "/users")
	jpushGroupFamilies = newJPushFamilies("jpush_group_", "group_key", "group_msg_id", "/group/messages/detail", "/group/users")

	jpushDeliverySent = newFamily("jpush_message_delivery_sent",
		"Per message, type, platform and channel: a sent count of /received/detail (android_pns_sent, ios_apns_sent, wp_mpns_sent, quickapp_pns_sent).", "app_key", "msg_id", "type", "platform", "channel")
	jpushDeliveryReceived = newFamily("jpush_message_delivery_received",
		"Per message, type, platform and channel: a received count of /received/detail (android_pns_received, ios_apns_received, ios_msg_received, quickapp_jpush_received) or /received (android_received).", "app_key", "msg_id", "type", "platform", "channel")
	jpushDeliveryCombinedReceived = newFamily("jpush_message_delivery_combined_received",
		"Per message: jpush_received of /received/detail, the JPush channel's receipts of Android notifications and custom messages and iOS custom messages together; it includes the ios_msg_received series of jpush_message_delivery_received, do not add them up.", "app_key", "msg_id", "type", "platform", "channel")
	jpushDevices = newFamily("jpush_message_devices",
		"Canary registration IDs of the message in each delivery status (/status/message).", "app_key", "msg_id", "status")
)

// gauge appends a series when the vendor reported a count.
func gauge(out []prometheus.Metric, f *family, c jpush.Count, labels ...string) []prometheus.Metric {
	if c == nil {
		return out
	}
	return append(out, f.gauge(float64(*c), labels...))
}

// receivedFetcher is the part of the JPush client jpush_received uses.
type receivedFetcher interface {
	ReceivedDetail(ctx context.Context, msgIDs []string) ([]jpush.Received, error)
	Received(ctx context.Context, msgIDs []string) ([]jpush.Received, error)
}

// jpushReceived is the jpush_received source: /received/detail per tracked
// message and channel, or the legacy /received when detail is refused.
type jpushReceived struct {
	*idPoller
	client receivedFetcher
	key    string
	logger log.Logger
	legacy atomic.Bool // detail was refused: use /received
}

func newJPushReceived(client receivedFetcher, key string, po pollerOptions, logger log.Logger) *jpushReceived {
	s := &jpushReceived{client: client, key: key, logger: logger}
	po.BatchSize, po.SettledAfter, po.Fetch = jpush.MaxMsgIDsPerCall, jpushSettledAfter, s.fetch
	s.idPoller = newIDPoller(po)
	return s
}

func (s *jpushReceived) fetch(ctx context.Context, ids []string) (map[string][]prometheus.Metric, error) {
	var res []jpush.Received
	var err error
	if !s.legacy.Load() {
		res, err = s.client.ReceivedDetail(ctx, ids)
		if c := apierr.ClassOf(err); c == apierr.Unavailable || c == apierr.Fatal {
			// /received is "no longer maintained" but still answers for
			// accounts that cannot use /received/detail
			// (JPush "REST API v3 Report", 送达统计(旧)).
			level.Info(s.logger).Log("msg", "received/detail refused; using the legacy /received", "app_key", s.key, "err", err)
			s.legacy.Store(true)
		}
	}
	if s.legacy.Load() {
		res, err = s.client.Received(ctx, ids)
	}
	if err != nil {
		return nil, err
	}
	got := map[string][]prometheus.Metric{}
	for _, r := range res {
		if _, dup := got[r.MsgID]; !dup {
			got[r.MsgID] = receivedMetrics(s.key, r)
		}
	}
	return got, nil
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
	// winphone通知送达.
	"wp_mpns": {jpush.TypeNotification, jpush.PlatformWinPhone, "mpns", false},
	// 快应用推送走极光通道送达设备成功的用户数量.
	"quickapp_jpush": {jpush.TypeAll, jpush.PlatformQuickApp, jpush.ChannelJPush, false},
	// 快应用推送走厂商通道请求成功的用户数量.
	"quickapp_pns": {jpush.TypeAll, jpush.PlatformQuickApp, jpush.ChannelPNS, false},
	// The legacy /received's android_received, "Android 送达": every channel.
	"android": {jpush.TypeAll, jpush.PlatformAndroid, "all", false},
}

// receivedMetrics turns one message's received or received/detail counts
// into the jpush_message_delivery_* metrics of app key, each field under the
// labels receivedFields gives it.
func receivedMetrics(key string, r jpush.Received) []prometheus.Metric {
	prefixes := make([]string, 0, len(r.Channels))
	for p := range r.Channels {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	var out []prometheus.Metric
	for _, p := range prefixes {
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

// messagesFetcher is a call of the JPush client returning message funnels.
type messagesFetcher func(ctx context.Context, ids []string) ([]jpush.Message, error)

// jpushMessages is the jpush_messages source (/messages/detail, VIP) or the
// jpush_group_messages source (/group/messages/detail).
type jpushMessages struct {
	*idPoller
	fetchMessages messagesFetcher
	key           string
	fam           *jpushFamilies
}

func newJPushMessages(fetch messagesFetcher, batch int, fam *jpushFamilies, key string, po pollerOptions) *jpushMessages {
	s := &jpushMessages{fetchMessages: fetch, key: key, fam: fam}
	po.BatchSize, po.SettledAfter, po.Fetch = batch, jpushSettledAfter, s.fetch
	s.idPoller = newIDPoller(po)
	return s
}

func (s *jpushMessages) fetch(ctx context.Context, ids []string) (map[string][]prometheus.Metric, error) {
	res, err := s.fetchMessages(ctx, ids)
	if err != nil {
		return nil, err
	}
	got := map[string][]prometheus.Metric{}
	for _, m := range res {
		if _, dup := got[m.MsgID]; !dup {
			got[m.MsgID] = messageMetrics(s.fam, s.key, m)
		}
	}
	return got, nil
}

// messageMetrics turns one message's funnels into metrics of fam: a type's
// total in fam.message, a channel's funnel in fam.channel, or in fam.combined
// when the vendor counts it over several channels or platforms at once
// (jpush.ChannelFunnel.Combined), so that no family counts a delivery twice.
func messageMetrics(fam *jpushFamilies, key string, m jpush.Message) []prometheus.Metric {
	var out []prometheus.Metric
	for _, t := range m.Types {
		for i, st := range jpushStages {
			out = gauge(out, fam.message[i], st.count(t.Funnel), key, m.MsgID, t.Type)
		}
		for _, ch := range t.Channels {
			fs := &fam.channel
			if ch.Combined {
				fs = &fam.combined
			}
			for i, st := range jpushStages {
				out = gauge(out, fs[i], st.count(ch.Funnel), key, m.MsgID, t.Type, ch.Platform, ch.Channel)
			}
		}
	}
	return out
}

// usersFetcher is Users or GroupUsers of the JPush client.
type usersFetcher func(ctx context.Context, start time.Time, days int) ([]jpush.UsersDay, error)

// jpushUsers is the jpush_users source (/users, VIP) or jpush_group_users
// (/group/users): the latest complete day.
type jpushUsers struct {
	fetch usersFetcher
	key   string
	group bool
	loc   *time.Location
	clock clock.Clock
}

// Refresh implements Source. It asks for yesterday, the latest complete day
// in the configured timezone.
func (s *jpushUsers) Refresh(ctx context.Context) ([]prometheus.Metric, error) {
	today := startOfDay(s.clock.Now(), s.loc)
	yesterday := today.AddDate(0, 0, -1)
	days, err := s.fetch(ctx, yesterday, 1)
	if err != nil {
		return nil, err
	}
	var latest []prometheus.Metric
	var latestDay time.Time
	for _, d := range days {
		m, day, ok := UsersDayMetrics(s.group, s.key, d, s.loc)
		if ok && day.Before(today) && day.After(latestDay) {
			latest, latestDay = m, day
		}
	}
	return latest, nil
}

// UsersDayMetrics turns one day of /users (or, for a group app, /group/users)
// into the jpush_users_* (jpush_group_users_*) metrics of app or group key,
// with that day's start in loc; false when the day does not parse.
func UsersDayMetrics(group bool, key string, d jpush.UsersDay, loc *time.Location) ([]prometheus.Metric, time.Time, bool) {
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
	var out []prometheus.Metric
	for _, p := range platforms {
		c := d.Platforms[p]
		for i, n := range []jpush.Count{c.New, c.Online, c.Active} {
			out = gauge(out, fam.users[i], n, key, p)
		}
	}
	out = append(out, fam.usersDay.gauge(float64(day.Unix()), key))
	return out, day, true
}

func startOfDay(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// statusFetcher is StatusMessage of the JPush client.
type statusFetcher func(ctx context.Context, msgID string, registrationIDs []string, date time.Time) (map[string]int, error)

// jpushStatus is the jpush_status source: for every tracked message, how
// many of the configured canary devices are in each delivery status.
type jpushStatus struct {
	*idPoller
	fetchStatus statusFetcher
	key         string
	canaries    []string
}

func newJPushStatus(fetch statusFetcher, key string, canaries []string, po pollerOptions) *jpushStatus {
	s := &jpushStatus{fetchStatus: fetch, key: key, canaries: canaries}
	// status/message takes one msg_id a call (JPush "REST API v3 Report",
	// 送达状态查询: 一次调用仅支持一个消息 id 查询).
	po.BatchSize, po.SettledAfter, po.Fetch = 1, jpushSettledAfter, s.fetch
	s.idPoller = newIDPoller(po)
	return s
}

// statusNames are the statuses always exported, 0 when no canary is in them.
var statusNames = []string{jpush.StatusName(0), jpush.StatusName(1), jpush.StatusName(2), jpush.StatusName(3), jpush.StatusName(4)}

func (s *jpushStatus) fetch(ctx context.Context, ids []string) (map[string][]prometheus.Metric, error) {
	got := map[string][]prometheus.Metric{}
	for _, id := range ids {
		// One call: the configuration allows at most the 1000 registration
		// IDs a call takes (config: canary_registration_ids).
		res, err := s.fetchStatus(ctx, id, s.canaries, time.Time{})
		if err != nil {
			return nil, err
		}
		got[id] = statusMetrics(s.key, id, res)
	}
	return got, nil
}

// statusMetrics counts the canary devices of a status/message answer in each
// status: the five documented ones always (0 when no canary is in them), a
// code the documentation does not list as code_N. A registration ID the
// answer leaves out is in no status.
func statusMetrics(key, msgID string, res map[string]int) []prometheus.Metric {
	counts := map[string]int{}
	for _, n := range statusNames {
		counts[n] = 0
	}
	for _, code := range res {
		counts[jpush.StatusName(code)]++
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]prometheus.Metric, 0, len(names))
	for _, n := range names {
		out = append(out, jpushDevices.gauge(float64(counts[n]), key, msgID, n))
	}
	return out
}
