package simulator

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imstats/imstats_exporter/internal/clock"
)

// The simulated JPush Report APIs, by the names JPushCall.API and SetFault use
// (the request path without "/v3/").
const (
	JPushReceived            = "received"
	JPushReceivedDetail      = "received/detail"
	JPushStatusMessage       = "status/message"
	JPushMessagesDetail      = "messages/detail"
	JPushMessages            = "messages"
	JPushUsers               = "users"
	JPushGroupMessagesDetail = "group/messages/detail"
	JPushGroupUsers          = "group/users"
)

// The vendor's limits.
const (
	jpushDefaultPerMinute   = 2400                // JPush rate limiting: Report API, 2400/min on the free tier
	jpushMaxMsgIDs          = 100                 // JPush "REST API v3 Report": 最多支持 100 个 msg_id
	jpushMaxGroupMsgIDs     = 10                  // JPush "REST API v3 Report": 最多支持 10 个 group_msgids
	jpushMaxRegistrationIDs = 1000                // JPush "REST API v3 Report": 一次调用最多支持 1000个
	jpushMaxUsersDays       = 60                  // JPush "REST API v3 Report": 只支持查询 60 天以内
	jpushMaxGroupUsersDays  = 30                  // JPush "REST API v3 Report": 只支持查询 30 天以内
	jpushRetention          = 30 * 24 * time.Hour // JPush "REST API v3 Report": 最多保留一个月; groups: 30 天以内
	jpushGroupPrefix        = "group-"            // JPush "REST API v3 Report": 前面要加上 "group-" 前缀
)

// JPush error codes the simulator answers with, in {"error":{"code":N,
// "message":"…"}} bodies.
const (
	jpushCodeInternal = 10 // JPush "REST API v3 Report": 系统内部错误
	// jpushCodeInvalid is not in the Report API's table: it is the code
	// JPush's Push API v3 gives an invalid parameter value, which the
	// simulator answers for too many IDs, a missing parameter or bad JSON.
	jpushCodeInvalid      = 1003
	jpushCodeTooMany      = 2002 // JPush rate limiting: over the per-minute quota, with HTTP 429
	jpushCodeNoPermission = 2003 // JPush "REST API v3 Report": 无权使用此接口 (a VIP-only API)
	jpushCodeAuth         = 3001 // JPush "REST API v3 Report": HTTP Basic authorization 失败, HTTP 401 in its sample
	jpushCodeTimeUnit     = 3004 // JPush "REST API v3 Report": time_unit 与 start 参数值不匹配
	jpushCodeTooLong      = 3005 // JPush "REST API v3 Report": more than 60 days (30 for a group)
)

// jpushErrors gives each code its HTTP status and message.
var jpushErrors = map[int]struct {
	status  int
	message string
}{
	jpushCodeInternal:     {http.StatusInternalServerError, "Server Internal Error"},
	jpushCodeInvalid:      {http.StatusBadRequest, "Invalid parameter"},
	jpushCodeTooMany:      {http.StatusTooManyRequests, "Request times exceeds the limit"},
	jpushCodeNoPermission: {http.StatusForbidden, "No permission to use this API"},
	jpushCodeAuth:         {http.StatusUnauthorized, "Basic authentication failed"},
	jpushCodeTimeUnit:     {http.StatusBadRequest, "time_unit and start do not match"},
	jpushCodeTooLong:      {http.StatusBadRequest, "Only 60 days (30 for a group) can be queried"},
}

// jpushError is a JPush error answer.
type jpushError struct {
	status, code int
	message      string
}

// jpushErr returns the error answer for code; an unknown code (a Fault's) is
// sent with HTTP 400.
func jpushErr(code int) *jpushError {
	e, ok := jpushErrors[code]
	if !ok {
		return &jpushError{status: http.StatusBadRequest, code: code, message: "simulated error"}
	}
	return &jpushError{status: e.status, code: code, message: e.message}
}

func (e *jpushError) reply() reply {
	return jsonReply(e.status, map[string]any{"error": map[string]any{"code": e.code, "message": e.message}})
}

// JPushApp is an app the simulator knows.
type JPushApp struct {
	AppKey, MasterSecret string
	// VIP enables the VIP-only APIs; without it messages/detail and users
	// answer HTTP 403 with error 2003.
	VIP bool
	// OldVIP enables only the old VIP /messages (an account without
	// messages/detail); VIP enables it too.
	OldVIP bool
	// RequestsPerMinute is the Report API quota; 0 is 2400.
	RequestsPerMinute int
}

// JPushGroup is a group app the simulator knows; its APIs authenticate as
// "group-" + GroupKey.
type JPushGroup struct {
	GroupKey, GroupSecret string
	// VIP enables group/messages/detail and group/users (both VIP-only).
	VIP bool
	// RequestsPerMinute is the Report API quota; 0 is 2400.
	RequestsPerMinute int
}

// JPushOptions configure NewJPush.
type JPushOptions struct {
	// Apps and Groups are the credentials served; a later duplicate key
	// replaces an earlier one.
	Apps   []JPushApp
	Groups []JPushGroup
	// Clock tells the time; nil is clock.Real{}.
	Clock clock.Clock
	// Seed determines the data: funnels are a pure function of (Seed,
	// message ID, age), users of (Seed, key, day), statuses of (Seed,
	// message ID, registration ID, age); msg_ids of Seed and the push order.
	Seed int64
	// Location is the vendor's day boundary; nil is Asia/Shanghai.
	Location *time.Location
	// LegacyShare is the share of app messages (0 to 1, spread evenly over
	// the pushes: 0.25 makes every 4th one) whose messages/detail answer has
	// only the blocks of the metrics before 2021-09-01, as for a message
	// pushed before then, with msg_id as a string; the others carry the
	// details block as well.
	// group/messages/detail always answers the older blocks only.
	LegacyShare float64
}

// JPushCall is one API call the simulator received.
type JPushCall struct {
	API      string    // e.g. JPushReceivedDetail
	Username string    // the Basic username (app key or "group-" + group key); never the secret
	Time     time.Time // when it was handled, after any Fault.Delay
	// IDs are the msg_ids, group_msgids or (status/message) registration_ids
	// asked for.
	IDs []string
	// Status is the HTTP status of the simulator's answer or of a
	// Fault.ErrorCode answer; 0 when another Fault replaced the answer.
	Status int
}

// JPush simulates the JPush Report API v3 under /v3/. It is an http.Handler
// and safe for concurrent use.
type JPush struct {
	clock       clock.Clock
	loc         *time.Location
	seed        int64
	legacyShare float64
	apps        map[string]*jpushAccount // fixed by NewJPush
	groups      map[string]*jpushAccount // fixed by NewJPush

	mu        sync.Mutex
	lastMsgID int64  // the newest msg_id handed out
	msgSeq    uint64 // msg_ids handed out
	messages  map[string]*jpushMessage
	degraded  map[string]float64 // DegradeChannel factors by channel

	board switchboard[JPushCall]
}

// jpushAccount is an app or a group; vip, quota and seq are guarded by
// JPush.mu.
type jpushAccount struct {
	name   string // the Basic username: the app key, or "group-" + the group key
	secret string
	vip    bool
	oldVIP bool // the old /messages only
	quota  jpushQuota
	seq    uint64 // group_msgids drawn
}

// NewJPush returns a simulator serving the apps and groups of o.
func NewJPush(o JPushOptions) *JPush {
	j := &JPush{
		clock:       o.Clock,
		loc:         o.Location,
		seed:        o.Seed,
		legacyShare: o.LegacyShare,
		apps:        make(map[string]*jpushAccount, len(o.Apps)),
		groups:      make(map[string]*jpushAccount, len(o.Groups)),
		messages:    make(map[string]*jpushMessage),
		degraded:    make(map[string]float64),
	}
	if j.clock == nil {
		j.clock = clock.Real{}
	}
	if j.loc == nil {
		j.loc = shanghai
	}
	j.lastMsgID = firstMsgID(o.Seed)
	for _, a := range o.Apps {
		j.apps[a.AppKey] = &jpushAccount{name: a.AppKey, secret: a.MasterSecret, vip: a.VIP, oldVIP: a.OldVIP, quota: newJPushQuota(a.RequestsPerMinute)}
	}
	for _, g := range o.Groups {
		j.groups[g.GroupKey] = &jpushAccount{name: jpushGroupPrefix + g.GroupKey, secret: g.GroupSecret, vip: g.VIP, quota: newJPushQuota(g.RequestsPerMinute)}
	}
	return j
}

// jpushQuota is the per-AppKey quota over fixed one-minute windows, the model
// X-Rate-Limit-Reset (seconds until the window resets) implies.
type jpushQuota struct {
	limit, used int
	start       time.Time // of the current window; zero before the first call
}

func newJPushQuota(perMinute int) jpushQuota {
	if perMinute <= 0 {
		perMinute = jpushDefaultPerMinute
	}
	return jpushQuota{limit: perMinute}
}

// take counts a call at now and reports whether the quota allowed it.
func (q *jpushQuota) take(now time.Time) bool {
	if q.start.IsZero() || now.Sub(q.start) >= time.Minute {
		q.start, q.used = now, 0
	}
	if q.used >= q.limit {
		return false
	}
	q.used++
	return true
}

// header returns the rate-limit headers JPush sends on every answer
// (X-Rate-Limit-Quota, -Remaining, -Reset; JPush rate limiting).
func (q *jpushQuota) header(now time.Time) http.Header {
	reset := (q.start.Add(time.Minute).Sub(now) + time.Second - 1) / time.Second // whole seconds, rounded up
	return http.Header{
		"X-Rate-Limit-Quota":     {strconv.Itoa(q.limit)},
		"X-Rate-Limit-Remaining": {strconv.Itoa(q.limit - q.used)},
		"X-Rate-Limit-Reset":     {strconv.FormatInt(int64(reset), 10)},
	}
}

// jpushRoute is one API: its name, method, whether it takes the group
// credential and a VIP account, and its handler. A handler returns the answer
// to encode, or the error to answer with.
type jpushRoute struct {
	api        string
	method     string
	group, vip bool
	oldVIP     bool // VIP, or an account with the old VIP API only
	handle     func(j *JPush, acct *jpushAccount, q url.Values, body []byte, call *JPushCall) (any, *jpushError)
}

var jpushRoutes = map[string]jpushRoute{
	"/v3/" + JPushReceived:            {api: JPushReceived, method: http.MethodGet, handle: (*JPush).receivedLegacy},
	"/v3/" + JPushReceivedDetail:      {api: JPushReceivedDetail, method: http.MethodGet, handle: (*JPush).receivedDetail},
	"/v3/" + JPushStatusMessage:       {api: JPushStatusMessage, method: http.MethodPost, handle: (*JPush).statusMessage},
	"/v3/" + JPushMessagesDetail:      {api: JPushMessagesDetail, method: http.MethodGet, vip: true, handle: (*JPush).messagesDetail},
	"/v3/" + JPushMessages:            {api: JPushMessages, method: http.MethodGet, oldVIP: true, handle: (*JPush).messagesOld},
	"/v3/" + JPushUsers:               {api: JPushUsers, method: http.MethodGet, vip: true, handle: (*JPush).users},
	"/v3/" + JPushGroupMessagesDetail: {api: JPushGroupMessagesDetail, method: http.MethodGet, group: true, vip: true, handle: (*JPush).groupMessagesDetail},
	"/v3/" + JPushGroupUsers:          {api: JPushGroupUsers, method: http.MethodGet, group: true, vip: true, handle: (*JPush).groupUsers},
}

// ServeHTTP answers the JPush Report APIs under /v3/: 404 for any other path,
// 405 for the wrong method. A Fault set for the API applies first.
func (j *JPush) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, ok := jpushRoutes[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != route.method {
		w.Header().Set("Allow", route.method)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	call := JPushCall{API: route.api, Time: j.clock.Now()}
	call.Username, _, _ = r.BasicAuth()
	serveWithFault(w, r, j.clock, j.board.fault(route.api), exchange{
		answer: func() reply {
			rep := j.answer(r, route, &call)
			call.Status = rep.status
			return rep
		},
		vendorError: func(code int) reply {
			rep := jpushErr(code).reply()
			call.Status = rep.status
			return rep
		},
		record: func() { j.board.record(call) },
	})
}

// answer handles the request in the vendor's order: credentials (3001, no
// rate-limit headers: there is no AppKey to count against), the quota (2002),
// VIP (2003), then the API. Every answer past the credential check carries
// the rate-limit headers.
func (j *JPush) answer(r *http.Request, route jpushRoute, call *JPushCall) reply {
	call.Time = j.clock.Now()
	acct := j.authenticate(r, route.group)
	if acct == nil {
		return jpushErr(jpushCodeAuth).reply()
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil || len(body) > maxRequestBody {
		body = nil // answered like bad JSON
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var rep reply
	switch {
	case !acct.quota.take(call.Time):
		rep = jpushErr(jpushCodeTooMany).reply()
	case route.vip && !acct.vip, route.oldVIP && !acct.vip && !acct.oldVIP:
		rep = jpushErr(jpushCodeNoPermission).reply()
	default:
		if v, jerr := route.handle(j, acct, r.URL.Query(), body, call); jerr != nil {
			rep = jerr.reply()
		} else {
			rep = jsonReply(http.StatusOK, v)
		}
	}
	for k, v := range acct.quota.header(call.Time) {
		rep.header[k] = v
	}
	return rep
}

// authenticate returns the account whose credential the request carries, or
// nil. Group APIs take only "group-" + group key, the others only app keys.
func (j *JPush) authenticate(r *http.Request, group bool) *jpushAccount {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return nil
	}
	acct := j.apps[user]
	if group {
		key, isGroup := strings.CutPrefix(user, jpushGroupPrefix)
		if !isGroup {
			return nil
		}
		acct = j.groups[key]
	}
	if acct == nil || acct.secret != pass {
		return nil
	}
	return acct
}

// idList parses a comma-separated ID parameter of at most max IDs.
func idList(raw string, max int) ([]string, *jpushError) {
	var ids []string
	for id := range strings.SplitSeq(raw, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 || len(ids) > max {
		return ids, jpushErr(jpushCodeInvalid)
	}
	return ids, nil
}

// owned returns the message id if acct pushed it and the vendor still keeps
// its statistics, else nil.
func (j *JPush) owned(acct *jpushAccount, id string, now time.Time) *jpushMessage {
	m := j.messages[id]
	if m == nil || m.owner != acct.name || now.Sub(m.pushed) > jpushRetention {
		return nil
	}
	return m
}

func (j *JPush) receivedDetail(acct *jpushAccount, q url.Values, _ []byte, call *JPushCall) (any, *jpushError) {
	return j.received(acct, q, call, true)
}

func (j *JPush) receivedLegacy(acct *jpushAccount, q url.Values, _ []byte, call *JPushCall) (any, *jpushError) {
	return j.received(acct, q, call, false)
}

// received answers an entry per msg_id asked for, in order; one the app did
// not push has every count null.
func (j *JPush) received(acct *jpushAccount, q url.Values, call *JPushCall, detail bool) (any, *jpushError) {
	ids, jerr := idList(q.Get("msg_ids"), jpushMaxMsgIDs)
	call.IDs = ids
	if jerr != nil {
		return nil, jerr
	}
	out := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		if m := j.owned(acct, id, call.Time); m != nil {
			out = append(out, m.funnels(j.seed, call.Time, j.degraded).received(id, detail))
		} else {
			out = append(out, nullReceived(id, detail))
		}
	}
	return out, nil
}

// messagesDetail answers, for each msg_id the app pushed, the details block
// and the legacy blocks side by side, with msg_id as a JSON number, as in the
// messages/detail sample of JPush's "REST API v3 Report" page; a legacyOnly
// message (JPushOptions.LegacyShare) has the legacy blocks only and its
// msg_id as a string. Unknown IDs are left out.
func (j *JPush) messagesDetail(acct *jpushAccount, q url.Values, _ []byte, call *JPushCall) (any, *jpushError) {
	return j.messageEntries(acct, q.Get("msg_ids"), jpushMaxMsgIDs, call, func(m *jpushMessage, f jpushFunnels) map[string]any {
		entry := f.legacy()
		if m.legacyOnly {
			entry["msg_id"] = m.id
			return entry
		}
		entry["msg_id"] = json.Number(m.id) // app msg_ids are numeric (Push)
		entry["details"] = f.details()
		return entry
	})
}

// messagesOld answers the old /messages: per msg_id the app pushed, the
// android, ios and winphone blocks of the sample of 消息统计(VIP 专属接口,旧)
// on JPush's "REST API v3 Report" page, msg_id as a string. Unknown IDs are
// left out.
func (j *JPush) messagesOld(acct *jpushAccount, q url.Values, _ []byte, call *JPushCall) (any, *jpushError) {
	return j.messageEntries(acct, q.Get("msg_ids"), jpushMaxMsgIDs, call, func(m *jpushMessage, f jpushFunnels) map[string]any {
		entry := f.old()
		entry["msg_id"] = m.id
		return entry
	})
}

// groupMessagesDetail answers the legacy blocks only, keyed group_msgid, like
// the group/messages/detail sample of JPush's "REST API v3 Report" page.
// Unknown IDs are left out.
func (j *JPush) groupMessagesDetail(acct *jpushAccount, q url.Values, _ []byte, call *JPushCall) (any, *jpushError) {
	return j.messageEntries(acct, q.Get("group_msgids"), jpushMaxGroupMsgIDs, call, func(m *jpushMessage, f jpushFunnels) map[string]any {
		entry := f.legacy()
		entry["group_msgid"] = m.id
		// The group answer documents no quick-app blocks.
		delete(entry, "quickapp_jpush")
		delete(entry, "quickapp_pns")
		return entry
	})
}

// messageEntries answers, for each listed message the account pushed, the
// entry build makes of it and its funnels.
func (j *JPush) messageEntries(acct *jpushAccount, list string, max int, call *JPushCall, build func(m *jpushMessage, f jpushFunnels) map[string]any) (any, *jpushError) {
	ids, jerr := idList(list, max)
	call.IDs = ids
	if jerr != nil {
		return nil, jerr
	}
	out := []map[string]any{}
	for _, id := range ids {
		if m := j.owned(acct, id, call.Time); m != nil {
			out = append(out, build(m, m.funnels(j.seed, call.Time, j.degraded)))
		}
	}
	return out, nil
}

func (j *JPush) users(acct *jpushAccount, q url.Values, _ []byte, call *JPushCall) (any, *jpushError) {
	return j.usersDays(acct, q, call, jpushMaxUsersDays)
}

func (j *JPush) groupUsers(acct *jpushAccount, q url.Values, _ []byte, call *JPushCall) (any, *jpushError) {
	return j.usersDays(acct, q, call, jpushMaxGroupUsersDays)
}

// usersDays answers users or group/users. Only time_unit DAY is simulated
// (case-insensitive: the group/users sample of JPush "REST API v3 Report" sends
// "day"); any other unit, or
// a start that is not YYYY-MM-DD, is answered 3004. Days after today are left
// out; today's counts cover the part of the day elapsed.
func (j *JPush) usersDays(acct *jpushAccount, q url.Values, call *JPushCall, maxDays int) (any, *jpushError) {
	unit, start := q.Get("time_unit"), q.Get("start")
	first, err := time.Parse(time.DateOnly, start)
	if !strings.EqualFold(unit, "DAY") || err != nil {
		return nil, jpushErr(jpushCodeTimeUnit)
	}
	duration, err := strconv.Atoi(q.Get("duration"))
	if err != nil || duration < 1 {
		return nil, jpushErr(jpushCodeInvalid)
	}
	if duration > maxDays {
		return nil, jpushErr(jpushCodeTooLong)
	}
	now := call.Time.In(j.loc)
	today := dayOf(now, j.loc)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, j.loc)
	dayDone := now.Sub(midnight).Hours() / 24
	from := civilDay(first.Unix() / secondsPerDay)
	items := []map[string]any{}
	for d := from; d < from+civilDay(duration) && d <= today; d++ {
		items = append(items, usersItem(j.seed, acct.name, d, today, dayDone))
	}
	return map[string]any{"time_unit": unit, "start": start, "duration": duration, "items": items}, nil
}

// statusMessage answers status/message. msg_id may be a JSON number (the
// request sample of JPush's "REST API v3 Report" page) or a string. date,
// when given, must be YYYY-MM-DD; without it the day asked about is today
// (默认为当天). The statuses are the delivery records of that day: a message
// sent on another day has none, so the answer is an empty object, and a
// message sent on an earlier day must be asked about with its date.
func (j *JPush) statusMessage(acct *jpushAccount, _ url.Values, body []byte, call *JPushCall) (any, *jpushError) {
	var req struct {
		MsgID           json.RawMessage `json:"msg_id"`
		RegistrationIDs []string        `json:"registration_ids"`
		Date            *string         `json:"date"`
	}
	if json.Unmarshal(body, &req) != nil {
		return nil, jpushErr(jpushCodeInvalid)
	}
	call.IDs = req.RegistrationIDs
	msgID, ok := jsonID(req.MsgID)
	if !ok || len(req.RegistrationIDs) == 0 || len(req.RegistrationIDs) > jpushMaxRegistrationIDs {
		return nil, jpushErr(jpushCodeInvalid)
	}
	day := dayOf(call.Time, j.loc)
	if req.Date != nil {
		d, err := time.Parse(time.DateOnly, *req.Date)
		if err != nil {
			return nil, jpushErr(jpushCodeInvalid)
		}
		day = civilDay(d.Unix() / secondsPerDay)
	}
	m := j.owned(acct, msgID, call.Time)
	out := make(map[string]map[string]int, len(req.RegistrationIDs))
	if m != nil && dayOf(m.pushed, j.loc) != day {
		return out, nil
	}
	for _, reg := range req.RegistrationIDs {
		out[reg] = map[string]int{"status": deliveryStatus(j.seed, acct.name, m, reg, call.Time)}
	}
	return out, nil
}

// jsonID reads an ID sent as a JSON string or as a JSON integer.
func jsonID(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, s != ""
	}
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		return "", false
	}
	_, err := strconv.ParseInt(n.String(), 10, 64)
	return n.String(), err == nil
}

// Push does what a push through JPush's Push API does: it creates a message
// now, whose statistics the Report API then serves, and returns its numeric
// msg_id. Push is not a Report API call: Calls does not list it.
func (j *JPush) Push(appKey string) (msgID string, err error) {
	acct, ok := j.apps[appKey]
	if !ok {
		return "", fmt.Errorf("simulator: unknown JPush app %q", appKey)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.msgSeq++
	j.lastMsgID += msgIDStep(j.seed, j.msgSeq)
	id := strconv.FormatInt(j.lastMsgID, 10)
	m := newJPushMessage(j.seed, acct.name, id, j.clock.Now())
	// Spread evenly: with a share of 0.25 the 4th, 8th, … message is legacy.
	n := float64(j.msgSeq)
	m.legacyOnly = math.Floor(n*j.legacyShare) > math.Floor((n-1)*j.legacyShare)
	j.messages[id] = m
	return id, nil
}

// GroupPush does what a group push does: it creates a group message now and
// returns its group_msgid, 20 characters like "bsp54sn8bpn8hc3etq40" in
// JPush "REST API v3 Report".
func (j *JPush) GroupPush(groupKey string) (groupMsgID string, err error) {
	acct, ok := j.groups[groupKey]
	if !ok {
		return "", fmt.Errorf("simulator: unknown JPush group %q", groupKey)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var id string
	for {
		acct.seq++
		id = drawGroupMsgID(j.seed, acct.name, acct.seq)
		if _, dup := j.messages[id]; !dup {
			break
		}
	}
	j.messages[id] = newJPushMessage(j.seed, acct.name, id, j.clock.Now())
	return id, nil
}

// Calls returns a copy of the log of API calls received, oldest first (the
// newest 10000).
func (j *JPush) Calls() []JPushCall { return j.board.log() }

// SetFault makes every following request to api (JPushReceivedDetail, ...;
// "" for every API) misbehave as f says, until cleared with a nil f. A fault
// set for an API takes precedence over the "" one. A Fault.ErrorCode is
// answered as JPush does: {"error":{"code":N,…}} with the code's HTTP status
// (2002: 429, 2003: 403, 3001: 401, 10: 500, others 400).
func (j *JPush) SetFault(api string, f *Fault) { j.board.setFault(api, f) }

// SetVIP grants or revokes the VIP-only APIs for the app or group key (both,
// should an app and a group share the key).
func (j *JPush) SetVIP(appOrGroupKey string, vip bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, acct := range []*jpushAccount{j.apps[appOrGroupKey], j.groups[appOrGroupKey]} {
		if acct != nil {
			acct.vip = vip
		}
	}
}

// DegradeChannel multiplies the received, displayed and clicked counts of a
// channel (its snake_case key in messages/detail: xiaomi, jg_android, apns,
// …, or the exporter's channel label: jpush for JPush's own channel on every
// platform, xiaomi for quickXiaomi too) by factor in every answer from now on, for every message: the alert
// scenario of a failing vendor. The received/detail sums that include the
// channel (android_pns_received, jpush_received, …) follow. A factor of 1
// restores the channel; a negative one counts as 0.
func (j *JPush) DegradeChannel(channel string, factor float64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if factor == 1 {
		delete(j.degraded, channel)
		return
	}
	j.degraded[channel] = max(factor, 0)
}
