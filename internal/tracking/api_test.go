package tracking

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imstats/imstats_exporter/internal/clock"
)

// newTestAPI serves an API over one empty Set per kind, for the apps
// "1400000000" (Tencent), "7d43" (JPush) and "9439" (JPush group).
func newTestAPI(t *testing.T) (*httptest.Server, map[string]*Set) {
	t.Helper()
	sets := map[string]*Set{
		KindTencentPush + "/1400000000":  mustNew(t, Options{Clock: clock.NewFake(t0)}),
		KindJPushMessages + "/7d43":      mustNew(t, Options{Clock: clock.NewFake(t0)}),
		KindJPushGroupMessages + "/9439": mustNew(t, Options{Clock: clock.NewFake(t0)}),
	}
	mux := http.NewServeMux()
	NewAPI(func(kind, app string) (*Set, bool) {
		s, ok := sets[kind+"/"+app]
		return s, ok
	}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, sets
}

// do sends a request and returns the status and body.
func do(t *testing.T, srv *httptest.Server, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// manyIDs returns a JSON list of n distinct string IDs.
func manyIDs(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf(`"%d"`, i)
	}
	return "[" + strings.Join(ids, ",") + "]"
}

func TestAPI(t *testing.T) {
	t.Parallel()
	const (
		tasks  = "/api/v1/tencent_im/1400000000/tasks"
		msgs   = "/api/v1/jpush/7d43/messages"
		groups = "/api/v1/jpush_groups/9439/messages"
	)
	for _, tc := range []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantBody   string // exact, for JSON answers
	}{
		{"register tasks", "POST", tasks, `{"task_ids":["1400000000_1441_1","1400000000_1441_2","1400000000_1441_1"]}`, 200, `{"added":2,"tracked":2}`},
		{"register msg_ids as strings and numbers", "POST", msgs, `{"msg_ids":["1613113584",1229760629,123456789012345678901234567890]}`, 200, `{"added":3,"tracked":3}`},
		{"register group_msg_ids", "POST", groups, `{"group_msg_ids":["bsp54sn8bpn8hc3etq40"]}`, 200, `{"added":1,"tracked":1}`},
		{"exactly the most IDs a request may carry", "POST", tasks, `{"task_ids":` + manyIDs(MaxIDsPerRequest) + `}`, 200, `{"added":1000,"tracked":1000}`},

		{"bad JSON", "POST", tasks, `{"task_ids":[`, 400, `{"error":"invalid JSON: unexpected end of JSON input"}`},
		{"empty body", "POST", tasks, ``, 400, `{"error":"invalid JSON: unexpected end of JSON input"}`},
		{"not an object", "POST", tasks, `["a"]`, 400, `{"error":"request body must be a JSON object {\"task_ids\":[...]}"}`},
		{"unknown field", "POST", tasks, `{"task_ids":["a"],"TaskIDs":["b"],"extra":1}`, 400, `{"error":"unknown field \"TaskIDs\""}`},
		{"field of another kind", "POST", msgs, `{"task_ids":["a"]}`, 400, `{"error":"unknown field \"task_ids\""}`},
		{"missing list", "POST", tasks, `{}`, 400, `{"error":"missing field \"task_ids\""}`},
		{"null body", "POST", tasks, `null`, 400, `{"error":"missing field \"task_ids\""}`},
		{"empty list", "POST", tasks, `{"task_ids":[]}`, 400, `{"error":"field \"task_ids\" is empty"}`},
		{"null list", "POST", msgs, `{"msg_ids":null}`, 400, `{"error":"field \"msg_ids\" is empty"}`},
		{"not a list", "POST", tasks, `{"task_ids":"a"}`, 400, `{"error":"field \"task_ids\" must be a list of IDs"}`},
		{"too many IDs", "POST", tasks, `{"task_ids":` + manyIDs(MaxIDsPerRequest+1) + `}`, 400, `{"error":"field \"task_ids\" has 1001 IDs, at most 1000 are allowed per request"}`},
		{"invalid ID", "POST", tasks, `{"task_ids":["ok","not ok"]}`, 400, `{"error":"invalid ID \"not ok\": contains whitespace"}`},
		{"empty ID", "POST", groups, `{"group_msg_ids":[""]}`, 400, `{"error":"invalid ID \"\": empty"}`},
		{"number where only strings go", "POST", tasks, `{"task_ids":["a",5]}`, 400, `{"error":"task_ids[1]: want a string"}`},
		{"number in group_msg_ids", "POST", groups, `{"group_msg_ids":[5]}`, 400, `{"error":"group_msg_ids[0]: want a string"}`},
		{"fractional msg_id", "POST", msgs, `{"msg_ids":[1.5]}`, 400, `{"error":"msg_ids[0]: 1.5 is not an unsigned decimal integer"}`},
		{"exponent msg_id", "POST", msgs, `{"msg_ids":[1e9]}`, 400, `{"error":"msg_ids[0]: 1e9 is not an unsigned decimal integer"}`},
		{"negative msg_id", "POST", msgs, `{"msg_ids":[-1]}`, 400, `{"error":"msg_ids[0]: -1 is not an unsigned decimal integer"}`},
		{"boolean msg_id", "POST", msgs, `{"msg_ids":[true]}`, 400, `{"error":"msg_ids[0]: want a string or an integer"}`},
		{"object msg_id", "POST", msgs, `{"msg_ids":[{}]}`, 400, `{"error":"msg_ids[0]: want a string or an integer"}`},
		{"body over 1 MiB", "POST", tasks, `{"task_ids":["` + strings.Repeat("a", MaxRequestBytes) + `"]}`, 413, `{"error":"request body is larger than 1048576 bytes"}`},

		{"unknown sdkappid", "POST", "/api/v1/tencent_im/123/tasks", `{"task_ids":["a"]}`, 404, `{"error":"unknown sdkappid \"123\""}`},
		{"unknown sdkappid on GET", "GET", "/api/v1/tencent_im/123/tasks", ``, 404, `{"error":"unknown sdkappid \"123\""}`},
		{"unknown app_key", "POST", "/api/v1/jpush/nope/messages", `{"msg_ids":["1"]}`, 404, `{"error":"unknown app_key \"nope\""}`},
		{"unknown group_key", "GET", "/api/v1/jpush_groups/nope/messages", ``, 404, `{"error":"unknown group_key \"nope\""}`},
		{"app of another kind", "GET", "/api/v1/jpush/1400000000/messages", ``, 404, `{"error":"unknown app_key \"1400000000\""}`},

		{"PUT", "PUT", tasks, `{"task_ids":["a"]}`, 405, ""},
		{"DELETE", "DELETE", msgs, ``, 405, ""},
		{"PATCH", "PATCH", groups, ``, 405, ""},

		{"empty listing", "GET", tasks, ``, 200, `{"task_ids":[]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newTestAPI(t)
			status, body := do(t, srv, tc.method, tc.path, tc.body)
			if status != tc.wantStatus {
				t.Fatalf("%s %s: status %d, want %d; body %s", tc.method, tc.path, status, tc.wantStatus, body)
			}
			if tc.wantBody != "" && body != tc.wantBody+"\n" {
				t.Errorf("%s %s: body\n%s\nwant\n%s", tc.method, tc.path, body, tc.wantBody)
			}
		})
	}
}

func TestAPIRejectedRequestAddsNothing(t *testing.T) {
	t.Parallel()
	srv, sets := newTestAPI(t)
	if status, _ := do(t, srv, "POST", "/api/v1/tencent_im/1400000000/tasks", `{"task_ids":["ok","not,ok"]}`); status != 400 {
		t.Fatalf("status %d, want 400", status)
	}
	if n := sets[KindTencentPush+"/1400000000"].Len(); n != 0 {
		t.Errorf("Len() = %d after a rejected request, want 0", n)
	}
}

func TestAPIListing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		path string
		post string
		want string
	}{
		{
			path: "/api/v1/tencent_im/1400000000/tasks",
			post: `{"task_ids":["t2","t1"]}`,
			want: `{"task_ids":[{"id":"t1","added":"2025-03-01T00:00:00Z","origin":"api"},{"id":"t2","added":"2025-03-01T00:00:00Z","origin":"api"}]}`,
		},
		{
			path: "/api/v1/jpush/7d43/messages",
			post: `{"msg_ids":[1613113584, "1229760629"]}`,
			want: `{"msg_ids":[{"id":"1229760629","added":"2025-03-01T00:00:00Z","origin":"api"},{"id":"1613113584","added":"2025-03-01T00:00:00Z","origin":"api"}]}`,
		},
		{
			path: "/api/v1/jpush_groups/9439/messages",
			post: `{"group_msg_ids":["bsp54sn8bpn8hc3etq40"]}`,
			want: `{"group_msg_ids":[{"id":"bsp54sn8bpn8hc3etq40","added":"2025-03-01T00:00:00Z","origin":"api"}]}`,
		},
	} {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			srv, _ := newTestAPI(t)
			if status, body := do(t, srv, "POST", tc.path, tc.post); status != 200 {
				t.Fatalf("POST: %d %s", status, body)
			}
			status, body := do(t, srv, "GET", tc.path, "")
			if status != 200 || body != tc.want+"\n" {
				t.Errorf("GET = %d\n%s\nwant 200\n%s", status, body, tc.want)
			}
		})
	}
}

func TestAPIAnswersJSONAndAllow(t *testing.T) {
	t.Parallel()
	srv, _ := newTestAPI(t)
	resp, err := srv.Client().Get(srv.URL + "/api/v1/jpush/7d43/messages")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	req, _ := http.NewRequest("DELETE", srv.URL+"/api/v1/jpush/7d43/messages", nil)
	resp, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if allow := resp.Header.Get("Allow"); allow != "GET, HEAD, POST" {
		t.Errorf("Allow = %q, want GET, HEAD, POST", allow)
	}
}

func TestAPISaveFailure(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	s := mustNew(t, Options{StatePath: filepath.Join(dir, "state.json"), Clock: clock.NewFake(t0)})
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil { // the state directory is now a file
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	NewAPI(func(string, string) (*Set, bool) { return s, true }).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	status, body := do(t, srv, "POST", "/api/v1/jpush/any/messages", `{"msg_ids":["1"]}`)
	if status != 500 || !strings.HasPrefix(body, `{"error":"IDs are tracked but not persisted: saving state file: `) {
		t.Errorf("status %d body %s; want 500 naming the failed save", status, body)
	}
}
