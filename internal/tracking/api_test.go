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

	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
)

// newTestAPI serves an API with writes enabled over one empty Set per kind,
// for the apps "1400000000" (Tencent), "7d43" (JPush) and "9439" (JPush
// group).
func newTestAPI(t *testing.T) (*httptest.Server, map[string]*Set) {
	t.Helper()
	return newTestAPIWith(t, APIOptions{AllowWrites: true}, Config{})
}

// newTestAPIWith is newTestAPI with the API's options and the Sets' config.
func newTestAPIWith(t *testing.T, o APIOptions, c Config) (*httptest.Server, map[string]*Set) {
	t.Helper()
	sets := map[string]*Set{}
	for _, k := range []string{catalog.KindTencentPush + "/1400000000", catalog.KindJPushMessages + "/7d43", catalog.KindJPushGroupMessages + "/9439"} {
		kind, _, _ := strings.Cut(k, "/")
		sets[k] = mustOpen(t, Options{Kind: kind, Clock: clocktest.NewFake(t0)}, c)
	}
	srv := serveAPI(t, func(kind, app string) (*Set, bool) {
		s, ok := sets[kind+"/"+app]
		return s, ok
	}, o)
	return srv, sets
}

// serveAPI serves NewAPI(lookup, o) for the test.
func serveAPI(t *testing.T, lookup func(kind, app string) (*Set, bool), o APIOptions) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	NewAPI(lookup, o).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// do sends a request and returns the status and body.
func do(t *testing.T, srv *httptest.Server, method, path, body string) (int, string) {
	t.Helper()
	status, _, b := doHeader(t, srv, method, path, body)
	return status, b
}

// doHeader sends a request and returns the status, the header and the body.
func doHeader(t *testing.T, srv *httptest.Server, method, path, body string) (int, http.Header, string) {
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
	return resp.StatusCode, resp.Header, string(b)
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
		{"register msg_ids as strings and numbers", "POST", msgs, `{"msg_ids":["1613113584",1229760629,18446744073709551615]}`, 200, `{"added":3,"tracked":3}`},
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
		{"ID against the kind's rule", "POST", msgs, `{"msg_ids":["1","abc"]}`, 400, `{"error":"invalid ID \"abc\": a msg_id is a decimal integer from 1 to 18446744073709551615 without leading zeros"}`},
		{"msg_id over 20 digits", "POST", msgs, `{"msg_ids":[123456789012345678901]}`, 400, `{"error":"invalid ID \"123456789012345678901\": a msg_id is a decimal integer from 1 to 18446744073709551615 without leading zeros"}`},
		{"duplicate key", "POST", tasks, `{"task_ids":["d1"],"task_ids":["d2"]}`, 400, `{"error":"duplicate key \"task_ids\""}`},
		{"duplicate key deeper down", "POST", msgs, `{"msg_ids":[{"a":1,"b":{"c":1,"c":2}}]}`, 400, `{"error":"duplicate key \"c\""}`},
		{"same key in sibling objects is fine", "POST", msgs, `{"msg_ids":[{"a":1},{"a":1}]}`, 400, `{"error":"msg_ids[0]: want a string or an integer"}`},
		{"sent_at", "POST", tasks, `{"task_ids":["t1"],"sent_at":"2025-02-28T23:00:00+08:00"}`, 200, `{"added":1,"tracked":1}`},
		{"bad sent_at", "POST", tasks, `{"task_ids":["t1"],"sent_at":"yesterday"}`, 400, `{"error":"field \"sent_at\": \"yesterday\" is not an RFC 3339 time"}`},
		{"sent_at not a string", "POST", tasks, `{"task_ids":["t1"],"sent_at":1}`, 400, `{"error":"field \"sent_at\" must be an RFC 3339 time string"}`},
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

		{"PUT", "PUT", tasks, `{"task_ids":["a"]}`, 405, `{"error":"method \"PUT\" not allowed; allowed: GET, HEAD, POST"}`},
		{"DELETE of the list", "DELETE", msgs, ``, 405, `{"error":"method \"DELETE\" not allowed; allowed: GET, HEAD, POST"}`},
		{"PATCH", "PATCH", groups, ``, 405, `{"error":"method \"PATCH\" not allowed; allowed: GET, HEAD, POST"}`},
		{"GET of one ID", "GET", tasks + "/t1", ``, 405, `{"error":"method \"GET\" not allowed; allowed: DELETE"}`},
		{"DELETE of an untracked ID", "DELETE", tasks + "/t1", ``, 404, `{"error":"ID \"t1\" is not tracked"}`},
		{"DELETE of an invalid ID", "DELETE", msgs + "/abc", ``, 400, `{"error":"invalid ID \"abc\": a msg_id is a decimal integer from 1 to 18446744073709551615 without leading zeros"}`},
		{"DELETE for an unknown app", "DELETE", "/api/v1/jpush/nope/messages/1", ``, 404, `{"error":"unknown app_key \"nope\""}`},

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
	if n := sets[catalog.KindTencentPush+"/1400000000"].Len(); n != 0 {
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
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("405 Content-Type = %q, want application/json", ct)
	}
	status, h, _ := doHeader(t, srv, "POST", "/api/v1/jpush/7d43/messages/1", "")
	if status != 405 || h.Get("Allow") != "DELETE" {
		t.Errorf("POST of one ID: %d, Allow %q; want 405, DELETE", status, h.Get("Allow"))
	}
}

// TestAPISaveFailure: a POST retried after a failed save used to answer
// 200 {"added":0}; it must answer 503 until the state is saved.
func TestAPISaveFailure(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	s := mustOpen(t, Options{Kind: catalog.KindJPushMessages, StatePath: filepath.Join(dir, "state.json"), Clock: clocktest.NewFake(t0)}, Config{})
	if err := os.WriteFile(dir, nil, 0o600); err != nil { // the state directory is a file
		t.Fatal(err)
	}
	srv := serveAPI(t, func(string, string) (*Set, bool) { return s, true }, APIOptions{AllowWrites: true})
	for i := range 3 {
		status, body := do(t, srv, "POST", "/api/v1/jpush/any/messages", `{"msg_ids":["1"]}`)
		if status != 503 || body != `{"error":"the change is tracked but not saved to the state file (see the exporter's log); retry until this succeeds"}`+"\n" {
			t.Errorf("try %d: status %d body %s; want 503 naming the failed save", i, status, body)
		}
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if status, body := do(t, srv, "POST", "/api/v1/jpush/any/messages", `{"msg_ids":["1"]}`); status != 200 || body != `{"added":0,"tracked":1}`+"\n" {
		t.Errorf("once writable: %d %s; want 200 added 0", status, body)
	}
}

// TestAPIDeleteSaveFailure: a DELETE retried after a failed save used to
// answer 404 "not tracked" (memory had already dropped the ID) while the
// state file still held it, so a retrying client stopped and the ID came
// back at the next start. It must answer 503 until the removal is saved.
func TestAPIDeleteSaveFailure(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	s := mustOpen(t, Options{Kind: catalog.KindJPushMessages, StatePath: filepath.Join(dir, "state.json"), Clock: clocktest.NewFake(t0)}, Config{})
	mustAdd(t, s, OriginAPI, "1", "2")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil { // the state directory is a file
		t.Fatal(err)
	}
	srv := serveAPI(t, func(string, string) (*Set, bool) { return s, true }, APIOptions{AllowWrites: true})
	const notSaved = `{"error":"the change is tracked but not saved to the state file (see the exporter's log); retry until this succeeds"}` + "\n"
	for i := range 3 {
		if status, body := do(t, srv, "DELETE", "/api/v1/jpush/any/messages/1", ""); status != 503 || body != notSaved {
			t.Errorf("try %d: status %d body %s; want 503 naming the failed save", i, status, body)
		}
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if status, body := do(t, srv, "DELETE", "/api/v1/jpush/any/messages/1", ""); status != 404 || body != `{"error":"ID \"1\" is not tracked"}`+"\n" {
		t.Errorf("once writable: %d %s; want 404: the removal is saved", status, body)
	}
	if got := stateIDs(t, filepath.Join(dir, "state.json")); len(got) != 1 || got[0].ID != "2" {
		t.Errorf("state = %v, want only 2", got)
	}
}

func TestAPIWritesDisabled(t *testing.T) {
	t.Parallel()
	srv, sets := newTestAPIWith(t, APIOptions{}, Config{Static: []string{"111"}})
	const tasks = "/api/v1/tencent_im/1400000000/tasks"
	for _, tc := range []struct{ method, path, body string }{
		{"POST", tasks, `{"task_ids":["a"]}`},
		{"DELETE", tasks + "/111", ``},
		{"POST", "/api/v1/tencent_im/unknown/tasks", `{"task_ids":["a"]}`}, // no app enumeration
	} {
		status, body := do(t, srv, tc.method, tc.path, tc.body)
		if want := `{"error":"the tracking API's writes are not enabled (--web.enable-tracking-api)"}` + "\n"; status != 403 || body != want {
			t.Errorf("%s %s: %d %s; want 403 %s", tc.method, tc.path, status, body, want)
		}
	}
	if status, body := do(t, srv, "GET", tasks, ""); status != 200 || !strings.Contains(body, `"111"`) {
		t.Errorf("GET with writes disabled: %d %s", status, body)
	}
	if n := sets[catalog.KindTencentPush+"/1400000000"].Len(); n != 1 {
		t.Errorf("Len() = %d, want 1", n)
	}
}

func TestAPIDelete(t *testing.T) {
	t.Parallel()
	srv, sets := newTestAPIWith(t, APIOptions{AllowWrites: true}, Config{Static: []string{"111"}})
	const groups = "/api/v1/jpush_groups/9439/messages"
	if status, body := do(t, srv, "POST", groups, `{"group_msg_ids":["g1","g2","111"]}`); status != 200 {
		t.Fatalf("POST: %d %s", status, body)
	}
	for _, tc := range []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{groups + "/g1", 200, `{"removed":1,"tracked":2}`},
		{groups + "/g1", 404, `{"error":"ID \"g1\" is not tracked"}`},
		{groups + "/111", 409, `{"error":"ID \"111\" is still listed by the configuration or the watched file and stays tracked"}`},
	} {
		status, body := do(t, srv, "DELETE", tc.path, "")
		if status != tc.wantStatus || body != tc.wantBody+"\n" {
			t.Errorf("DELETE %s: %d %s; want %d %s", tc.path, status, body, tc.wantStatus, tc.wantBody)
		}
	}
	set := sets[catalog.KindJPushGroupMessages+"/9439"]
	if set.Tracked("g1") || !set.Tracked("g2") || !set.Tracked("111") {
		t.Errorf("after DELETE: IDs %v", set.IDs())
	}
}

func TestAPIRateLimited(t *testing.T) {
	t.Parallel()
	srv, _ := newTestAPIWith(t, APIOptions{AllowWrites: true}, Config{RegisterPerMinute: 2})
	const msgs = "/api/v1/jpush/7d43/messages"
	if status, body := do(t, srv, "POST", msgs, `{"msg_ids":[1,2]}`); status != 200 {
		t.Fatalf("POST within the limit: %d %s", status, body)
	}
	status, h, body := doHeader(t, srv, "POST", msgs, `{"msg_ids":[3]}`)
	if status != 429 || h.Get("Retry-After") != "30" || body != `{"error":"too many new IDs registered: at most 2 new IDs a minute; retry in 30s"}`+"\n" {
		t.Errorf("POST over the limit: %d Retry-After %q %s; want 429, 30", status, h.Get("Retry-After"), body)
	}
	if status, _ := do(t, srv, "POST", msgs, `{"msg_ids":[1]}`); status != 200 {
		t.Errorf("re-registering a tracked ID over the limit: %d, want 200", status)
	}
	status, h, body = doHeader(t, srv, "POST", msgs, `{"msg_ids":[3,4,5]}`)
	if status != 429 || h.Get("Retry-After") != "60" || body != `{"error":"too many new IDs registered: 3 new IDs at once, at most 2 a minute are accepted; send fewer"}`+"\n" {
		t.Errorf("POST above the limit at once: %d Retry-After %q %s", status, h.Get("Retry-After"), body)
	}
}

func TestAPIListsSentAt(t *testing.T) {
	t.Parallel()
	srv, _ := newTestAPI(t)
	const tasks = "/api/v1/tencent_im/1400000000/tasks"
	if status, body := do(t, srv, "POST", tasks, `{"task_ids":["t1"],"sent_at":"2025-02-28T23:00:00+08:00"}`); status != 200 {
		t.Fatalf("POST: %d %s", status, body)
	}
	want := `{"task_ids":[{"id":"t1","added":"2025-03-01T00:00:00Z","sent":"2025-02-28T15:00:00Z","origin":"api"}]}` + "\n"
	if status, body := do(t, srv, "GET", tasks, ""); status != 200 || body != want {
		t.Errorf("GET: %d %s; want %s", status, body, want)
	}
}

func TestCheckNoDuplicateKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, wantErr string
	}{
		{in: `{"a":1,"b":[1,{"a":2}],"c":{"a":{"a":3}}}`},
		{in: `[{"a":1},{"a":1}]`},
		{in: `"x"`},
		{in: `{"a":[],"b":{},"c":null}`},
		{in: `{"a":1,"a":1}`, wantErr: `duplicate key "a"`},
		{in: `{"a":{"b":[{"c":1,"d":2,"c":3}]}}`, wantErr: `duplicate key "c"`},
		{in: `{"a":{},"a":[]}`, wantErr: `duplicate key "a"`},
		{in: `{"a":1`}, // syntax errors are the decoder's
	} {
		err := checkNoDuplicateKeys([]byte(tc.in))
		if fmt.Sprint(err) != tc.wantErr && !(err == nil && tc.wantErr == "") {
			t.Errorf("checkNoDuplicateKeys(%s) = %v, want %q", tc.in, err, tc.wantErr)
		}
	}
}
