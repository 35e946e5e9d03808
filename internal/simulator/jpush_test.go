package simulator

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
)

// Credentials from the request samples of JPush "REST API v3 Report".
const (
	jpVIPApp      = "7d431e42dfa6a6d693ac2d04"
	jpVIPSecret   = "5e987ac6d2e04d95a9d8f0d1"
	jpFreeApp     = "29ea851419f747be7b5785a0"
	jpFreeSecret  = "79f486970ec5c41bfe381bc3"
	jpGroup       = "9439ee12e91bd4c895d1b0f5"
	jpGroupSecret = "01bad4e44cecb42b36ea370a"
	jpFreeGroup   = "0000aaaa1111bbbb2222cccc"
	jpSeed        = 7
)

// jpT0 is a Wednesday afternoon in Beijing.
var jpT0 = time.Date(2025, 3, 12, 15, 4, 5, 0, shanghai)

// jpHarness is a JPush simulator on a fake clock behind a loopback server.
type jpHarness struct {
	sim *JPush
	clk *clocktest.Fake
	srv *httptest.Server
}

func newJPHarness(t *testing.T, seed int64, perMinute int) *jpHarness {
	t.Helper()
	return newJPHarnessLegacy(t, seed, perMinute, 0)
}

// newJPHarnessLegacy is newJPHarness with JPushOptions.LegacyShare.
func newJPHarnessLegacy(t *testing.T, seed int64, perMinute int, legacyShare float64) *jpHarness {
	t.Helper()
	clk := clocktest.NewFake(jpT0)
	sim := NewJPush(JPushOptions{
		Apps: []JPushApp{
			{AppKey: jpVIPApp, MasterSecret: jpVIPSecret, VIP: true, RequestsPerMinute: perMinute},
			{AppKey: jpFreeApp, MasterSecret: jpFreeSecret, RequestsPerMinute: perMinute},
		},
		Groups: []JPushGroup{
			{GroupKey: jpGroup, GroupSecret: jpGroupSecret, VIP: true, RequestsPerMinute: perMinute},
			{GroupKey: jpFreeGroup, GroupSecret: jpGroupSecret, RequestsPerMinute: perMinute},
		},
		Clock:       clk,
		Seed:        seed,
		LegacyShare: legacyShare,
	})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &jpHarness{sim: sim, clk: clk, srv: srv}
}

// jpAnswer is one raw HTTP answer.
type jpAnswer struct {
	status int
	header http.Header
	body   []byte
}

// errorCode returns the JPush error code of the answer, 0 when it has none.
func (a jpAnswer) errorCode() int {
	var e struct {
		Error struct{ Code int } `json:"error"`
	}
	if json.Unmarshal(a.body, &e) != nil {
		return 0
	}
	return e.Error.Code
}

// do sends a request to /v3/<api>?query with the credential (none when user
// is empty).
func (h *jpHarness) do(t *testing.T, method, api, query, user, pass, body string) jpAnswer {
	t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+"/v3/"+api+"?"+query, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return jpAnswer{resp.StatusCode, resp.Header, raw}
}

func (h *jpHarness) push(t *testing.T, app string) string {
	t.Helper()
	id, err := h.sim.Push(app)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (h *jpHarness) groupPush(t *testing.T, group string) string {
	t.Helper()
	id, err := h.sim.GroupPush(group)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// jpRequest is a valid request to each API, given a message and a group
// message.
func jpRequest(api, msgID, groupMsgID string) (method, query, body string) {
	switch api {
	case JPushReceived, JPushReceivedDetail, JPushMessagesDetail:
		return http.MethodGet, "msg_ids=" + msgID, ""
	case JPushGroupMessagesDetail:
		return http.MethodGet, "group_msgids=" + groupMsgID, ""
	case JPushUsers, JPushGroupUsers:
		return http.MethodGet, "time_unit=DAY&start=2025-03-10&duration=3", ""
	default:
		return http.MethodPost, "", `{"msg_id":` + msgID + `,"registration_ids":["1507bfd3a7c568d4761"]}`
	}
}

var jpAPIs = []struct {
	api   string
	group bool
	vip   bool
}{
	{JPushReceived, false, false},
	{JPushReceivedDetail, false, false},
	{JPushStatusMessage, false, false},
	{JPushMessagesDetail, false, true},
	{JPushUsers, false, true},
	{JPushGroupMessagesDetail, true, true},
	{JPushGroupUsers, true, true},
}

func TestJPushAuth(t *testing.T) {
	t.Parallel()
	h := newJPHarness(t, jpSeed, 0)
	msgID, groupMsgID := h.push(t, jpVIPApp), h.groupPush(t, jpGroup)
	for _, a := range jpAPIs {
		for _, tc := range []struct {
			name       string
			user, pass string
			wantOK     bool
		}{
			{name: "app credential", user: jpVIPApp, pass: jpVIPSecret, wantOK: !a.group},
			{name: "group credential", user: "group-" + jpGroup, pass: jpGroupSecret, wantOK: a.group},
			{name: "group key without the prefix", user: jpGroup, pass: jpGroupSecret},
			{name: "app key with the group prefix", user: "group-" + jpVIPApp, pass: jpVIPSecret},
			{name: "wrong secret", user: jpVIPApp, pass: "nope"},
			{name: "wrong group secret", user: "group-" + jpGroup, pass: "nope"},
			{name: "unknown key", user: "ffffffffffffffffffffffff", pass: jpVIPSecret},
			{name: "no credential"},
		} {
			t.Run(a.api+"/"+tc.name, func(t *testing.T) {
				method, query, body := jpRequest(a.api, msgID, groupMsgID)
				got := h.do(t, method, a.api, query, tc.user, tc.pass, body)
				if tc.wantOK {
					if got.status != http.StatusOK {
						t.Fatalf("HTTP %d %s, want 200", got.status, got.body)
					}
					if got.header.Get("X-Rate-Limit-Quota") != "2400" {
						t.Errorf("X-Rate-Limit-Quota %q, want 2400", got.header.Get("X-Rate-Limit-Quota"))
					}
					return
				}
				if got.status != http.StatusUnauthorized || got.errorCode() != 3001 {
					t.Errorf("HTTP %d %s, want 401 with 3001", got.status, got.body)
				}
				if got.header.Get("X-Rate-Limit-Remaining") != "" {
					t.Error("a refused credential got rate-limit headers")
				}
			})
		}
	}
}

func TestJPushRouting(t *testing.T) {
	t.Parallel()
	h := newJPHarness(t, jpSeed, 0)
	for _, tc := range []struct {
		method, api string
		want        int
	}{
		{http.MethodGet, "messages/summary", http.StatusNotFound},
		{http.MethodPost, JPushMessages, http.StatusMethodNotAllowed},
		{http.MethodGet, "received/details", http.StatusNotFound},
		{http.MethodPost, JPushReceivedDetail, http.StatusMethodNotAllowed},
		{http.MethodGet, JPushStatusMessage, http.StatusMethodNotAllowed},
	} {
		if got := h.do(t, tc.method, tc.api, "msg_ids=1", jpVIPApp, jpVIPSecret, ""); got.status != tc.want {
			t.Errorf("%s %s: HTTP %d, want %d", tc.method, tc.api, got.status, tc.want)
		}
	}
}

// jpIDs returns n comma-separated IDs.
func jpIDs(n int, first string) string {
	ids := []string{first}
	for i := 1; i < n; i++ {
		ids = append(ids, strconv.Itoa(1000+i))
	}
	return strings.Join(ids, ",")
}

// jpRegIDs returns a registration_ids JSON array of n IDs.
func jpRegIDs(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%q", fmt.Sprintf("reg%04d", i))
	}
	return "[" + strings.Join(ids, ",") + "]"
}

func TestJPushLimits(t *testing.T) {
	t.Parallel()
	h := newJPHarness(t, jpSeed, 100000)
	msgID, groupMsgID := h.push(t, jpVIPApp), h.groupPush(t, jpGroup)
	app, group := []string{jpVIPApp, jpVIPSecret}, []string{"group-" + jpGroup, jpGroupSecret}
	for _, tc := range []struct {
		name             string
		cred             []string
		method, api      string
		query, body      string
		wantStatus, code int
		wantIDs          int
	}{
		{"100 msg_ids", app, "GET", JPushReceivedDetail, "msg_ids=" + jpIDs(100, msgID), "", 200, 0, 100},
		{"101 msg_ids", app, "GET", JPushReceivedDetail, "msg_ids=" + jpIDs(101, msgID), "", 400, 1003, 101},
		{"101 msg_ids, legacy", app, "GET", JPushReceived, "msg_ids=" + jpIDs(101, msgID), "", 400, 1003, 101},
		{"101 msg_ids, messages/detail", app, "GET", JPushMessagesDetail, "msg_ids=" + jpIDs(101, msgID), "", 400, 1003, 101},
		{"no msg_ids", app, "GET", JPushReceivedDetail, "msg_ids=,", "", 400, 1003, 0},
		{"10 group_msgids", group, "GET", JPushGroupMessagesDetail, "group_msgids=" + jpIDs(10, groupMsgID), "", 200, 0, 10},
		{"11 group_msgids", group, "GET", JPushGroupMessagesDetail, "group_msgids=" + jpIDs(11, groupMsgID), "", 400, 1003, 11},
		{"60 days", app, "GET", JPushUsers, "time_unit=DAY&start=2025-01-01&duration=60", "", 200, 0, 0},
		{"61 days", app, "GET", JPushUsers, "time_unit=DAY&start=2025-01-01&duration=61", "", 400, 3005, 0},
		{"30 group days", group, "GET", JPushGroupUsers, "time_unit=day&start=2025-02-01&duration=30", "", 200, 0, 0},
		{"31 group days", group, "GET", JPushGroupUsers, "time_unit=day&start=2025-02-01&duration=31", "", 400, 3005, 0},
		{"hours are not simulated", app, "GET", JPushUsers, "time_unit=HOUR&start=2025-03-12%2009&duration=1", "", 400, 3004, 0},
		{"start not matching DAY", app, "GET", JPushUsers, "time_unit=DAY&start=2025-03&duration=1", "", 400, 3004, 0},
		{"duration 0", app, "GET", JPushUsers, "time_unit=DAY&start=2025-03-01&duration=0", "", 400, 1003, 0},
		{"1000 registration_ids", app, "POST", JPushStatusMessage, "", `{"msg_id":` + msgID + `,"registration_ids":` + jpRegIDs(1000) + `}`, 200, 0, 1000},
		{"1001 registration_ids", app, "POST", JPushStatusMessage, "", `{"msg_id":` + msgID + `,"registration_ids":` + jpRegIDs(1001) + `}`, 400, 1003, 1001},
		{"no registration_ids", app, "POST", JPushStatusMessage, "", `{"msg_id":` + msgID + `}`, 400, 1003, 0},
		{"no msg_id", app, "POST", JPushStatusMessage, "", `{"registration_ids":["a"]}`, 400, 1003, 1},
		{"bad date", app, "POST", JPushStatusMessage, "", `{"msg_id":"` + msgID + `","registration_ids":["a"],"date":"12/03/2025"}`, 400, 1003, 1},
		{"bad JSON", app, "POST", JPushStatusMessage, "", `{"msg_id":`, 400, 1003, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := h.do(t, tc.method, tc.api, tc.query, tc.cred[0], tc.cred[1], tc.body)
			if got.status != tc.wantStatus || got.errorCode() != tc.code {
				t.Errorf("HTTP %d code %d, want %d code %d: %.200s", got.status, got.errorCode(), tc.wantStatus, tc.code, got.body)
			}
			calls := h.sim.Calls()
			last := calls[len(calls)-1]
			if len(last.IDs) != tc.wantIDs || last.Status != tc.wantStatus {
				t.Errorf("call logged %d IDs, status %d; want %d, %d", len(last.IDs), last.Status, tc.wantIDs, tc.wantStatus)
			}
		})
	}
}

func TestJPushQuota(t *testing.T) {
	t.Parallel()
	h := newJPHarness(t, jpSeed, 3)
	get := func(user, pass string) jpAnswer {
		return h.do(t, "GET", JPushReceivedDetail, "msg_ids=1", user, pass, "")
	}
	type want struct {
		status, code     int
		remaining, reset string
	}
	check := func(step string, got jpAnswer, w want) {
		t.Helper()
		if got.status != w.status || got.errorCode() != w.code || got.header.Get("X-Rate-Limit-Quota") != "3" ||
			got.header.Get("X-Rate-Limit-Remaining") != w.remaining || got.header.Get("X-Rate-Limit-Reset") != w.reset {
			t.Errorf("%s: HTTP %d code %d, quota %q remaining %q reset %q; want %d code %d, quota 3 remaining %s reset %s", step,
				got.status, got.errorCode(), got.header.Get("X-Rate-Limit-Quota"), got.header.Get("X-Rate-Limit-Remaining"),
				got.header.Get("X-Rate-Limit-Reset"), w.status, w.code, w.remaining, w.reset)
		}
	}
	check("first", get(jpVIPApp, jpVIPSecret), want{200, 0, "2", "60"})
	h.clk.Advance(20500 * time.Millisecond)
	check("second", get(jpVIPApp, jpVIPSecret), want{200, 0, "1", "40"})
	check("third", get(jpVIPApp, jpVIPSecret), want{200, 0, "0", "40"})
	check("over the quota", get(jpVIPApp, jpVIPSecret), want{429, 2002, "0", "40"})
	check("another app has its own quota", get(jpFreeApp, jpFreeSecret), want{200, 0, "2", "60"})
	h.clk.Advance(39500 * time.Millisecond)
	check("next window", get(jpVIPApp, jpVIPSecret), want{200, 0, "2", "60"})
	check("a refused VIP call counts and has the headers",
		h.do(t, "GET", JPushUsers, "time_unit=DAY&start=2025-03-10&duration=1", jpFreeApp, jpFreeSecret, ""), want{403, 2003, "1", "21"})
}

func TestJPushVIP(t *testing.T) {
	t.Parallel()
	h := newJPHarness(t, jpSeed, 0)
	msgID, groupMsgID := h.push(t, jpFreeApp), h.groupPush(t, jpFreeGroup)
	for _, a := range jpAPIs {
		user, pass := jpFreeApp, jpFreeSecret
		if a.group {
			user, pass = "group-"+jpFreeGroup, jpGroupSecret
		}
		method, query, body := jpRequest(a.api, msgID, groupMsgID)
		got := h.do(t, method, a.api, query, user, pass, body)
		if a.vip && (got.status != http.StatusForbidden || got.errorCode() != 2003) {
			t.Errorf("%s on a free account: HTTP %d %s, want 403 with 2003", a.api, got.status, got.body)
		}
		if !a.vip && got.status != http.StatusOK {
			t.Errorf("%s on a free account: HTTP %d, want 200", a.api, got.status)
		}
	}
	h.sim.SetVIP(jpFreeApp, true)
	h.sim.SetVIP(jpFreeGroup, true)
	for _, a := range jpAPIs {
		user, pass := jpFreeApp, jpFreeSecret
		if a.group {
			user, pass = "group-"+jpFreeGroup, jpGroupSecret
		}
		method, query, body := jpRequest(a.api, msgID, groupMsgID)
		if got := h.do(t, method, a.api, query, user, pass, body); got.status != http.StatusOK {
			t.Errorf("%s after SetVIP: HTTP %d %s, want 200", a.api, got.status, got.body)
		}
	}
}

// jpDetail is a messages/detail entry as the seed documents it.
type jpDetail struct {
	MsgID   json.Number                           `json:"msg_id"`
	Details map[string]map[string]json.RawMessage `json:"details"`
}

// jpFunnel is a funnel of the details block; a nil stage was null.
type jpFunnel struct {
	Target, Sent, Received, Display, Click *int64
}

// flatten returns every funnel of a details block by "type" and
// "type/sub/channel".
func (d jpDetail) flatten(t *testing.T) map[string]jpFunnel {
	t.Helper()
	out := map[string]jpFunnel{}
	for typ, block := range d.Details {
		var total jpFunnel
		for k, raw := range block {
			if !strings.HasPrefix(k, "sub") {
				continue
			}
			var channels map[string]jpFunnel
			if err := json.Unmarshal(raw, &channels); err != nil {
				t.Fatalf("%s.%s: %v", typ, k, err)
			}
			for ch, f := range channels {
				out[typ+"/"+k+"/"+ch] = f
			}
		}
		whole, err := json.Marshal(block)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(whole, &total); err != nil {
			t.Fatal(err)
		}
		out[typ] = total
	}
	return out
}

func (h *jpHarness) messagesDetail(t *testing.T, msgID string) jpDetail {
	t.Helper()
	got := h.do(t, "GET", JPushMessagesDetail, "msg_ids="+msgID, jpVIPApp, jpVIPSecret, "")
	var entries []jpDetail
	if err := json.Unmarshal(got.body, &entries); err != nil || len(entries) != 1 {
		t.Fatalf("messages/detail: %v, %d entries in %.300s", err, len(entries), got.body)
	}
	return entries[0]
}

func stagesOf(f jpFunnel) []*int64 { return []*int64{f.Target, f.Sent, f.Received, f.Display, f.Click} }

func TestJPushFunnelGrowsAndSettles(t *testing.T) {
	t.Parallel()
	h := newJPHarness(t, jpSeed, 0)
	msgID := h.push(t, jpVIPApp)
	steps := []time.Duration{0, time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour, 5*24*time.Hour - time.Hour, 5 * 24 * time.Hour, 6 * 24 * time.Hour, 20 * 24 * time.Hour}
	var prev, atStart, settled map[string]jpFunnel
	var elapsed time.Duration
	for _, at := range steps {
		h.clk.Advance(at - elapsed)
		elapsed = at
		d := h.messagesDetail(t, msgID)
		if d.MsgID.String() != msgID {
			t.Fatalf("msg_id %s, want %s", d.MsgID, msgID)
		}
		cur := d.flatten(t)
		if _, ok := cur["notification/subAndroid/jgAndroid"]; !ok {
			t.Fatalf("at %v: no notification/subAndroid/jgAndroid in %v", at, cur)
		}
		for key, f := range cur {
			st := stagesOf(f)
			for i := 1; i < len(st); i++ {
				if st[i] != nil && st[i-1] != nil && *st[i] > *st[i-1] {
					t.Errorf("at %v: %s stage %d is %d, above the stage before (%d)", at, key, i, *st[i], *st[i-1])
				}
			}
			if p, ok := prev[key]; ok {
				for i, old := range stagesOf(p) {
					if (old == nil) != (st[i] == nil) || old != nil && *st[i] < *old {
						t.Errorf("at %v: %s stage %d fell or changed nullness: %v → %v", at, key, i, old, st[i])
					}
				}
			}
		}
		switch at {
		case 0:
			atStart = cur
		case 5 * 24 * time.Hour:
			settled = cur
		}
		if at > 5*24*time.Hour && fmt.Sprint(flatValues(cur)) != fmt.Sprint(flatValues(settled)) {
			t.Errorf("at %v the funnel still moves after 5 days", at)
		}
		prev = cur
	}
	begin, end := atStart["notification/subAndroid/xiaomi"], settled["notification/subAndroid/xiaomi"]
	if *begin.Target == 0 || *begin.Sent != 0 || *begin.Received != 0 {
		t.Errorf("xiaomi at the push %v: want a target and nothing sent yet", flatValues(map[string]jpFunnel{"x": begin}))
	}
	if *end.Target != *begin.Target || *end.Received == 0 || *end.Click == 0 || *end.Display <= *end.Click {
		t.Errorf("settled xiaomi funnel %v: want the same target and every stage reached", flatValues(map[string]jpFunnel{"x": end}))
	}
	if quick := settled["notification/subqicukapp/quickJg"]; quick.Display != nil || quick.Click != nil || quick.Received == nil {
		t.Errorf("quickJg %v: want display and click null, received reported", flatValues(map[string]jpFunnel{"q": quick}))
	}
}

// flatValues renders funnels for comparison and messages.
func flatValues(m map[string]jpFunnel) map[string][]string {
	out := map[string][]string{}
	for k, f := range m {
		for _, s := range stagesOf(f) {
			if s == nil {
				out[k] = append(out[k], "null")
			} else {
				out[k] = append(out[k], strconv.FormatInt(*s, 10))
			}
		}
	}
	return out
}

// received decodes a received(/detail) answer; a null count is nil.
func (h *jpHarness) received(t *testing.T, api, user, pass string, ids ...string) []map[string]*int64 {
	t.Helper()
	got := h.do(t, "GET", api, "msg_ids="+strings.Join(ids, ","), user, pass, "")
	var entries []map[string]json.RawMessage
	if err := json.Unmarshal(got.body, &entries); err != nil {
		t.Fatalf("%s: %v in %.300s", api, err, got.body)
	}
	out := make([]map[string]*int64, len(entries))
	for i, e := range entries {
		out[i] = map[string]*int64{}
		for k, raw := range e {
			if k == "msg_id" {
				if id, _ := strconv.Unquote(string(raw)); id != ids[i] {
					t.Errorf("entry %d has msg_id %s, want %q", i, raw, ids[i])
				}
				continue
			}
			var n *int64
			if err := json.Unmarshal(raw, &n); err != nil {
				t.Fatalf("%s.%s: %v", api, k, err)
			}
			out[i][k] = n
		}
	}
	return out
}

// sumOf adds up a stage over the funnels of keys that are present.
func sumOf(funnels map[string]jpFunnel, stage func(jpFunnel) *int64, keys ...string) int64 {
	var n int64
	for _, k := range keys {
		if f, ok := funnels[k]; ok {
			n += *stage(f)
		}
	}
	return n
}

func TestJPushReceivedMatchesDetails(t *testing.T) {
	t.Parallel()
	h := newJPHarness(t, jpSeed, 0)
	var ids []string
	for range 5 { // enough pushes for messages with and without custom messages
		ids = append(ids, h.push(t, jpVIPApp))
		h.clk.Advance(time.Minute)
	}
	h.clk.Advance(3 * time.Hour)
	unknown := "1"
	detail := h.received(t, JPushReceivedDetail, jpVIPApp, jpVIPSecret, append(ids, unknown)...)
	legacy := h.received(t, JPushReceived, jpVIPApp, jpVIPSecret, append(ids, unknown)...)
	recv := func(f jpFunnel) *int64 { return f.Received }
	sent := func(f jpFunnel) *int64 { return f.Sent }
	vendors := []string{"xiaomi", "huawei", "honor", "oppo", "vivo", "meizu", "fcm"}
	prefixed := func(prefix string, names []string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = prefix + n
		}
		return out
	}
	sawMessage := false
	for i, id := range ids {
		f := h.messagesDetail(t, id).flatten(t)
		_, hasMessage := f["message"]
		sawMessage = sawMessage || hasMessage
		jg := []string{"notification/subAndroid/jgAndroid", "message/subAndroid/jgAndroid", "inapp/subAndroid/jgAndroid"}
		want := map[string]int64{
			"jpush_received":          sumOf(f, recv, append(jg, "message/subios/jgIos", "inapp/subios/jgIos")...),
			"android_pns_sent":        sumOf(f, sent, prefixed("notification/subAndroid/", vendors)...),
			"android_pns_received":    sumOf(f, recv, prefixed("notification/subAndroid/", vendors)...),
			"ios_apns_sent":           sumOf(f, sent, "notification/subios/apns"),
			"ios_apns_received":       sumOf(f, recv, "notification/subios/apns"),
			"quickapp_jpush_received": sumOf(f, recv, "notification/subqicukapp/quickJg"),
			"quickapp_pns_sent":       sumOf(f, sent, "notification/subqicukapp/quickXiaomi"),
		}
		if hasMessage {
			want["ios_msg_received"] = sumOf(f, recv, "message/subios/jgIos")
		}
		for k, w := range want {
			if got := detail[i][k]; got == nil || *got != w {
				t.Errorf("%s %s = %v, want %d", id, k, got, w)
			}
		}
		if got := detail[i]["ios_msg_received"]; !hasMessage && got != nil {
			t.Errorf("%s ios_msg_received = %d for a message without a custom message, want null", id, *got)
		}
		if got := detail[i]["wp_mpns_sent"]; got != nil {
			t.Errorf("%s wp_mpns_sent = %d, want null", id, *got)
		}
		wantAndroid := sumOf(f, recv, jg...) + want["android_pns_received"]
		if got := legacy[i]["android_received"]; got == nil || *got != wantAndroid {
			t.Errorf("%s legacy android_received = %v, want %d", id, got, wantAndroid)
		}
		if _, ok := legacy[i]["jpush_received"]; ok {
			t.Errorf("%s: the legacy answer has jpush_received", id)
		}
	}
	if !sawMessage {
		t.Error("no message carried a custom message: pick more pushes")
	}
	for _, answer := range [][]map[string]*int64{detail, legacy} {
		for k, v := range answer[len(ids)] {
			if v != nil {
				t.Errorf("unknown msg_id: %s = %d, want null", k, *v)
			}
		}
	}
}

func TestJPushGroupMessagesDetailShape(t *testing.T) {
	t.Parallel()
	h := newJPHarness(t, jpSeed, 0)
	id := h.groupPush(t, jpGroup)
	if !regexp.MustCompile(`^[0-9a-v]{20}$`).MatchString(id) {
		t.Errorf("group_msgid %q is not like the seed's bsp54sn8bpn8hc3etq40", id)
	}
	h.clk.Advance(time.Hour)
	got := h.do(t, "GET", JPushGroupMessagesDetail, "group_msgids="+id+",unknown", "group-"+jpGroup, jpGroupSecret, "")
	var entries []map[string]json.RawMessage
	if err := json.Unmarshal(got.body, &entries); err != nil || len(entries) != 1 {
		t.Fatalf("%v, %d entries in %s; want the one known group message", err, len(entries), got.body)
	}
	e := entries[0]
	var keys []string
	for k := range e {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"android_pns", "group_msgid", "ios", "jpush", "winphone"}; !slices.Equal(keys, want) {
		t.Errorf("keys %v, want the seed sample's %v", keys, want)
	}
	var pns map[string]json.RawMessage
	if err := json.Unmarshal(e["android_pns"], &pns); err != nil {
		t.Fatal(err)
	}
	var total, detailSum int64
	for k, raw := range pns {
		if k == "pns_received" {
			if err := json.Unmarshal(raw, &total); err != nil {
				t.Fatal(err)
			}
		}
		if strings.HasSuffix(k, "_detail") {
			var d struct{ Target, Sent, Received int64 }
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatal(err)
			}
			detailSum += d.Received
		}
	}
	if total == 0 || total != detailSum {
		t.Errorf("pns_received %d, want the sum of the *_detail blocks %d, not 0", total, detailSum)
	}
	if got := h.do(t, "GET", JPushGroupMessagesDetail, "group_msgids="+id, "group-"+jpFreeGroup, jpGroupSecret, ""); got.status != 403 {
		t.Errorf("another group asking: HTTP %d, want 403 (not VIP)", got.status)
	}
}

func TestJPushDegradeChannel(t *testing.T) {
	t.Parallel()
	h := newJPHarness(t, jpSeed, 0)
	id := h.push(t, jpVIPApp)
	h.clk.Advance(24 * time.Hour)
	before := h.messagesDetail(t, id).flatten(t)
	pnsBefore := h.received(t, JPushReceivedDetail, jpVIPApp, jpVIPSecret, id)[0]["android_pns_received"]

	h.sim.DegradeChannel("xiaomi", 0.5)
	during := h.messagesDetail(t, id).flatten(t)
	xb, xd := before["notification/subAndroid/xiaomi"], during["notification/subAndroid/xiaomi"]
	if *xd.Target != *xb.Target || *xd.Sent != *xb.Sent {
		t.Errorf("target/sent changed: %v → %v", flatValues(map[string]jpFunnel{"x": xb}), flatValues(map[string]jpFunnel{"x": xd}))
	}
	for _, st := range []func(jpFunnel) *int64{
		func(f jpFunnel) *int64 { return f.Received }, func(f jpFunnel) *int64 { return f.Display }, func(f jpFunnel) *int64 { return f.Click },
	} {
		if b, d := *st(xb), *st(xd); d < b/2-1 || d > b/2+1 {
			t.Errorf("degraded stage %d, want about half of %d", d, b)
		}
	}
	if fmt.Sprint(flatValues(map[string]jpFunnel{"h": before["notification/subAndroid/huawei"]})) !=
		fmt.Sprint(flatValues(map[string]jpFunnel{"h": during["notification/subAndroid/huawei"]})) {
		t.Error("degrading xiaomi changed huawei")
	}
	if pns := h.received(t, JPushReceivedDetail, jpVIPApp, jpVIPSecret, id)[0]["android_pns_received"]; *pns >= *pnsBefore {
		t.Errorf("android_pns_received %d, want below %d while xiaomi is degraded", *pns, *pnsBefore)
	}

	h.sim.DegradeChannel("xiaomi", 1)
	if after := h.messagesDetail(t, id).flatten(t); fmt.Sprint(flatValues(after)) != fmt.Sprint(flatValues(before)) {
		t.Error("factor 1 did not restore the funnel")
	}

	// The exporter's label jpush names JPush's own channel on every platform.
	h.sim.DegradeChannel("jpush", 0)
	during = h.messagesDetail(t, id).flatten(t)
	for key, f := range during {
		own := strings.HasSuffix(key, "/jgAndroid") || strings.HasSuffix(key, "/jgIos") || strings.HasSuffix(key, "/quickJg")
		if own && f.Received != nil && *f.Received != 0 {
			t.Errorf("%s received %d with jpush degraded to 0", key, *f.Received)
		}
		if !own && strings.Count(key, "/") == 2 && fmt.Sprint(flatValues(map[string]jpFunnel{"x": f})) != fmt.Sprint(flatValues(map[string]jpFunnel{"x": before[key]})) {
			t.Errorf("degrading jpush changed %s", key)
		}
	}
	h.sim.DegradeChannel("jpush", 1)
}

func TestJPushDeterministic(t *testing.T) {
	t.Parallel()
	run := func(seed int64) string {
		h := newJPHarness(t, seed, 0)
		id, gid := h.push(t, jpVIPApp), h.groupPush(t, jpGroup)
		h.clk.Advance(90 * time.Minute)
		var b strings.Builder
		for _, a := range jpAPIs {
			user, pass := jpVIPApp, jpVIPSecret
			if a.group {
				user, pass = "group-"+jpGroup, jpGroupSecret
			}
			method, query, body := jpRequest(a.api, id, gid)
			b.Write(h.do(t, method, a.api, query, user, pass, body).body)
		}
		return b.String()
	}
	a, b, other := run(jpSeed), run(jpSeed), run(jpSeed+1)
	if a != b {
		t.Error("two simulators with the same seed answer differently")
	}
	if a == other {
		t.Error("two seeds give the same answers")
	}
}

// jpUsers is a users answer.
type jpUsers struct {
	TimeUnit string `json:"time_unit"`
	Start    string
	Duration int
	Items    []map[string]json.RawMessage
}

func TestJPushUsers(t *testing.T) {
	t.Parallel()
	h := newJPHarness(t, jpSeed, 0) // 2025-03-12 15:04 in Beijing
	get := func(user, pass, api, query string) jpUsers {
		t.Helper()
		got := h.do(t, "GET", api, query, user, pass, "")
		var u jpUsers
		if err := json.Unmarshal(got.body, &u); err != nil || got.status != 200 {
			t.Fatalf("HTTP %d %v in %.300s", got.status, err, got.body)
		}
		return u
	}
	active := func(t *testing.T, item map[string]json.RawMessage, platform string) int64 {
		t.Helper()
		var c struct{ New, Online, Active *int64 }
		if err := json.Unmarshal(item[platform], &c); err != nil || c.New == nil || c.Online == nil || c.Active == nil {
			t.Fatalf("%s: %v in %s", platform, err, item[platform])
		}
		if *c.New > *c.Active || *c.Online < *c.Active {
			t.Errorf("%s new %d online %d active %d: want new ≤ active ≤ online", platform, *c.New, *c.Online, *c.Active)
		}
		return *c.Active
	}

	u := get(jpVIPApp, jpVIPSecret, JPushUsers, "time_unit=DAY&start=2025-03-09&duration=7")
	if u.TimeUnit != "DAY" || u.Start != "2025-03-09" || u.Duration != 7 {
		t.Errorf("echo %q %q %d, want DAY 2025-03-09 7", u.TimeUnit, u.Start, u.Duration)
	}
	var days []string
	for _, it := range u.Items {
		var d string
		if err := json.Unmarshal(it["time"], &d); err != nil {
			t.Fatal(err)
		}
		days = append(days, d)
	}
	if want := []string{"2025-03-09", "2025-03-10", "2025-03-11", "2025-03-12"}; !slices.Equal(days, want) {
		t.Errorf("days %v, want %v (nothing after today)", days, want)
	}
	yesterday, partial := active(t, u.Items[2], "android"), active(t, u.Items[3], "android")
	active(t, u.Items[2], "ios")

	h.clk.Advance(24 * time.Hour)
	again := get(jpVIPApp, jpVIPSecret, JPushUsers, "time_unit=DAY&start=2025-03-11&duration=2")
	if got := active(t, again.Items[0], "android"); got != yesterday {
		t.Errorf("2025-03-11 active %d a day later, want the same %d", got, yesterday)
	}
	elapsed := (15*time.Hour + 4*time.Minute + 5*time.Second).Hours() / 24
	if full := active(t, again.Items[1], "android"); math.Abs(float64(partial)-float64(full)*elapsed) > 1 {
		t.Errorf("2025-03-12 active %d at 15:04:05, want %.4f of the complete day's %d", partial, elapsed, full)
	}

	old := get(jpVIPApp, jpVIPSecret, JPushUsers, "time_unit=DAY&start=2024-12-01&duration=60")
	if len(old.Items) != 60 {
		t.Fatalf("%d items, want 60", len(old.Items))
	}
	if len(old.Items[0]) != 1 {
		t.Errorf("2024-12-01, beyond the data kept: %v, want the time alone", old.Items[0])
	}
	active(t, old.Items[59], "android")

	group := get("group-"+jpGroup, jpGroupSecret, JPushGroupUsers, "time_unit=day&start=2025-03-11&duration=2")
	if group.TimeUnit != "day" || len(group.Items) != 2 || active(t, group.Items[0], "android") == yesterday {
		t.Errorf("group users %+v: want its own figures for 2 days", group)
	}
}

func TestJPushStatusMessage(t *testing.T) {
	t.Parallel()
	h := newJPHarness(t, jpSeed, 0)
	id := h.push(t, jpVIPApp)
	regs := make([]string, 400)
	for i := range regs {
		regs[i] = fmt.Sprintf("1a0018970a%09d", i)
	}
	body, err := json.Marshal(map[string]any{"msg_id": json.Number(id), "registration_ids": regs})
	if err != nil {
		t.Fatal(err)
	}
	statuses := func(body string) map[string]int {
		t.Helper()
		got := h.do(t, "POST", JPushStatusMessage, "", jpVIPApp, jpVIPSecret, body)
		var m map[string]struct{ Status int }
		if err := json.Unmarshal(got.body, &m); err != nil || len(m) != len(regs) {
			t.Fatalf("HTTP %d, %v, %d entries; want %d", got.status, err, len(m), len(regs))
		}
		out := map[string]int{}
		for k, v := range m {
			out[k] = v.Status
		}
		return out
	}
	count := func(m map[string]int) map[int]int {
		c := map[int]int{}
		for _, s := range m {
			c[s]++
		}
		return c
	}
	atPush := statuses(string(body))
	if c := count(atPush); c[0] != 0 || c[1] == 0 || c[2] == 0 || c[3] == 0 {
		t.Errorf("at the push: %v, want none delivered, some of 1, 2, 3", c)
	}
	h.clk.Advance(12 * time.Hour) // the next day in Shanghai
	pushDay := jpT0.Format(time.DateOnly)
	withDate := func(body, date string) string {
		return strings.Replace(body, `"registration_ids"`, `"date":"`+date+`","registration_ids"`, 1)
	}
	later := statuses(withDate(string(body), pushDay))
	if c := count(later); c[0] < len(regs)/2 || c[4] == 0 {
		t.Errorf("12 h later: %v, want most delivered and a few system errors", c)
	}
	for reg, s := range atPush {
		if s != 1 && later[reg] != s {
			t.Errorf("%s went from %d to %d; only 1 may change", reg, s, later[reg])
		}
	}
	// The same question with msg_id as a string gets the same answer.
	asString := strings.Replace(withDate(string(body), pushDay), `"msg_id":`+id, `"msg_id":"`+id+`"`, 1)
	if got := statuses(asString); fmt.Sprint(got) != fmt.Sprint(later) {
		t.Error("msg_id as a string answers differently")
	}
	// Asked about today (no date) or another day, the message sent
	// yesterday has no delivery records: the answer is empty.
	for _, b := range []string{string(body), withDate(string(body), jpT0.AddDate(0, 0, 1).Format(time.DateOnly))} {
		got := h.do(t, "POST", JPushStatusMessage, "", jpVIPApp, jpVIPSecret, b)
		if got.status != 200 || strings.TrimSpace(string(got.body)) != "{}" {
			t.Errorf("%s: HTTP %d %s, want 200 {}", b[:60], got.status, got.body)
		}
	}
	unknown := statuses(strings.Replace(string(body), id, "1", 1))
	if c := count(unknown); c[2]+c[3] != len(regs) || c[3] == 0 {
		t.Errorf("unknown message: %v, want only 2 and 3", c)
	}
}

func TestJPushRetention(t *testing.T) {
	t.Parallel()
	h := newJPHarness(t, jpSeed, 0)
	id := h.push(t, jpVIPApp)
	h.clk.Advance(30 * 24 * time.Hour)
	if got := h.received(t, JPushReceivedDetail, jpVIPApp, jpVIPSecret, id)[0]["jpush_received"]; got == nil {
		t.Fatal("a 30-day-old message lost its statistics")
	}
	h.clk.Advance(time.Second)
	if got := h.received(t, JPushReceivedDetail, jpVIPApp, jpVIPSecret, id)[0]["jpush_received"]; got != nil {
		t.Errorf("jpush_received %d after a month, want null", *got)
	}
}

func TestJPushPushAndCalls(t *testing.T) {
	t.Parallel()
	h := newJPHarness(t, jpSeed, 0)
	if _, err := h.sim.Push("unknown"); err == nil {
		t.Error("Push to an unknown app succeeded")
	}
	if _, err := h.sim.GroupPush(jpVIPApp); err == nil {
		t.Error("GroupPush with an app key succeeded")
	}
	a, b := h.push(t, jpVIPApp), h.push(t, jpFreeApp)
	na, errA := strconv.ParseInt(a, 10, 64)
	nb, errB := strconv.ParseInt(b, 10, 64)
	if errA != nil || errB != nil || nb <= na || len(a) != 10 {
		t.Errorf("msg_ids %q, %q: want ten-digit growing numbers", a, b)
	}
	// Another app's message is unknown to this one.
	if got := h.received(t, JPushReceivedDetail, jpVIPApp, jpVIPSecret, b)[0]["jpush_received"]; got != nil {
		t.Error("an app sees another app's message")
	}
	h.do(t, "GET", JPushReceivedDetail, "msg_ids="+a+","+b, jpVIPApp, "wrong-secret", "")
	calls := h.sim.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2 (Push is not a call)", len(calls))
	}
	for _, c := range calls {
		if strings.Contains(fmt.Sprint(c), jpVIPSecret) || c.Username != jpVIPApp || c.API != JPushReceivedDetail || !c.Time.Equal(jpT0) {
			t.Errorf("call %+v: want the username and no secret", c)
		}
	}
	if got := calls[1]; got.Status != 401 || got.IDs != nil {
		t.Errorf("refused call logged %+v, want status 401 and no IDs", got)
	}
}

// TestJPushOldMessages checks the old /messages: the sample's blocks for a
// message the app pushed, 2003 for an account without any VIP API.
func TestJPushOldMessages(t *testing.T) {
	t.Parallel()
	h := newJPHarness(t, jpSeed, 0)
	id := h.push(t, jpVIPApp)
	h.clk.Advance(time.Hour)
	got := h.do(t, http.MethodGet, JPushMessages, "msg_ids="+id, jpVIPApp, jpVIPSecret, "")
	if got.status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", got.status, got.body)
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(got.body, &raw); err != nil || len(raw) != 1 {
		t.Fatalf("answer %s: %v", got.body, err)
	}
	for _, block := range []string{"android", "ios", "winphone"} {
		var m map[string]any
		if err := json.Unmarshal(raw[0][block], &m); err != nil || len(m) == 0 {
			t.Errorf("block %s missing in %s", block, got.body)
		}
	}
	if string(raw[0]["msg_id"]) != `"`+id+`"` {
		t.Errorf("msg_id %s, want %q", raw[0]["msg_id"], id)
	}
	if free := h.do(t, http.MethodGet, JPushMessages, "msg_ids=1", jpFreeApp, jpFreeSecret, ""); free.status != http.StatusForbidden {
		t.Errorf("an account without VIP: HTTP %d, want 403", free.status)
	}
}
