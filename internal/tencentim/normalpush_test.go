package tencentim

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/ratelimit"
)

// dumpNormal renders a result with the counts' values rather than their
// addresses.
func dumpNormal(r NormalPushResult) string {
	b, _ := json.Marshal(r)
	return string(b)
}

func TestNormalPushStatisticsDecode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		body string
		want NormalPushResult
	}{
		{"documented sample", readTestdata(t, "normal_push_statistics.json"), NormalPushResult{
			PushStats: PushStats{n(933478), n(637076), n(7616), n(421)},
			Platforms: []NormalPlatformStats{{PushPlatform: 8, PushStats: PushStats{n(293), n(0), n(0), n(0)}}},
		}},
		{"null, string, odd and missing counts; an unknown platform code", readTestdata(t, "normal_push_statistics_mixed.json"), NormalPushResult{
			PushStats: PushStats{TotalCount: n(933478), DeliveredCount: n(7616)},
			Platforms: []NormalPlatformStats{
				{PushPlatform: 3, PushStats: PushStats{TotalCount: n(500), SentCount: n(480)}},
				{PushPlatform: 12, PushStats: PushStats{n(40), n(40), n(38), n(2)}},
				// PushPlatform absent: 0, unknown.
				{PushPlatform: 0, PushStats: PushStats{TotalCount: n(7)}},
				{PushPlatform: 6}, // 1e2 is no count
			},
			Refused: 6,
		}},
		{"no counts and no PlatformStatistics", `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"sucess"}`, NormalPushResult{}},
		{"null PlatformStatistics", `{"ActionStatus":"OK","ErrorCode":0,"TotalCount":0,"PlatformStatistics":null}`,
			NormalPushResult{PushStats: PushStats{TotalCount: n(0)}}},
		{"empty PlatformStatistics", `{"ActionStatus":"OK","ErrorCode":0,"PlatformStatistics":[]}`, NormalPushResult{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVendor(t, always(reply{body: tc.body}))
			c, clk := newTestClient(t, v.srv.URL, nil)
			got, err := c.NormalPushStatistics(context.Background(), clk.Now().Add(-24*time.Hour), clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("result\n got %s\nwant %s", dumpNormal(got), dumpNormal(tc.want))
			}
		})
	}
}

func TestNormalPushStatisticsErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		replies   []reply
		wantClass apierr.Class
		wantCode  string
		wantReqs  int
	}{
		{"push not enabled", []reply{vendorErr(90045)}, apierr.Unavailable, "90045", 1},
		{"not the admin", []reply{vendorErr(90009)}, apierr.Unavailable, "90009", 1},
		{"rate limited", []reply{vendorErr(60007)}, apierr.RateLimited, "60007", 1},
		{"UserSig expired twice: retried once", []reply{vendorErr(70001)}, apierr.SigExpired, "70001", 2},
		{"PlatformStatistics not an array", []reply{{body: `{"ActionStatus":"OK","ErrorCode":0,"PlatformStatistics":{"PushPlatform":1}}`}},
			apierr.InvalidResponse, apierr.CodeInvalidResponse, 1},
		{"not JSON", []reply{{body: `<html>502</html>`}}, apierr.InvalidResponse, apierr.CodeInvalidResponse, 1},
		{"gateway error", []reply{{status: 502, body: "bad gateway"}}, apierr.Transient, "502", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVendor(t, sequence(tc.replies...))
			c, clk := newTestClient(t, v.srv.URL, nil)
			res, err := c.NormalPushStatistics(context.Background(), clk.Now().Add(-time.Hour), clk.Now())
			e := asAPIError(t, err)
			if e.Class != tc.wantClass || e.Code != tc.wantCode || e.API != APINormalPushStatistics {
				t.Errorf("error %v (class %v, code %s, API %s), want class %v, code %s", err, e.Class, e.Code, e.API, tc.wantClass, tc.wantCode)
			}
			if !reflect.DeepEqual(res, NormalPushResult{}) {
				t.Errorf("result %s with an error", dumpNormal(res))
			}
			if got := len(v.requests()); got != tc.wantReqs {
				t.Errorf("%d requests, want %d", got, tc.wantReqs)
			}
		})
	}
}

func TestNormalPushStatisticsSigRenewed(t *testing.T) {
	t.Parallel()
	v := newVendor(t, sequence(vendorErr(70001), reply{body: readTestdata(t, "normal_push_statistics.json")}))
	c, clk := newTestClient(t, v.srv.URL, nil)
	res, err := c.NormalPushStatistics(context.Background(), clk.Now().Add(-time.Hour), clk.Now())
	if err != nil || res.TotalCount == nil || *res.TotalCount != 933478 {
		t.Fatalf("got %s, %v; want the sample after a retry", dumpNormal(res), err)
	}
	if reqs := v.requests(); len(reqs) != 2 {
		t.Errorf("%d requests, want 2", len(reqs))
	}
}

func TestNormalPushStatisticsRequest(t *testing.T) {
	t.Parallel()
	// end has a sub-second part: the last case spans 30 days and 0.8 s but
	// sends exactly 30 days.
	end := t0.Add(900 * time.Millisecond)
	for _, tc := range []struct {
		name     string
		start    time.Time
		wantBody string
	}{
		{"a day", end.Add(-24 * time.Hour), `{"StartTime":1740729600,"EndTime":1740816000}`},
		{"a second", end.Add(-time.Second), `{"StartTime":1740815999,"EndTime":1740816000}`},
		{"30 days are allowed", end.Add(-MaxStatisticsWindow), `{"StartTime":1738224000,"EndTime":1740816000}`},
		{"the window is checked on the seconds sent", end.Add(-MaxStatisticsWindow - 800*time.Millisecond),
			`{"StartTime":1738224000,"EndTime":1740816000}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVendor(t, always(reply{body: readTestdata(t, "normal_push_statistics.json")}))
			c, _ := newTestClient(t, v.srv.URL, nil)
			if _, err := c.NormalPushStatistics(context.Background(), tc.start, end); err != nil {
				t.Fatal(err)
			}
			reqs := v.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			if reqs[0].path != "/v4/timpush/normal_push_statistics" || string(reqs[0].body) != tc.wantBody {
				t.Errorf("sent %s %s, want %s", reqs[0].path, reqs[0].body, tc.wantBody)
			}
		})
	}
}

func TestNormalPushStatisticsRefused(t *testing.T) {
	t.Parallel()
	end := t0.Add(900 * time.Millisecond)
	for _, tc := range []struct {
		name  string
		start time.Time
	}{
		{"31-day window", end.Add(-31 * 24 * time.Hour)},
		{"window one second too long", end.Add(-MaxStatisticsWindow - time.Second)},
		{"end before start", end.Add(time.Second)},
		{"start equals end", end},
		{"start equals end in the seconds sent", end.Add(-500 * time.Millisecond)},
		{"zero start time", time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVendor(t, always(reply{body: okBody}))
			observed := 0
			c, _ := newTestClient(t, v.srv.URL, func(o *Options) {
				o.Observe = func(string, string, time.Duration) { observed++ }
			})
			_, err := c.NormalPushStatistics(context.Background(), tc.start, end)
			e := asAPIError(t, err)
			if e.Class != apierr.Fatal || e.Code != CodeInvalidRequest || e.API != APINormalPushStatistics {
				t.Errorf("got %v; want a fatal %s error", err, CodeInvalidRequest)
			}
			if len(v.requests()) != 0 || observed != 0 {
				t.Errorf("%d requests, %d observed; want none", len(v.requests()), observed)
			}
		})
	}
}

// TestPushBucketSpacedFromTheEnd checks that the client tells the bucket
// when a call ended, whatever its outcome: a bucket with a MinGap lets the
// next call start a gap after it, and not before.
func TestPushBucketSpacedFromTheEnd(t *testing.T) {
	t.Parallel()
	v := newVendor(t, sequence(vendorErr(90045), reply{status: 502}, reply{body: readTestdata(t, "normal_push_statistics.json")}))
	var bucket *ratelimit.Bucket
	c, clk := newTestClient(t, v.srv.URL, func(o *Options) {
		bucket = ratelimit.New(o.Clock, ratelimit.Rate{Interval: time.Second, Burst: 1, MinGap: time.Second})
		o.Limiter = func(string) *ratelimit.Bucket { return bucket }
	})
	call := func() error {
		_, err := c.NormalPushStatistics(context.Background(), clk.Now().Add(-time.Hour), clk.Now())
		return err
	}
	if err := call(); apierr.ClassOf(err) != apierr.Unavailable {
		t.Fatalf("first call: %v, want 90045", err)
	}
	for i := 1; i < 3; i++ {
		clk.Advance(300 * time.Millisecond) // time passes between calls
		done := make(chan error, 1)
		go func() { done <- call() }()
		waitForWaiter(clk)
		if n := len(v.requests()); n != i {
			t.Fatalf("%d requests before the gap is over, want %d", n, i)
		}
		clk.Advance(700 * time.Millisecond)
		<-done
		if n := len(v.requests()); n != i+1 {
			t.Fatalf("%d requests after the gap, want %d", n, i+1)
		}
	}
}

func FuzzDecodeNormalPushStatistics(f *testing.F) {
	for _, name := range []string{"normal_push_statistics.json", "normal_push_statistics_mixed.json"} {
		f.Add([]byte(readTestdata(f, name)))
	}
	c := New(Options{SDKAppID: testAppID, Identifier: testIdentifier, SecretKey: vecKey})
	f.Fuzz(func(t *testing.T, body []byte) {
		var b normalPushBody
		if e := c.decode(APINormalPushStatistics, body, "", &b); e != nil {
			checkFuzzError(t, e)
			return
		}
		stats := []PushStats{b.result.PushStats}
		for _, p := range b.result.Platforms {
			stats = append(stats, p.PushStats)
		}
		for _, s := range stats {
			for _, cnt := range []Count{s.TotalCount, s.SentCount, s.DeliveredCount, s.ClickCount} {
				if cnt != nil && *cnt < 0 {
					t.Fatalf("negative count %d in %s", *cnt, dumpNormal(b.result))
				}
			}
		}
	})
}
