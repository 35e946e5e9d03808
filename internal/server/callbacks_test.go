package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/callbacks"
)

const testCallbackToken = "callback-token-3f9e"

// callbackServer runs a Server with the receiver on, over the test
// configuration with a callback token.
func callbackServer(t *testing.T, apart bool) (*Server, http.Handler, string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "exporter.yml")
	cfg := strings.Replace(testConfig(vendors(t), dir, "7d", ""), "    push:\n", fmt.Sprintf("    callback_token: %q\n    push:\n", testCallbackToken), 1)
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{ConfigFile: file, EnableCallbacks: true, CallbacksApart: apart})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	h, err := s.Handler()
	if err != nil {
		t.Fatal(err)
	}
	return s, h, file
}

// callbackURL is the receiver's URL for cmd, signed now.
func callbackURL(base, cmd string) string {
	now := time.Now().Unix()
	return fmt.Sprintf("%s%s?SdkAppid=%d&CallbackCommand=%s&contenttype=json&Sign=%s&RequestTime=%d",
		base, callbacks.Path, testSDKAppID, cmd, callbacks.Sign(testCallbackToken, now), now)
}

// callbackBody is a Push.AllMemberPush batch of n events of task taskID.
func callbackBody(taskID string, taskTime int64, n int) string {
	ev := make([]string, n)
	for i := range ev {
		ev[i] = fmt.Sprintf(`{"CallbackCommand":"Push.AllMemberPush","EventType":1,"TaskId":%q,"TaskTime":%d,"EventTime":%d,"To_Account":"u%d","PushPlatform":%d,"PushStage":1,"ErrCode":0,"ErrInfo":"OK"}`,
			taskID, taskTime, taskTime+1, i, i%9)
	}
	return `{"Events":[` + strings.Join(ev, ",") + `]}`
}

// TestCallbacksTrackTasks: a signed callback's TaskId is served by the
// tracking API with its TaskTime, and its events are on /metrics.
func TestCallbacksTrackTasks(t *testing.T) {
	t.Parallel()
	_, h, _ := callbackServer(t, false)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	taskTime := time.Now().Add(-time.Minute).Unix()
	code, body, err := request(srv.Client(), http.MethodPost, callbackURL(srv.URL, "Push.AllMemberPush"), callbackBody("1400000000_7_7", taskTime, 3))
	if err != nil || code != http.StatusOK {
		t.Fatalf("callback: %d %s %v", code, body, err)
	}
	code, body, err = request(srv.Client(), http.MethodGet, fmt.Sprintf("%s/api/v1/tencent_im/%d/tasks", srv.URL, testSDKAppID), "")
	if err != nil || code != http.StatusOK {
		t.Fatalf("tasks: %d %s %v", code, body, err)
	}
	var list struct {
		IDs []struct {
			ID     string    `json:"id"`
			Sent   time.Time `json:"sent"`
			Origin string    `json:"origin"`
		} `json:"task_ids"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	found := false
	for _, id := range list.IDs {
		if id.ID == "1400000000_7_7" {
			found = id.Origin == "callback" && id.Sent.Unix() == taskTime
		}
	}
	if !found {
		t.Errorf("tasks = %s, want 1400000000_7_7 from callback sent at %d", body, taskTime)
	}
	_, metrics, _ := request(srv.Client(), http.MethodGet, srv.URL+"/metrics", "")
	if want := `tencent_im_push_events_total{code="0",command="all_member_push",event_type="offline",platform="xiaomi",sdkappid="1400000000",stage="1"} 1`; !strings.Contains(metrics, want) {
		t.Errorf("/metrics lacks %s", want)
	}
	// Unsigned: refused.
	unsigned := strings.Split(callbackURL(srv.URL, "Push.AllMemberPush"), "&Sign=")[0]
	if code, _, _ := request(srv.Client(), http.MethodPost, unsigned, callbackBody("1400000000_8_8", taskTime, 1)); code != http.StatusUnauthorized {
		t.Errorf("unsigned callback: %d, want 401", code)
	}
}

// TestCallbacksApart: with a listen address of its own, the receiver is
// served there only.
func TestCallbacksApart(t *testing.T) {
	t.Parallel()
	s, h, _ := callbackServer(t, true)
	main := httptest.NewServer(h)
	t.Cleanup(main.Close)
	apart := httptest.NewServer(s.CallbackHandler())
	t.Cleanup(apart.Close)
	body := callbackBody("1400000000_9_9", time.Now().Unix(), 1)
	if code, _, _ := request(main.Client(), http.MethodPost, callbackURL(main.URL, "Push.AllMemberPush"), body); code == http.StatusOK {
		t.Error("the main listener serves the callbacks")
	}
	if code, b, _ := request(apart.Client(), http.MethodPost, callbackURL(apart.URL, "Push.AllMemberPush"), body); code != http.StatusOK {
		t.Errorf("callback listener: %d %s", code, b)
	}
	if code, _, _ := request(apart.Client(), http.MethodGet, apart.URL+"/metrics", ""); code != http.StatusNotFound {
		t.Errorf("the callback listener serves /metrics: %d", code)
	}
}

// TestCallbackStorm: callbacks, reloads and scrapes at once, a bounded
// number of each; every request is answered (request fails one that
// stalls) and every acknowledged event is counted.
func TestCallbackStorm(t *testing.T) {
	t.Parallel()
	s, h, _ := callbackServer(t, false)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ctx := t.Context()
	go s.Run(ctx)
	client := srv.Client()
	var acked atomic.Int64
	var wg sync.WaitGroup
	fail := func(what string, code int, body string, err error) {
		t.Errorf("%s: %d %s %v", what, code, body, err)
	}
	const workers, perWorker, events = 4, 25, 100
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				task := fmt.Sprintf("1400000000_%d_%d", w, i%3)
				code, body, err := request(client, http.MethodPost, callbackURL(srv.URL, "Push.AllMemberPush"), callbackBody(task, time.Now().Unix(), events))
				switch {
				case err != nil || (code != http.StatusOK && code != http.StatusServiceUnavailable):
					fail("callback", code, body, err)
				case code == http.StatusOK:
					acked.Add(events)
				}
			}
		})
	}
	wg.Go(func() {
		for range 10 {
			if code, body, err := request(client, http.MethodPost, srv.URL+"/-/reload", ""); err != nil || code != http.StatusOK {
				fail("reload", code, body, err)
			}
		}
	})
	wg.Go(func() {
		for range 20 {
			if code, body, err := request(client, http.MethodGet, srv.URL+"/metrics", ""); err != nil || code != http.StatusOK {
				fail("scrape", code, body, err)
			}
		}
	})
	wg.Wait()
	if got := s.callbacks.Counted(fmt.Sprint(testSDKAppID)); int64(got) != acked.Load() {
		t.Errorf("counted %d events, acknowledged %d", got, acked.Load())
	}
	if acked.Load() == 0 {
		t.Error("no callback acknowledged")
	}
}
