package simulator

import (
	"compress/zlib"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

const (
	testKey      = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e" // the TLSSigAPIv2 test vector
	testApp      = 1400000000
	otherApp     = 1400000002
	disabledApp  = 1400000001
	unknownApp   = 1400009999
	testSeed     = 42
	getAppInfoOK = `{}`
	imPushOK     = `{"From_Account":"admin","MsgRandom":56512,"MsgLifeTime":120,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]}`
)

// testStart is a Wednesday afternoon in Beijing.
var testStart = time.Date(2025, 3, 12, 15, 4, 5, 0, shanghai)

// harness is a simulator on a fake clock behind a loopback server.
type harness struct {
	sim *Tencent
	clk *clocktest.Fake
	srv *httptest.Server
}

func newHarness(t *testing.T, seed int64, start time.Time, loc *time.Location) *harness {
	t.Helper()
	clk := clocktest.NewFake(start)
	sim := NewTencent(TencentOptions{
		Apps: []TencentApp{
			{SDKAppID: testApp, Identifier: "admin", SecretKey: testKey},
			{SDKAppID: otherApp, Identifier: "admin", SecretKey: testKey},
			{SDKAppID: disabledApp, Identifier: "admin", SecretKey: testKey, PushDisabled: true},
		},
		Clock:    clk,
		Seed:     seed,
		Location: loc,
	})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &harness{sim: sim, clk: clk, srv: srv}
}

func newTestHarness(t *testing.T) *harness { return newHarness(t, testSeed, testStart, nil) }

func genSig(t *testing.T, app uint64, identifier, key string, at time.Time, expire time.Duration) string {
	t.Helper()
	sig, err := tencentim.GenUserSig(app, key, identifier, expire, at, zlib.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// query returns a valid query string for app, signed now.
func (h *harness) query(t *testing.T, app uint64) url.Values {
	t.Helper()
	return url.Values{
		"sdkappid":    {strconv.FormatUint(app, 10)},
		"identifier":  {"admin"},
		"usersig":     {genSig(t, app, "admin", testKey, h.clk.Now(), 24*time.Hour)},
		"random":      {"99999999"},
		"contenttype": {"json"},
	}
}

// post sends body to api and returns the HTTP status and the raw answer.
func (h *harness) post(t *testing.T, api string, q url.Values, body string) (int, []byte) {
	t.Helper()
	resp, err := h.srv.Client().Post(h.srv.URL+"/v4/"+api+"?"+q.Encode(), "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}

// call posts body to api for app, checks the vendor's HTTP 200, decodes the
// answer into out (when not nil) and returns its ErrorCode.
func (h *harness) call(t *testing.T, api string, app uint64, body string, out any) int {
	t.Helper()
	return h.callQuery(t, api, h.query(t, app), body, out)
}

func (h *harness) callQuery(t *testing.T, api string, q url.Values, body string, out any) int {
	t.Helper()
	status, raw := h.post(t, api, q, body)
	if status != http.StatusOK {
		t.Fatalf("%s: HTTP %d, want 200: %s", api, status, raw)
	}
	var verdict struct{ ErrorCode int }
	if err := json.Unmarshal(raw, &verdict); err != nil {
		t.Fatalf("%s: %v in %s", api, err, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %v in %s", api, err, raw)
		}
	}
	return verdict.ErrorCode
}

// The answers as a client decodes them.
type (
	appInfoAnswer struct {
		ErrorCode int
		ErrorInfo string
		Result    []map[string]any
	}
	statsAnswer struct {
		ActionStatus string
		ErrorCode    int
		ErrorInfo    string
		Results      []wireStats
	}
	wireStats struct {
		TaskID                                            string
		TotalCount, SentCount, DeliveredCount, ClickCount int64
		PlatformStatistics                                []wirePlatform
	}
	wirePlatform struct {
		EventType, PushPlatform                           int
		TotalCount, SentCount, DeliveredCount, ClickCount int64
	}
	pushAnswer struct {
		ActionStatus string
		ErrorCode    int
		ErrorInfo    string
		TaskId       string
	}
)

// statsBody is an all_member_push_statistics request.
func statsBody(start, end time.Time, ids ...string) string {
	b, _ := json.Marshal(map[string]any{"StartTime": start.Unix(), "EndTime": end.Unix(), "TaskID": ids}) // cannot fail
	return string(b)
}

// okBody returns a valid body for api at the harness's time.
func (h *harness) okBody(api string) string {
	switch api {
	case TencentGetAppInfo:
		return getAppInfoOK
	case TencentPushStatistics:
		return statsBody(h.clk.Now().Add(-24*time.Hour), h.clk.Now())
	case TencentNormalPushStatistics, TencentNormalPushLoss:
		return normalBody(h.clk.Now().Add(-24*time.Hour), h.clk.Now())
	case TencentPushLoss:
		return statsBody(h.clk.Now().Add(-24*time.Hour), h.clk.Now())
	default:
		return imPushOK
	}
}

var tencentAPIs = []struct {
	name      string
	adminCode int
}{
	{TencentGetAppInfo, 60010},
	{TencentPushStatistics, 90009},
	{TencentIMPush, 90009},
	{TencentNormalPushStatistics, 90009},
	{TencentPushLoss, 90009},
	{TencentNormalPushLoss, 90009},
}

func TestTencentSignature(t *testing.T) {
	t.Parallel()
	now := testStart
	for _, api := range tencentAPIs {
		for _, tc := range []struct {
			name string
			edit func(q url.Values)
			want int
		}{
			{"valid", func(url.Values) {}, 0},
			{"expired", func(q url.Values) {
				q.Set("usersig", genSig(t, testApp, "admin", testKey, now.Add(-2*time.Hour), time.Hour))
			}, 70001},
			{"malformed", func(q url.Values) { q.Set("usersig", "not-a-usersig") }, 70003},
			{"signed with another key", func(q url.Values) {
				q.Set("usersig", genSig(t, testApp, "admin", "another key", now, time.Hour))
			}, 70003},
			{"signed for another identifier", func(q url.Values) {
				q.Set("usersig", genSig(t, testApp, "bob", testKey, now, time.Hour))
			}, 70013},
			{"signed for another app", func(q url.Values) {
				q.Set("usersig", genSig(t, otherApp, "admin", testKey, now, time.Hour))
			}, 70013},
			{"not the admin", func(q url.Values) {
				q.Set("identifier", "ops")
				q.Set("usersig", genSig(t, testApp, "ops", testKey, now, time.Hour))
			}, api.adminCode},
			{"unknown sdkappid (wrong region)", func(q url.Values) {
				q.Set("sdkappid", strconv.Itoa(unknownApp))
				q.Set("usersig", genSig(t, unknownApp, "admin", testKey, now, time.Hour))
			}, 70020},
			{"no usersig", func(q url.Values) { q.Del("usersig") }, 70002},
			{"no sdkappid", func(q url.Values) { q.Del("sdkappid") }, 60012},
			{"random beyond 32 bits", func(q url.Values) { q.Set("random", "4294967296") }, 60002},
			{"no random", func(q url.Values) { q.Del("random") }, 60002},
			{"contenttype not json", func(q url.Values) { q.Set("contenttype", "xml") }, 60002},
		} {
			t.Run(api.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				h := newTestHarness(t)
				q := h.query(t, testApp)
				tc.edit(q)
				status, raw := h.post(t, api.name, q, h.okBody(api.name))
				var got struct {
					ActionStatus string
					ErrorCode    int
				}
				if err := json.Unmarshal(raw, &got); status != http.StatusOK || err != nil {
					t.Fatalf("HTTP %d, %v: %s", status, err, raw)
				}
				if got.ErrorCode != tc.want {
					t.Fatalf("ErrorCode = %d, want %d: %s", got.ErrorCode, tc.want, raw)
				}
				if tc.want != 0 && got.ActionStatus != "FAIL" {
					t.Errorf("ActionStatus = %q, want FAIL", got.ActionStatus)
				}
				if sig := q.Get("usersig"); sig != "" && strings.Contains(string(raw), sig) {
					t.Errorf("the answer echoes the usersig: %s", raw)
				}
				calls := h.sim.Calls()
				if len(calls) != 1 || calls[0].API != api.name || calls[0].ErrorCode != tc.want {
					t.Errorf("Calls() = %+v, want one %s call with ErrorCode %d", calls, api.name, tc.want)
				}
			})
		}
	}
}

func TestTencentRouting(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/v4/" + TencentGetAppInfo, http.StatusMethodNotAllowed},
		{http.MethodPut, "/v4/" + TencentIMPush, http.StatusMethodNotAllowed},
		{http.MethodPost, "/v4/openconfigsvr/getappinfo/", http.StatusNotFound},
		{http.MethodPost, "/v4/openim/sendmsg", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusNotFound},
	} {
		req, err := http.NewRequest(tc.method, h.srv.URL+tc.path+"?"+h.query(t, testApp).Encode(), strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: HTTP %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
		if tc.want == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != http.MethodPost {
			t.Errorf("%s %s: Allow = %q, want POST", tc.method, tc.path, resp.Header.Get("Allow"))
		}
	}
	if calls := h.sim.Calls(); len(calls) != 0 {
		t.Errorf("Calls() = %+v, want none: no API was called", calls)
	}
}

// appInfoFields are the fields of the vendor's list (Pulling Operations Data).
var appInfoFields = []string{
	"AppName", "AppId", "Company", "ActiveUserNum", "RegistUserNumOneDay", "RegistUserNumTotal",
	"LoginTimes", "LoginUserNum", "UpMsgNum", "SendMsgUserNum", "APNSMsgNum", "C2CUpMsgNum",
	"C2CDownMsgNum", "C2CSendMsgUserNum", "C2CAPNSMsgNum", "MaxOnlineNum", "DownMsgNum",
	"ChainIncrease", "ChainDecrease", "GroupUpMsgNum", "GroupDownMsgNum", "GroupSendMsgUserNum",
	"GroupAPNSMsgNum", "GroupSendMsgGroupNum", "GroupJoinGroupTimes", "GroupQuitGroupTimes",
	"GroupNewGroupNum", "GroupAllGroupNum", "GroupDestroyGroupNum", "CallBackReq", "CallBackRsp", "Date",
}

// numbers converts a row's values to integers, failing on any value that is
// not a string holding a non-negative integer.
func numbers(t *testing.T, row map[string]any) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for k, v := range row {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("%s = %#v, want a string", k, v)
		}
		if k == "AppName" || k == "Company" {
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			t.Fatalf("%s = %q, want a non-negative integer", k, s)
		}
		out[k] = n
	}
	return out
}

func TestTencentGetAppInfoShape(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	status, raw := h.post(t, TencentGetAppInfo, h.query(t, testApp), getAppInfoOK)
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); status != http.StatusOK || err != nil {
		t.Fatalf("HTTP %d, %v: %s", status, err, raw)
	}
	if keys := slices.Sorted(maps.Keys(top)); !slices.Equal(keys, []string{"ErrorCode", "ErrorInfo", "Result"}) {
		t.Errorf("top-level keys = %v, want the vendor's ErrorCode, ErrorInfo, Result (no ActionStatus)", keys)
	}
	var ans appInfoAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		t.Fatal(err)
	}
	if ans.ErrorCode != 0 || ans.ErrorInfo != "OK" {
		t.Errorf("ErrorCode, ErrorInfo = %d, %q; want 0, OK", ans.ErrorCode, ans.ErrorInfo)
	}
	if len(ans.Result) != 30 {
		t.Fatalf("%d rows, want 30", len(ans.Result))
	}
	wantKeys := slices.Sorted(slices.Values(appInfoFields))
	rows := make([]map[string]int64, len(ans.Result))
	for i, row := range ans.Result {
		if keys := slices.Sorted(maps.Keys(row)); !slices.Equal(keys, wantKeys) {
			t.Fatalf("row %d keys = %v, want %v", i, keys, wantKeys)
		}
		// Newest first, from yesterday (testStart is 2025-03-12 in Beijing).
		if want := testStart.AddDate(0, 0, -1-i).Format("20060102"); row["Date"] != want {
			t.Errorf("row %d Date = %v, want %s", i, row["Date"], want)
		}
		if row["AppId"] != "1400000000" {
			t.Errorf("row %d AppId = %v, want 1400000000", i, row["AppId"])
		}
		rows[i] = numbers(t, row)
	}
	for i, r := range rows {
		for _, rule := range []struct {
			name        string
			total, want int64
		}{
			{"DownMsgNum = C2CDownMsgNum + GroupDownMsgNum", r["DownMsgNum"], r["C2CDownMsgNum"] + r["GroupDownMsgNum"]},
			{"UpMsgNum = C2CUpMsgNum + GroupUpMsgNum", r["UpMsgNum"], r["C2CUpMsgNum"] + r["GroupUpMsgNum"]},
			{"APNSMsgNum = C2CAPNSMsgNum + GroupAPNSMsgNum", r["APNSMsgNum"], r["C2CAPNSMsgNum"] + r["GroupAPNSMsgNum"]},
			{"SendMsgUserNum = C2CSendMsgUserNum + GroupSendMsgUserNum", r["SendMsgUserNum"], r["C2CSendMsgUserNum"] + r["GroupSendMsgUserNum"]},
		} {
			if rule.total != rule.want {
				t.Errorf("row %d: %s: %d != %d", i, rule.name, rule.total, rule.want)
			}
		}
		if r["CallBackRsp"] > r["CallBackReq"] {
			t.Errorf("row %d: CallBackRsp %d > CallBackReq %d", i, r["CallBackRsp"], r["CallBackReq"])
		}
		if r["ActiveUserNum"] == 0 || r["MaxOnlineNum"] > r["ActiveUserNum"] || r["ActiveUserNum"] > r["RegistUserNumTotal"] {
			t.Errorf("row %d: MaxOnlineNum %d, ActiveUserNum %d, RegistUserNumTotal %d not in rising order",
				i, r["MaxOnlineNum"], r["ActiveUserNum"], r["RegistUserNumTotal"])
		}
		if i+1 < len(rows) {
			if grow := r["RegistUserNumTotal"] - rows[i+1]["RegistUserNumTotal"]; grow != r["RegistUserNumOneDay"] {
				t.Errorf("row %d: RegistUserNumTotal grew by %d, RegistUserNumOneDay = %d", i, grow, r["RegistUserNumOneDay"])
			}
			if grow, net := r["GroupAllGroupNum"]-rows[i+1]["GroupAllGroupNum"], r["GroupNewGroupNum"]-r["GroupDestroyGroupNum"]; grow != net {
				t.Errorf("row %d: GroupAllGroupNum grew by %d, GroupNewGroupNum - GroupDestroyGroupNum = %d", i, grow, net)
			}
		}
	}
}

func TestTencentGetAppInfoSeasonality(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	var weekend, midweek []float64
	for _, row := range h.sim.AppInfo(testApp) {
		day, err := time.Parse("20060102", row["Date"])
		if err != nil {
			t.Fatal(err)
		}
		active, err := strconv.ParseFloat(row["ActiveUserNum"], 64)
		if err != nil {
			t.Fatal(err)
		}
		switch day.Weekday() {
		case time.Saturday, time.Sunday:
			weekend = append(weekend, active)
		case time.Monday, time.Tuesday, time.Wednesday, time.Thursday:
			midweek = append(midweek, active)
		}
	}
	mean := func(v []float64) float64 {
		var s float64
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	if we, mw := mean(weekend), mean(midweek); we < 1.08*mw {
		t.Errorf("mean ActiveUserNum at weekends %.0f, midweek %.0f: want weekends 8%% busier", we, mw)
	}
}

func TestTencentGetAppInfoDeterministic(t *testing.T) {
	t.Parallel()
	a, b, c := newTestHarness(t), newTestHarness(t), newHarness(t, testSeed+1, testStart, nil)
	if !slices.EqualFunc(a.sim.AppInfo(testApp), b.sim.AppInfo(testApp), maps.Equal) {
		t.Error("two simulators with the same seed report different data")
	}
	if slices.EqualFunc(a.sim.AppInfo(testApp), c.sim.AppInfo(testApp), maps.Equal) {
		t.Error("two simulators with different seeds report the same data")
	}
	if slices.EqualFunc(a.sim.AppInfo(testApp), a.sim.AppInfo(otherApp), func(x, y map[string]string) bool {
		return x["ActiveUserNum"] == y["ActiveUserNum"]
	}) {
		t.Error("two apps report the same data")
	}
	if a.sim.AppInfo(unknownApp) != nil {
		t.Error("AppInfo of an unknown app is not nil")
	}
	var ans struct{ Result []map[string]string }
	a.call(t, TencentGetAppInfo, testApp, getAppInfoOK, &ans)
	if !slices.EqualFunc(ans.Result, a.sim.AppInfo(testApp), maps.Equal) {
		t.Error("getappinfo answers other rows than AppInfo")
	}
}

func TestTencentGetAppInfoRequestField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		fields []string
		want   []string
	}{
		{"vendor sample", []string{"ChainIncrease", "ChainDecrease"}, []string{"ChainDecrease", "ChainIncrease", "Date"}},
		{"app name", []string{"AppName"}, []string{"AppName", "Date"}},
		{"unknown field", []string{"NoSuchField"}, []string{"Date"}},
		{"empty list", []string{}, slices.Sorted(slices.Values(appInfoFields))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHarness(t)
			body, _ := json.Marshal(map[string][]string{"RequestField": tc.fields})
			var ans struct{ Result []map[string]string }
			if code := h.call(t, TencentGetAppInfo, testApp, string(body), &ans); code != 0 {
				t.Fatalf("ErrorCode = %d", code)
			}
			full := h.sim.AppInfo(testApp)
			if len(ans.Result) != len(full) {
				t.Fatalf("%d rows, want %d", len(ans.Result), len(full))
			}
			for i, row := range ans.Result {
				if keys := slices.Sorted(maps.Keys(row)); !slices.Equal(keys, tc.want) {
					t.Fatalf("row %d keys = %v, want %v", i, keys, tc.want)
				}
				for k, v := range row {
					if full[i][k] != v {
						t.Errorf("row %d %s = %q, the full row says %q", i, k, v, full[i][k])
					}
				}
			}
		})
	}
}

func TestTencentGetAppInfoDays(t *testing.T) {
	t.Parallel()
	// 20:00 UTC is 04:00 the next day in Beijing.
	evening := time.Date(2025, 3, 12, 20, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		loc        *time.Location
		start      time.Time
		advance    time.Duration
		wantBefore string
		wantAfter  string
	}{
		{"Beijing midnight", nil, time.Date(2025, 3, 12, 23, 59, 59, 0, shanghai), 2 * time.Second, "20250311", "20250312"},
		{"Beijing afternoon", nil, testStart, time.Hour, "20250311", "20250311"},
		{"UTC evening in Beijing", nil, evening, 0, "20250312", "20250312"},
		{"UTC evening in UTC", time.UTC, evening, 4*time.Hour + time.Second, "20250311", "20250312"},
		{"month end", nil, time.Date(2025, 2, 28, 23, 0, 0, 0, shanghai), time.Hour, "20250227", "20250228"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, testSeed, tc.start, tc.loc)
			before := h.sim.AppInfo(testApp)
			h.clk.Advance(tc.advance)
			after := h.sim.AppInfo(testApp)
			if before[0]["Date"] != tc.wantBefore || after[0]["Date"] != tc.wantAfter {
				t.Fatalf("newest Date %s then %s, want %s then %s", before[0]["Date"], after[0]["Date"], tc.wantBefore, tc.wantAfter)
			}
			shift := 0
			if tc.wantBefore != tc.wantAfter {
				shift = 1
			}
			// A day's figures do not change; the rows move down by a row a day.
			if !slices.EqualFunc(after[shift:], before[:len(before)-shift], maps.Equal) {
				t.Error("the rows changed beyond the rollover")
			}
		})
	}
}

func TestTencentGetAppInfoBadJSON(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	oversized := `{"RequestField":["` + strings.Repeat("x", maxRequestBody) + `"]}` // valid, but beyond the simulator's limit
	for _, body := range []string{"", "{", "[]", `{"RequestField":"ChainIncrease"}`, `{"RequestField":[1]}`, oversized} {
		if code := h.call(t, TencentGetAppInfo, testApp, body, nil); code != 130001 {
			t.Errorf("body %.40q: ErrorCode = %d, want 130001", body, code)
		}
	}
}

func TestTencentGetAppInfoRateLimit(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	q := h.query(t, testApp)
	for i := range 200 {
		if code := h.callQuery(t, TencentGetAppInfo, q, getAppInfoOK, nil); code != 0 {
			t.Fatalf("call %d in the same second: ErrorCode = %d, want 0", i+1, code)
		}
	}
	if code := h.callQuery(t, TencentGetAppInfo, q, getAppInfoOK, nil); code != 60007 {
		t.Fatalf("call 201 in the same second: ErrorCode = %d, want 60007", code)
	}
	calls := h.sim.Calls()
	if len(calls) != 201 {
		t.Fatalf("Calls() has %d calls, want 201", len(calls))
	}
	if calls[199].ErrorCode != 0 || calls[200].ErrorCode != 60007 {
		t.Errorf("the last two calls logged with ErrorCode %d, %d; want 0, 60007", calls[199].ErrorCode, calls[200].ErrorCode)
	}
	h.clk.Advance(time.Second)
	if code := h.callQuery(t, TencentGetAppInfo, q, getAppInfoOK, nil); code != 0 {
		t.Errorf("a second later: ErrorCode = %d, want 0", code)
	}
	if code := h.call(t, TencentGetAppInfo, otherApp, getAppInfoOK, nil); code != 0 {
		t.Errorf("another app: ErrorCode = %d, want 0: the limit is per sdkappid", code)
	}
}

func TestTencentPushStatisticsLimits(t *testing.T) {
	t.Parallel()
	now := testStart
	day := 24 * time.Hour
	for _, tc := range []struct {
		name string
		body string
		want int
	}{
		{"five TaskIDs", statsBody(now.Add(-day), now, "a", "b", "c", "d", "e"), 0},
		{"six TaskIDs", statsBody(now.Add(-day), now, "a", "b", "c", "d", "e", "f"), 90100},
		{"30 days", statsBody(now.Add(-30*day), now), 0},
		{"31 days", statsBody(now.Add(-31*day), now), 90100},
		{"30 days and a second", statsBody(now.Add(-30*day-time.Second), now), 90100},
		{"end before start", statsBody(now, now.Add(-time.Second)), 90100},
		{"start equals end", statsBody(now, now), 0},
		{"no StartTime", fmt.Sprintf(`{"EndTime":%d,"TaskID":[]}`, now.Unix()), 90100},
		{"no EndTime", fmt.Sprintf(`{"StartTime":%d}`, now.Unix()), 90100},
		{"TaskID not strings", fmt.Sprintf(`{"StartTime":%d,"EndTime":%d,"TaskID":[1]}`, now.Unix(), now.Unix()), 90100},
		{"StartTime a string", fmt.Sprintf(`{"StartTime":"%d","EndTime":%d}`, now.Unix(), now.Unix()), 90100},
		{"bad JSON", `{"StartTime":`, 90100},
		{"empty body", ``, 90100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHarness(t)
			if code := h.call(t, TencentPushStatistics, testApp, tc.body, nil); code != tc.want {
				t.Errorf("ErrorCode = %d, want %d", code, tc.want)
			}
		})
	}
}

func TestTencentPushStatisticsRate(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	// Each call at its offset from the start; a call less than a second after
	// the previous accepted one is refused.
	steps := []struct {
		at   time.Duration
		want int
	}{
		{0, 0},
		{0, 60007},
		{999 * time.Millisecond, 60007},
		{time.Second, 0},
		{1500 * time.Millisecond, 60007},
		{2 * time.Second, 0},
		{5 * time.Second, 0},
	}
	for i, s := range steps {
		h.clk.Advance(testStart.Add(s.at).Sub(h.clk.Now()))
		body := statsBody(h.clk.Now().Add(-time.Hour), h.clk.Now(), "x")
		if code := h.call(t, TencentPushStatistics, testApp, body, nil); code != s.want {
			t.Errorf("call %d at +%v: ErrorCode = %d, want %d", i, s.at, code, s.want)
		}
	}
	calls := h.sim.Calls()
	if len(calls) != len(steps) {
		t.Fatalf("Calls() has %d calls, want %d", len(calls), len(steps))
	}
	for i, c := range calls {
		if c.ErrorCode != steps[i].want || !c.Time.Equal(testStart.Add(steps[i].at)) || !slices.Equal(c.TaskIDs, []string{"x"}) ||
			c.EndTime-c.StartTime != 3600 || c.SDKAppID != testApp {
			t.Errorf("call %d logged as %+v", i, c)
		}
	}
}

func TestTencentPushDisabled(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	if code := h.call(t, TencentPushStatistics, disabledApp, h.okBody(TencentPushStatistics), nil); code != 90045 {
		t.Errorf("all_member_push_statistics: ErrorCode = %d, want 90045", code)
	}
	if code := h.call(t, TencentIMPush, disabledApp, imPushOK, nil); code != 90045 {
		t.Errorf("im_push: ErrorCode = %d, want 90045", code)
	}
	if _, err := h.sim.Push(disabledApp, time.Hour); tencentCode(err) != 90045 {
		t.Errorf("Push: %v, want error 90045", err)
	}
	if code := h.call(t, TencentGetAppInfo, disabledApp, getAppInfoOK, nil); code != 0 {
		t.Errorf("getappinfo: ErrorCode = %d, want 0", code)
	}
}

func tencentCode(err error) int {
	var te *TencentError
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// stats queries the statistics of ids (none: overall) over the last day, a
// second after the previous query so that the rate limit lets it pass.
func (h *harness) stats(t *testing.T, app uint64, ids ...string) []wireStats {
	t.Helper()
	h.clk.Advance(time.Second)
	var ans statsAnswer
	body := statsBody(h.clk.Now().Add(-24*time.Hour), h.clk.Now(), ids...)
	if code := h.call(t, TencentPushStatistics, app, body, &ans); code != 0 {
		t.Fatalf("all_member_push_statistics: ErrorCode = %d", code)
	}
	if ans.ActionStatus != "OK" {
		t.Fatalf("ActionStatus = %q, want OK", ans.ActionStatus)
	}
	return ans.Results
}

// push creates a task and moves the clock past the push interval.
func (h *harness) push(t *testing.T, app uint64, lifetime time.Duration) string {
	t.Helper()
	id, err := h.sim.Push(app, lifetime)
	if err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(2 * time.Second)
	return id
}

// sum returns what an overall statistic of results is.
func sum(results ...wireStats) wireStats {
	s := wireStats{}
	type key struct{ event, platform int }
	byKey := map[key]*wirePlatform{}
	var order []key
	for _, r := range results {
		s.TotalCount += r.TotalCount
		s.SentCount += r.SentCount
		s.DeliveredCount += r.DeliveredCount
		s.ClickCount += r.ClickCount
		for _, p := range r.PlatformStatistics {
			k := key{p.EventType, p.PushPlatform}
			q, ok := byKey[k]
			if !ok {
				q = &wirePlatform{EventType: p.EventType, PushPlatform: p.PushPlatform}
				byKey[k] = q
				order = append(order, k)
			}
			q.TotalCount += p.TotalCount
			q.SentCount += p.SentCount
			q.DeliveredCount += p.DeliveredCount
			q.ClickCount += p.ClickCount
		}
	}
	slices.SortFunc(order, func(a, b key) int {
		if a.event != b.event {
			return a.event - b.event
		}
		return a.platform - b.platform
	})
	s.PlatformStatistics = []wirePlatform{}
	for _, k := range order {
		s.PlatformStatistics = append(s.PlatformStatistics, *byKey[k])
	}
	return s
}

func equalStats(a, b wireStats) bool {
	return a.TaskID == b.TaskID && a.TotalCount == b.TotalCount && a.SentCount == b.SentCount &&
		a.DeliveredCount == b.DeliveredCount && a.ClickCount == b.ClickCount &&
		slices.Equal(a.PlatformStatistics, b.PlatformStatistics)
}

func TestTencentPushStatisticsTasks(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	first := h.push(t, testApp, 24*time.Hour)
	second := h.push(t, testApp, time.Hour)
	foreign := h.push(t, otherApp, time.Hour)
	h.clk.Advance(7 * time.Hour) // every funnel has settled: the queries below see the same figures

	got := h.stats(t, testApp, "no-such-task", second, foreign, first)
	if len(got) != 2 || got[0].TaskID != second || got[1].TaskID != first {
		t.Fatalf("Results for [unknown, second, other app's, first] = %+v, want second then first", got)
	}
	both := sum(got[0], got[1])
	for _, ids := range [][]string{nil, {}, {""}} {
		all := h.stats(t, testApp, ids...)
		if len(all) != 1 || all[0].TaskID != "" || !equalStats(all[0], both) {
			t.Errorf("overall for TaskID %q = %+v, want the sum of both tasks %+v", ids, all, both)
		}
	}

	// A window that starts after the first push only counts the second.
	h.clk.Advance(time.Second)
	var ans statsAnswer
	body := statsBody(testStart.Add(time.Second), h.clk.Now())
	if code := h.call(t, TencentPushStatistics, testApp, body, &ans); code != 0 || len(ans.Results) != 1 {
		t.Fatalf("ErrorCode %d, Results %+v", code, ans.Results)
	}
	only := h.stats(t, testApp, second)[0]
	only.TaskID = ""
	if !equalStats(ans.Results[0], sum(only)) {
		t.Errorf("overall since the second push = %+v, want the second task's %+v", ans.Results[0], only)
	}

	// A window without pushes has an overall statistic of zeros.
	h.clk.Advance(time.Second)
	var empty statsAnswer
	if code := h.call(t, TencentPushStatistics, testApp, statsBody(h.clk.Now().Add(-time.Minute), h.clk.Now()), &empty); code != 0 {
		t.Fatalf("ErrorCode = %d", code)
	}
	if want := sum(); len(empty.Results) != 1 || !equalStats(empty.Results[0], want) {
		t.Errorf("overall of no task = %+v, want zeros", empty.Results)
	}
}

func TestTencentPushStatisticsShape(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	id := h.push(t, testApp, time.Hour)
	status, raw := h.post(t, TencentPushStatistics, h.query(t, testApp), statsBody(testStart, h.clk.Now(), id))
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); status != http.StatusOK || err != nil {
		t.Fatalf("HTTP %d, %v: %s", status, err, raw)
	}
	if keys := slices.Sorted(maps.Keys(top)); !slices.Equal(keys, []string{"ActionStatus", "ErrorCode", "ErrorInfo", "Results"}) {
		t.Errorf("top-level keys = %v, want the vendor's", keys)
	}
	var results []map[string]json.RawMessage
	if err := json.Unmarshal(top["Results"], &results); err != nil || len(results) != 1 {
		t.Fatalf("Results = %s, %v", top["Results"], err)
	}
	want := []string{"ClickCount", "DeliveredCount", "PlatformStatistics", "SentCount", "TaskID", "TotalCount"}
	if keys := slices.Sorted(maps.Keys(results[0])); !slices.Equal(keys, want) {
		t.Errorf("result keys = %v, want %v", keys, want)
	}
	var platforms []map[string]json.RawMessage
	if err := json.Unmarshal(results[0]["PlatformStatistics"], &platforms); err != nil || len(platforms) == 0 {
		t.Fatalf("PlatformStatistics = %s, %v", results[0]["PlatformStatistics"], err)
	}
	want = []string{"ClickCount", "DeliveredCount", "EventType", "PushPlatform", "SentCount", "TotalCount"}
	if keys := slices.Sorted(maps.Keys(platforms[0])); !slices.Equal(keys, want) {
		t.Errorf("platform keys = %v, want %v", keys, want)
	}
}

// checkStats checks the invariants of one result: stages never exceed the
// previous stage, platform entries sum to the totals, online entries report
// platform 0 and offline ones a platform of 1 to 8.
func checkStats(t *testing.T, at string, s wireStats) {
	t.Helper()
	if s.SentCount > s.TotalCount || s.DeliveredCount > s.SentCount || s.ClickCount > s.DeliveredCount {
		t.Errorf("%s: funnel %d ≥ %d ≥ %d ≥ %d broken", at, s.TotalCount, s.SentCount, s.DeliveredCount, s.ClickCount)
	}
	var sum wirePlatform
	for _, p := range s.PlatformStatistics {
		sum.TotalCount += p.TotalCount
		sum.SentCount += p.SentCount
		sum.DeliveredCount += p.DeliveredCount
		sum.ClickCount += p.ClickCount
	}
	if sum.TotalCount != s.TotalCount || sum.SentCount != s.SentCount || sum.DeliveredCount != s.DeliveredCount || sum.ClickCount != s.ClickCount {
		t.Errorf("%s: platform sums %+v differ from the totals %+v", at, sum, s)
	}
	for _, p := range s.PlatformStatistics {
		switch {
		case p.EventType == 2 && p.PushPlatform != 0,
			p.EventType == 1 && (p.PushPlatform < 1 || p.PushPlatform > 8),
			p.EventType != 1 && p.EventType != 2:
			t.Errorf("%s: entry with EventType %d, PushPlatform %d", at, p.EventType, p.PushPlatform)
		}
		if p.TotalCount <= 0 || p.SentCount > p.TotalCount || p.DeliveredCount > p.SentCount || p.ClickCount > p.DeliveredCount {
			t.Errorf("%s: entry funnel broken: %+v", at, p)
		}
	}
}

// atLeast reports whether every stage of b is at least that of a, in total
// and per entry.
func atLeast(a, b wireStats) bool {
	if len(a.PlatformStatistics) != len(b.PlatformStatistics) || a.TotalCount != b.TotalCount ||
		b.SentCount < a.SentCount || b.DeliveredCount < a.DeliveredCount || b.ClickCount < a.ClickCount {
		return false
	}
	for i, p := range a.PlatformStatistics {
		q := b.PlatformStatistics[i]
		if p.EventType != q.EventType || p.PushPlatform != q.PushPlatform || p.TotalCount != q.TotalCount ||
			q.SentCount < p.SentCount || q.DeliveredCount < p.DeliveredCount || q.ClickCount < p.ClickCount {
			return false
		}
	}
	return true
}

func TestTencentPushFunnel(t *testing.T) {
	t.Parallel()
	ages := []time.Duration{0, 10 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute,
		30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
		3 * 24 * time.Hour, 8 * 24 * time.Hour}
	for _, tc := range []struct {
		lifetime time.Duration
		settled  time.Duration // from then on nothing changes
	}{
		{0, time.Minute},
		{30 * time.Minute, 30 * time.Minute},
		{24 * time.Hour, 6 * time.Hour},
		{7 * 24 * time.Hour, 6 * time.Hour},
	} {
		t.Run(tc.lifetime.String(), func(t *testing.T) {
			t.Parallel()
			h := newTestHarness(t)
			created := h.clk.Now()
			id, err := h.sim.Push(testApp, tc.lifetime)
			if err != nil {
				t.Fatal(err)
			}
			series := map[time.Duration]wireStats{}
			var prev wireStats
			for i, age := range ages {
				h.clk.Advance(created.Add(age).Sub(h.clk.Now()))
				var ans statsAnswer
				if code := h.call(t, TencentPushStatistics, testApp, statsBody(created, created.Add(time.Hour), id), &ans); code != 0 {
					t.Fatalf("at %v: ErrorCode = %d", age, code)
				}
				if len(ans.Results) != 1 {
					t.Fatalf("at %v: Results = %+v", age, ans.Results)
				}
				s := ans.Results[0]
				checkStats(t, age.String(), s)
				if i > 0 && !atLeast(prev, s) {
					t.Errorf("at %v: %+v fell from %+v", age, s, prev)
				}
				series[age], prev = s, s
				if age > tc.settled && !equalStats(s, series[tc.settled]) {
					t.Errorf("at %v: %+v, want it settled at %+v", age, s, series[tc.settled])
				}
			}
			start, end := series[0], series[8*24*time.Hour]
			if start.TotalCount == 0 || start.SentCount != 0 || start.DeliveredCount != 0 {
				t.Errorf("at the push: %+v, want a target and nothing sent", start)
			}
			for _, p := range end.PlatformStatistics {
				if tc.lifetime == 0 && p.EventType != 2 {
					t.Errorf("a push to online users only has an entry %+v", p)
				}
			}
			if tc.lifetime < clickSettle {
				return
			}
			// A long-lived push: sent within minutes, delivered over hours,
			// clicked by a few per cent.
			early := series[10*time.Minute]
			if r := float64(early.SentCount) / float64(early.TotalCount); r < 0.94 || r > 0.995 {
				t.Errorf("sent after 10 minutes: %.3f of the target, want about 0.97", r)
			}
			if half := series[30*time.Minute]; half.DeliveredCount >= end.DeliveredCount || series[time.Hour].ClickCount >= end.ClickCount {
				t.Errorf("deliveries or clicks complete within the first hour: %+v, settled %+v", half, end)
			}
			if r := float64(end.DeliveredCount) / float64(end.SentCount); r < 0.6 || r > 0.92 {
				t.Errorf("delivered: %.3f of sent, want 0.6 to 0.9", r)
			}
			if r := float64(end.ClickCount) / float64(end.DeliveredCount); r < 0.01 || r > 0.06 {
				t.Errorf("clicked: %.3f of delivered, want a few per cent", r)
			}
		})
	}
}

func TestTencentPushDeterministic(t *testing.T) {
	t.Parallel()
	a, b, c := newTestHarness(t), newTestHarness(t), newHarness(t, testSeed+1, testStart, nil)
	ids := []string{a.push(t, testApp, time.Hour), b.push(t, testApp, time.Hour), c.push(t, testApp, time.Hour)}
	if ids[0] != ids[1] || ids[0] == ids[2] {
		t.Fatalf("TaskIds %q: want the first two equal (same seed) and the third different", ids)
	}
	for _, h := range []*harness{a, b} {
		h.clk.Advance(time.Hour)
	}
	if sa, sb := a.stats(t, testApp, ids[0]), b.stats(t, testApp, ids[1]); !equalStats(sa[0], sb[0]) {
		t.Errorf("the same task on two simulators: %+v and %+v", sa, sb)
	}
}

var taskIDPattern = regexp.MustCompile(`^1400000000_1441\d{14}_\d{1,10}_\d{8}$`)

func TestTencentIMPush(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		body string
		want int
	}{
		{"vendor sample", imPushOK, 0},
		{"online only", strings.Replace(imPushOK, `"MsgLifeTime":120`, `"MsgLifeTime":0`, 1), 0},
		{"no lifetime", strings.Replace(imPushOK, `"MsgLifeTime":120,`, ``, 1), 0},
		{"7 days", strings.Replace(imPushOK, `"MsgLifeTime":120`, `"MsgLifeTime":604800`, 1), 0},
		{"7 days and a second", strings.Replace(imPushOK, `"MsgLifeTime":120`, `"MsgLifeTime":604801`, 1), 90026},
		{"negative lifetime", strings.Replace(imPushOK, `"MsgLifeTime":120`, `"MsgLifeTime":-1`, 1), 90026},
		{"tag condition", strings.Replace(imPushOK, `{"From`, `{"Condition":{"TagsOr":["A","B"]},"From`, 1), 0},
		{"tags and attributes", strings.Replace(imPushOK, `{"From`, `{"Condition":{"TagsAnd":["A"],"AttrsOr":{"city":"SZ"}},"From`, 1), 90039},
		{"bad JSON", `{"MsgRandom":`, 90001},
		{"empty body", ``, 90001},
		{"no MsgRandom", strings.Replace(imPushOK, `"MsgRandom":56512,`, ``, 1), 90005},
		{"MsgRandom a string", strings.Replace(imPushOK, `"MsgRandom":56512`, `"MsgRandom":"56512"`, 1), 90005},
		{"MsgRandom beyond 32 bits", strings.Replace(imPushOK, `"MsgRandom":56512`, `"MsgRandom":4294967296`, 1), 90005},
		{"no MsgBody", `{"MsgRandom":1,"MsgLifeTime":120}`, 90002},
		{"MsgBody empty", `{"MsgRandom":1,"MsgBody":[]}`, 90002},
		{"MsgBody an object", `{"MsgRandom":1,"MsgBody":{"MsgType":"TIMTextElem"}}`, 90007},
		{"element without MsgType", `{"MsgRandom":1,"MsgBody":[{"MsgContent":{"Text":"hi"}}]}`, 90002},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHarness(t)
			var ans pushAnswer
			if code := h.call(t, TencentIMPush, testApp, tc.body, &ans); code != tc.want {
				t.Fatalf("ErrorCode = %d, want %d", code, tc.want)
			}
			if tc.want != 0 {
				return
			}
			if ans.ActionStatus != "OK" || ans.ErrorInfo != "" || !taskIDPattern.MatchString(ans.TaskId) {
				t.Errorf("answer %+v, want ActionStatus OK, ErrorInfo \"\" and a TaskId like the vendor's", ans)
			}
			h.clk.Advance(time.Hour)
			if got := h.stats(t, testApp, ans.TaskId); len(got) != 1 || got[0].TaskID != ans.TaskId {
				t.Errorf("statistics of the new task: %+v", got)
			}
		})
	}
}

func TestTencentPushLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testSeed, time.Date(2025, 3, 12, 0, 0, 10, 0, shanghai), nil)
	// 全员/标签推送: more than a second between two pushes.
	for i, s := range []struct {
		advance time.Duration
		want    int
	}{
		{0, 0},
		{500 * time.Millisecond, 90024},
		{500 * time.Millisecond, 90024},
		{time.Millisecond, 0},
	} {
		h.clk.Advance(s.advance)
		if _, err := h.sim.Push(testApp, time.Hour); tencentCode(err) != s.want {
			t.Errorf("push %d: %v, want code %d", i, err, s.want)
		}
	}
	if code := h.call(t, TencentIMPush, testApp, imPushOK, nil); code != 90024 {
		t.Errorf("im_push right after Push: ErrorCode = %d, want 90024", code)
	}
	for _, tc := range []struct {
		name     string
		app      uint64
		lifetime time.Duration
		want     int
	}{
		{"unknown app", unknownApp, time.Hour, 70020},
		{"lifetime beyond 7 days", testApp, 7*24*time.Hour + time.Second, 90026},
		{"negative lifetime", testApp, -time.Second, 90026},
	} {
		if _, err := h.sim.Push(tc.app, tc.lifetime); tencentCode(err) != tc.want {
			t.Errorf("%s: %v, want code %d", tc.name, err, tc.want)
		}
	}
	// Two pushes so far; 98 more fill the day's quota of 100.
	var te *TencentError
	if _, err := h.sim.Push(testApp, time.Hour); !errors.As(err, &te) || err.Error() != "tencent im error 90024: "+te.Info {
		t.Errorf("Push error %v, want a *TencentError naming code 90024", err)
	}
	for range 98 {
		h.clk.Advance(2 * time.Second)
		if _, err := h.sim.Push(testApp, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	h.clk.Advance(2 * time.Second)
	if _, err := h.sim.Push(testApp, time.Hour); tencentCode(err) != 90047 {
		t.Errorf("push 101 of the day: %v, want code 90047", err)
	}
	h.clk.Advance(24 * time.Hour)
	if _, err := h.sim.Push(testApp, time.Hour); err != nil {
		t.Errorf("the next day: %v", err)
	}
}

func TestTencentOptionsDefaults(t *testing.T) {
	t.Parallel()
	sim := NewTencent(TencentOptions{})
	if sim.clock != (clock.Real{}) || sim.loc != shanghai {
		t.Errorf("clock %T, location %v; want clock.Real and Asia/Shanghai", sim.clock, sim.loc)
	}
	if _, off := testStart.In(sim.loc).Zone(); off != 8*60*60 {
		t.Errorf("Asia/Shanghai offset %d s, want UTC+8", off)
	}
}

func TestTencentCallLogCap(t *testing.T) {
	t.Parallel()
	sim := NewTencent(TencentOptions{Clock: clocktest.NewFake(testStart)})
	for i := range maxCalls + 1 {
		sim.board.record(Call{API: TencentGetAppInfo, StartTime: int64(i)})
	}
	calls := sim.Calls()
	if want := maxCalls - maxCalls/10 + 1; len(calls) != want {
		t.Fatalf("%d calls kept, want %d", len(calls), want)
	}
	if first, last := calls[0].StartTime, calls[len(calls)-1].StartTime; first != maxCalls/10 || last != maxCalls {
		t.Errorf("kept calls %d to %d, want the newest, %d to %d", first, last, maxCalls/10, maxCalls)
	}
}
