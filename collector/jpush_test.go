package collector

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/jpush"
	"github.com/imstats/imstats_exporter/internal/ratelimit"
	"github.com/imstats/imstats_exporter/internal/simulator"
)

// jpushServer serves testdata files by API path (e.g. "received/detail"),
// recording the query of every request.
type jpushServer struct {
	mu      sync.Mutex
	queries []string
}

func newJPushServer(t *testing.T, files map[string]string) (*jpushServer, *jpush.Client) {
	t.Helper()
	js := &jpushServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		js.mu.Lock()
		js.queries = append(js.queries, r.URL.Path+"?"+r.URL.RawQuery)
		js.mu.Unlock()
		name, ok := files[strings.TrimPrefix(r.URL.Path, "/v3/")]
		if !ok {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":{"code":2003,"message":"no permission"}}`))
			return
		}
		body, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Error(err)
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return js, jpush.New(jpush.Options{Username: "appkey", Password: "secret", BaseURL: srv.URL})
}

func expectFile(t *testing.T, src Source, file string) {
	t.Helper()
	want, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	if err := testutil.CollectAndCompare(collectSource(t, src), bytes.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

func messagePollerFor(t *testing.T, fc clock.Clock, ids ...string) pollerOptions {
	return pollerOptions{IDs: newTestSet(t, fc, ids...), Cap: 1000, Clock: fc, Interval: time.Minute, SettledInterval: time.Hour}
}

func TestJPushReceivedSeedSample(t *testing.T) {
	t.Parallel()
	_, client := newJPushServer(t, map[string]string{"received/detail": "jpush_received_detail.json"})
	src := newJPushReceived(client, "appkey", messagePollerFor(t, nil, "1613113584", "1229760629"), log.NewNopLogger())
	expectFile(t, src, "jpush_received_detail.prom")
}

func TestJPushReceivedFallsBackToLegacy(t *testing.T) {
	t.Parallel()
	js, client := newJPushServer(t, map[string]string{"received": "jpush_received_detail.json"})
	src := newJPushReceived(client, "appkey", messagePollerFor(t, nil, "1613113584", "1229760629"), log.NewNopLogger())
	expectFile(t, src, "jpush_received_detail.prom")
	if len(js.queries) != 2 || !strings.HasPrefix(js.queries[0], "/v3/received/detail?") || !strings.HasPrefix(js.queries[1], "/v3/received?") {
		t.Fatalf("queries %v, want received/detail refused then received", js.queries)
	}
}

func TestJPushMessagesSeedSample(t *testing.T) {
	t.Parallel()
	_, client := newJPushServer(t, map[string]string{"messages/detail": "jpush_messages_detail.json"})
	src := newJPushMessages(client.MessagesDetail, jpush.MaxMsgIDsPerCall, jpushAppFamilies, "appkey", messagePollerFor(t, nil, "123456789"))
	expectFile(t, src, "jpush_messages_detail.prom")
}

func TestJPushGroupMessagesLegacySeedSample(t *testing.T) {
	t.Parallel()
	_, client := newJPushServer(t, map[string]string{"group/messages/detail": "jpush_group_messages_detail.json"})
	src := newJPushMessages(client.GroupMessagesDetail, jpush.MaxGroupMsgIDsPerCall, jpushGroupFamilies, "groupkey", messagePollerFor(t, nil, "bsp54sn8bpn8hc3etq40"))
	// The seed's legacy shape (JPush "REST API v3 Report", 分组统计-消息统计):
	// per-channel counts, the jpush block over Android and iOS apart, no
	// per-type totals.
	c := collectSource(t, src)
	got := gatherText(t, c)
	for _, line := range []string{
		`jpush_group_message_channel_target{channel="xiaomi",group_key="groupkey",group_msg_id="bsp54sn8bpn8hc3etq40",platform="android",type="all"} 1`,
		`jpush_group_message_channel_received{channel="xiaomi",group_key="groupkey",group_msg_id="bsp54sn8bpn8hc3etq40",platform="android",type="all"} 1`,
		`jpush_group_message_combined_target{channel="jpush",group_key="groupkey",group_msg_id="bsp54sn8bpn8hc3etq40",platform="android_and_ios",type="notification_and_message"} 14`,
		`jpush_group_message_combined_received{channel="jpush",group_key="groupkey",group_msg_id="bsp54sn8bpn8hc3etq40",platform="android_and_ios",type="notification_and_message"} 2`,
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("missing %s in\n%s", line, got)
		}
	}
	if n := testutil.CollectAndCount(c, "jpush_group_message_target"); n != 0 {
		t.Errorf("legacy shape produced %d per-type totals", n)
	}
}

func TestJPushUsersLatestCompleteDay(t *testing.T) {
	t.Parallel()
	shanghaiLoc := shanghai(t)
	for _, tc := range []struct {
		name, file, want string
		group            bool
		now              time.Time
	}{
		{"users", "jpush_users.json", `# HELP jpush_users_active Users of the latest complete day by platform (/users active).
# TYPE jpush_users_active gauge
jpush_users_active{app_key="k",platform="android"} 1
# HELP jpush_users_day_timestamp_seconds Start of the day (in the configured timezone) the jpush_users_* values are for.
# TYPE jpush_users_day_timestamp_seconds gauge
jpush_users_day_timestamp_seconds{app_key="k"} 1.4025024e+09
# HELP jpush_users_online Users of the latest complete day by platform (/users online).
# TYPE jpush_users_online gauge
jpush_users_online{app_key="k",platform="android"} 2
`, false, time.Date(2014, 6, 13, 9, 0, 0, 0, shanghaiLoc)},
		{"group users", "jpush_group_users.json", `# HELP jpush_group_users_active Users of the latest complete day by platform (/group/users active).
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
`, true, time.Date(2020, 8, 8, 9, 0, 0, 0, shanghaiLoc)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api := "users"
			if tc.group {
				api = "group/users"
			}
			js, client := newJPushServer(t, map[string]string{api: tc.file})
			fetch := client.Users
			if tc.group {
				fetch = client.GroupUsers
			}
			src := &jpushUsers{fetch: fetch, key: "k", group: tc.group, loc: shanghaiLoc, clock: clock.NewFake(tc.now)}
			if err := testutil.CollectAndCompare(collectSource(t, src), strings.NewReader(tc.want)); err != nil {
				t.Fatal(err)
			}
			yesterday := tc.now.AddDate(0, 0, -1).Format(time.DateOnly)
			if !strings.Contains(js.queries[0], "start="+yesterday) || !strings.Contains(js.queries[0], "duration=1") {
				t.Fatalf("query %s, want yesterday (%s), one day", js.queries[0], yesterday)
			}
		})
	}
}

func TestJPushStatusCanaries(t *testing.T) {
	t.Parallel()
	_, client := newJPushServer(t, map[string]string{"status/message": "jpush_status.json"})
	src := newJPushStatus(client.StatusMessage, "appkey", []string{"02078f0f1b8", "1507bfd3a7c568d4761", "0207870a9b8"}, messagePollerFor(t, nil, "327640176"))
	want := `# HELP jpush_message_devices Canary registration IDs of the message in each delivery status (/status/message).
# TYPE jpush_message_devices gauge
jpush_message_devices{app_key="appkey",msg_id="327640176",status="delivered"} 1
jpush_message_devices{app_key="appkey",msg_id="327640176",status="not_delivered"} 0
jpush_message_devices{app_key="appkey",msg_id="327640176",status="not_in_app"} 2
jpush_message_devices{app_key="appkey",msg_id="327640176",status="not_targeted"} 0
jpush_message_devices{app_key="appkey",msg_id="327640176",status="system_error"} 0
`
	if err := testutil.CollectAndCompare(collectSource(t, src), strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

// TestJPush152MessagesAgainstSimulator follows 152 messages with the real
// client and limiter: every call stays within the vendor's 100 msg_ids (the
// simulator refuses more), and all 152 are exported.
func TestJPush152MessagesAgainstSimulator(t *testing.T) {
	t.Parallel()
	sim := simulator.NewJPush(simulator.JPushOptions{Apps: []simulator.JPushApp{{AppKey: "appkey", MasterSecret: "secret", VIP: true}}, Seed: 5})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	ids := make([]string, 152)
	for i := range ids {
		id, err := sim.Push("appkey")
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	bucket := NewLimiters(clock.Real{}).Get("jpush/appkey", ratelimit.PerMinute(2400))
	client := jpush.New(jpush.Options{Username: "appkey", Password: "secret", BaseURL: srv.URL, Bucket: bucket})
	po := messagePollerFor(t, nil, ids...)
	for _, tc := range []struct {
		src    Source
		metric string
	}{
		{newJPushReceived(client, "appkey", po, log.NewNopLogger()), "jpush_message_delivery_sent"},
		{newJPushMessages(client.MessagesDetail, jpush.MaxMsgIDsPerCall, jpushAppFamilies, "appkey", po), "jpush_message_target"},
	} {
		c := collectSource(t, tc.src)
		got := map[string]bool{}
		for _, line := range strings.Split(gatherText(t, c), "\n") {
			if _, rest, ok := strings.Cut(line, `msg_id="`); ok && strings.HasPrefix(line, tc.metric+"{") {
				id, _, _ := strings.Cut(rest, `"`)
				got[id] = true
			}
		}
		if len(got) != 152 {
			t.Errorf("%s: %d of 152 messages exported", tc.metric, len(got))
		}
	}
	for _, call := range sim.Calls() {
		if len(call.IDs) > jpush.MaxMsgIDsPerCall || call.Status != http.StatusOK {
			t.Errorf("call %s with %d IDs answered %d", call.API, len(call.IDs), call.Status)
		}
	}
	if _, ok := bucket.Remaining(); !ok {
		t.Error("the rate-limit headers did not reach the bucket")
	}
}

func TestJPushNotVIPIsUnavailable(t *testing.T) {
	t.Parallel()
	sim := simulator.NewJPush(simulator.JPushOptions{Apps: []simulator.JPushApp{{AppKey: "appkey", MasterSecret: "secret"}}, Seed: 5})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	id, _ := sim.Push("appkey")
	client := jpush.New(jpush.Options{Username: "appkey", Password: "secret", BaseURL: srv.URL})
	src := newJPushMessages(client.MessagesDetail, jpush.MaxMsgIDsPerCall, jpushAppFamilies, "appkey", messagePollerFor(t, nil, id))
	if _, err := src.Refresh(context.Background()); apierr.ClassOf(err) != apierr.Unavailable {
		t.Fatalf("messages/detail without VIP: err %v, want class unavailable", err)
	}
	users := &jpushUsers{fetch: client.Users, key: "appkey", loc: time.UTC, clock: clock.Real{}}
	if _, err := users.Refresh(context.Background()); apierr.ClassOf(err) != apierr.Unavailable {
		t.Fatalf("users without VIP: err %v, want class unavailable", err)
	}
}

// gatherText renders a collector in the text exposition format.
func gatherText(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}
