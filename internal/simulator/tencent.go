package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// The simulated Tencent IM APIs, by the names Call.API and SetFault use (the
// request path without "/v4/").
const (
	TencentGetAppInfo     = "openconfigsvr/getappinfo"
	TencentPushStatistics = "timpush/all_member_push_statistics"
	TencentIMPush         = "all_member_push/im_push"
	// TencentNormalPushStatistics is the statistics of the offline pushes
	// of chat messages (Tencent Chat "普通推送数据统计", Normal Push Data
	// Statistics, https://trtc.io/zh/document/71897).
	TencentNormalPushStatistics = "timpush/normal_push_statistics"
	// TencentPushLoss is why all-member pushes were lost (Tencent Chat
	// "All/Tagged Users Push Loss Analysis",
	// https://intl.cloud.tencent.com/document/product/1047/71895).
	TencentPushLoss = "timpush/all_member_push_loss"
	// TencentNormalPushLoss is why chat-message pushes were lost (Tencent
	// Chat "Chat Service Push Loss Analysis", …/71898).
	TencentNormalPushLoss = "timpush/normal_push_loss"
)

// The vendor's limits.
const (
	getAppInfoPerSecond = 200                // Pulling Operations Data: "200 calls per second"
	maxStatsTaskIDs     = 5                  // All/Tagged Users Push Data Statistics: "up to 5"
	maxStatsWindow      = 30 * secondsPerDay // All/Tagged Users Push Data Statistics: "up to 30 days"
	maxMsgLifeTime      = 7 * 24 * time.Hour // 全员/标签推送: "最多保存7天(604800秒)"
	maxPushesPerDay     = 100                // 全员/标签推送: "默认每天最多调用100次"
)

// The simulator's own bounds.
const (
	maxRequestBody = 1 << 20 // a larger request body is answered like bad JSON
	maxCalls       = 10000   // the call log keeps the newest calls
)

// Tencent error codes the simulator answers with. The public ones (60000 to
// 79999) are the vendor's common codes (Tencent Chat REST API error codes:
// rate limits, UserSig, region); the others are each API's own, from its
// page.
const (
	codeBadURL         = 60002  // malformed query string (random, contenttype)
	codeRateLimited    = 60007  // REST API call rate exceeded: a rate-limit code
	codeNotAdmin       = 60010  // getappinfo called by an account that is not the app admin
	codeNoSDKAppID     = 60012  // sdkappid missing or not a number
	codeSigExpired     = 70001  // UserSig expired
	codeSigEmpty       = 70002  // usersig missing
	codeSigInvalid     = 70003  // UserSig malformed or signed with another key
	codeSigMismatch    = 70013  // UserSig made for another identifier or sdkappid
	codeAppNotFound    = 70020  // unknown sdkappid, what a wrong region looks like
	codePushJSON       = 90001  // im_push: bad JSON
	codePushMsgBody    = 90002  // im_push: MsgBody missing, empty or with a malformed element
	codePushMsgRandom  = 90005  // im_push: MsgRandom missing or not a 32-bit unsigned integer
	codePushBodyType   = 90007  // im_push: MsgBody not an array
	codePushNotAdmin   = 90009  // push APIs called by an account that is not the app admin
	codePushTooOften   = 90024  // im_push: two pushes not more than a second apart
	codePushLifeTime   = 90026  // im_push: MsgLifeTime beyond 7 days
	codePushCondition  = 90039  // im_push: attribute and tag conditions together
	codePushDisabled   = 90045  // push service not enabled
	codePushDailyLimit = 90047  // im_push: daily quota spent
	codeStatsInvalid   = 90100  // push statistics APIs: invalid parameters
	codeAppInfoJSON    = 130001 // getappinfo: bad JSON
)

var tencentErrorInfo = map[int]string{
	codeBadURL:         "HTTP parse error, check the URL format",
	codeRateLimited:    "REST API call frequency exceeds the limit",
	codeNotAdmin:       "the request requires app admin permission",
	codeNoSDKAppID:     "the REST API requires SDKAppID",
	codeSigExpired:     "UserSig expired",
	codeSigEmpty:       "UserSig length is 0",
	codeSigInvalid:     "UserSig verification failed",
	codeSigMismatch:    "the UserSig does not match the identifier",
	codeAppNotFound:    "SDKAppID not found",
	codePushJSON:       "JSON parsing failed",
	codePushMsgBody:    "MsgBody does not match the message format",
	codePushMsgRandom:  "MsgRandom missing or not an integer",
	codePushBodyType:   "MsgBody is not an array",
	codePushNotAdmin:   "the request requires app admin permission",
	codePushTooOften:   "pushes too frequent: two pushes must be more than 1 second apart",
	codePushLifeTime:   "MsgLifeTime out of range: at most 7 days",
	codePushCondition:  "attribute and tag conditions cannot be combined",
	codePushDisabled:   "the service is not enabled",
	codePushDailyLimit: "daily push limit exceeded",
	codeStatsInvalid:   "invalid request parameters",
	codeAppInfoJSON:    "JSON parsing error of the request",
}

// TencentError is a Tencent IM error answer: what the HTTP API sends as
// {"ActionStatus":"FAIL","ErrorCode":Code,"ErrorInfo":Info} and what Push
// returns.
type TencentError struct {
	Code int    // ErrorCode
	Info string // ErrorInfo
}

func tencentErr(code int) *TencentError {
	info, ok := tencentErrorInfo[code]
	if !ok {
		info = "simulated error"
	}
	return &TencentError{Code: code, Info: info}
}

// Error implements error.
func (e *TencentError) Error() string {
	return fmt.Sprintf("tencent im error %d: %s", e.Code, e.Info)
}

// reply is the HTTP answer: status 200 whatever the error (Tencent Chat REST
// API: the verdict is in the body).
func (e *TencentError) reply() reply {
	return jsonReply(http.StatusOK, struct {
		ActionStatus string
		ErrorCode    int
		ErrorInfo    string
	}{"FAIL", e.Code, e.Info})
}

// TencentApp is an app the simulator knows.
type TencentApp struct {
	// SDKAppID identifies the app.
	SDKAppID uint64
	// Identifier is the admin account; requests with another identifier are
	// refused.
	Identifier string
	// SecretKey signs the UserSig.
	SecretKey string
	// PushDisabled makes all_member_push_statistics,
	// normal_push_statistics, both push loss APIs and im_push answer 90045
	// (service not enabled).
	PushDisabled bool
}

// TencentOptions configure NewTencent.
type TencentOptions struct {
	// Apps are the apps served; a later duplicate SDKAppID replaces an earlier
	// one.
	Apps []TencentApp
	// Clock tells the time; nil is clock.Real{}.
	Clock clock.Clock
	// Seed determines the data: it is a pure function of (Seed, sdkappid,
	// day or push task).
	Seed int64
	// Location is the vendor's day boundary; nil is Asia/Shanghai.
	Location *time.Location
}

// Call is one API call the simulator received.
type Call struct {
	API       string    // e.g. TencentGetAppInfo
	SDKAppID  uint64    // 0 when the query had none
	Time      time.Time // when it was handled, after any Fault.Delay
	TaskIDs   []string  // all_member_push_statistics, all_member_push_loss: TaskID as requested
	StartTime int64     // push statistics APIs: StartTime
	EndTime   int64     // push statistics APIs: EndTime
	ErrorCode int       // the Tencent error code answered; 0 for success and for faults other than Fault.ErrorCode
}

// Tencent simulates the Tencent IM REST APIs the exporter uses, plus im_push
// to create push tasks. It is an http.Handler and safe for concurrent use.
type Tencent struct {
	clock clock.Clock
	loc   *time.Location
	apps  map[uint64]*tencentApp // fixed by NewTencent

	mu       sync.Mutex
	degraded platformFactors          // DegradePlatform factors
	arrivals map[arrivalKey]*Arrivals // by API and sdkappid

	board switchboard[Call]
}

// tencentApp is an app with its data model and its state; the state is
// guarded by Tencent.mu.
type tencentApp struct {
	TencentApp
	model       *tencentModel
	appInfoRate slidingWindow
	statsRate   slidingWindow
	normalRate  slidingWindow
	lossRate    slidingWindow // all_member_push_loss
	normalLoss  slidingWindow // normal_push_loss
	lastPush    time.Time
	pushDay     civilDay
	pushesToday int
	seq         uint64      // TaskIds drawn so far
	tasks       []*pushTask // in order of creation
	taskByID    map[string]*pushTask
}

// shanghai is Asia/Shanghai without the tz database: China has kept UTC+8
// without daylight saving time since 1991.
var shanghai = time.FixedZone("Asia/Shanghai", 8*60*60)

// NewTencent returns a simulator serving the apps of o.
func NewTencent(o TencentOptions) *Tencent {
	t := &Tencent{
		clock:    o.Clock,
		loc:      o.Location,
		apps:     make(map[uint64]*tencentApp, len(o.Apps)),
		degraded: make(platformFactors),
		arrivals: make(map[arrivalKey]*Arrivals),
	}
	if t.clock == nil {
		t.clock = clock.Real{}
	}
	if t.loc == nil {
		t.loc = shanghai
	}
	for _, a := range o.Apps {
		t.apps[a.SDKAppID] = &tencentApp{
			TencentApp: a,
			model:      newTencentModel(o.Seed, a.SDKAppID),
			// Pulling Operations Data: 200 calls per second.
			appInfoRate: slidingWindow{n: getAppInfoPerSecond, per: time.Second},
			// All/Tagged Users Push Data Statistics: "Maximum Calling Frequency: 1 time/second".
			statsRate: slidingWindow{n: 1, per: time.Second},
			// Normal Push Data Statistics: "最高调用频率 1次/秒".
			normalRate: slidingWindow{n: 1, per: time.Second},
			// Both loss analysis pages: "1 time/second", each API on its own.
			lossRate:   slidingWindow{n: 1, per: time.Second},
			normalLoss: slidingWindow{n: 1, per: time.Second},
			taskByID:   make(map[string]*pushTask),
		}
	}
	return t
}

// slidingWindow admits at most n calls in any span of per.
type slidingWindow struct {
	n     int
	per   time.Duration
	times []time.Time // the admitted calls still in the window, oldest first
}

func (w *slidingWindow) allow(now time.Time) bool {
	if len(w.times) == w.n {
		if now.Sub(w.times[0]) < w.per {
			return false
		}
		w.times = slices.Delete(w.times, 0, 1)
	}
	w.times = append(w.times, now)
	return true
}

// tencentRoute is one API: its name, the code refusing a caller that is not
// the admin, and its handler. A handler returns the answer to encode, or the
// error to answer with.
type tencentRoute struct {
	api       string
	adminCode int
	handle    func(t *Tencent, app *tencentApp, body []byte, call *Call) (any, *TencentError)
}

var tencentRoutes = map[string]tencentRoute{
	"/v4/" + TencentGetAppInfo:           {TencentGetAppInfo, codeNotAdmin, (*Tencent).getAppInfo},
	"/v4/" + TencentPushStatistics:       {TencentPushStatistics, codePushNotAdmin, (*Tencent).pushStatistics},
	"/v4/" + TencentIMPush:               {TencentIMPush, codePushNotAdmin, (*Tencent).imPush},
	"/v4/" + TencentNormalPushStatistics: {TencentNormalPushStatistics, codePushNotAdmin, (*Tencent).normalPushStatistics},
	"/v4/" + TencentPushLoss:             {TencentPushLoss, codePushNotAdmin, (*Tencent).pushLoss},
	"/v4/" + TencentNormalPushLoss:       {TencentNormalPushLoss, codePushNotAdmin, (*Tencent).normalPushLoss},
}

// ServeHTTP answers the Tencent IM APIs under /v4/: 404 for any other path,
// 405 for a method other than POST. A Fault set for the API applies first.
func (t *Tencent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, ok := tencentRoutes[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	call := Call{API: route.api}
	call.SDKAppID, _ = strconv.ParseUint(r.URL.Query().Get("sdkappid"), 10, 64) // unparsable: 0, answered by authorize
	call.Time = t.arrive(route.api, call.SDKAppID)
	serveWithFault(w, r, t.clock, t.board.fault(route.api), exchange{
		answer: func() reply { return t.answer(r, route, &call) },
		vendorError: func(code int) reply {
			call.ErrorCode = code
			return tencentErr(code).reply()
		},
		record: func() {
			t.board.record(call)
			if call.ErrorCode == codeRateLimited {
				t.rateLimited(route.api, call.SDKAppID)
			}
		},
	})
}

// answer handles the request and notes its outcome in call.
func (t *Tencent) answer(r *http.Request, route tencentRoute, call *Call) reply {
	call.Time = t.clock.Now()
	app, terr := t.authorize(r.URL.Query(), route.adminCode, call.Time)
	if terr == nil {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
		if err != nil || len(body) > maxRequestBody {
			body = nil // answered like bad JSON
		}
		var v any
		if v, terr = route.handle(t, app, body, call); terr == nil {
			return jsonReply(http.StatusOK, v)
		}
	}
	call.ErrorCode = terr.Code
	return terr.reply()
}

// authorize checks the query string the way the vendor does and returns the
// app it names.
func (t *Tencent) authorize(q url.Values, adminCode int, now time.Time) (*tencentApp, *TencentError) {
	id, err := strconv.ParseUint(q.Get("sdkappid"), 10, 64)
	if err != nil {
		return nil, tencentErr(codeNoSDKAppID)
	}
	if _, err := strconv.ParseUint(q.Get("random"), 10, 32); err != nil || q.Get("contenttype") != "json" {
		return nil, tencentErr(codeBadURL)
	}
	app, ok := t.apps[id]
	if !ok {
		return nil, tencentErr(codeAppNotFound)
	}
	sig, identifier := q.Get("usersig"), q.Get("identifier")
	if sig == "" {
		return nil, tencentErr(codeSigEmpty)
	}
	switch err := tencentim.VerifyUserSig(sig, id, identifier, app.SecretKey, now); {
	case err == nil:
	case errors.Is(err, tencentim.ErrUserSigExpired):
		return nil, tencentErr(codeSigExpired)
	case errors.Is(err, tencentim.ErrUserSigMismatch):
		return nil, tencentErr(codeSigMismatch)
	default:
		return nil, tencentErr(codeSigInvalid)
	}
	if identifier != app.Identifier {
		return nil, tencentErr(adminCode)
	}
	return app, nil
}

// getAppInfoAnswer is getappinfo's answer; the vendor's sample has no
// ActionStatus (Pulling Operations Data).
type getAppInfoAnswer struct {
	ErrorCode int
	ErrorInfo string
	Result    []map[string]string
}

func (t *Tencent) getAppInfo(app *tencentApp, body []byte, call *Call) (any, *TencentError) {
	t.mu.Lock()
	ok := app.appInfoRate.allow(call.Time)
	t.mu.Unlock()
	if !ok {
		return nil, tencentErr(codeRateLimited)
	}
	// Pulling Operations Data: the body is {} or {"RequestField":[...]}.
	var req struct{ RequestField []string }
	if json.Unmarshal(body, &req) != nil {
		return nil, tencentErr(codeAppInfoJSON)
	}
	return getAppInfoAnswer{ErrorInfo: "OK", Result: app.model.report(call.Time, t.loc, req.RequestField)}, nil
}

// pushStatsAnswer is all_member_push_statistics' answer. The list is
// "Results" and ErrorInfo reads "sucess", as in the vendor's sample
// (All/Tagged Users Push Data Statistics): a client must not rely on ErrorInfo.
type pushStatsAnswer struct {
	ActionStatus string
	ErrorCode    int
	ErrorInfo    string
	Results      []taskStats
}

// statsWindow is the StartTime and EndTime (unix seconds, both required)
// that both push-statistics APIs take.
type statsWindow struct{ StartTime, EndTime *int64 }

// record copies what the request gave of the window into call, for the log.
func (w statsWindow) record(call *Call) {
	if w.StartTime != nil {
		call.StartTime = *w.StartTime
	}
	if w.EndTime != nil {
		call.EndTime = *w.EndTime
	}
}

func (t *Tencent) pushStatistics(app *tencentApp, body []byte, call *Call) (any, *TencentError) {
	if app.PushDisabled {
		return nil, tencentErr(codePushDisabled)
	}
	var req struct {
		statsWindow
		TaskID []string
	}
	// Decoded before the rate check, so that the log shows what a refused
	// call asked for.
	if json.Unmarshal(body, &req) != nil {
		return nil, tencentErr(codeStatsInvalid)
	}
	call.TaskIDs = req.TaskID
	req.record(call)
	t.mu.Lock()
	defer t.mu.Unlock()
	if !app.statsRate.allow(call.Time) {
		return nil, tencentErr(codeRateLimited)
	}
	if req.StartTime == nil || req.EndTime == nil || len(req.TaskID) > maxStatsTaskIDs ||
		call.EndTime < call.StartTime || call.EndTime-call.StartTime > maxStatsWindow {
		return nil, tencentErr(codeStatsInvalid)
	}
	ids := req.TaskID
	if len(ids) == 0 {
		ids = []string{""} // "Leave blank for overall statistics"
	}
	results := []taskStats{}
	for _, id := range ids {
		if id == "" {
			results = append(results, overall(app.tasksCreated(call.StartTime, call.EndTime), call.Time, t.degraded))
		} else if task, ok := app.taskByID[id]; ok { // another app's or an unknown task is left out
			results = append(results, task.stats(call.Time, t.degraded))
		}
	}
	return pushStatsAnswer{ActionStatus: "OK", ErrorInfo: "sucess", Results: results}, nil
}

// tasksCreated returns the app's tasks created within [start, end] (Unix
// seconds).
func (a *tencentApp) tasksCreated(start, end int64) []*pushTask {
	var in []*pushTask
	for _, task := range a.tasks {
		if s := task.created.Unix(); s >= start && s <= end {
			in = append(in, task)
		}
	}
	return in
}

// imPushAnswer is im_push's answer, fields in the vendor's order
// (全员/标签推送).
type imPushAnswer struct {
	ActionStatus string
	ErrorInfo    string
	ErrorCode    int
	TaskID       string `json:"TaskId"`
}

// msgElement is an element of im_push's MsgBody.
type msgElement struct {
	MsgType    string
	MsgContent json.RawMessage
}

func (e msgElement) malformed() bool { return e.MsgType == "" || len(e.MsgContent) == 0 }

func (t *Tencent) imPush(app *tencentApp, body []byte, call *Call) (any, *TencentError) {
	// The request shape of 全员/标签推送; From_Account and
	// OfflinePushInfo are accepted as they come.
	var req struct {
		MsgRandom   json.RawMessage
		MsgLifeTime int64
		MsgBody     json.RawMessage
		Condition   struct {
			AttrsOr, AttrsAnd json.RawMessage
			TagsOr, TagsAnd   []string
		}
	}
	if json.Unmarshal(body, &req) != nil {
		return nil, tencentErr(codePushJSON)
	}
	if _, err := strconv.ParseUint(string(req.MsgRandom), 10, 32); err != nil {
		return nil, tencentErr(codePushMsgRandom)
	}
	if len(req.MsgBody) == 0 {
		return nil, tencentErr(codePushMsgBody)
	}
	var elems []msgElement
	if json.Unmarshal(req.MsgBody, &elems) != nil {
		return nil, tencentErr(codePushBodyType)
	}
	if len(elems) == 0 || slices.ContainsFunc(elems, msgElement.malformed) {
		return nil, tencentErr(codePushMsgBody)
	}
	if req.MsgLifeTime < 0 || req.MsgLifeTime > int64(maxMsgLifeTime/time.Second) {
		return nil, tencentErr(codePushLifeTime)
	}
	c := req.Condition
	if (c.AttrsOr != nil || c.AttrsAnd != nil) && (c.TagsOr != nil || c.TagsAnd != nil) {
		return nil, tencentErr(codePushCondition)
	}
	id, terr := t.push(app, time.Duration(req.MsgLifeTime)*time.Second, call.Time)
	if terr != nil {
		return nil, terr
	}
	return imPushAnswer{ActionStatus: "OK", TaskID: id}, nil
}

// Push does what an im_push call does: it creates a push task at the current
// time, whose messages live msgLifeTime (0: online users only), and returns
// its TaskId. The error is a *TencentError: 70020 for an unknown app, 90026
// for a lifetime beyond 7 days, 90045 when push is disabled, 90024 when the
// previous push is not more than a second old, 90047 after 100 pushes in a
// day. Push is not an API call: Calls does not list it.
func (t *Tencent) Push(sdkappid uint64, msgLifeTime time.Duration) (string, error) {
	app, ok := t.apps[sdkappid]
	if !ok {
		return "", tencentErr(codeAppNotFound)
	}
	if msgLifeTime < 0 || msgLifeTime > maxMsgLifeTime {
		return "", tencentErr(codePushLifeTime)
	}
	id, terr := t.push(app, msgLifeTime, t.clock.Now())
	if terr != nil {
		return "", terr
	}
	return id, nil
}

func (t *Tencent) push(app *tencentApp, lifetime time.Duration, now time.Time) (string, *TencentError) {
	if app.PushDisabled {
		return "", tencentErr(codePushDisabled)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	// 全员/标签推送: "每两次推送间隔必须大于1秒", more than a
	// second between two pushes.
	if !app.lastPush.IsZero() && now.Sub(app.lastPush) <= time.Second {
		return "", tencentErr(codePushTooOften)
	}
	if today := dayOf(now, t.loc); today != app.pushDay {
		app.pushDay, app.pushesToday = today, 0
	}
	if app.pushesToday >= maxPushesPerDay {
		return "", tencentErr(codePushDailyLimit)
	}
	var id string
	for {
		app.seq++
		id = app.model.taskID(app.seq, now)
		if _, dup := app.taskByID[id]; !dup {
			break
		}
	}
	task := app.model.newPushTask(id, now, lifetime, t.loc)
	app.lastPush = now
	app.pushesToday++
	app.tasks = append(app.tasks, task)
	app.taskByID[id] = task
	return id, nil
}

// Calls returns a copy of the log of API calls received (the newest 10000).
// A call is listed before its client sees any of the answer.
func (t *Tencent) Calls() []Call {
	calls := t.board.log()
	for i := range calls {
		calls[i].TaskIDs = slices.Clone(calls[i].TaskIDs)
	}
	return calls
}

// SetFault makes every following request to api (TencentGetAppInfo, ...; ""
// for every API) misbehave as f says, until cleared with a nil f. A fault set
// for an API takes precedence over the "" one.
func (t *Tencent) SetFault(api string, f *Fault) { t.board.setFault(api, f) }

// AppInfo returns the rows getappinfo would return now, with every field; nil
// for an unknown app.
func (t *Tencent) AppInfo(sdkappid uint64) []map[string]string {
	app, ok := t.apps[sdkappid]
	if !ok {
		return nil
	}
	return app.model.report(t.clock.Now(), t.loc, nil)
}
