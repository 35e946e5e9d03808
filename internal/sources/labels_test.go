package sources

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/jpush"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// serveBodies answers each API (path without /v3/ or /v4/) with its body.
func serveBodies(t testing.TB, bodies map[string][]byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies[strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/v3/"), "/v4/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// labelsDropped returns imstats_exporter_labels_dropped_total of source,
// app and label.
func (e *env) labelsDropped(source, app, label string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "imstats_exporter_labels_dropped_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if got["source"] == source && got["app"] == app && got["label"] == label {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestLabelValuesBounded replays vendor answers that decide their own label
// values by the thousand: 60 000 channel keys under
// details.notification.subAndroid of two /messages/detail messages, and
// 5 000 unknown PushPlatform codes in all_member_push_statistics and
// normal_push_statistics. The series stay within limits.max_label_values a
// label (the rest summed into other), the refusals are counted in
// imstats_exporter_labels_dropped_total, and logged once over two refreshes.
func TestLabelValuesBounded(t *testing.T) {
	t.Parallel()
	const channels, codes, max = 60000, 5000, 64
	limits := fmt.Sprintf("limits: {max_label_values: %d, max_response_bytes: 67108864}\n", max)

	t.Run("jpush channels", func(t *testing.T) {
		t.Parallel()
		var b bytes.Buffer
		b.WriteString("[")
		for m, id := range []string{"1613113584", "1229760629"} {
			if m > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"msg_id":%s,"details":{"notification":{"target":9,"sent":9,"received":9,"display":9,"click":1,"subAndroid":{"xiaomi":{"target":1,"sent":1,"received":1,"display":1,"click":0}`, id)
			for i := range channels {
				fmt.Fprintf(&b, `,"ch%05d":{"target":1,"sent":1,"received":1,"display":1,"click":0}`, i)
			}
			b.WriteString("}}}}")
		}
		b.WriteString("]")
		e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
		url := serveBodies(t, map[string][]byte{jpush.APIMessagesDetail: b.Bytes()})
		cfg := e.config(jpushConfig(url, "appkey", "groupkey", "", limits))
		u := e.unit(catalog.SourceJPushMessages, e.jpushApp(cfg, e.set(cfg, catalog.KindJPushMessages, "1613113584", "1229760629")))
		e.mustStep(u, false)
		e.fc.Advance(time.Hour)
		e.mustStep(u, true)

		s := series(t, render(t, u.target))
		// Per message: 5 type totals, xiaomi and the first 64 unknown
		// channels, and other: 66 channels of 5 stages.
		if want := 2 * (5 + 66*5); len(s) != want {
			t.Errorf("%d series, want %d", len(s), want)
		}
		other := `jpush_message_channel_received{app_key="appkey",channel="other",msg_id="1613113584",platform="android",type="notification"}`
		if got := s[other]; got != channels-max {
			t.Errorf("%s = %v, want the %d refused channels summed", other, got, channels-max)
		}
		if got, want := e.labelsDropped(catalog.SourceJPushMessages, "appkey", "channel"), float64(2*2*(channels-max)); got != want {
			t.Errorf("labels dropped %v, want %v (two messages, two refreshes)", got, want)
		}
		if n := e.logs.lines("max_label_values"); n != 1 {
			t.Errorf("logged %d times over two refreshes, want once:\n%s", n, e.logs)
		}
	})

	platforms := func(b *bytes.Buffer, eventType bool) {
		b.WriteString(`"PlatformStatistics":[{"PushPlatform":2,"TotalCount":5,"SentCount":5,"DeliveredCount":5,"ClickCount":1`)
		if eventType {
			b.WriteString(`,"EventType":1`)
		}
		b.WriteString("}")
		for i := range codes {
			fmt.Fprintf(b, `,{"PushPlatform":%d,"TotalCount":1,"SentCount":1,"DeliveredCount":1,"ClickCount":0`, 100+i)
			if eventType {
				b.WriteString(`,"EventType":1`)
			}
			b.WriteString("}")
		}
		b.WriteString("]")
	}
	for _, tc := range []struct {
		name, source, api, family string
		body                      func() []byte
	}{
		{"tencent push", catalog.SourceTencentPush, tencentim.APIPushStatistics, "tencent_im_push_window_platform_delivered", func() []byte {
			var b bytes.Buffer
			b.WriteString(`{"ActionStatus":"OK","ErrorCode":0,"Results":[{"TaskID":"","TotalCount":5005,"SentCount":5005,"DeliveredCount":5005,"ClickCount":1,`)
			platforms(&b, true)
			b.WriteString("}]}")
			return b.Bytes()
		}},
		{"tencent normal push", catalog.SourceTencentNormalPush, tencentim.APINormalPushStatistics, "tencent_im_normal_push_window_platform_delivered", func() []byte {
			var b bytes.Buffer
			b.WriteString(`{"ActionStatus":"OK","ErrorCode":0,"TotalCount":5005,"SentCount":5005,"DeliveredCount":5005,"ClickCount":1,`)
			platforms(&b, false)
			b.WriteString("}")
			return b.Bytes()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
			url := serveBodies(t, map[string][]byte{tc.api: tc.body()})
			cfg := e.config(tencentConfig(url, "", limits))
			u := e.unit(tc.source, e.tencentApp(cfg, e.set(cfg, catalog.KindTencentPush)))
			e.mustStep(u, false)
			e.fc.Advance(time.Hour)
			e.mustStep(u, true)

			s := series(t, render(t, u.target))
			// Per window (the default push.windows has two): xiaomi, the
			// first 64 unknown codes, other.
			perWindow := map[string]int{}
			for k := range s {
				if strings.HasPrefix(k, tc.family+"{") {
					_, w, _ := strings.Cut(k, `window="`)
					w, _, _ = strings.Cut(w, `"`)
					perWindow[w]++
				}
			}
			if len(perWindow) == 0 {
				t.Fatalf("no series of %s", tc.family)
			}
			for w, n := range perWindow {
				if want := 1 + max + 1; n != want {
					t.Errorf("window %s: %d series of %s, want %d", w, n, tc.family, want)
				}
			}
			var other float64
			for k, v := range s {
				if strings.HasPrefix(k, tc.family+"{") && strings.Contains(k, `platform="other"`) {
					other = v
				}
			}
			if other != codes-max {
				t.Errorf("other = %v, want the %d refused codes summed", other, codes-max)
			}
			app := fmt.Sprint(simSDKAppID)
			if got, want := e.labelsDropped(tc.source, app, "platform"), float64(2*(codes-max)); got != want {
				t.Errorf("labels dropped %v, want %v (two refreshes)", got, want)
			}
			if n := e.logs.lines("max_label_values"); n != 1 {
				t.Errorf("logged %d times over two refreshes, want once:\n%s", n, e.logs)
			}
		})
	}
}

// TestRefusedCountsLoggedOnce checks the count rule end to end: a negative,
// a signed-zero and an exponent count of /messages/detail give no series
// (never a fake 0), and the refusal is logged once over two refreshes.
func TestRefusedCountsLoggedOnce(t *testing.T) {
	t.Parallel()
	body := []byte(`[{"msg_id":1613113584,"details":{"notification":{"target":-62,"sent":"-0","received":"1e23","display":7,"click":1}}}]`)
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	url := serveBodies(t, map[string][]byte{jpush.APIMessagesDetail: body})
	cfg := e.config(jpushConfig(url, "appkey", "groupkey", "", ""))
	u := e.unit(catalog.SourceJPushMessages, e.jpushApp(cfg, e.set(cfg, catalog.KindJPushMessages, "1613113584")))
	e.mustStep(u, false)
	e.fc.Advance(time.Hour)
	e.mustStep(u, true)
	s := series(t, render(t, u.target))
	for _, stage := range []string{"target", "sent", "received"} {
		for k := range s {
			if strings.HasPrefix(k, "jpush_message_"+stage+"{") {
				t.Errorf("%s exported from a refused count", k)
			}
		}
	}
	if len(s) != 2 {
		t.Errorf("series %v, want displayed and clicked only", s)
	}
	if n := e.logs.lines("not non-negative integers"); n != 1 {
		t.Errorf("logged %d times over two refreshes, want once:\n%s", n, e.logs)
	}
}
