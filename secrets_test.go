package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/imstats/imstats_exporter/internal/simulator"
)

// credentialRecorder serves the Tencent simulator under /v4/ and the JPush
// one under /v3/, and records every credential the exporter sent: the
// usersig query values and the Authorization headers. With echo set, it
// answers every call with a vendor error whose message repeats the request's
// URL and Authorization header, as a hostile or careless vendor might.
type credentialRecorder struct {
	tencent, jpush http.Handler
	echo           atomic.Bool

	mu          sync.Mutex
	seen        map[string]bool
	sigs, auths int // requests that carried each kind
}

func (c *credentialRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	c.mu.Lock()
	if sig := r.URL.Query().Get("usersig"); sig != "" {
		c.sigs++
		c.seen[sig] = true
	}
	if auth != "" {
		c.auths++
		c.seen[auth] = true
		if _, token, ok := strings.Cut(auth, " "); ok {
			c.seen[token] = true
		}
	}
	c.mu.Unlock()

	next, tencent := c.jpush, strings.HasPrefix(r.URL.Path, "/v4/")
	if tencent {
		next = c.tencent
	}
	if !c.echo.Load() {
		next.ServeHTTP(w, r)
		return
	}
	echo := "request " + r.URL.String() + " Authorization: " + auth
	var body any
	status := http.StatusOK
	if tencent {
		// Tencent Chat REST API: errors come with HTTP 200 ("Pulling Operations Data").
		body = map[string]any{"ActionStatus": "FAIL", "ErrorCode": 70003, "ErrorInfo": echo}
	} else {
		// JPush "REST API v3 Report": {"error":{"code":…,"message":…}}.
		status = http.StatusUnauthorized
		body = map[string]any{"error": map[string]any{"code": 3001, "message": echo}}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// credentials returns the credentials recorded so far, and how many
// requests carried a UserSig and an Authorization header.
func (c *credentialRecorder) credentials() (seen []string, sigs, auths int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for s := range c.seen {
		seen = append(seen, s)
	}
	return seen, c.sigs, c.auths
}

// requestsTotal sums imstats_exporter_api_requests_total of vendor and code.
func requestsTotal(scrape, vendor, code string) float64 {
	re := regexp.MustCompile(`(?m)^imstats_exporter_api_requests_total\{api="[^"]*",code="` + regexp.QuoteMeta(code) + `",vendor="` + vendor + `"\} (\S+)$`)
	var sum float64
	for _, m := range re.FindAllStringSubmatch(scrape, -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		sum += v
	}
	return sum
}

// TestSecretsNeverShown drives every path that could show a credential —
// vendor errors (refused and expired UserSigs, HTML pages, error messages
// echoing the request), debug logs, /metrics, /config, the landing page, the
// tracking API and failed reloads — and checks that no secret of the
// configuration, no UserSig and no Authorization header the vendors received
// appears in any of them.
func TestSecretsNeverShown(t *testing.T) {
	t.Parallel()
	const (
		inlineKey    = "inline-tencent-secret-4be1c07d9a"
		fileKey      = "file-tencent-secret-58c2e9f3b6"
		masterSecret = "jpush-master-secret-d3a96b02e7"
		groupSecret  = "jpush-group-secret-71f0c8a5d4"
		reloadSecret = "reload-tencent-secret-0e6b3d9c81"
		appKey       = "7d431e42dfa6a6d693ac2d04"
		groupKey     = "9439ee12e91bd4c895d1b0f5"
	)
	tencent := simulator.NewTencent(simulator.TencentOptions{Seed: 5, Apps: []simulator.TencentApp{
		{SDKAppID: 1400000001, Identifier: "admin", SecretKey: inlineKey},
		{SDKAppID: 1400000002, Identifier: "admin", SecretKey: fileKey},
	}})
	jpush := simulator.NewJPush(simulator.JPushOptions{Seed: 5,
		Apps:   []simulator.JPushApp{{AppKey: appKey, MasterSecret: masterSecret, VIP: true}},
		Groups: []simulator.JPushGroup{{GroupKey: groupKey, GroupSecret: groupSecret, VIP: true}},
	})
	msgID, err := jpush.Push(appKey)
	if err != nil {
		t.Fatal(err)
	}
	groupMsgID, err := jpush.GroupPush(groupKey)
	if err != nil {
		t.Fatal(err)
	}
	vendors := &credentialRecorder{tencent: tencent, jpush: jpush, seen: map[string]bool{}}
	srv := httptest.NewServer(vendors)
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tim.key"), fileKey+"\n")
	writeFile(t, filepath.Join(dir, "group.secret"), groupSecret+"\n")
	cfgPath := filepath.Join(dir, "exporter.yml")
	good := fmt.Sprintf(`tencent_im:
  - sdkappid: 1400000001
    secret_key: %q
    endpoint: %[2]s
  - sdkappid: 1400000002
    secret_key_file: tim.key
    endpoint: %[2]s
jpush:
  - app_key: %[3]q
    master_secret: %[4]q
    endpoint: %[2]s
    msg_ids: [%[5]q]
jpush_groups:
  - group_key: %[6]q
    group_secret_file: group.secret
    endpoint: %[2]s
    group_msg_ids: [%[7]q]
refresh_intervals: {tencent_operations: 1s, tencent_push: 1s, jpush_received: 1s, jpush_messages: 1s, jpush_users: 1s, jpush_group_messages: 1s, jpush_group_users: 1s}
limits: {backoff_initial: 200ms, backoff_max: 400ms}
state_directory: state
`, inlineKey, srv.URL, appKey, masterSecret, msgID, groupKey, groupMsgID)
	writeFile(t, cfgPath, good)
	e := start(t, "--config.file="+cfgPath, "--web.enable-lifecycle", "--web.enable-tracking-api") // start logs at debug level

	// Each vendor failure in turn, until both vendors have answered with it.
	for _, phase := range []struct {
		name                     string
		tencentFault, jpushFault *simulator.Fault
		echo                     bool
		tencentCode, jpushCode   string
	}{
		{name: "UserSig and credentials refused", tencentFault: &simulator.Fault{ErrorCode: 70003}, jpushFault: &simulator.Fault{ErrorCode: 3001}, tencentCode: "70003", jpushCode: "3001"},
		{name: "UserSig expired, retried, expired again", tencentFault: &simulator.Fault{ErrorCode: 70001}, jpushFault: &simulator.Fault{HTTPStatus: 503}, tencentCode: "70001", jpushCode: "503"},
		{name: "HTML error pages", tencentFault: &simulator.Fault{HTTPStatus: 502, Body: []byte("<html><body><h1>502 Bad Gateway</h1></body></html>")},
			jpushFault: &simulator.Fault{HTTPStatus: 502, Body: []byte("<html><body><h1>502 Bad Gateway</h1></body></html>")}, tencentCode: "502", jpushCode: "502"},
		{name: "error messages echoing the request", echo: true, tencentCode: "70003", jpushCode: "3001"},
	} {
		tencent.SetFault("", phase.tencentFault)
		jpush.SetFault("", phase.jpushFault)
		vendors.echo.Store(phase.echo)
		_, scrape := e.get("/metrics")
		tencentBefore, jpushBefore := requestsTotal(scrape, "tencent_im", phase.tencentCode), requestsTotal(scrape, "jpush", phase.jpushCode)
		e.waitFor(func() bool {
			_, scrape := e.get("/metrics")
			return requestsTotal(scrape, "tencent_im", phase.tencentCode) > tencentBefore && requestsTotal(scrape, "jpush", phase.jpushCode) > jpushBefore
		}, phase.name)
	}
	tencent.SetFault("", nil)
	jpush.SetFault("", nil)
	vendors.echo.Store(false)
	failing := regexp.MustCompile(`(?m)^imstats_exporter_refresh_success\{[^}]*\} 0$`)
	e.waitFor(func() bool {
		_, scrape := e.get("/metrics")
		return strings.Contains(scrape, "\nimstats_exporter_refresh_success{") && !failing.MatchString(scrape)
	}, "every source to recover")

	// Failed reloads: an unknown key next to a new secret, the secret in a
	// list, an unterminated quote on the secret's line.
	var reloads []string
	for _, bad := range []string{
		strings.Replace(good, inlineKey, reloadSecret, 1) + "bogus: 1\n",
		strings.Replace(good, strconv.Quote(inlineKey), "["+strconv.Quote(reloadSecret)+"]", 1),
		strings.Replace(good, strconv.Quote(inlineKey), `"`+reloadSecret, 1),
	} {
		writeFile(t, cfgPath, bad)
		code, body := e.do(http.MethodPost, "/-/reload", "")
		if code != http.StatusInternalServerError {
			t.Errorf("reload of a bad file answered %d %q, want 500", code, body)
		}
		reloads = append(reloads, body)
	}
	writeFile(t, cfgPath, good)

	texts := map[string]string{"reload answers": strings.Join(reloads, "\n")}
	for _, path := range []string{"/metrics", "/config", "/", "/-/healthy", "/-/ready",
		"/api/v1/tencent_im/1400000001/tasks", "/api/v1/jpush/" + appKey + "/messages", "/api/v1/jpush_groups/" + groupKey + "/messages"} {
		_, texts[path] = e.get(path)
	}
	// The error line of a reload is logged before its answer is sent, and
	// reaches the test through the process's stderr a moment later.
	e.waitFor(func() bool { return strings.Count(e.logs.String(), "reload on request failed") == len(reloads) }, "the failed reloads in the logs")
	texts["logs"] = e.logs.String()

	secrets := []string{inlineKey, fileKey, masterSecret, groupSecret, reloadSecret}
	for _, s := range []string{appKey + ":" + masterSecret, "group-" + groupKey + ":" + groupSecret} {
		secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(s)))
	}
	seen, sigs, auths := vendors.credentials()
	if sigs == 0 || auths == 0 {
		t.Fatalf("the vendors received %d UserSigs and %d Authorization headers; want both", sigs, auths)
	}
	secrets = append(secrets, seen...)
	for name, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s shows a secret (%.12s…)", name, s)
			}
		}
		if strings.Contains(strings.ReplaceAll(text, "usersig=<secret>", ""), "usersig=") {
			t.Errorf("%s shows a usersig query parameter", name)
		}
	}
	// The paths were taken: failures were logged, the echoes arrived
	// redacted, the reloads were refused.
	for _, want := range []string{`msg="refresh failed`, "<secret>", "reload on request failed"} {
		if !strings.Contains(texts["logs"], want) {
			t.Errorf("the logs lack %q", want)
		}
	}
	if !strings.Contains(texts["/config"], "<secret>") {
		t.Errorf("/config does not show <secret>:\n%s", texts["/config"])
	}
}
