package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/collector"
	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
	"github.com/imstats/imstats_exporter/internal/jpush"
	"github.com/imstats/imstats_exporter/internal/simulator"
)

// The simulated accounts of the backfill tests. The secrets only open the
// simulators.
const (
	bfTimKey       = "backfill-e2e-tencent-secret-key"
	bfVIPAppKey    = "b1a2c3k4f5i6l7l8v9i0p001"
	bfFreeAppKey   = "b1a2c3k4f5i6l7l8f9r0e001"
	bfGroupKey     = "b1a2c3k4f5i6l7l8g9r0p001"
	bfMasterSecret = "backfill-e2e-master-secret"
	bfGroupSecret  = "backfill-e2e-group-secret"
)

var bfSDKAppIDs = []uint64{1400000001, 1400000002}

// beijing is the exporter's default timezone (Asia/Shanghai), the one the
// simulators use.
var beijing = time.FixedZone("Asia/Shanghai", 8*60*60)

// bfVendors serves both simulators on loopback, frozen at now, and returns
// them with their base URL.
func bfVendors(t *testing.T, now time.Time) (*simulator.Tencent, string) {
	t.Helper()
	c := clocktest.NewFake(now)
	var apps []simulator.TencentApp
	for _, id := range bfSDKAppIDs {
		apps = append(apps, simulator.TencentApp{SDKAppID: id, Identifier: "admin", SecretKey: bfTimKey})
	}
	tim := simulator.NewTencent(simulator.TencentOptions{Apps: apps, Clock: c, Seed: 11})
	jp := simulator.NewJPush(simulator.JPushOptions{
		Apps:   []simulator.JPushApp{{AppKey: bfVIPAppKey, MasterSecret: bfMasterSecret, VIP: true}, {AppKey: bfFreeAppKey, MasterSecret: bfMasterSecret}},
		Groups: []simulator.JPushGroup{{GroupKey: bfGroupKey, GroupSecret: bfGroupSecret, VIP: true}},
		Clock:  c,
		Seed:   11,
	})
	mux := http.NewServeMux()
	mux.Handle("/v4/", tim)
	mux.Handle("/v3/", jp)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return tim, srv.URL
}

// bfFrozenNow returns the time to freeze the simulators at. The binary
// decides which day is yesterday on its own clock, so a run must not straddle
// midnight in Beijing: within a minute of it, wait until it has passed.
func bfFrozenNow() time.Time {
	now := time.Now().In(beijing)
	y, m, d := now.Date()
	if left := time.Date(y, m, d+1, 0, 0, 0, 0, beijing).Sub(now); left < time.Minute {
		time.Sleep(left)
	}
	return time.Now()
}

// runBackfillBinary runs `imstats_exporter backfill` on the configuration and
// returns its exit status, its standard error and the path of its output.
func runBackfillBinary(t *testing.T, dir, config string) (int, string, string) {
	t.Helper()
	cfgPath, out := filepath.Join(dir, "exporter.yml"), filepath.Join(dir, "backfill.om")
	writeFile(t, cfgPath, config)
	// A sample every 6 hours keeps the blocks small; the default is 4m.
	cmd := exec.Command(binary, "backfill", "--config.file="+cfgPath, "--output="+out, "--step=6h", "--label=job=imstats")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{bfTimKey, bfMasterSecret, bfGroupSecret, "usersig", "Basic "} {
		if strings.Contains(stderr.String(), secret) {
			t.Errorf("the backfill's standard error contains %q", secret)
		}
	}
	return code, stderr.String(), out
}

// sampleAt is a sample of the blocks: the series as promtool tsdb dump prints
// it and the time in milliseconds.
type sampleAt struct {
	series string
	ms     int64
}

// dumpLine is a line of promtool 2.42's tsdb dump: labels, value, timestamp
// in milliseconds.
var dumpLine = regexp.MustCompile(`^(\{.*\}) (\S+) (-?\d+)$`)

// importBlocks turns an OpenMetrics file into TSDB blocks with Debian's
// promtool, as docs/backfill.md tells users to, and reads every sample back with
// promtool tsdb dump. A missing promtool fails the test.
func importBlocks(t *testing.T, file string) map[sampleAt]float64 {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "blocks")
	if out, err := exec.Command("promtool", "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=720h", file, dir).CombinedOutput(); err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
	// tsdb dump opens the directory as a database, which needs a WAL
	// directory; create-blocks-from writes none.
	if err := os.Mkdir(filepath.Join(dir, "wal"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("promtool", "tsdb", "dump", dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("promtool tsdb dump: %v\n%s", err, stderr.String())
	}
	samples := map[sampleAt]float64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		m := dumpLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("unexpected tsdb dump line %q", line)
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatalf("tsdb dump line %q: %v", line, err)
		}
		ms, _ := strconv.ParseInt(m[3], 10, 64) // the pattern admits only integers
		samples[sampleAt{m[1], ms}] = v
	}
	return samples
}

// series renders a series as tsdb dump prints it, with the job label the
// tests ask the backfill to add; labels are name, value pairs in name order
// (before "job" in the alphabet, as all the exporter's are but "platform").
func series(name string, labels ...string) string {
	var b strings.Builder
	b.WriteString(`{__name__=` + strconv.Quote(name))
	job := false
	for i := 0; i+1 < len(labels); i += 2 {
		if !job && labels[i] > "job" {
			b.WriteString(`, job="imstats"`)
			job = true
		}
		b.WriteString(", " + labels[i] + "=" + strconv.Quote(labels[i+1]))
	}
	if !job {
		b.WriteString(`, job="imstats"`)
	}
	return b.String() + "}"
}

// bfStep is the --step the tests give the backfill.
const bfStep = 6 * time.Hour

// servedAt returns the times the backfill writes a day's figures at: every
// bfStep through the day after it, when the live exporter would have served
// them.
func servedAt(day time.Time) []int64 {
	var ms []int64
	for t := day.AddDate(0, 0, 1); t.Before(day.AddDate(0, 0, 2)); t = t.Add(bfStep) {
		ms = append(ms, t.UnixMilli())
	}
	return ms
}

// wantOperations adds what the backfill must write for a Tencent app: every
// field of every getappinfo row through the day after the row's, the day
// timestamp and the app info, except yesterday's row, which the live exporter
// serves today.
func wantOperations(t *testing.T, want map[sampleAt]float64, sdkappid string, rows []map[string]string, today time.Time) {
	t.Helper()
	for _, row := range rows {
		day, err := time.ParseInLocation("20060102", row["Date"], beijing)
		if err != nil {
			t.Fatal(err)
		}
		if !day.AddDate(0, 0, 1).Before(today) {
			continue
		}
		for _, ms := range servedAt(day) {
			for _, f := range collector.OperationsFields {
				v, err := strconv.ParseFloat(row[f.Field], 64)
				if err != nil {
					t.Fatalf("simulator row %s: %s=%q", row["Date"], f.Field, row[f.Field])
				}
				want[sampleAt{series("tencent_im_"+f.Name, "sdkappid", sdkappid), ms}] = v
			}
			want[sampleAt{series("tencent_im_operations_day_timestamp_seconds", "sdkappid", sdkappid), ms}] = float64(day.Unix())
			want[sampleAt{series("tencent_im_app_info", "app_name", row["AppName"], "company", row["Company"], "sdkappid", sdkappid), ms}] = 1
		}
	}
}

// wantUsers adds what the backfill must write for a JPush app or group: the
// users counts the simulator answers for the days days up to yesterday,
// except yesterday's (served live today), each through the day after it.
func wantUsers(t *testing.T, want map[sampleAt]float64, prefix, keyLabel, key string, users func(context.Context, time.Time, int) ([]jpush.UsersDay, error), yesterday time.Time, days int) {
	t.Helper()
	got, err := users(context.Background(), yesterday.AddDate(0, 0, 1-days), days)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != days {
		t.Fatalf("the simulator answered %d days of %susers, want %d", len(got), prefix, days)
	}
	for _, d := range got {
		day, err := time.ParseInLocation(time.DateOnly, d.Day, beijing)
		if err != nil {
			t.Fatal(err)
		}
		if day.Equal(yesterday) {
			continue
		}
		for _, ms := range servedAt(day) {
			for platform, c := range d.Platforms {
				for stage, n := range map[string]jpush.Count{"new": c.New, "online": c.Online, "active": c.Active} {
					want[sampleAt{series(prefix+"users_"+stage, keyLabel, key, "platform", platform), ms}] = float64(*n)
				}
			}
			want[sampleAt{series(prefix+"users_day_timestamp_seconds", keyLabel, key), ms}] = float64(day.Unix())
		}
	}
}

// compareSamples reports every sample missing, different or unexpected.
func compareSamples(t *testing.T, got, want map[sampleAt]float64) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("missing %s at %s", k.series, time.UnixMilli(k.ms).In(beijing).Format(time.DateOnly))
		} else if g != w {
			t.Errorf("%s at %s = %v, want %v", k.series, time.UnixMilli(k.ms).In(beijing).Format(time.DateOnly), g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %s at %s", k.series, time.UnixMilli(k.ms).In(beijing).Format(time.DateOnly))
		}
	}
}

func TestBackfill(t *testing.T) {
	t.Parallel()
	now := bfFrozenNow()
	tim, url := bfVendors(t, now)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tim.key"), bfTimKey+"\n")
	config := strings.NewReplacer("URL", url, "VIP", bfVIPAppKey, "MASTER", bfMasterSecret, "GROUPKEY", bfGroupKey, "GROUPSECRET", bfGroupSecret).Replace(`
tencent_im:
  - sdkappid: 1400000001
    secret_key_file: tim.key
    endpoint: URL
  - sdkappid: 1400000002
    secret_key_file: tim.key
    endpoint: URL
jpush:
  - app_key: VIP
    master_secret: MASTER
    endpoint: URL
jpush_groups:
  - group_key: GROUPKEY
    group_secret: GROUPSECRET
    endpoint: URL
`)
	code, stderr, out := runBackfillBinary(t, dir, config)
	if code != 0 {
		t.Fatalf("backfill exited %d:\n%s", code, stderr)
	}
	for _, line := range []string{
		"tencent_operations for sdkappid 1400000001: done, 29 days",
		"tencent_operations for sdkappid 1400000002: done, 29 days",
		"jpush_users for app_key " + bfVIPAppKey + ": done, 59 days",
		"jpush_group_users for group_key " + bfGroupKey + ": done, 29 days",
	} {
		if !strings.Contains(stderr, line) {
			t.Errorf("no progress line %q in:\n%s", line, stderr)
		}
	}

	y, m, d := now.In(beijing).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, beijing)
	yesterday := today.AddDate(0, 0, -1)
	want := map[sampleAt]float64{}
	for _, id := range bfSDKAppIDs {
		wantOperations(t, want, strconv.FormatUint(id, 10), tim.AppInfo(id), today)
	}
	app := jpush.New(jpush.Options{Username: bfVIPAppKey, Password: bfMasterSecret, BaseURL: url})
	wantUsers(t, want, "jpush_", "app_key", bfVIPAppKey, app.Users, yesterday, jpush.MaxUsersDays)
	group := jpush.New(jpush.Options{Username: "group-" + bfGroupKey, Password: bfGroupSecret, BaseURL: url})
	wantUsers(t, want, "jpush_group_", "group_key", bfGroupKey, group.GroupUsers, yesterday, jpush.MaxGroupUsersDays)
	compareSamples(t, importBlocks(t, out), want)
}

func TestBackfillFailingApp(t *testing.T) {
	t.Parallel()
	now := bfFrozenNow()
	tim, url := bfVendors(t, now)
	dir := t.TempDir()
	config := strings.NewReplacer("URL", url, "KEY", bfTimKey, "FREE", bfFreeAppKey, "MASTER", bfMasterSecret).Replace(`
tencent_im:
  - sdkappid: 1400000001
    secret_key: KEY
    endpoint: URL
jpush:
  - app_key: FREE
    master_secret: MASTER
    endpoint: URL
`)
	code, stderr, out := runBackfillBinary(t, dir, config)
	if code != 1 {
		t.Errorf("backfill exited %d, want 1", code)
	}
	for _, line := range []string{
		"jpush_users for app_key " + bfFreeAppKey + ": failed: not available to this account (2003)\n",
		"backfill: 1 of 2 backfills failed: jpush_users for app_key " + bfFreeAppKey + "\n",
		"tencent_operations for sdkappid 1400000001: done, 29 days",
	} {
		if !strings.Contains(stderr, line) {
			t.Errorf("no line %q in:\n%s", line, stderr)
		}
	}
	// The app that worked is written all the same.
	want := map[sampleAt]float64{}
	y, m, d := now.In(beijing).Date()
	wantOperations(t, want, "1400000001", tim.AppInfo(1400000001), time.Date(y, m, d, 0, 0, 0, 0, beijing))
	compareSamples(t, importBlocks(t, out), want)
}

// TestBackfillTwoDaysOfGetAppInfo runs the backfill against a vendor fake
// answering getappinfo with two days: the sample of Tencent Chat's REST API
// page "Pulling Operations Data" and a second, shorter row, as
// collector/testdata/getappinfo.json holds them.
func TestBackfillTwoDaysOfGetAppInfo(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("collector/testdata/getappinfo.json")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v4/openconfigsvr/getappinfo", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	fake := httptest.NewServer(mux)
	t.Cleanup(fake.Close)
	code, stderr, out := runBackfillBinary(t, t.TempDir(), fmt.Sprintf("tencent_im:\n  - sdkappid: 1104620500\n    secret_key: %s\n    endpoint: %s\n", bfTimKey, fake.URL))
	if code != 0 {
		t.Fatalf("backfill exited %d:\n%s", code, stderr)
	}
	if want := "tencent_operations for sdkappid 1104620500: done, 2 days (2016-06-06 to 2016-06-07)"; !strings.Contains(stderr, want) {
		t.Errorf("no progress line %q in:\n%s", want, stderr)
	}
	got := importBlocks(t, out)
	// Each day's figures are written through the day after it, first at its
	// start.
	jun6, jun7 := time.Date(2016, 6, 6, 0, 0, 0, 0, beijing), time.Date(2016, 6, 7, 0, 0, 0, 0, beijing)
	at6, at7 := servedAt(jun6)[0], servedAt(jun7)[0]
	id := "1104620500"
	info := series("tencent_im_app_info", "app_name", "Real-Time Communication Scenario Developer edition", "company", "Linye", "sdkappid", id)
	for _, tc := range []struct {
		at   sampleAt
		want float64
	}{
		{sampleAt{series("tencent_im_active_users", "sdkappid", id), at6}, 1999},
		{sampleAt{series("tencent_im_active_users", "sdkappid", id), at7}, 2014},
		{sampleAt{series("tencent_im_relationship_chain_increase", "sdkappid", id), at6}, 8},
		{sampleAt{series("tencent_im_relationship_chain_increase", "sdkappid", id), at7}, 18},
		{sampleAt{series("tencent_im_callback_responses", "sdkappid", id), at7}, 72902},
		{sampleAt{series("tencent_im_operations_field", "field", "VideoCallMinutes", "sdkappid", id), at7}, 311},
		{sampleAt{series("tencent_im_operations_day_timestamp_seconds", "sdkappid", id), at6}, float64(jun6.Unix())},
		{sampleAt{series("tencent_im_operations_day_timestamp_seconds", "sdkappid", id), at7}, float64(jun7.Unix())},
		{sampleAt{info, at6}, 1},
		{sampleAt{info, at7}, 1},
	} {
		if v, ok := got[tc.at]; !ok || v != tc.want {
			t.Errorf("%s at %d: %v (present %v), want %v", tc.at.series, tc.at.ms, v, ok, tc.want)
		}
	}
	// June 7: 28 fields, VideoCallMinutes, the day and the app info; June 6:
	// its 3 fields, the day and the app info. Region ("sgp") is no number.
	// Four samples each (every 6 hours).
	if len(got) != (31+5)*4 {
		t.Errorf("%d samples in the blocks, want 144", len(got))
	}
}
