package tencentim

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/apierr"
)

// n returns a Count of v.
func n(v int64) Count { return &v }

func TestPushStatisticsDecode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		body string
		want []PushResult
	}{
		{"vendor sample", readTestdata(t, "push_statistics.json"), []PushResult{
			{
				TaskID:    "xxx-yyy-zzz",
				PushStats: PushStats{n(2670), n(2213), n(532), n(206)},
				Platforms: []PlatformStats{{EventType: 1, PushPlatform: 1, PushStats: PushStats{n(532), n(391), n(0), n(27)}}},
			},
			{
				TaskID:    "aaa-bbb-ccc",
				PushStats: PushStats{n(2941), n(2430), n(546), n(300)},
				Platforms: []PlatformStats{{EventType: 1, PushPlatform: 2, PushStats: PushStats{n(266), n(236), n(162), n(24)}}},
			},
		}},
		{"null, string, odd and missing counts", readTestdata(t, "push_statistics_mixed.json"), []PushResult{
			{
				TaskID:    "",
				PushStats: PushStats{TotalCount: n(2670), DeliveredCount: n(532)},
				Platforms: []PlatformStats{
					// PushPlatform absent on an online push: 0, unknown.
					{EventType: 2, PushPlatform: 0, PushStats: PushStats{TotalCount: n(10), SentCount: n(9)}},
					{EventType: 1, PushPlatform: 9}, // 1.5 and 1e2 are no counts
				},
				Refused: 6,
			},
			{
				TaskID:    "1400123456_144115212910570789_4155518400_15723514",
				PushStats: PushStats{TotalCount: n(5)},
			},
		}},
		{"no Results", `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"sucess"}`, nil},
		{"null Results", `{"ActionStatus":"OK","ErrorCode":0,"Results":null}`, nil},
		{"empty Results", `{"ActionStatus":"OK","ErrorCode":0,"Results":[]}`, []PushResult{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVendor(t, always(reply{body: tc.body}))
			c, clk := newTestClient(t, v.srv.URL, nil)
			got, err := c.PushStatistics(context.Background(), clk.Now().Add(-24*time.Hour), clk.Now(), []string{"xxx-yyy-zzz", "aaa-bbb-ccc"})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("results\n got %s\nwant %s", dump(got), dump(tc.want))
			}
		})
	}
}

// dump renders results with the counts' values rather than their addresses.
func dump(rs []PushResult) string {
	b, _ := json.Marshal(rs)
	return string(b)
}

func TestPushStatisticsWrongResultsType(t *testing.T) {
	t.Parallel()
	v := newVendor(t, always(reply{body: `{"ActionStatus":"OK","ErrorCode":0,"Results":{"TaskID":"x"}}`}))
	c, clk := newTestClient(t, v.srv.URL, nil)
	_, err := c.PushStatistics(context.Background(), clk.Now().Add(-time.Hour), clk.Now(), nil)
	if e := asAPIError(t, err); e.Class != apierr.InvalidResponse || e.API != APIPushStatistics {
		t.Errorf("error %v, want invalid_response for %s", err, APIPushStatistics)
	}
}

func TestPushStatisticsRequest(t *testing.T) {
	t.Parallel()
	// end has a sub-second part: the last case spans 30 days and 0.8 s but
	// sends exactly 30 days.
	end := t0.Add(900 * time.Millisecond)
	for _, tc := range []struct {
		name     string
		start    time.Time
		taskIDs  []string
		wantBody string
	}{
		{"task IDs", end.Add(-24 * time.Hour), []string{"a", "b"},
			`{"StartTime":1740729600,"EndTime":1740816000,"TaskID":["a","b"]}`},
		{"overall statistics: nil IDs sent as []", end.Add(-24 * time.Hour), nil,
			`{"StartTime":1740729600,"EndTime":1740816000,"TaskID":[]}`},
		{"overall statistics: empty IDs sent as []", end.Add(-24 * time.Hour), []string{},
			`{"StartTime":1740729600,"EndTime":1740816000,"TaskID":[]}`},
		{"five IDs and a 30-day window are allowed", end.Add(-MaxStatisticsWindow), []string{"1", "2", "3", "4", "5"},
			`{"StartTime":1738224000,"EndTime":1740816000,"TaskID":["1","2","3","4","5"]}`},
		{"the window is checked on the seconds sent", end.Add(-MaxStatisticsWindow - 800*time.Millisecond), nil,
			`{"StartTime":1738224000,"EndTime":1740816000,"TaskID":[]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVendor(t, always(reply{body: readTestdata(t, "push_statistics.json")}))
			c, _ := newTestClient(t, v.srv.URL, nil)
			if _, err := c.PushStatistics(context.Background(), tc.start, end, tc.taskIDs); err != nil {
				t.Fatal(err)
			}
			reqs := v.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			if reqs[0].path != "/v4/timpush/all_member_push_statistics" || string(reqs[0].body) != tc.wantBody {
				t.Errorf("sent %s %s, want %s", reqs[0].path, reqs[0].body, tc.wantBody)
			}
		})
	}
}

func TestPushStatisticsRefused(t *testing.T) {
	t.Parallel()
	end := t0
	for _, tc := range []struct {
		name    string
		start   time.Time
		taskIDs []string
	}{
		{"six task IDs", end.Add(-time.Hour), []string{"1", "2", "3", "4", "5", "6"}},
		{"31-day window", end.Add(-31 * 24 * time.Hour), nil},
		{"window one second too long", end.Add(-MaxStatisticsWindow - time.Second), nil},
		{"end before start", end.Add(time.Second), nil},
		{"empty task ID", end.Add(-time.Hour), []string{"a", ""}},
		{"zero start time", time.Time{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVendor(t, always(reply{body: okBody}))
			observed := 0
			c, _ := newTestClient(t, v.srv.URL, func(o *Options) {
				o.Observe = func(string, string, time.Duration) { observed++ }
			})
			res, err := c.PushStatistics(context.Background(), tc.start, end, tc.taskIDs)
			e := asAPIError(t, err)
			if res != nil || e.Class != apierr.Fatal || e.Code != CodeInvalidRequest || e.API != APIPushStatistics {
				t.Errorf("got %v, %v; want no results and a fatal %s error", res, err, CodeInvalidRequest)
			}
			if len(v.requests()) != 0 || observed != 0 {
				t.Errorf("%d requests, %d observed; want none", len(v.requests()), observed)
			}
		})
	}
}

func TestPlatformName(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]string{
		0: "unknown", 1: "apns", 2: "xiaomi", 3: "huawei", 4: "fcm", 5: "meizu", 6: "oppo", 7: "vivo", 8: "honor",
		9: "code_9", -1: "code_-1", 100: "code_100",
	} {
		if got := PlatformName(code); got != want {
			t.Errorf("PlatformName(%d) = %q, want %q", code, got, want)
		}
	}
}

func TestEventTypeName(t *testing.T) {
	t.Parallel()
	for typ, want := range map[int]string{1: "offline", 2: "online", 0: "code_0", 3: "code_3"} {
		if got := EventTypeName(typ); got != want {
			t.Errorf("EventTypeName(%d) = %q, want %q", typ, got, want)
		}
	}
}

func FuzzDecodePushStatistics(f *testing.F) {
	for _, name := range []string{"push_statistics.json", "push_statistics_mixed.json"} {
		f.Add([]byte(readTestdata(f, name)))
	}
	c := New(Options{SDKAppID: testAppID, Identifier: testIdentifier, SecretKey: vecKey})
	f.Fuzz(func(t *testing.T, body []byte) {
		var b pushStatsBody
		if e := c.decode(APIPushStatistics, body, "", &b); e != nil {
			checkFuzzError(t, e)
			return
		}
		for _, r := range b.results {
			stats := []PushStats{r.PushStats}
			for _, p := range r.Platforms {
				stats = append(stats, p.PushStats)
			}
			for _, s := range stats {
				for _, cnt := range []Count{s.TotalCount, s.SentCount, s.DeliveredCount, s.ClickCount} {
					if cnt != nil && *cnt < 0 {
						t.Fatalf("negative count %d in %s", *cnt, dump(b.results))
					}
				}
			}
		}
	})
}
