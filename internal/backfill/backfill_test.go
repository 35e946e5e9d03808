package backfill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/simulator"
)

// The simulated accounts. The secrets only open the simulator.
const (
	sdkappid     = 1400000001
	timKey       = "backfill-test-tencent-secret-key"
	vipAppKey    = "a1b2c3d4e5f6a7b8c9d0e1f2"
	freeAppKey   = "f0e1d2c3b4a5f6e7d8c9b0a1"
	groupKey     = "9a8b7c6d5e4f3a2b1c0d9e8f"
	masterSecret = "backfill-test-master-secret"
	groupSecret  = "backfill-test-group-secret"
)

var shanghai = time.FixedZone("Asia/Shanghai", 8*60*60)

// vendors serves both simulators, with data from seed 1 and time from c, on
// loopback, and returns their base URL.
func vendors(t *testing.T, c clock.Clock) string {
	t.Helper()
	tim := simulator.NewTencent(simulator.TencentOptions{
		Apps:  []simulator.TencentApp{{SDKAppID: sdkappid, Identifier: "admin", SecretKey: timKey}},
		Clock: c,
		Seed:  1,
	})
	jp := simulator.NewJPush(simulator.JPushOptions{
		Apps:   []simulator.JPushApp{{AppKey: vipAppKey, MasterSecret: masterSecret, VIP: true}, {AppKey: freeAppKey, MasterSecret: masterSecret}},
		Groups: []simulator.JPushGroup{{GroupKey: groupKey, GroupSecret: groupSecret, VIP: true}},
		Clock:  c,
		Seed:   1,
	})
	mux := http.NewServeMux()
	mux.Handle("/v4/", tim)
	mux.Handle("/v3/", jp)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// sampleLine is a sample of the output: series, value, timestamp in seconds.
var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*\{.*\}) (\S+) (\S+)$`)

// timestamps returns the sample timestamps of every series in out, in the
// order written. It fails the test if a series' samples are not together.
func timestamps(t *testing.T, out string) map[string][]time.Time {
	t.Helper()
	series := map[string][]time.Time{}
	var prev string
	for _, line := range strings.Split(out, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("not a sample with a timestamp: %q", line)
		}
		ts, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("timestamp of %q: %v", line, err)
		}
		if _, seen := series[m[1]]; seen && m[1] != prev {
			t.Errorf("the samples of %s are not together", m[1])
		}
		prev = m[1]
		series[m[1]] = append(series[m[1]], time.Unix(int64(ts), 0))
	}
	return series
}

func TestRun(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, shanghai)
	today := time.Date(2026, 11, 21, 0, 0, 0, 0, shanghai)
	const step = 6 * time.Hour
	c := clocktest.NewFake(now)
	url := vendors(t, c)
	apps := strings.NewReplacer("URL", url, "TIMKEY", timKey, "VIP", vipAppKey, "FREE", freeAppKey, "MASTER", masterSecret, "GROUPKEY", groupKey, "GROUPSECRET", groupSecret).Replace(`
tencent_im:
  - sdkappid: 1400000001
    secret_key: TIMKEY
    endpoint: URL
jpush:
  - app_key: VIP
    master_secret: MASTER
    endpoint: URL
  - app_key: FREE
    master_secret: MASTER
    endpoint: URL
jpush_groups:
  - group_key: GROUPKEY
    group_secret: GROUPSECRET
    endpoint: URL
`)
	for _, tc := range []struct {
		name     string
		sources  string
		progress []string
		err      string
		// families are the prefixes of every family written.
		families []string
		// samples are the samples written per series, by a series of each
		// source: four a day (every 6 hours).
		samples map[string]int
	}{
		{
			name: "every source, one app failing",
			progress: []string{
				"tencent_operations for sdkappid 1400000001: done, 29 days (2026-10-22 to 2026-11-19)",
				"jpush_users for app_key " + vipAppKey + ": done, 59 days (2026-09-22 to 2026-11-19)",
				"jpush_users for app_key " + freeAppKey + ": failed: not available to this account (2003)",
				"jpush_group_users for group_key " + groupKey + ": done, 29 days (2026-10-22 to 2026-11-19)",
			},
			err:      "1 of 4 backfills failed: jpush_users for app_key " + freeAppKey,
			families: []string{"tencent_im_", "jpush_users_", "jpush_group_users_"},
			samples: map[string]int{
				`tencent_im_active_users{sdkappid="1400000001"}`:                        29 * 4,
				`tencent_im_operations_day_timestamp_seconds{sdkappid="1400000001"}`:    29 * 4,
				`jpush_users_active{app_key="` + vipAppKey + `",platform="android"}`:    59 * 4,
				`jpush_users_day_timestamp_seconds{app_key="` + vipAppKey + `"}`:        59 * 4,
				`jpush_group_users_new{group_key="` + groupKey + `",platform="ios"}`:    29 * 4,
				`jpush_group_users_day_timestamp_seconds{group_key="` + groupKey + `"}`: 29 * 4,
			},
		},
		{
			name:    "sources turned off are skipped",
			sources: "sources:\n  tencent_operations: false\n  jpush_group_users: false\n",
			progress: []string{
				"jpush_users for app_key " + vipAppKey + ": done, 59 days (2026-09-22 to 2026-11-19)",
				"jpush_users for app_key " + freeAppKey + ": failed: not available to this account (2003)",
			},
			err:      "1 of 2 backfills failed: jpush_users for app_key " + freeAppKey,
			families: []string{"jpush_users_"},
			samples: map[string]int{
				`jpush_users_online{app_key="` + vipAppKey + `",platform="ios"}`: 59 * 4,
			},
		},
		{
			name:    "nothing to backfill: no output",
			sources: "sources:\n  tencent_operations: false\n  jpush_users: false\n  jpush_group_users: false\n",
			err:     "nothing to backfill: no app with tencent_operations, jpush_users or jpush_group_users turned on",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(apps+tc.sources), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			var out, progress strings.Builder
			err = Run(context.Background(), cfg, Options{Out: &out, Progress: &progress, Clock: c, Step: step})
			if err == nil || err.Error() != tc.err {
				t.Errorf("Run: %v, want %q", err, tc.err)
			}
			var want string
			for _, line := range tc.progress {
				want += line + "\n"
			}
			if progress.String() != want {
				t.Errorf("progress:\n%s\nwant:\n%s", progress.String(), want)
			}
			if len(tc.progress) == 0 && out.Len() != 0 {
				t.Errorf("output with nothing to backfill: %q", out.String())
			}
			if len(tc.progress) > 0 && !strings.HasSuffix(out.String(), "\n# EOF\n") {
				t.Error("the output does not end with # EOF")
			}
			series := timestamps(t, out.String())
			for name, want := range tc.samples {
				if got := len(series[name]); got != want {
					t.Errorf("%s: %d samples, want %d", name, got, want)
				}
			}
			for name, times := range series {
				if !slices.ContainsFunc(tc.families, func(p string) bool { return strings.HasPrefix(name, p) }) {
					t.Errorf("%s written; want only families starting with %q", name, tc.families)
				}
				for i, ts := range times {
					if ts.Sub(startOfDay(ts, shanghai))%step != 0 || !ts.Before(today) {
						t.Fatalf("%s: sample at %v, want every %v of a day before today", name, ts, step)
					}
					if i > 0 && !ts.After(times[i-1]) {
						t.Fatalf("%s: sample at %v after one at %v", name, ts, times[i-1])
					}
				}
				// Yesterday's figures are served live today: the history
				// ends at today's midnight.
				if last := times[len(times)-1]; !last.Equal(today.Add(-step)) {
					t.Errorf("%s: last sample at %v, want %v", name, last, today.Add(-step))
				}
			}
			for _, secret := range []string{timKey, masterSecret, groupSecret, "usersig"} {
				if strings.Contains(out.String()+progress.String()+fmt.Sprint(err), secret) {
					t.Errorf("the output, progress or error contains %q", secret)
				}
			}
		})
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	c := clocktest.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, shanghai))
	cfg, err := config.Parse(fmt.Appendf(nil, "jpush:\n  - app_key: %s\n    master_secret: %s\n    endpoint: %s\n", vipAppKey, masterSecret, vendors(t, c)), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out strings.Builder
	if err := Run(ctx, cfg, Options{Out: &out, Clock: c}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	if out.Len() != 0 {
		t.Errorf("a cancelled run wrote %q", out.String())
	}
}

func TestComplete(t *testing.T) {
	t.Parallel()
	today := time.Date(2026, 11, 21, 0, 0, 0, 0, shanghai)
	answer := expo.NewFamily("answer", "Which answer.")
	// d is a day daysAgo days before today; its metric tells two answers for
	// the same day apart.
	d := func(daysAgo int) day {
		return day{today.AddDate(0, 0, -daysAgo), []expo.Sample{answer.Gauge(0)}}
	}
	tomorrow, today0, day1, day2, day3, day3again, day4 := d(-1), d(0), d(1), d(2), d(3), d(3), d(4)
	for _, tc := range []struct {
		name string
		days []day
		from time.Time
		want []day
	}{
		{"oldest first", []day{day2, day4, day3}, time.Time{}, []day{day4, day3, day2}},
		{"yesterday dropped: the exporter serves it live today", []day{day1, day2}, time.Time{}, []day{day2}},
		{"today's partial day dropped", []day{today0, day2}, time.Time{}, []day{day2}},
		{"a day after today dropped", []day{tomorrow, day2}, time.Time{}, []day{day2}},
		{"a day before the window dropped", []day{day3, day2}, day2.start, []day{day2}},
		{"of two answers for a day the first kept", []day{day3, day2, day3again}, time.Time{}, []day{day3, day2}},
		{"nothing", nil, time.Time{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := complete(slices.Clone(tc.days), tc.from, today)
			if len(got) != len(tc.want) {
				t.Fatalf("%d days, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if &got[i].metrics[0] != &tc.want[i].metrics[0] {
					t.Errorf("day %d: %v, want the answer for %v", i, got[i].start, tc.want[i].start)
				}
			}
		})
	}
}

func TestReason(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&apierr.Error{Vendor: "jpush", API: "users", Class: apierr.Unavailable, Code: "2003", HTTPStatus: 403}, "not available to this account (2003)"},
		{&apierr.Error{Vendor: "tencent_im", API: "openconfigsvr/getappinfo", Class: apierr.Unavailable, Code: "60010"}, "not available to this account (60010)"},
		{&apierr.Error{Vendor: "jpush", API: "users", Class: apierr.Auth, Code: "3001", HTTPStatus: 401}, "credentials rejected (3001)"},
		{&apierr.Error{Vendor: "tencent_im", API: "openconfigsvr/getappinfo", Class: apierr.WrongRegion, Code: "70020"}, "the app lives in another region than the configured one (70020)"},
		{&apierr.Error{Vendor: "jpush", API: "users", Class: apierr.RateLimited, Code: "2002", HTTPStatus: 429}, "rate limited by the vendor (2002); run the backfill again later"},
		{&apierr.Error{Vendor: "jpush", API: "users", Class: apierr.Transient, Code: "500", HTTPStatus: 500, Message: "HTTP 500 Internal Server Error"}, "jpush users: HTTP 500 Internal Server Error (code 500)"},
		{fmt.Errorf("wrapped: %w", &apierr.Error{Vendor: "jpush", API: "users", Class: apierr.Unavailable, Code: "2003"}), "not available to this account (2003)"},
		{errors.New("connection refused"), "connection refused"},
	} {
		if got := reason(tc.err); got != tc.want {
			t.Errorf("reason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestRunAddsLabels(t *testing.T) {
	t.Parallel()
	c := clocktest.NewFake(time.Date(2026, 11, 21, 10, 0, 0, 0, shanghai))
	cfg, err := config.Parse(fmt.Appendf(nil, "jpush:\n  - app_key: %s\n    master_secret: %s\n    endpoint: %s\n", vipAppKey, masterSecret, vendors(t, c)), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	labels := map[string]string{"job": "imstats", "instance": "exporter-1:9787"}
	if err := Run(context.Background(), cfg, Options{Out: &out, Clock: c, Step: 12 * time.Hour, Labels: labels}); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") && !strings.Contains(line, `instance="exporter-1:9787",job="imstats"`) {
			t.Fatalf("a sample without the extra labels: %s", line)
		}
	}
	for _, bad := range []map[string]string{{"__name__": "x"}, {"1job": "x"}, {"app_key": "clash"}} {
		if err := Run(context.Background(), cfg, Options{Out: io.Discard, Clock: c, Labels: bad}); err == nil {
			t.Errorf("labels %v accepted", bad)
		}
	}
}
