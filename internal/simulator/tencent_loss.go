package simulator

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"
)

// maxLossWindow is the loss APIs' longest window: "最大支持7天内数据查询"
// (All/Tagged Users Push Loss Analysis, Chat Service Push Loss Analysis).
const maxLossWindow = 7 * secondsPerDay

// lossReason is an error code and the vendor's text for it.
type lossReason struct {
	code, info string
}

// The simulator's loss reasons. The not-sent ones are the two of the
// vendor's sample (All/Tagged Users Push Loss Analysis); the not-delivered
// ones are the simulator's picture, not a list of the vendors' codes: APNs'
// "Unregistered" (410) and the sample's "regid_invalid" for the Android
// channels, plus messages that expired before the device came online.
var (
	notSentReasons = []lossReason{{"-1", "Certificate id not set"}, {"-2", "token not uploaded"}}
	notSentWeights = []float64{0.4, 0.6}
	expiredReason  = lossReason{"-4", "offline message expired"}
	// degradeReasons say why a degraded channel (DegradePlatform) loses the
	// pushes it no longer delivers: for Huawei, Push Kit's 80300007, "the
	// specified token is invalid" (HUAWEI Push Kit "Result Codes",
	// https://developer.huawei.com/consumer/en/doc/HMSCore-Guides/commonerror-0000001059816656),
	// as when tokens belong to another app ID; for the others a generic
	// refusal.
	degradeReasons = map[int]lossReason{3: {"80300007", "token invalid"}}
	degradeDefault = lossReason{"-6", "push rejected by the vendor channel"}
)

// deliveredReasons are the background reasons a channel fails to deliver,
// with their weights.
func deliveredReasons(eventType, platform int) ([]lossReason, []float64) {
	switch {
	case eventType == eventOnline:
		return []lossReason{{"-3", "user offline"}}, []float64{1}
	case platform == 1:
		return []lossReason{{"410", "Unregistered"}, expiredReason}, []float64{0.6, 0.4}
	default:
		return []lossReason{{"1", "regid_invalid"}, expiredReason}, []float64{0.6, 0.4}
	}
}

// degradeReason returns the reason a degraded platform loses pushes for.
func degradeReason(platform int) lossReason {
	if r, ok := degradeReasons[platform]; ok {
		return r
	}
	return degradeDefault
}

// Loss stages, in the order of the answers' arrays.
const (
	stageNotSent = iota
	stageNotDelivered
)

// lossKey is one count of a loss report.
type lossKey struct {
	eventType, platform, stage int
	reason                     lossReason
}

// lossCounts are the losses of a task or a window, by channel, stage and
// reason.
type lossCounts map[lossKey]int64

// addChannel counts the losses of one channel whose statistics are s and
// would have been undegraded: everything targeted and not delivered, split
// into not sent (TotalCount − SentCount) and sent but not delivered
// (SentCount − DeliveredCount), the latter partly for the degradation's
// reason. The parts sum to TotalCount − DeliveredCount exactly.
func (l lossCounts) addChannel(s, undegraded platformStats) {
	add := func(stage int, n int64, reasons []lossReason, weights []float64) {
		for i, part := range apportion(n, weights) {
			if part > 0 {
				l[lossKey{s.EventType, s.PushPlatform, stage, reasons[i]}] += part
			}
		}
	}
	add(stageNotSent, s.TotalCount-s.SentCount, notSentReasons, notSentWeights)
	notDelivered := s.SentCount - s.DeliveredCount
	extra := min(max(undegraded.DeliveredCount-s.DeliveredCount, 0), notDelivered)
	if extra > 0 {
		l[lossKey{s.EventType, s.PushPlatform, stageNotDelivered, degradeReason(s.PushPlatform)}] += extra
	}
	reasons, weights := deliveredReasons(s.EventType, s.PushPlatform)
	add(stageNotDelivered, notDelivered-extra, reasons, weights)
}

// loss returns the losses of the task at now.
func (t *pushTask) loss(now time.Time, degraded platformFactors, into lossCounts) {
	age := t.age(now)
	for _, e := range t.entries {
		into.addChannel(e.at(age, degraded.of(e.channel.platform)), e.at(age, 1))
	}
}

// lossItem is an element of ReadyToSendLoss or PostSendDeliveredLoss.
type lossItem struct {
	ErrCode  string
	ErrCount int64
	ErrInfo  string
}

// platformLossItem is an element of PlatformReadyToSendLoss or
// PlatformPostSendDeliveredLoss of all_member_push_loss.
type platformLossItem struct {
	EventType    int
	PushPlatform int
	ErrCode      string
	ErrCount     int64
	ErrInfo      string
}

// normalPlatformLossItem is the same for normal_push_loss, which reports no
// EventType.
type normalPlatformLossItem struct {
	PushPlatform int
	ErrCode      string
	ErrCount     int64
	ErrInfo      string
}

// lossArrays are the four arrays of a loss report, in the vendor's order.
type lossArrays[P any] struct {
	ReadyToSendLoss               []lossItem
	PostSendDeliveredLoss         []lossItem
	PlatformReadyToSendLoss       []P
	PlatformPostSendDeliveredLoss []P
}

// arrays renders l: the totals by code and the per-channel entries, ordered
// by EventType, PushPlatform and code; empty arrays, never null.
func arrays[P any](l lossCounts, item func(k lossKey, n int64) P) lossArrays[P] {
	a := lossArrays[P]{ReadyToSendLoss: []lossItem{}, PostSendDeliveredLoss: []lossItem{}, PlatformReadyToSendLoss: []P{}, PlatformPostSendDeliveredLoss: []P{}}
	keys := make([]lossKey, 0, len(l))
	totals := map[lossKey]int64{}
	for k, n := range l {
		keys = append(keys, k)
		totals[lossKey{stage: k.stage, reason: k.reason}] += n
	}
	byOrder := func(a, b lossKey) int {
		return cmp.Or(cmp.Compare(a.eventType, b.eventType), cmp.Compare(a.platform, b.platform), cmp.Compare(a.reason.code, b.reason.code))
	}
	slices.SortFunc(keys, byOrder)
	for _, k := range keys {
		if k.stage == stageNotSent {
			a.PlatformReadyToSendLoss = append(a.PlatformReadyToSendLoss, item(k, l[k]))
		} else {
			a.PlatformPostSendDeliveredLoss = append(a.PlatformPostSendDeliveredLoss, item(k, l[k]))
		}
	}
	keys = keys[:0]
	for k := range totals {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, byOrder)
	for _, k := range keys {
		it := lossItem{k.reason.code, totals[k], k.reason.info}
		if k.stage == stageNotSent {
			a.ReadyToSendLoss = append(a.ReadyToSendLoss, it)
		} else {
			a.PostSendDeliveredLoss = append(a.PostSendDeliveredLoss, it)
		}
	}
	return a
}

// taskLoss is one element of all_member_push_loss' Results.
type taskLoss struct {
	TaskID string
	lossArrays[platformLossItem]
}

// pushLossAnswer is all_member_push_loss' answer, in the shape of the
// vendor's sample (All/Tagged Users Push Loss Analysis).
type pushLossAnswer struct {
	ActionStatus string
	ErrorCode    int
	ErrorInfo    string
	Results      []taskLoss
}

// lossWindow decodes and records the window of a loss request and checks
// it: both times given, end after start, at most maxLossWindow.
func lossWindow(body []byte, call *Call, taskIDs *[]string) (valid, decoded bool) {
	var req struct {
		statsWindow
		TaskID []string
	}
	if json.Unmarshal(body, &req) != nil {
		return false, false
	}
	req.record(call)
	if taskIDs != nil {
		*taskIDs = req.TaskID
		call.TaskIDs = req.TaskID
	}
	return req.StartTime != nil && req.EndTime != nil && call.EndTime > call.StartTime && call.EndTime-call.StartTime <= maxLossWindow, true
}

func (t *Tencent) pushLoss(app *tencentApp, body []byte, call *Call) (any, *TencentError) {
	if app.PushDisabled {
		return nil, tencentErr(codePushDisabled)
	}
	// The pages name no error code for a bad request; the simulator answers
	// all_member_push_statistics' 90100. The request is decoded before the
	// rate check, so that the log shows what a refused call asked for.
	var ids []string
	valid, decoded := lossWindow(body, call, &ids)
	if !decoded {
		return nil, tencentErr(codeStatsInvalid)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !app.lossRate.allow(call.Time) {
		return nil, tencentErr(codeRateLimited)
	}
	if !valid || len(ids) > maxStatsTaskIDs {
		return nil, tencentErr(codeStatsInvalid)
	}
	if len(ids) == 0 {
		ids = []string{""} // "为空时表示整体统计"
	}
	item := func(k lossKey, n int64) platformLossItem {
		return platformLossItem{k.eventType, k.platform, k.reason.code, n, k.reason.info}
	}
	results := []taskLoss{}
	for _, id := range ids {
		l := lossCounts{}
		if id == "" {
			for _, task := range app.tasksCreated(call.StartTime, call.EndTime) {
				task.loss(call.Time, t.degraded, l)
			}
		} else if task, ok := app.taskByID[id]; ok {
			task.loss(call.Time, t.degraded, l)
		} else {
			continue // another app's or an unknown task is left out
		}
		results = append(results, taskLoss{TaskID: id, lossArrays: arrays(l, item)})
	}
	return pushLossAnswer{ActionStatus: "OK", ErrorInfo: "sucess", Results: results}, nil
}

// normalLossAnswer is normal_push_loss' answer. The vendor's sample puts the
// four arrays in an object without a key, which is not JSON (Chat Service
// Push Loss Analysis); the simulator sends them at the top level.
type normalLossAnswer struct {
	ActionStatus string
	ErrorCode    int
	ErrorInfo    string
	lossArrays[normalPlatformLossItem]
}

func (t *Tencent) normalPushLoss(app *tencentApp, body []byte, call *Call) (any, *TencentError) {
	if app.PushDisabled {
		return nil, tencentErr(codePushDisabled)
	}
	valid, decoded := lossWindow(body, call, nil)
	if !decoded {
		return nil, tencentErr(codeStatsInvalid)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !app.normalLoss.allow(call.Time) {
		return nil, tencentErr(codeRateLimited)
	}
	if !valid {
		return nil, tencentErr(codeStatsInvalid)
	}
	start, end := time.Unix(call.StartTime, 0), time.Unix(call.EndTime, 0)
	undegraded := map[int]normalPlatformStats{}
	for _, p := range app.model.normalPush(start, end, call.Time, t.loc, nil) {
		undegraded[p.PushPlatform] = p
	}
	l := lossCounts{}
	for _, p := range app.model.normalPush(start, end, call.Time, t.loc, t.degraded) {
		u := undegraded[p.PushPlatform]
		l.addChannel(platformStats{eventOffline, p.PushPlatform, p.TotalCount, p.SentCount, p.DeliveredCount, p.ClickCount},
			platformStats{eventOffline, u.PushPlatform, u.TotalCount, u.SentCount, u.DeliveredCount, u.ClickCount})
	}
	item := func(k lossKey, n int64) normalPlatformLossItem {
		return normalPlatformLossItem{k.platform, k.reason.code, n, k.reason.info}
	}
	return normalLossAnswer{ActionStatus: "OK", ErrorInfo: "sucess", lossArrays: arrays(l, item)}, nil
}
