package sources

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/jpush"
	"github.com/imstats/imstats_exporter/internal/simulator"
)

const (
	simAppKey      = "7d431e42dfa6a6d693ac2d04"
	simGroupKey    = "9439ee12e91bd4c895d1b0f5"
	simJPushSecret = "sources-test-jpush-master-secret"
	simGroupSecret = "sources-test-jpush-group-secret"
)

// jpushConfig is a configuration of a JPush app (key appKey) and a JPush
// group (key groupKey) at url; app is added under the app (indented by four
// spaces), top at the top level.
func jpushConfig(url, appKey, groupKey, app, top string) string {
	return fmt.Sprintf(`jpush:
  - app_key: %q
    master_secret: %q
    endpoint: %s
%[4]sjpush_groups:
  - group_key: %[5]q
    group_secret: %[6]q
    endpoint: %[3]s
%[7]s`, appKey, simJPushSecret, url, app, groupKey, simGroupSecret, top)
}

// jpushSim is the JPush simulator on c, served on loopback, with a VIP app
// and a VIP group unless vip is false.
func jpushSim(t testing.TB, c clock.Clock, vip bool) (*simulator.JPush, string) {
	t.Helper()
	sim := simulator.NewJPush(simulator.JPushOptions{
		Apps:   []simulator.JPushApp{{AppKey: simAppKey, MasterSecret: simJPushSecret, VIP: vip}},
		Groups: []simulator.JPushGroup{{GroupKey: simGroupKey, GroupSecret: simGroupSecret, VIP: vip}},
		Clock:  c,
		Seed:   5,
	})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv.URL
}

func TestJPushSeedSamples(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		source, api, file, id, want string
		group                       bool
	}{
		{catalog.SourceJPushReceived, jpush.APIReceivedDetail, "jpush_received_detail.json", "1613113584,1229760629", "jpush_received_detail.prom", false},
		{catalog.SourceJPushMessages, jpush.APIMessagesDetail, "jpush_messages_detail.json", "123456789", "jpush_messages_detail.prom", false},
	} {
		t.Run(tc.source, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
			fs := serveFiles(t, map[string]string{tc.api: tc.file})
			cfg := e.config(jpushConfig(fs.url, "appkey", "groupkey", "", ""))
			u := e.unit(tc.source, e.jpushApp(cfg, e.set(cfg, catalog.KindJPushMessages, strings.Split(tc.id, ",")...)))
			e.round(u)
			expectFile(t, u.target, tc.want)
		})
	}
}

func TestJPushGroupMessagesLegacySeedSample(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	fs := serveFiles(t, map[string]string{jpush.APIGroupMessagesDetail: "jpush_group_messages_detail.json"})
	cfg := e.config(jpushConfig(fs.url, "appkey", "groupkey", "", ""))
	u := e.unit(catalog.SourceJPushGroupMessages, e.groupApp(cfg, e.set(cfg, catalog.KindJPushGroupMessages, "bsp54sn8bpn8hc3etq40")))
	e.round(u)
	// The seed's legacy shape (JPush "REST API v3 Report", 分组统计-消息统计):
	// per-channel counts, the jpush block over Android and iOS apart, no
	// per-type totals.
	got := series(t, render(t, u.target))
	for k, v := range map[string]float64{
		`jpush_group_message_channel_target{channel="xiaomi",group_key="groupkey",group_msg_id="bsp54sn8bpn8hc3etq40",platform="android",type="all"}`:                                1,
		`jpush_group_message_channel_received{channel="xiaomi",group_key="groupkey",group_msg_id="bsp54sn8bpn8hc3etq40",platform="android",type="all"}`:                              1,
		`jpush_group_message_combined_target{channel="jpush",group_key="groupkey",group_msg_id="bsp54sn8bpn8hc3etq40",platform="android_and_ios",type="notification_and_message"}`:   14,
		`jpush_group_message_combined_received{channel="jpush",group_key="groupkey",group_msg_id="bsp54sn8bpn8hc3etq40",platform="android_and_ios",type="notification_and_message"}`: 2,
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	for k := range got {
		if strings.HasPrefix(k, "jpush_group_message_target{") {
			t.Errorf("the legacy shape produced a per-type total: %s", k)
		}
	}
}

func TestJPushReceivedFallsBackToLegacy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	fs := serveFiles(t, map[string]string{jpush.APIReceived: "jpush_received_detail.json"})
	cfg := e.config(jpushConfig(fs.url, "appkey", "groupkey", "", ""))
	u := e.unit(catalog.SourceJPushReceived, e.jpushApp(cfg, e.set(cfg, catalog.KindJPushMessages, "1613113584", "1229760629")))
	e.round(u)
	expectFile(t, u.target, "jpush_received_detail.prom")
	e.fc.Advance(time.Hour)
	e.round(u)
	var paths []string
	for _, r := range fs.requests() {
		paths = append(paths, r.path)
	}
	if want := []string{"/v3/received/detail", "/v3/received", "/v3/received"}; strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Fatalf("requests %v, want received/detail refused once, then received", paths)
	}
	if n := e.logs.lines("using the legacy /received"); n != 1 {
		t.Fatalf("the fallback was logged %d times, want once:\n%s", n, e.logs)
	}
}

func TestJPushUsersLatestCompleteDay(t *testing.T) {
	t.Parallel()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, source, api, file, want string
		now                           time.Time
	}{
		{"users", catalog.SourceJPushUsers, jpush.APIUsers, "jpush_users.json", `# HELP jpush_users_active Users of the latest complete day by platform (/users active).
# TYPE jpush_users_active gauge
jpush_users_active{app_key="k",platform="android"} 1
# HELP jpush_users_day_timestamp_seconds Start of the day (in the configured timezone) the jpush_users_* values are for.
# TYPE jpush_users_day_timestamp_seconds gauge
jpush_users_day_timestamp_seconds{app_key="k"} 1.4025024e+09
# HELP jpush_users_online Users of the latest complete day by platform (/users online).
# TYPE jpush_users_online gauge
jpush_users_online{app_key="k",platform="android"} 2
`, time.Date(2014, 6, 13, 9, 0, 0, 0, shanghai)},
		{"group users", catalog.SourceJPushGroupUsers, jpush.APIGroupUsers, "jpush_group_users.json", `# HELP jpush_group_users_active Users of the latest complete day by platform (/group/users active).
# TYPE jpush_group_users_active gauge
jpush_group_users_active{group_key="k",platform="android"} 6
# HELP jpush_group_users_day_timestamp_seconds Start of the day (in the configured timezone) the jpush_group_users_* values are for.
# TYPE jpush_group_users_day_timestamp_seconds gauge
jpush_group_users_day_timestamp_seconds{group_key="k"} 1.5967296e+09
# HELP jpush_group_users_new Users of the latest complete day by platform (/group/users new).
# TYPE jpush_group_users_new gauge
jpush_group_users_new{group_key="k",platform="android"} 2
# HELP jpush_group_users_online Users of the latest complete day by platform (/group/users online).
# TYPE jpush_group_users_online gauge
jpush_group_users_online{group_key="k",platform="android"} 8
`, time.Date(2020, 8, 8, 9, 0, 0, 0, shanghai)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.now)
			fs := serveFiles(t, map[string]string{tc.api: tc.file})
			cfg := e.config(jpushConfig(fs.url, "k", "k", "", ""))
			a := e.jpushApp(cfg, nil)
			if tc.source == catalog.SourceJPushGroupUsers {
				a = e.groupApp(cfg, nil)
			}
			u := e.unit(tc.source, a)
			if w := e.mustStep(u, false); w != cfg.RefreshIntervals.For(tc.source) {
				t.Errorf("wait %v after a users step, want the interval", w)
			}
			if got, want := normalize(t, render(t, u.target)), normalize(t, tc.want); got != want {
				t.Fatalf("snapshot:\n%s\nwant:\n%s", got, want)
			}
			q := fs.requests()[0].query
			yesterday := tc.now.AddDate(0, 0, -1).Format(time.DateOnly)
			if !strings.Contains(q, "start="+yesterday) || !strings.Contains(q, "duration=1") {
				t.Fatalf("query %s, want yesterday (%s), one day", q, yesterday)
			}
		})
	}
}

// TestJPushUsersOnlyTheDayAsked checks that /users exports the day it asked
// for and nothing else: an answer whose newest item is an older day gives no
// series, and is logged once over several refreshes.
func TestJPushUsersOnlyTheDayAsked(t *testing.T) {
	t.Parallel()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	// Asks for 2014-06-13; the answer's days are 06-10 to 06-12.
	e := newEnv(t, time.Date(2014, 6, 14, 9, 0, 0, 0, shanghai))
	fs := serveFiles(t, map[string]string{jpush.APIUsers: "jpush_users.json"})
	cfg := e.config(jpushConfig(fs.url, "k", "k", "", ""))
	u := e.unit(catalog.SourceJPushUsers, e.jpushApp(cfg, nil))
	e.mustStep(u, false)
	e.mustStep(u, false)
	if got := series(t, render(t, u.target)); len(got) != 0 {
		t.Fatalf("series %v for an answer without the day asked, want none", got)
	}
	if n := e.logs.lines("lacks the day asked for"); n != 1 {
		t.Fatalf("logged %d times over two refreshes, want once:\n%s", n, e.logs)
	}
}

func TestJPushStatusCanaries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	fs := serveFiles(t, map[string]string{jpush.APIStatusMessage: "jpush_status.json"})
	cfg := e.config(jpushConfig(fs.url, "appkey", "groupkey", "    canary_registration_ids: [02078f0f1b8, 1507bfd3a7c568d4761, 0207870a9b8]\n", ""))
	u := e.unit(catalog.SourceJPushStatus, e.jpushApp(cfg, e.set(cfg, catalog.KindJPushMessages, "327640176")))
	e.round(u)
	want := `# HELP jpush_message_devices Configured canary registration IDs of the message in each delivery status of /status/message; missing: asked about and left out of the answer.
# TYPE jpush_message_devices gauge
jpush_message_devices{app_key="appkey",msg_id="327640176",status="delivered"} 1
jpush_message_devices{app_key="appkey",msg_id="327640176",status="missing"} 0
jpush_message_devices{app_key="appkey",msg_id="327640176",status="not_delivered"} 0
jpush_message_devices{app_key="appkey",msg_id="327640176",status="not_in_app"} 2
jpush_message_devices{app_key="appkey",msg_id="327640176",status="not_targeted"} 0
jpush_message_devices{app_key="appkey",msg_id="327640176",status="system_error"} 0
`
	if got, want := normalize(t, render(t, u.target)), normalize(t, want); got != want {
		t.Fatalf("snapshot:\n%s\nwant:\n%s", got, want)
	}
	if len(fs.requests()) != 1 {
		t.Fatalf("%d requests for one message", len(fs.requests()))
	}
}

// TestJPushStatusDate checks that status/message is asked about the day the
// message was sent: the vendor answers for one day, so a message sent the
// day before and registered with its sent time keeps its statuses, where
// one registered without gets the empty answer of the day it was tracked.
func TestJPushStatusDate(t *testing.T) {
	t.Parallel()
	sentDay := time.Date(2026, 11, 30, 10, 0, 0, 0, jpush.ReportLocation())
	e := newEnv(t, sentDay)
	sim, url := jpushSim(t, e.fc, true)
	withSent, err := sim.Push(simAppKey)
	if err != nil {
		t.Fatal(err)
	}
	withoutSent, err := sim.Push(simAppKey)
	if err != nil {
		t.Fatal(err)
	}
	canaries := []string{"reg0001", "reg0002", "reg0003", "reg0004", "reg0005", "reg0006", "reg0007", "reg0008"}
	e.fc.Advance(26 * time.Hour) // noon of the next day
	cfg := e.config(jpushConfig(url, simAppKey, simGroupKey, fmt.Sprintf("    canary_registration_ids: [%s]\n", strings.Join(canaries, ", ")), ""))
	set := e.set(cfg, catalog.KindJPushMessages)
	e.add(set, sentDay, withSent)
	e.add(set, time.Time{}, withoutSent)
	u := e.unit(catalog.SourceJPushStatus, e.jpushApp(cfg, set))
	e.round(u)

	// devices counts the canaries of msgID in a status of the answer, and
	// those the answer left out (missing).
	devices := func(msgID string) (answered, missing float64) {
		for k, v := range series(t, render(t, u.target)) {
			switch {
			case !strings.Contains(k, `msg_id="`+msgID+`"`):
			case strings.Contains(k, `status="missing"`):
				missing += v
			default:
				answered += v
			}
		}
		return answered, missing
	}
	if got, missing := devices(withSent); got != float64(len(canaries)) || missing != 0 {
		t.Errorf("the message registered with its sent time has %v canaries in a status and %v missing, want all %d and 0", got, missing, len(canaries))
	}
	if got, missing := devices(withoutSent); got != 0 || missing != float64(len(canaries)) {
		t.Errorf("the message registered without a sent time has %v canaries in a status and %v missing, want 0 and all (asked about the day it was tracked)", got, missing)
	}
	for _, c := range sim.Calls() {
		if c.API == simulator.JPushStatusMessage && c.Status != http.StatusOK {
			t.Errorf("status/message answered %d", c.Status)
		}
	}
}

// TestJPush152MessagesAgainstSimulator follows 152 messages with the real
// client and limiter: every call stays within the vendor's 100 msg_ids (the
// simulator refuses more), and all 152 are exported.
func TestJPush152MessagesAgainstSimulator(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	sim, url := jpushSim(t, e.fc, true)
	ids := make([]string, 152)
	for i := range ids {
		id, err := sim.Push(simAppKey)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	e.fc.Advance(time.Minute)
	cfg := e.config(jpushConfig(url, simAppKey, simGroupKey, "", ""))
	set := e.set(cfg, catalog.KindJPushMessages)
	e.add(set, time.Time{}, ids...)
	for _, tc := range []struct{ source, family string }{
		{catalog.SourceJPushReceived, "jpush_message_delivery_sent"},
		{catalog.SourceJPushMessages, "jpush_message_target"},
	} {
		u := e.unit(tc.source, e.jpushApp(cfg, set))
		e.round(u)
		if got := labelValues(t, render(t, u.target), tc.family, "msg_id"); len(got) != 152 {
			t.Errorf("%s: %d of 152 messages exported", tc.source, len(got))
		}
	}
	calls := sim.Calls()
	if len(calls) != 4 {
		t.Errorf("%d calls, want 2 per source", len(calls))
	}
	for _, c := range calls {
		if len(c.IDs) > jpush.MaxMsgIDsPerCall || c.Status != http.StatusOK {
			t.Errorf("call %s with %d IDs answered %d", c.API, len(c.IDs), c.Status)
		}
	}
	if _, ok := e.deps.Limiters.JPushRemaining(simAppKey, false)(); !ok {
		t.Error("the rate-limit headers did not reach the bucket")
	}
}

func TestJPushNotVIPIsUnavailable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	sim, url := jpushSim(t, e.fc, false)
	id, err := sim.Push(simAppKey)
	if err != nil {
		t.Fatal(err)
	}
	groupID, err := sim.GroupPush(simGroupKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.config(jpushConfig(url, simAppKey, simGroupKey, "", ""))
	msgs := e.set(cfg, catalog.KindJPushMessages, id)
	groupMsgs := e.set(cfg, catalog.KindJPushGroupMessages, groupID)
	for _, u := range []*unit{
		e.unit(catalog.SourceJPushMessages, e.jpushApp(cfg, msgs)),
		e.unit(catalog.SourceJPushUsers, e.jpushApp(cfg, nil)),
		e.unit(catalog.SourceJPushGroupMessages, e.groupApp(cfg, groupMsgs)),
		e.unit(catalog.SourceJPushGroupUsers, e.groupApp(cfg, nil)),
	} {
		_, err := e.step(u, false)
		if apierr.ClassOf(err) != apierr.Unavailable {
			t.Errorf("%s without VIP: err %v, want class unavailable", u.def.Name, err)
		}
	}
}

// TestJPushGroupMessagesBatches follows 23 group messages: every call stays
// within the vendor's 10 group_msgids (the simulator refuses more).
func TestJPushGroupMessagesBatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	sim, url := jpushSim(t, e.fc, true)
	ids := make([]string, 23)
	for i := range ids {
		id, err := sim.GroupPush(simGroupKey)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	e.fc.Advance(time.Minute)
	cfg := e.config(jpushConfig(url, simAppKey, simGroupKey, "", ""))
	u := e.unit(catalog.SourceJPushGroupMessages, e.groupApp(cfg, e.set(cfg, catalog.KindJPushGroupMessages, ids...)))
	e.round(u)
	if got := labelValues(t, render(t, u.target), "jpush_group_message_channel_target", "group_msg_id"); len(got) != 23 {
		t.Errorf("%d of 23 group messages exported", len(got))
	}
	calls := sim.Calls()
	if len(calls) != 3 {
		t.Errorf("%d calls, want 3", len(calls))
	}
	for _, c := range calls {
		if len(c.IDs) > jpush.MaxGroupMsgIDsPerCall || c.Status != http.StatusOK {
			t.Errorf("call %s with %d IDs answered %d", c.API, len(c.IDs), c.Status)
		}
	}
}

// TestJPushReceivedReloadRetriesDetail falls back to the legacy /received
// on an endpoint that refuses /received/detail, then reloads with an
// endpoint that serves it: the decision was the old endpoint's, and the job
// asks /received/detail again.
func TestJPushReceivedReloadRetriesDetail(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	legacyOnly := serveFiles(t, map[string]string{jpush.APIReceived: "jpush_received_detail.json"})
	cfg := e.config(jpushConfig(legacyOnly.url, "appkey", "groupkey", "", ""))
	set := e.set(cfg, catalog.KindJPushMessages, "1613113584", "1229760629")
	u := e.unit(catalog.SourceJPushReceived, e.jpushApp(cfg, set))
	e.round(u)
	if n := len(legacyOnly.requests()); n != 2 {
		t.Fatalf("%d requests, want received/detail refused then received", n)
	}

	detail := serveFiles(t, map[string]string{jpush.APIReceivedDetail: "jpush_received_detail.json", jpush.APIReceived: "jpush_received_detail.json"})
	u.job.Configure(e.jpushApp(e.config(jpushConfig(detail.url, "appkey", "groupkey", "", "")), set))
	e.fc.Advance(time.Hour)
	e.round(u)
	reqs := detail.requests()
	if len(reqs) != 1 || reqs[0].path != "/v3/received/detail" {
		t.Fatalf("after a reload to an endpoint serving /received/detail, requests %+v, want one of /v3/received/detail", reqs)
	}
	expectFile(t, u.target, "jpush_received_detail.prom")
}

// TestJPushMessagesFallsBackToOldMessages checks that an account with only
// the old VIP /messages gets its funnel: /messages/detail answers 2003 once,
// then /messages is asked, and its counts land in jpush_message_channel_*.
func TestJPushMessagesFallsBackToOldMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	sim := simulator.NewJPush(simulator.JPushOptions{
		Apps:  []simulator.JPushApp{{AppKey: simAppKey, MasterSecret: simJPushSecret, OldVIP: true}},
		Clock: e.fc,
		Seed:  5,
	})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	id, err := sim.Push(simAppKey)
	if err != nil {
		t.Fatal(err)
	}
	e.fc.Advance(time.Hour)
	cfg := e.config(jpushConfig(srv.URL, simAppKey, simGroupKey, "", ""))
	u := e.unit(catalog.SourceJPushMessages, e.jpushApp(cfg, e.set(cfg, catalog.KindJPushMessages, id)))
	e.round(u)
	e.fc.Advance(time.Hour)
	e.round(u)
	s := series(t, render(t, u.target))
	key := `jpush_message_channel_target{app_key="` + simAppKey + `",channel="all",msg_id="` + id + `",platform="android",type="all"}`
	if v, ok := s[key]; !ok || v <= 0 {
		t.Fatalf("%s = %v, %v; want the Android target of /messages; series:\n%v", key, v, ok, s)
	}
	var apis []string
	for _, c := range sim.Calls() {
		apis = append(apis, c.API)
	}
	if want := []string{simulator.JPushMessagesDetail, simulator.JPushMessages, simulator.JPushMessages}; strings.Join(apis, " ") != strings.Join(want, " ") {
		t.Fatalf("calls %v, want messages/detail refused once, then messages", apis)
	}
	if n := e.logs.lines("using the old /messages"); n != 1 {
		t.Fatalf("the fallback was logged %d times, want once:\n%s", n, e.logs)
	}
}
