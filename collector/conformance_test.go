package collector

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/jpush"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// The conformance suite: every response sample of the vendor documents, made
// valid JSON of the same shape (testdata/conformance/*.json), goes through the
// real client, over HTTP, and the mapping; the whole exposition must equal
// the expected file (testdata/conformance/*.prom), written from the
// documents' definitions of each field:
//
//   - JPush "REST API v3 Report" (统计 API): received (送达统计), received/detail
//     (送达统计详情), status/message (送达状态查询), messages/detail (消息统计详情,
//     both the 2021.09.01 details and the older blocks), users (用户统计),
//     group/messages/detail (分组统计-消息统计), group/users (分组统计-用户统计).
//   - Tencent Chat REST API "Pulling Operations Data" (getappinfo): the basic
//     and the RequestField samples.
//   - Tencent Chat "All/Tagged Users Push Data Statistics"
//     (all_member_push_statistics, https://trtc.io/document/71894): the
//     sample with TaskIDs, and the same result with an empty TaskID, the
//     overall statistics ("Leave blank for overall statistics").
//   - Tencent Chat "All/Tagged Users Push Loss Analysis" (all_member_push_loss,
//     https://intl.cloud.tencent.com/document/product/1047/71895): the
//     sample for TaskID xxx-yyy-zzz, and the same result as the overall one.
//   - Tencent Chat "Chat Service Push Loss Analysis" (normal_push_loss,
//     …/71898): its sample puts the four arrays in an object without a key,
//     which is not JSON; both valid readings, the arrays at the top level
//     and in one nested object, must give the same series.

// sampleServer answers every request with the fixture and records the paths.
type sampleServer struct {
	url   string
	mu    sync.Mutex
	paths []string
}

func serveSample(t *testing.T, fixture string) *sampleServer {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "conformance", fixture))
	if err != nil {
		t.Fatal(err)
	}
	s := &sampleServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths = append(s.paths, r.URL.Path)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

const (
	conformanceSDKAppID  = 1400000000
	conformanceAppAppID  = 1104620500 // the AppId of the getappinfo sample
	conformanceAppKey    = "appkey"
	conformanceGroupKey  = "groupkey"
	conformanceStatusMsg = "327640176" // the status/message request sample
)

func jpushSampleClient(url string) *jpush.Client {
	return jpush.New(jpush.Options{Username: "appkey", Password: "secret", BaseURL: url})
}

func tencentSampleClient(url string, sdkappid uint64) *tencentim.Client {
	return tencentim.New(tencentim.Options{SDKAppID: sdkappid, Identifier: "admin", SecretKey: "k", BaseURL: url})
}

// latestUsersDay maps the newest day of a users answer, as jpush_users does
// with days before today.
func latestUsersDay(t *testing.T, group bool, key string, days []jpush.UsersDay) []expo.Sample {
	t.Helper()
	var latest []expo.Sample
	var latestDay time.Time
	for _, d := range days {
		m, day, ok := UsersDayMetrics(group, key, d, jpush.ReportLocation(), nil)
		if !ok {
			t.Fatalf("day %q does not parse", d.Day)
		}
		if day.After(latestDay) {
			latest, latestDay = m, day
		}
	}
	return latest
}

func TestConformance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cst := jpush.ReportLocation()
	tests := []struct {
		fixture  string
		wantPath string
		run      func(t *testing.T, url string) ([]expo.Sample, error)
	}{
		{"jpush_received_detail", "/v3/received/detail", func(t *testing.T, url string) ([]expo.Sample, error) {
			res, err := jpushSampleClient(url).ReceivedDetail(ctx, []string{"1613113584", "1229760629"})
			var out []expo.Sample
			for _, r := range res {
				out = append(out, ReceivedSamples(conformanceAppKey, r)...)
			}
			return out, err
		}},
		{"jpush_received", "/v3/received", func(t *testing.T, url string) ([]expo.Sample, error) {
			res, err := jpushSampleClient(url).Received(ctx, []string{"1613113584", "1229760629"})
			var out []expo.Sample
			for _, r := range res {
				out = append(out, ReceivedSamples(conformanceAppKey, r)...)
			}
			return out, err
		}},
		{"jpush_messages_detail", "/v3/messages/detail", func(t *testing.T, url string) ([]expo.Sample, error) {
			res, err := jpushSampleClient(url).MessagesDetail(ctx, []string{"123456789"})
			var out []expo.Sample
			for _, m := range res {
				out = append(out, MessageSamples(false, conformanceAppKey, m, true, nil)...)
			}
			return out, err
		}},
		{"jpush_messages_detail_legacy", "/v3/messages/detail", func(t *testing.T, url string) ([]expo.Sample, error) {
			res, err := jpushSampleClient(url).MessagesDetail(ctx, []string{"269978303"})
			var out []expo.Sample
			for _, m := range res {
				out = append(out, MessageSamples(false, conformanceAppKey, m, true, nil)...)
			}
			return out, err
		}},
		{"jpush_group_messages_detail", "/v3/group/messages/detail", func(t *testing.T, url string) ([]expo.Sample, error) {
			res, err := jpushSampleClient(url).GroupMessagesDetail(ctx, []string{"bsp54sn8bpn8hc3etq40"})
			var out []expo.Sample
			for _, m := range res {
				out = append(out, MessageSamples(true, conformanceGroupKey, m, true, nil)...)
			}
			return out, err
		}},
		{"jpush_status_message", "/v3/status/message", func(t *testing.T, url string) ([]expo.Sample, error) {
			canaries := []string{"1506bfd3a7c568d4761", "02078f0f1b8", "0207870a9b8"}
			sent := time.Date(2026, 11, 27, 15, 30, 0, 0, time.UTC)
			res, err := jpushSampleClient(url).StatusMessage(ctx, conformanceStatusMsg, canaries, jpush.StatusDate(sent, cst))
			return StatusSamples(conformanceAppKey, conformanceStatusMsg, canaries, res, nil), err
		}},
		{"jpush_users", "/v3/users", func(t *testing.T, url string) ([]expo.Sample, error) {
			days, err := jpushSampleClient(url).Users(ctx, time.Date(2014, 6, 10, 0, 0, 0, 0, cst), 3)
			return latestUsersDay(t, false, conformanceAppKey, days), err
		}},
		{"jpush_group_users", "/v3/group/users", func(t *testing.T, url string) ([]expo.Sample, error) {
			days, err := jpushSampleClient(url).GroupUsers(ctx, time.Date(2020, 8, 6, 0, 0, 0, 0, cst), 2)
			return latestUsersDay(t, true, conformanceGroupKey, days), err
		}},
		{"getappinfo", "/v4/openconfigsvr/getappinfo", func(t *testing.T, url string) ([]expo.Sample, error) {
			rows, err := tencentSampleClient(url, conformanceAppAppID).GetAppInfo(ctx)
			row, day, ok := LatestOperationsDay(rows, time.Date(2016, 6, 8, 12, 0, 0, 0, cst), cst)
			if !ok {
				t.Fatal("no complete day")
			}
			out, bad := OperationsDayMetrics(rows, row, day, "1104620500", nil)
			if len(bad) > 0 {
				t.Errorf("unparsable fields %v", bad)
			}
			return out, err
		}},
		{"getappinfo_request_field", "/v4/openconfigsvr/getappinfo", func(t *testing.T, url string) ([]expo.Sample, error) {
			rows, err := tencentSampleClient(url, conformanceAppAppID).GetAppInfo(ctx)
			row, day, ok := LatestOperationsDay(rows, time.Date(2016, 6, 8, 12, 0, 0, 0, cst), cst)
			if !ok {
				t.Fatal("no complete day")
			}
			out, _ := OperationsDayMetrics(rows, row, day, "1104620500", nil)
			return out, err
		}},
		{"push_statistics_tasks", "/v4/timpush/all_member_push_statistics", func(t *testing.T, url string) ([]expo.Sample, error) {
			end := time.Date(2025, 3, 12, 16, 0, 0, 0, time.UTC)
			res, err := tencentSampleClient(url, conformanceSDKAppID).PushStatistics(ctx, end.Add(-24*time.Hour), end, []string{"xxx-yyy-zzz", "aaa-bbb-ccc"})
			var out []expo.Sample
			for _, r := range res {
				out = appendResult(out, pushTaskFamily, pushTaskPlatformFamily, r, nil, "1400000000", r.TaskID)
			}
			return out, err
		}},
		{"push_statistics_overall", "/v4/timpush/all_member_push_statistics", func(t *testing.T, url string) ([]expo.Sample, error) {
			end := time.Date(2025, 3, 12, 16, 0, 0, 0, time.UTC)
			res, err := tencentSampleClient(url, conformanceSDKAppID).PushStatistics(ctx, end.Add(-24*time.Hour), end, nil)
			var out []expo.Sample
			for _, r := range res {
				if r.TaskID == "" {
					out = appendResult(out, pushWindowFamily, pushWindowPlatformFamily, r, nil, "1400000000", "24h")
				}
			}
			return out, err
		}},
		{"push_loss_tasks", "/v4/timpush/all_member_push_loss", func(t *testing.T, url string) ([]expo.Sample, error) {
			end := time.Date(2025, 3, 12, 16, 0, 0, 0, time.UTC)
			res, err := tencentSampleClient(url, conformanceSDKAppID).PushLoss(ctx, end.Add(-24*time.Hour), end, []string{"xxx-yyy-zzz", "aaa-bbb-ccc"})
			var out []expo.Sample
			reasons := LossReasons{}
			for _, r := range res {
				out = append(out, PushTaskLossSamples("1400000000", r, true, reasons, nil)...)
			}
			return append(out, LossReasonSamples("1400000000", reasons)...), err
		}},
		{"push_loss_overall", "/v4/timpush/all_member_push_loss", func(t *testing.T, url string) ([]expo.Sample, error) {
			end := time.Date(2025, 3, 12, 16, 0, 0, 0, time.UTC)
			res, err := tencentSampleClient(url, conformanceSDKAppID).PushLoss(ctx, end.Add(-24*time.Hour), end, nil)
			reasons := LossReasons{}
			out := PushWindowLossSamples("1400000000", "24h", res, reasons, nil)
			return append(out, LossReasonSamples("1400000000", reasons)...), err
		}},
		{"normal_push_loss", "/v4/timpush/normal_push_loss", func(t *testing.T, url string) ([]expo.Sample, error) {
			end := time.Date(2025, 3, 12, 16, 0, 0, 0, time.UTC)
			r, err := tencentSampleClient(url, conformanceSDKAppID).NormalPushLoss(ctx, end.Add(-24*time.Hour), end)
			return NormalPushWindowLossSamples("1400000000", "24h", r, nil, nil), err
		}},
		{"normal_push_loss_nested", "/v4/timpush/normal_push_loss", func(t *testing.T, url string) ([]expo.Sample, error) {
			end := time.Date(2025, 3, 12, 16, 0, 0, 0, time.UTC)
			r, err := tencentSampleClient(url, conformanceSDKAppID).NormalPushLoss(ctx, end.Add(-24*time.Hour), end)
			return NormalPushWindowLossSamples("1400000000", "24h", r, nil, nil), err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			srv := serveSample(t, tt.fixture+".json")
			got, err := tt.run(t, srv.url)
			if err != nil {
				t.Fatal(err)
			}
			if len(srv.paths) != 1 || srv.paths[0] != tt.wantPath {
				t.Errorf("requests %v, want one to %s", srv.paths, tt.wantPath)
			}
			want, err := os.Open(filepath.Join("testdata", "conformance", tt.fixture+".prom"))
			if err != nil {
				t.Fatal(err)
			}
			defer want.Close()
			if err := testutil.CollectAndCompare(sampleCollector(got), want); err != nil {
				t.Error(err)
			}
		})
	}
}
