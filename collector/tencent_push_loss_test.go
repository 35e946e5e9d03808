package collector

import (
	"strconv"
	"strings"
	"testing"

	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// lossValues returns the samples as "family{label values} value" lines for
// lookups.
func lossValues(samples []expo.Sample) map[string]float64 {
	out := map[string]float64{}
	for _, s := range samples {
		out[s.Family.Name+"{"+strings.Join(s.Labels, ",")+"}"] += s.Value
	}
	return out
}

func TestLossCodesCapped(t *testing.T) {
	t.Parallel()
	var r tencentim.LossReport
	var total float64
	for i := 1; i <= 2000; i++ {
		r.NotDelivered = append(r.NotDelivered, tencentim.LossEntry{Code: strconv.Itoa(i), Count: int64(i), Info: "reason " + strconv.Itoa(i)})
		total += float64(i)
	}
	reasons := LossReasons{}
	got := PushTaskLossSamples("1", r, true, reasons, nil)
	if len(got) != MaxLossCodes+1 {
		t.Fatalf("%d series from 2000 codes, want %d", len(got), MaxLossCodes+1)
	}
	v := lossValues(got)
	var sum float64
	for _, x := range v {
		sum += x
	}
	if sum != total {
		t.Errorf("series sum to %v, want every loss counted once, %v", sum, total)
	}
	// The largest codes keep their series; the rest are in "other".
	if v["tencent_im_push_task_loss{1,,not_delivered,2000}"] != 2000 || v["tencent_im_push_task_loss{1,,not_delivered,1981}"] != 1981 {
		t.Errorf("largest codes missing: %v", v)
	}
	if _, ok := v["tencent_im_push_task_loss{1,,not_delivered,1980}"]; ok {
		t.Errorf("code 1980 has a series beyond the cap")
	}
	if want := float64(1980 * 1981 / 2); v["tencent_im_push_task_loss{1,,not_delivered,other}"] != want {
		t.Errorf("other = %v, want %v", v["tencent_im_push_task_loss{1,,not_delivered,other}"], want)
	}
	if len(reasons) != MaxLossCodes || reasons["1980"] != "" || reasons["2000"] != "reason 2000" {
		t.Errorf("reasons %v: want the text of the %d codes with a series only", reasons, MaxLossCodes)
	}
}

// TestLossLabelLimit checks the bounds under a source's LabelLimit
// (limits.max_label_values): unknown channels beyond it and codes beyond it
// in a channel are summed into other and counted as refused.
func TestLossLabelLimit(t *testing.T) {
	t.Parallel()
	var r tencentim.LossReport
	for p := range 40 {
		for c := range 30 {
			r.PlatformNotSent = append(r.PlatformNotSent, tencentim.LossEntry{EventType: 1 + p%3, PushPlatform: p, Code: strconv.Itoa(c), Count: int64(1 + p)})
		}
	}
	lim := NewLabelLimit(5)
	got := PushTaskLossSamples("1", r, true, nil, lim)
	platforms, events, codes := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, s := range got {
		events[s.Labels[3]] = true
		platforms[s.Labels[4]] = true
		codes[s.Labels[5]] = true
	}
	// 9 documented platforms, 5 others admitted, the rest in other.
	if len(platforms) != 9+5+1 || !platforms["other"] || !platforms["huawei"] {
		t.Errorf("%d platforms %v, want the 9 documented, 5 more and other", len(platforms), platforms)
	}
	if len(events) != 3 || !events["offline"] || !events["online"] || !events["code_3"] {
		t.Errorf("event types %v", events)
	}
	if len(codes) != 5+1 || !codes["other"] {
		t.Errorf("%d codes %v, want 5 and other", len(codes), codes)
	}
	if max := 3 * (9 + 5 + 1) * (5 + 1); len(got) > max {
		t.Errorf("%d series, want at most %d", len(got), max)
	}
	refused := lim.Take()
	if refused[LimitPlatform] == 0 || refused[LimitCode] == 0 {
		t.Errorf("refused %v, want platforms and codes counted", refused)
	}
	if got := PushTaskLossSamples("1", r, false, nil, lim); len(got) != 0 {
		t.Errorf("%d series without channel detail and without totals, want none", len(got))
	}
}

func TestLossDuplicatesAndOther(t *testing.T) {
	t.Parallel()
	r := tencentim.LossReport{
		NotSent: []tencentim.LossEntry{
			{Code: "-1", Count: 5, Info: ""},
			{Code: "-1", Count: 7, Info: "Certificate id not set"},
			{Code: "other", Count: 3, Info: "vendor's own other"},
		},
		PlatformNotDelivered: []tencentim.LossEntry{
			{EventType: 1, PushPlatform: 3, Code: "410", Count: 1},
			{EventType: 1, PushPlatform: 3, Code: "410", Count: 2},
			{EventType: 7, PushPlatform: 99, Code: "1", Count: 4},
		},
	}
	reasons := LossReasons{}
	v := lossValues(PushWindowLossSamples("1", "24h", []tencentim.LossReport{{TaskID: "t"}, r}, reasons, nil))
	want := map[string]float64{
		"tencent_im_push_window_loss{1,24h,not_sent,-1}":                               12,
		"tencent_im_push_window_loss{1,24h,not_sent,other}":                            3,
		"tencent_im_push_window_platform_loss{1,24h,not_delivered,offline,huawei,410}": 3,
		"tencent_im_push_window_platform_loss{1,24h,not_delivered,code_7,code_99,1}":   4,
	}
	if len(v) != len(want) {
		t.Errorf("series %v, want %v", v, want)
	}
	for k, x := range want {
		if v[k] != x {
			t.Errorf("%s = %v, want %v", k, v[k], x)
		}
	}
	if len(reasons) != 1 || reasons["-1"] != "Certificate id not set" {
		t.Errorf("reasons %v, want the one non-empty text", reasons)
	}
	if got := PushWindowLossSamples("1", "24h", []tencentim.LossReport{{TaskID: "t"}}, nil, nil); got != nil {
		t.Errorf("%d series from an answer without the overall result", len(got))
	}
}

func TestLossReasonsBounded(t *testing.T) {
	t.Parallel()
	reasons := LossReasons{}
	for i := range 50 {
		var r tencentim.LossReport
		for c := range 10 {
			r.NotSent = append(r.NotSent, tencentim.LossEntry{Code: strconv.Itoa(i*10 + c), Count: 1, Info: "x"})
		}
		PushTaskLossSamples("1", r, false, reasons, nil)
	}
	if got := len(LossReasonSamples("1", reasons)); got != MaxLossReasons {
		t.Errorf("%d reason series, want the cap %d", got, MaxLossReasons)
	}
}

func TestSanitizeLossReason(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 100) // 200 bytes
	for _, tc := range []struct{ in, want string }{
		{"Certificate id not set", "Certificate id not set"},
		{"  token\tnot\n\nuploaded \u202e ", "token not uploaded"},
		{"没有设置证书id", "没有设置证书id"},
		{"bad\xffutf8", "badutf8"},
		{"\x00\x01", ""},
		{long, strings.Repeat("é", MaxLossReasonBytes/2)},
		{strings.Repeat("a", 127) + " b", strings.Repeat("a", 127)},
	} {
		if got := SanitizeLossReason(tc.in); got != tc.want {
			t.Errorf("SanitizeLossReason(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
