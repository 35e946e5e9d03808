package tencentim

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/apierr"
)

// sampleLoss is the loss report of the vendor's documented sample (All/Tagged
// Users Push Loss Analysis), with eventType on the per-channel entries (0 for
// normal_push_loss, which reports none).
func sampleLoss(taskID string, eventType int) LossReport {
	return LossReport{
		TaskID: taskID,
		NotSent: []LossEntry{
			{Code: "-1", Count: 167, Info: "Certificate id not set"},
			{Code: "-2", Count: 125, Info: "token not uploaded"},
		},
		NotDelivered: []LossEntry{
			{Code: "1", Count: 217, Info: "regid_invalid"},
			{Code: "410", Count: 35, Info: "Unregistered"},
		},
		PlatformNotSent: []LossEntry{
			{EventType: eventType, PushPlatform: 1, Code: "-1", Count: 5, Info: "Certificate id not set"},
			{EventType: eventType, PushPlatform: 2, Code: "-1", Count: 123, Info: "Certificate id not set"},
		},
		PlatformNotDelivered: []LossEntry{
			{EventType: eventType, PushPlatform: 1, Code: "1", Count: 217, Info: "regid_invalid"},
			{EventType: eventType, PushPlatform: 3, Code: "410", Count: 35, Info: "Unregistered"},
		},
	}
}

func dumpLoss(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestPushLossDecode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		body string
		want []LossReport
	}{
		{"vendor sample", readTestdata(t, "push_loss.json"), []LossReport{sampleLoss("xxx-yyy-zzz", 1)}},
		{"bad entries left out and counted, the rest kept", readTestdata(t, "push_loss_mixed.json"), []LossReport{
			{
				TaskID: "t1",
				NotSent: []LossEntry{
					{Code: "-1", Count: 12, Info: "Certificate id not set"},
					{Code: "7", Count: 4},
				},
				PlatformNotDelivered: []LossEntry{{PushPlatform: 3, Code: "80300007", Count: 9, Info: "token invalid"}},
				// Ten bad ReadyToSendLoss entries and a PostSendDeliveredLoss
				// that is not an array.
				Skipped: 11,
			},
			{TaskID: "t2"},
		}},
		{"no Results", `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"sucess"}`, nil},
		{"empty Results", `{"ActionStatus":"OK","ErrorCode":0,"Results":[]}`, []LossReport{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVendor(t, always(reply{body: tc.body}))
			c, clk := newTestClient(t, v.srv.URL, nil)
			got, err := c.PushLoss(context.Background(), clk.Now().Add(-24*time.Hour), clk.Now(), []string{"xxx-yyy-zzz"})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("reports\n got %s\nwant %s", dumpLoss(got), dumpLoss(tc.want))
			}
		})
	}
}

// TestNormalPushLossDecode reads the documented sample's arrays at the top
// level, and inside one nested object: the page's sample puts them in an
// object without a key, which is not JSON (Chat Service Push Loss Analysis).
func TestNormalPushLossDecode(t *testing.T) {
	t.Parallel()
	nested := func(key string) string {
		var top map[string]json.RawMessage
		_ = json.Unmarshal([]byte(readTestdata(t, "normal_push_loss_nested.json")), &top)
		top[key] = top["Results"]
		if key != "Results" {
			delete(top, "Results")
		}
		b, _ := json.Marshal(top)
		return string(b)
	}
	for _, tc := range []struct {
		name string
		body string
		want LossReport
	}{
		{"arrays at the top level", readTestdata(t, "normal_push_loss.json"), sampleLoss("", 0)},
		{"arrays in one nested object", readTestdata(t, "normal_push_loss_nested.json"), sampleLoss("", 0)},
		{"nested under any key", nested("Data"), sampleLoss("", 0)},
		{"nested object after another object", strings.Replace(nested("Zeta"), `{`, `{"Alpha":{"x":1},`, 1), sampleLoss("", 0)},
		{"no arrays", `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"sucess"}`, LossReport{}},
		{"one array only", `{"ActionStatus":"OK","ErrorCode":0,"PostSendDeliveredLoss":[{"ErrCode":"410","ErrCount":"35"}]}`,
			LossReport{NotDelivered: []LossEntry{{Code: "410", Count: 35}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVendor(t, always(reply{body: tc.body}))
			c, clk := newTestClient(t, v.srv.URL, nil)
			got, err := c.NormalPushLoss(context.Background(), clk.Now().Add(-24*time.Hour), clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("report\n got %s\nwant %s", dumpLoss(got), dumpLoss(tc.want))
			}
		})
	}
}

func TestLossCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw  string
		want string
		ok   bool
	}{
		{`"-1"`, "-1", true},
		{`"410"`, "410", true},
		{`410`, "410", true},
		{`-2`, "-2", true},
		{`1e3`, "1000", true},
		{`" 80300007 "`, "80300007", true},
		{`"InvalidRegistration"`, "InvalidRegistration", true},
		{`"a.b_c"`, "a.b_c", true},
		{`"` + strings.Repeat("9", 32) + `"`, strings.Repeat("9", 32), true},
		{`"` + strings.Repeat("9", 33) + `"`, "", false},
		{`""`, "", false},
		{`"-"`, "", false},
		{`"a b"`, "", false},
		{`"x\"y"`, "", false},
		{`"é"`, "", false},
		{`2.5`, "", false},
		{`true`, "", false},
		{`null`, "", false},
		{`{}`, "", false},
		{``, "", false},
	} {
		got, ok := lossCode(json.RawMessage(tc.raw))
		if got != tc.want || ok != tc.ok {
			t.Errorf("lossCode(%s) = %q, %v; want %q, %v", tc.raw, got, ok, tc.want, tc.ok)
		}
	}
}

func TestPushLossRequest(t *testing.T) {
	t.Parallel()
	end := t0.Add(900 * time.Millisecond)
	for _, tc := range []struct {
		name     string
		call     func(c *Client) error
		wantPath string
		wantBody string
	}{
		{"tasks", func(c *Client) error {
			_, err := c.PushLoss(context.Background(), end.Add(-24*time.Hour), end, []string{"a", "b", "c", "d", "e"})
			return err
		}, "/v4/timpush/all_member_push_loss", `{"StartTime":1740729600,"EndTime":1740816000,"TaskID":["a","b","c","d","e"]}`},
		{"overall: an empty TaskID, not omitted", func(c *Client) error {
			_, err := c.PushLoss(context.Background(), end.Add(-MaxLossWindow), end, nil)
			return err
		}, "/v4/timpush/all_member_push_loss", `{"StartTime":1740211200,"EndTime":1740816000,"TaskID":[]}`},
		{"7 days and 0.8 s send exactly 7 days", func(c *Client) error {
			_, err := c.PushLoss(context.Background(), end.Add(-MaxLossWindow-800*time.Millisecond), end, nil)
			return err
		}, "/v4/timpush/all_member_push_loss", `{"StartTime":1740211200,"EndTime":1740816000,"TaskID":[]}`},
		{"chat pushes", func(c *Client) error {
			_, err := c.NormalPushLoss(context.Background(), end.Add(-MaxLossWindow), end)
			return err
		}, "/v4/timpush/normal_push_loss", `{"StartTime":1740211200,"EndTime":1740816000}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVendor(t, always(reply{body: okBody}))
			c, _ := newTestClient(t, v.srv.URL, nil)
			if err := tc.call(c); err != nil {
				t.Fatal(err)
			}
			reqs := v.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			if reqs[0].path != tc.wantPath || string(reqs[0].body) != tc.wantBody {
				t.Errorf("sent %s %s, want %s %s", reqs[0].path, reqs[0].body, tc.wantPath, tc.wantBody)
			}
		})
	}
}

// TestPushLossRefused checks that a request the pages forbid is never sent:
// more than 5 TaskIDs, a window over 7 days, an empty window.
func TestPushLossRefused(t *testing.T) {
	t.Parallel()
	end := t0.Add(900 * time.Millisecond)
	for _, tc := range []struct {
		name string
		api  string
		call func(c *Client) error
	}{
		{"six task IDs", APIPushLoss, func(c *Client) error {
			_, err := c.PushLoss(context.Background(), end.Add(-time.Hour), end, []string{"a", "b", "c", "d", "e", "f"})
			return err
		}},
		{"an empty task ID", APIPushLoss, func(c *Client) error {
			_, err := c.PushLoss(context.Background(), end.Add(-time.Hour), end, []string{"a", ""})
			return err
		}},
		{"window one second over 7 days", APIPushLoss, func(c *Client) error {
			_, err := c.PushLoss(context.Background(), end.Add(-MaxLossWindow-time.Second), end, nil)
			return err
		}},
		{"30 days, allowed for the statistics", APIPushLoss, func(c *Client) error {
			_, err := c.PushLoss(context.Background(), end.Add(-MaxStatisticsWindow), end, []string{"a"})
			return err
		}},
		{"end before start", APIPushLoss, func(c *Client) error {
			_, err := c.PushLoss(context.Background(), end.Add(time.Second), end, nil)
			return err
		}},
		{"chat pushes over 7 days", APINormalPushLoss, func(c *Client) error {
			_, err := c.NormalPushLoss(context.Background(), end.Add(-MaxLossWindow-time.Second), end)
			return err
		}},
		{"chat pushes, empty window", APINormalPushLoss, func(c *Client) error {
			_, err := c.NormalPushLoss(context.Background(), end, end)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVendor(t, always(reply{body: okBody}))
			c, _ := newTestClient(t, v.srv.URL, nil)
			e := asAPIError(t, tc.call(c))
			if e.Class != apierr.Fatal || e.Code != CodeInvalidRequest || e.API != tc.api {
				t.Errorf("got %v; want a fatal %s error of %s", e, CodeInvalidRequest, tc.api)
			}
			if len(v.requests()) != 0 {
				t.Errorf("%d requests sent, want none", len(v.requests()))
			}
		})
	}
}

func TestPushLossErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		reply     reply
		wantClass apierr.Class
		wantCode  string
	}{
		{"push not enabled", vendorErr(90045), apierr.Unavailable, "90045"},
		{"not the admin", vendorErr(90009), apierr.Unavailable, "90009"},
		{"no permission", vendorErr(60010), apierr.Unavailable, "60010"},
		{"rate limited", vendorErr(60007), apierr.RateLimited, "60007"},
		{"Results not an array", reply{body: `{"ActionStatus":"OK","ErrorCode":0,"Results":{"TaskID":"x"}}`}, apierr.InvalidResponse, apierr.CodeInvalidResponse},
		{"gateway error", reply{status: 502, body: "bad gateway"}, apierr.Transient, "502"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVendor(t, always(tc.reply))
			c, clk := newTestClient(t, v.srv.URL, nil)
			res, err := c.PushLoss(context.Background(), clk.Now().Add(-time.Hour), clk.Now(), nil)
			e := asAPIError(t, err)
			if e.Class != tc.wantClass || e.Code != tc.wantCode || e.API != APIPushLoss || res != nil {
				t.Errorf("got %v, %v (class %v, code %s); want class %v, code %s", res, err, e.Class, e.Code, tc.wantClass, tc.wantCode)
			}
			if tc.name == "Results not an array" {
				return
			}
			_, err = c.NormalPushLoss(context.Background(), clk.Now().Add(-time.Hour), clk.Now())
			if e := asAPIError(t, err); e.Class != tc.wantClass || e.Code != tc.wantCode || e.API != APINormalPushLoss {
				t.Errorf("normal_push_loss: %v (class %v, code %s); want class %v, code %s", err, e.Class, e.Code, tc.wantClass, tc.wantCode)
			}
		})
	}
}

func FuzzDecodePushLoss(f *testing.F) {
	for _, name := range []string{"push_loss.json", "push_loss_mixed.json", "normal_push_loss.json", "normal_push_loss_nested.json"} {
		f.Add([]byte(readTestdata(f, name)))
	}
	c := New(Options{SDKAppID: testAppID, Identifier: testIdentifier, SecretKey: vecKey})
	f.Fuzz(func(t *testing.T, body []byte) {
		var reports []LossReport
		var b pushLossBody
		if e := c.decode(APIPushLoss, body, "", &b); e != nil {
			checkFuzzError(t, e)
		} else {
			reports = append(reports, b.reports...)
		}
		var nb normalLossBody
		if e := c.decode(APINormalPushLoss, body, "", &nb); e != nil {
			checkFuzzError(t, e)
		} else {
			reports = append(reports, nb.report)
		}
		for _, r := range reports {
			for _, es := range [][]LossEntry{r.NotSent, r.NotDelivered, r.PlatformNotSent, r.PlatformNotDelivered} {
				for _, e := range es {
					if e.Count < 0 || !lossCodePattern.MatchString(e.Code) {
						t.Fatalf("entry %+v in %s", e, dumpLoss(r))
					}
				}
			}
		}
	})
}
