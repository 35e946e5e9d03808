package collector

import (
	"slices"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/tencentim"
)

func shanghai(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestLatestOperationsDayIsComplete(t *testing.T) {
	t.Parallel()
	loc := shanghai(t)
	rows := []tencentim.AppInfoRow{
		{"Date": "20261129", "ActiveUserNum": "1"},
		{"Date": "20261201", "ActiveUserNum": "3"}, // today in Shanghai: still running
		{"Date": "20261130", "ActiveUserNum": "2"},
		{"Date": "2026-11-30", "ActiveUserNum": "9"},
		{"Date": "20261202", "ActiveUserNum": "4"}, // a day not yet begun
	}
	for _, tc := range []struct {
		name string
		now  time.Time
		want string
	}{
		{"today's row is skipped", time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC), "20261130"},
		{"Shanghai's day starts at 16:00 UTC", time.Date(2026, 11, 30, 16, 30, 0, 0, time.UTC), "20261130"},
		{"before it, 20261130 is still running", time.Date(2026, 11, 30, 15, 30, 0, 0, time.UTC), "20261129"},
		{"everything ended", time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), "20261202"},
	} {
		row, day, ok := LatestOperationsDay(rows, tc.now, loc)
		if !ok || row["Date"] != tc.want || day.Format("20060102") != tc.want {
			t.Errorf("%s: row %v day %v ok %v, want %s", tc.name, row, day, ok, tc.want)
		}
	}
	if _, _, ok := LatestOperationsDay(rows[1:2], time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC), loc); ok {
		t.Error("only today's row: want no complete day")
	}
}

// TestOperationsCountRule checks that getappinfo values follow the one count
// rule (package count): a negative, signed-zero, fractional or exponent value
// gives no series and is reported as bad, never exported as a number.
func TestOperationsCountRule(t *testing.T) {
	t.Parallel()
	row := tencentim.AppInfoRow{
		"Date": "20240301", "MaxOnlineNum": "-62", "LoginTimes": "-0", "UpMsgNum": "1e23",
		"DownMsgNum": "2.5", "ActiveUserNum": "7", "NewField": "-3",
	}
	samples, bad := operationsMetrics(row, "1400000000", nil)
	if len(samples) != 1 || samples[0].Family.Name != "tencent_im_active_users" || samples[0].Value != 7 {
		t.Errorf("samples = %v, want only tencent_im_active_users 7", samples)
	}
	if want := []string{"DownMsgNum", "LoginTimes", "MaxOnlineNum", "UpMsgNum"}; !slices.Equal(bad, want) {
		t.Errorf("bad = %v, want %v", bad, want)
	}
}
