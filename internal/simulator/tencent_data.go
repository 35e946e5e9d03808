package simulator

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// civilDay numbers calendar days in the vendor's timezone: 0 is 1970-01-01.
type civilDay int64

const secondsPerDay = 24 * 60 * 60

func dayOf(t time.Time, loc *time.Location) civilDay {
	y, m, d := t.In(loc).Date()
	return civilDay(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / secondsPerDay)
}

// utc is midnight UTC of the day; only its calendar fields mean anything.
func (d civilDay) utc() time.Time { return time.Unix(int64(d)*secondsPerDay, 0).UTC() }

// The shape of the simulated apps.
const (
	reportDays  = 30              // getappinfo rows: "the last 30 days" (Pulling Operations Data)
	trendDays   = 3650            // the daily registration intake doubles in ten years
	launchEpoch = civilDay(16436) // 2015-01-01; apps launch within two years of it
)

// weekly scales activity by weekday: a chat app is busiest at the weekend.
var weekly = [7]float64{
	time.Sunday: 1.10, time.Monday: 0.94, time.Tuesday: 0.95, time.Wednesday: 0.96,
	time.Thursday: 0.97, time.Friday: 1.03, time.Saturday: 1.12,
}

var (
	appNames  = []string{"Realtime Chat", "Community", "Live Room", "Customer Service", "Game Lobby"}
	companies = []string{"Linye", "Example Networks", "Demo Interactive", "Sample Tech"}
)

// tencentModel holds an app's traits, drawn once from (seed, sdkappid); every
// figure of a day or a push task derives from them.
type tencentModel struct {
	seed          int64
	sdkappid      uint64
	name, company string
	launch        civilDay  // the first day with registrations
	base          float64   // accounts imported at launch
	intake        float64   // registrations a day at launch
	active        float64   // share of registered users active on an average day
	groups        float64   // groups per registered user
	devices       []float64 // offline audience weight per offlineChannels entry
}

func newTencentModel(seed int64, sdkappid uint64) *tencentModel {
	m := &tencentModel{seed: seed, sdkappid: sdkappid}
	m.name = appNames[int(m.draw(0, float64(len(appNames)), tag("name")))]
	m.company = companies[int(m.draw(0, float64(len(companies)), tag("company")))]
	m.launch = launchEpoch + civilDay(m.draw(0, 730, tag("launch")))
	m.base = m.draw(5e3, 5e4, tag("base"))
	m.intake = m.draw(50, 500, tag("intake"))
	m.active = m.draw(0.15, 0.35, tag("active"))
	m.groups = m.draw(0.03, 0.12, tag("groups"))
	for i, ch := range offlineChannels {
		m.devices = append(m.devices, ch.share*m.draw(0.8, 1.2, tag("devices"), uint64(i)))
	}
	return m
}

// draw returns a number in [lo, hi) determined by the seed, the app and parts.
func (m *tencentModel) draw(lo, hi float64, parts ...uint64) float64 {
	return lo + (hi-lo)*unit(m.seed, append([]uint64{m.sdkappid}, parts...)...)
}

// registered is RegistUserNumTotal at the end of day d: the accounts imported
// at launch, then a daily intake that grows slowly, plus a jitter below 40% of
// the intake so that the total never falls.
func (m *tencentModel) registered(d civilDay) int64 {
	x := float64(max(d-m.launch, 0))
	total := m.base + m.intake*(x+x*x/(2*trendDays))
	if d > m.launch {
		total += 0.4 * m.intake * m.draw(0, 1, tag("registered"), uint64(d))
	}
	return int64(total)
}

// report returns getappinfo's rows at now: the last reportDays complete days
// in loc, newest first, limited to fields (and Date) unless fields is empty.
func (m *tencentModel) report(now time.Time, loc *time.Location, fields []string) []map[string]string {
	newest := dayOf(now, loc) - 1
	rows := make([]map[string]string, 0, reportDays)
	for i := range civilDay(reportDays) {
		row := m.dayRow(newest - i)
		if len(fields) > 0 {
			row = pick(row, fields)
		}
		rows = append(rows, row)
	}
	return rows
}

func pick(row map[string]string, fields []string) map[string]string {
	out := map[string]string{"Date": row["Date"]}
	for _, f := range fields {
		if v, ok := row[f]; ok {
			out[f] = v
		}
	}
	return out
}

// dayRow returns every getappinfo field of day d. Every value is a string
// (Pulling Operations Data). The totals are the sums of their C2C
// and group parts, as in the vendor's sample (DownMsgNum 11869 = 11040 + 829,
// SendMsgUserNum 19 = 9 + 12), and the running totals move by the day's
// figures: RegistUserNumTotal by RegistUserNumOneDay, GroupAllGroupNum by
// GroupNewGroupNum - GroupDestroyGroupNum.
func (m *tencentModel) dayRow(d civilDay) map[string]string {
	// of returns base scaled by a factor in [lo, hi) drawn for field and d.
	of := func(base int64, field string, lo, hi float64) int64 {
		return int64(float64(base) * m.draw(lo, hi, tag(field), uint64(d)))
	}
	total, before := m.registered(d), m.registered(d-1)
	groups := int64(float64(total) * m.groups)
	groupsGained := groups - int64(float64(before)*m.groups)
	active := of(int64(float64(total)*m.active*weekly[d.utc().Weekday()]), "ActiveUserNum", 0.95, 1.05)
	loginUsers := of(active, "LoginUserNum", 1, 1.06)
	c2cSenders := of(active, "C2CSendMsgUserNum", 0.25, 0.45)
	groupSenders := of(active, "GroupSendMsgUserNum", 0.15, 0.35)
	c2cUp := of(c2cSenders, "C2CUpMsgNum", 15, 40)
	c2cDown := of(c2cUp, "C2CDownMsgNum", 0.9, 1)
	groupUp := of(groupSenders, "GroupUpMsgNum", 8, 25)
	groupDown := of(groupUp, "GroupDownMsgNum", 3, 12)
	c2cAPNS := of(c2cDown, "C2CAPNSMsgNum", 0.05, 0.15)
	groupAPNS := of(groupDown, "GroupAPNSMsgNum", 0.01, 0.04)
	newGroups := max(of(active, "GroupNewGroupNum", 0.005, 0.02), groupsGained)
	joins := of(active, "GroupJoinGroupTimes", 0.05, 0.2)
	chainUp := of(active, "ChainIncrease", 0.01, 0.04)
	callbacks := of(c2cUp+groupUp, "CallBackReq", 0.9, 1.1)

	values := map[string]int64{
		"ActiveUserNum":        active,
		"RegistUserNumOneDay":  total - before,
		"RegistUserNumTotal":   total,
		"LoginTimes":           of(loginUsers, "LoginTimes", 3, 7),
		"LoginUserNum":         loginUsers,
		"UpMsgNum":             c2cUp + groupUp,
		"SendMsgUserNum":       c2cSenders + groupSenders,
		"APNSMsgNum":           c2cAPNS + groupAPNS,
		"C2CUpMsgNum":          c2cUp,
		"C2CDownMsgNum":        c2cDown,
		"C2CSendMsgUserNum":    c2cSenders,
		"C2CAPNSMsgNum":        c2cAPNS,
		"MaxOnlineNum":         of(active, "MaxOnlineNum", 0.03, 0.08),
		"DownMsgNum":           c2cDown + groupDown,
		"ChainIncrease":        chainUp,
		"ChainDecrease":        of(chainUp, "ChainDecrease", 0.1, 0.4),
		"GroupUpMsgNum":        groupUp,
		"GroupDownMsgNum":      groupDown,
		"GroupSendMsgUserNum":  groupSenders,
		"GroupAPNSMsgNum":      groupAPNS,
		"GroupSendMsgGroupNum": of(groupSenders, "GroupSendMsgGroupNum", 0.2, 0.5),
		"GroupJoinGroupTimes":  joins,
		"GroupQuitGroupTimes":  of(joins, "GroupQuitGroupTimes", 0.5, 0.9),
		"GroupNewGroupNum":     newGroups,
		"GroupAllGroupNum":     groups,
		"GroupDestroyGroupNum": newGroups - groupsGained,
		"CallBackReq":          callbacks,
		"CallBackRsp":          of(callbacks, "CallBackRsp", 0.995, 1),
	}
	row := make(map[string]string, len(values)+4)
	for k, v := range values {
		row[k] = strconv.FormatInt(v, 10)
	}
	row["AppName"] = m.name
	row["AppId"] = strconv.FormatUint(m.sdkappid, 10)
	row["Company"] = m.company
	row["Date"] = d.utc().Format("20060102")
	return row
}

// EventType values (All/Tagged Users Push Data Statistics).
const (
	eventOffline = 1
	eventOnline  = 2
)

// How fast a push spreads.
const (
	// pushDispatch is the time to hand the message to every account: "generally
	// within a minute" (全员/标签推送). Online deliveries are
	// complete by then.
	pushDispatch = time.Minute
	// offlineSent is the time for the vendor channels to accept the offline
	// pushes.
	offlineSent = 5 * time.Minute
	// clickSettle is the time after which nobody clicks any more.
	clickSettle = 6 * time.Hour
)

// pushChannel is one kind of entry of a task's PlatformStatistics.
type pushChannel struct {
	eventType, platform int
	share               float64       // typical share of the offline audience
	delivered           float64       // typical DeliveredCount / SentCount
	sentIn, deliveredIn time.Duration // time for SentCount, DeliveredCount to settle
}

// offlineChannels are the offline PushPlatform codes 1-8 of
// All/Tagged Users Push Data Statistics (APNs, Xiaomi, Huawei, FCM, Meizu, OPPO,
// vivo, HONOR). Shares and delivery rates are the simulator's picture of an
// app in mainland China, where FCM delivers worst.
var offlineChannels = []pushChannel{
	{eventOffline, 1, 0.30, 0.85, offlineSent, 90 * time.Minute},
	{eventOffline, 2, 0.14, 0.80, offlineSent, 2 * time.Hour},
	{eventOffline, 3, 0.18, 0.88, offlineSent, 2 * time.Hour},
	{eventOffline, 4, 0.08, 0.62, offlineSent, 3 * time.Hour},
	{eventOffline, 5, 0.02, 0.66, offlineSent, 3 * time.Hour},
	{eventOffline, 6, 0.11, 0.75, offlineSent, 150 * time.Minute},
	{eventOffline, 7, 0.10, 0.74, offlineSent, 150 * time.Minute},
	{eventOffline, 8, 0.07, 0.84, offlineSent, 2 * time.Hour},
}

// onlineChannel reaches the users connected at push time. Online pushes report
// PushPlatform 0 (All/Tagged Users Push Data Statistics: "online push EventType = 2
// ... default return 0").
var onlineChannel = pushChannel{eventOnline, 0, 0, 0.97, pushDispatch, pushDispatch}

// pushTask is a push created by im_push, with its funnel fixed at creation.
type pushTask struct {
	id       string
	created  time.Time
	lifetime time.Duration
	entries  []taskEntry
}

// taskEntry is one PlatformStatistics entry: its audience and the fractions of
// it that are finally sent, delivered and clicked.
type taskEntry struct {
	channel                  pushChannel
	total                    int64
	sent, delivered, clicked float64
}

// taskID formats a TaskId like the sample of 全员/标签推送,
// "1400123456_144115212910570789_4155518400_15723514": the sdkappid, an
// 18-digit account number fixed per app, a 32-bit random number and, as the
// simulator reads the sample, the push time in hundreds of seconds.
func (m *tencentModel) taskID(seq uint64, at time.Time) string {
	account := 1<<57 + uint64(m.draw(0, 1<<35, tag("account")))
	random := uint32(m.draw(0, 1<<32, tag("task"), seq))
	return fmt.Sprintf("%d_%d_%d_%d", m.sdkappid, account, random, at.Unix()/100)
}

// newPushTask draws the funnel of task id, determined by (seed, id). The
// audience is most of the users registered by the day before; a lifetime of
// zero pushes to online users only (全员/标签推送: "只推在线用户,
// 需要将 MsgLifeTime 参数设置为0").
func (m *tencentModel) newPushTask(id string, created time.Time, lifetime time.Duration, loc *time.Location) *pushTask {
	draw := func(lo, hi float64, parts ...uint64) float64 {
		return lo + (hi-lo)*unit(m.seed, append([]uint64{tag(id)}, parts...)...)
	}
	t := &pushTask{id: id, created: created, lifetime: lifetime}
	add := func(ch pushChannel, total int64) {
		if total <= 0 {
			return
		}
		key := uint64(ch.eventType)<<8 | uint64(ch.platform)
		t.entries = append(t.entries, taskEntry{
			channel:   ch,
			total:     total,
			sent:      draw(0.95, 0.995, tag("sent"), key),
			delivered: min(ch.delivered*draw(0.9, 1.06, tag("delivered"), key), 0.99),
			clicked:   draw(0.01, 0.06, tag("clicked"), key),
		})
	}
	audience := int64(float64(m.registered(dayOf(created, loc)-1)) * draw(0.6, 1, tag("audience")))
	online := int64(float64(audience) * draw(0.03, 0.1, tag("online")))
	if lifetime > 0 {
		for i, n := range apportion(audience-online, m.devices) {
			add(offlineChannels[i], n)
		}
	}
	add(onlineChannel, online)
	return t
}

// apportion splits n in proportion to weights; the parts sum to n exactly.
func apportion(n int64, weights []float64) []int64 {
	var sum, cum float64
	for _, w := range weights {
		sum += w
	}
	parts := make([]int64, len(weights))
	var prev int64
	for i, w := range weights {
		cum += w
		next := int64(math.Round(float64(n) * cum / sum))
		parts[i] = next - prev
		prev = next
	}
	return parts
}

// taskStats is one element of all_member_push_statistics' Results.
type taskStats struct {
	TaskID             string
	TotalCount         int64
	SentCount          int64
	DeliveredCount     int64
	ClickCount         int64
	PlatformStatistics []platformStats
}

// platformStats is one element of PlatformStatistics.
type platformStats struct {
	EventType      int
	PushPlatform   int
	TotalCount     int64
	SentCount      int64
	DeliveredCount int64
	ClickCount     int64
}

// stats returns the task's statistics at now, with the delivered and clicked
// counts of a degraded platform multiplied by its factor. Counts rise along
// ease-out curves and stop at the message's lifetime, or when the dispatch is
// over if the lifetime is shorter: an expired offline message is no longer
// pushed.
func (t *pushTask) stats(now time.Time, degraded platformFactors) taskStats {
	age := t.age(now)
	s := taskStats{TaskID: t.id, PlatformStatistics: []platformStats{}}
	for _, e := range t.entries {
		s.add(e.at(age, degraded.of(e.channel.platform)))
	}
	return s
}

// age is how long the task's counts have been rising at now: they stop at
// the message's lifetime, or when the dispatch is over if that is later.
func (t *pushTask) age(now time.Time) time.Duration {
	return min(max(now.Sub(t.created), 0), max(t.lifetime, pushDispatch))
}

// at returns the entry's counts at age, delivered and clicked multiplied by
// factor.
func (e taskEntry) at(age time.Duration, factor float64) platformStats {
	reach := float64(e.total) * e.sent
	sent := int64(reach * ease(age, e.channel.sentIn))
	delivered := min(sent, int64(reach*e.delivered*ease(age, e.channel.deliveredIn)*factor))
	clicked := min(delivered, int64(reach*e.delivered*e.clicked*ease(age, clickSettle)*factor))
	return platformStats{e.channel.eventType, e.channel.platform, e.total, sent, delivered, clicked}
}

// ease rises from 0 at age 0 to 1 at age d, fast at first, and stays at 1.
func ease(age, d time.Duration) float64 {
	r := 1 - min(float64(age)/float64(d), 1)
	return 1 - r*r
}

// add counts p into s, merging it with an entry of the same EventType and
// PushPlatform.
func (s *taskStats) add(p platformStats) {
	s.TotalCount += p.TotalCount
	s.SentCount += p.SentCount
	s.DeliveredCount += p.DeliveredCount
	s.ClickCount += p.ClickCount
	for i := range s.PlatformStatistics {
		q := &s.PlatformStatistics[i]
		if q.EventType == p.EventType && q.PushPlatform == p.PushPlatform {
			q.TotalCount += p.TotalCount
			q.SentCount += p.SentCount
			q.DeliveredCount += p.DeliveredCount
			q.ClickCount += p.ClickCount
			return
		}
	}
	s.PlatformStatistics = append(s.PlatformStatistics, p)
}

// overall returns the statistics of all tasks, under the empty TaskID
// (All/Tagged Users Push Data Statistics: "If empty, it means overall statistics"),
// with entries ordered by EventType and PushPlatform.
func overall(tasks []*pushTask, now time.Time, degraded platformFactors) taskStats {
	s := taskStats{PlatformStatistics: []platformStats{}}
	for _, t := range tasks {
		for _, p := range t.stats(now, degraded).PlatformStatistics {
			s.add(p)
		}
	}
	slices.SortFunc(s.PlatformStatistics, func(a, b platformStats) int {
		if a.EventType != b.EventType {
			return a.EventType - b.EventType
		}
		return a.PushPlatform - b.PushPlatform
	})
	return s
}
