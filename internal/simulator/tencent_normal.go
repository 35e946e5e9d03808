package simulator

import (
	"encoding/json"
	"strconv"
	"time"
)

// Arrivals is what the simulator saw of one API's calls from one app: a test
// asserts with it that a client kept to the vendor's rate, however long the
// run (the call log keeps only the newest calls).
type Arrivals struct {
	Count       int           // requests received, faulty or not
	RateLimited int           // of them, answered 60007
	MinGap      time.Duration // shortest time between two consecutive arrivals; 0 with fewer than two
	First, Last time.Time     // the first and the latest arrival; zero with none
}

// arrivalKey identifies an API of an app.
type arrivalKey struct {
	api      string
	sdkappid uint64
}

// arrive counts a request to api from sdkappid (0 when its query names
// none) arriving now, before any Fault.Delay, and returns now.
func (t *Tencent) arrive(api string, sdkappid uint64) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock.Now() // read under the lock: arrivals are counted in order
	k := arrivalKey{api, sdkappid}
	a, ok := t.arrivals[k]
	if !ok {
		a = &Arrivals{First: now}
		t.arrivals[k] = a
	}
	if a.Count > 0 {
		if gap := now.Sub(a.Last); a.Count == 1 || gap < a.MinGap {
			a.MinGap = gap
		}
	}
	a.Count++
	a.Last = now
	return now
}

// rateLimited counts a 60007 answer to api for sdkappid.
func (t *Tencent) rateLimited(api string, sdkappid uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a, ok := t.arrivals[arrivalKey{api, sdkappid}]; ok {
		a.RateLimited++
	}
}

// Arrivals returns what the simulator saw of the calls to api (TencentGetAppInfo,
// ...) from sdkappid since it started.
func (t *Tencent) Arrivals(api string, sdkappid uint64) Arrivals {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a, ok := t.arrivals[arrivalKey{api, sdkappid}]; ok {
		return *a
	}
	return Arrivals{}
}

// normalPushAnswer is normal_push_statistics' answer, in the shape and with
// the ErrorInfo of the vendor's sample (Normal Push Data Statistics): the
// counts at the top level, no Results and no EventType.
type normalPushAnswer struct {
	ActionStatus       string
	ErrorCode          int
	ErrorInfo          string
	TotalCount         int64
	SentCount          int64
	DeliveredCount     int64
	ClickCount         int64
	PlatformStatistics []normalPlatformStats
}

// normalPlatformStats is one element of PlatformStatistics.
type normalPlatformStats struct {
	PushPlatform   int
	TotalCount     int64
	SentCount      int64
	DeliveredCount int64
	ClickCount     int64
}

func (t *Tencent) normalPushStatistics(app *tencentApp, body []byte, call *Call) (any, *TencentError) {
	if app.PushDisabled {
		return nil, tencentErr(codePushDisabled)
	}
	// Normal Push Data Statistics: StartTime and EndTime, unix seconds,
	// both required, "最大支持30天内数据查询". The page names no error code for
	// a bad window; the simulator answers all_member_push_statistics' 90100.
	var req statsWindow
	// Decoded before the rate check, so that the log shows what a refused
	// call asked for.
	if json.Unmarshal(body, &req) != nil {
		return nil, tencentErr(codeStatsInvalid)
	}
	req.record(call)
	t.mu.Lock()
	defer t.mu.Unlock()
	// "最高调用频率 1次/秒", counted apart from all_member_push_statistics.
	if !app.normalRate.allow(call.Time) {
		return nil, tencentErr(codeRateLimited)
	}
	if req.StartTime == nil || req.EndTime == nil || call.EndTime <= call.StartTime || call.EndTime-call.StartTime > maxStatsWindow {
		return nil, tencentErr(codeStatsInvalid)
	}
	ans := normalPushAnswer{ActionStatus: "OK", ErrorInfo: "sucess", PlatformStatistics: []normalPlatformStats{}}
	for _, p := range app.model.normalPush(time.Unix(call.StartTime, 0), time.Unix(call.EndTime, 0), call.Time, t.loc, t.degraded) {
		ans.TotalCount += p.TotalCount
		ans.SentCount += p.SentCount
		ans.DeliveredCount += p.DeliveredCount
		ans.ClickCount += p.ClickCount
		ans.PlatformStatistics = append(ans.PlatformStatistics, p)
	}
	return ans, nil
}

// normalPush returns the per-channel statistics of the chat-message pushes
// sent within [start, end], cut at now: there are none in the future. A day's
// pushes are spread evenly over the day, so a window holds the part of each
// day it covers and a rolling window moves every second. Every figure of a
// day is determined by (seed, app, day, channel):
//
//   - the day's pushes are a share, drawn per app, of the day's one-to-one and
//     group messages that getappinfo reports (C2CDownMsgNum, GroupDownMsgNum):
//     the messages that reached offline users. An app's chat pushes far
//     outnumber its campaigns, each of which reaches at most every user once.
//   - they split over the offline channels as the app's devices do, and each
//     channel sends and delivers at its own rate (offlineChannels), a
//     degraded one (DegradePlatform) delivering and being clicked less.
//
// Entries are ordered by PushPlatform; a channel with nothing to send is left
// out.
func (m *tencentModel) normalPush(start, end, now time.Time, loc *time.Location, degraded platformFactors) []normalPlatformStats {
	if end.After(now) {
		end = now
	}
	var weights float64
	for _, w := range m.devices {
		weights += w
	}
	c2cShare := m.draw(0.3, 0.5, tag("normalC2C"))
	groupShare := m.draw(0.15, 0.3, tag("normalGroup"))
	type sums struct{ total, sent, delivered, clicked float64 }
	acc := make([]sums, len(offlineChannels))
	for d := dayOf(start, loc); start.Before(end) && d <= dayOf(end, loc); d++ {
		from, to := d.start(loc), (d + 1).start(loc)
		covered := earlier(to, end).Sub(later(from, start))
		if covered <= 0 {
			continue
		}
		frac := float64(covered) / float64(to.Sub(from))
		row := m.dayRow(d)
		pushes := frac * (c2cShare*number(row["C2CDownMsgNum"]) + groupShare*number(row["GroupDownMsgNum"]))
		for i, ch := range offlineChannels {
			key := uint64(ch.platform)
			total := pushes * m.devices[i] / weights
			sent := total * m.draw(0.93, 0.99, tag("normalSent"), uint64(d), key)
			delivered := sent * min(ch.delivered*m.draw(0.92, 1.05, tag("normalDelivered"), uint64(d), key), 0.99) * degraded.of(ch.platform)
			a := &acc[i]
			a.total += total
			a.sent += sent
			a.delivered += delivered
			a.clicked += delivered * m.draw(0.01, 0.04, tag("normalClicked"), uint64(d), key)
		}
	}
	var out []normalPlatformStats
	for i, a := range acc {
		p := normalPlatformStats{PushPlatform: offlineChannels[i].platform, TotalCount: int64(a.total)}
		if p.TotalCount == 0 {
			continue
		}
		p.SentCount = min(int64(a.sent), p.TotalCount)
		p.DeliveredCount = min(int64(a.delivered), p.SentCount)
		p.ClickCount = min(int64(a.clicked), p.DeliveredCount)
		out = append(out, p)
	}
	return out
}

// start is the first instant of the day in loc.
func (d civilDay) start(loc *time.Location) time.Time {
	y, m, dd := d.utc().Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, loc)
}

// number reads a getappinfo value; dayRow writes only integers.
func number(s string) float64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return float64(n)
}

// earlier returns the earlier of a and b.
func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
