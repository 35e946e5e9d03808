package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/refresh"
	"github.com/imstats/imstats_exporter/internal/simulator"
	"github.com/imstats/imstats_exporter/internal/sources"
)

const (
	testSDKAppID     = 1400000000
	testTencentKey   = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
	testAppKey       = "7d431e42dfa6a6d693ac2d04"
	testMasterSecret = "5e987ac6d2e04d95a9d8f0d1"
)

// vendors starts the simulators of both vendors on loopback and returns
// their base URL.
func vendors(t *testing.T) string {
	t.Helper()
	tim := simulator.NewTencent(simulator.TencentOptions{Apps: []simulator.TencentApp{{SDKAppID: testSDKAppID, Identifier: "admin", SecretKey: testTencentKey}}, Seed: 1})
	jp := simulator.NewJPush(simulator.JPushOptions{Apps: []simulator.JPushApp{{AppKey: testAppKey, MasterSecret: testMasterSecret, VIP: true}}, Seed: 1})
	mux := http.NewServeMux()
	mux.Handle("/v4/", tim)
	mux.Handle("/v3/", jp)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// testConfig is the configuration the tests write; extra is appended as is.
func testConfig(url, dir, maxAge, extra string) string {
	return fmt.Sprintf(`tencent_im:
  - sdkappid: %d
    identifier: admin
    secret_key: %q
    endpoint: %s
    push:
      task_ids: ["1400000000_1_1"]
      task_ids_file: %s
jpush:
  - app_key: %q
    master_secret: %q
    endpoint: %s
    msg_ids: ["1613113584"]
    msg_ids_file: %s
state_directory: %s
tracking:
  max_age: %s
  register_per_minute: 0
%s`, testSDKAppID, testTencentKey, url, filepath.Join(dir, "tasks.txt"), testAppKey, testMasterSecret, url,
		filepath.Join(dir, "msgs.txt"), filepath.Join(dir, "state"), maxAge, extra)
}

// writeAtomic replaces path with content in one rename, as an operator's
// deployment tool would.
func writeAtomic(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// testServer runs a Server over the configuration file and serves its
// handler; it stops with the test.
func testServer(t *testing.T, configFile string) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(Options{ConfigFile: configFile, EnableTrackingWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	h, err := s.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	return s, srv
}

// request sends one request with a deadline: a request that stalls fails
// the test instead of hanging it.
func request(client *http.Client, method, url, body string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// listed returns the IDs the tracking API lists at path.
func listed(t *testing.T, url, key string) []string {
	t.Helper()
	code, body, err := request(http.DefaultClient, http.MethodGet, url, "")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET %s: %d %v %s", url, code, err, body)
	}
	var out map[string][]struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, id := range out[key] {
		ids = append(ids, id.ID)
	}
	slices.Sort(ids)
	return ids
}

// TestStormOfReloadsRegistrationsAndScrapes runs reloads (HTTP and SIGHUP,
// unchanged and with a changed max_age), registrations, deletions and
// scrapes together for a bounded time. It fails if any request stalls, and
// then checks that every ID acknowledged with 2xx, and not deleted, is
// tracked and survives a restart.
func TestStormOfReloadsRegistrationsAndScrapes(t *testing.T) {
	dir := t.TempDir()
	url := vendors(t)
	cfgFile := filepath.Join(dir, "exporter.yml")
	writeAtomic(t, cfgFile, testConfig(url, dir, "7d", ""))
	_, srv := testServer(t, cfgFile)

	const duration = 3 * time.Second
	stop := time.Now().Add(duration)
	client := &http.Client{Timeout: 30 * time.Second}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		acked   = map[string]bool{} // msg_ids acknowledged and not deleted
		fails   []string
		counter atomic.Int64
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		fails = append(fails, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	msgsPath := srv.URL + "/api/v1/jpush/" + testAppKey + "/messages"
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(stop); i++ {
				id := fmt.Sprintf("%d%06d", 9+w, i)
				code, body, err := request(client, http.MethodPost, msgsPath, `{"msg_ids":["`+id+`"]}`)
				counter.Add(1)
				switch {
				case err != nil:
					fail("POST %s: %v", id, err)
					return
				case code == http.StatusOK:
					mu.Lock()
					acked[id] = true
					mu.Unlock()
				case code >= 500:
					// Not acknowledged: not required to be kept.
				default:
					fail("POST %s: %d %s", id, code, body)
				}
				if i%5 == 4 {
					code, body, err := request(client, http.MethodDelete, msgsPath+"/"+id, "")
					if err != nil {
						fail("DELETE %s: %v", id, err)
						return
					}
					if code == http.StatusOK {
						mu.Lock()
						delete(acked, id)
						mu.Unlock()
					} else if code < 500 {
						fail("DELETE %s: %d %s", id, code, body)
					}
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; time.Now().Before(stop); i++ {
			maxAge := []string{"7d", "6d"}[i%2]
			writeAtomic(t, cfgFile, testConfig(url, dir, maxAge, ""))
			// From the third round on, when HTTP reloads have shown that Run
			// listens for SIGHUP (an unhandled SIGHUP would end the test).
			if i%3 == 2 {
				_ = syscall.Kill(os.Getpid(), syscall.SIGHUP)
				continue
			}
			code, body, err := request(client, http.MethodPost, srv.URL+"/-/reload", "")
			if err != nil || code != http.StatusOK {
				fail("reload: %d %v %s", code, err, body)
				return
			}
		}
	}()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				code, _, err := request(client, http.MethodGet, srv.URL+"/metrics", "")
				if err != nil || code != http.StatusOK {
					fail("scrape: %d %v", code, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, f := range fails {
		t.Error(f)
	}
	if t.Failed() {
		return
	}
	if counter.Load() == 0 {
		t.Fatal("no registration was made")
	}
	got := listed(t, msgsPath, "msg_ids")
	for id := range acked {
		if _, ok := slices.BinarySearch(got, id); !ok {
			t.Errorf("acknowledged ID %s is not tracked", id)
		}
	}

	// A restart over the same state directory keeps them all.
	srv.Close()
	_, srv2 := testServer(t, cfgFile)
	got = listed(t, srv2.URL+"/api/v1/jpush/"+testAppKey+"/messages", "msg_ids")
	for id := range acked {
		if _, ok := slices.BinarySearch(got, id); !ok {
			t.Errorf("acknowledged ID %s is lost after a restart", id)
		}
	}
}

// observable is everything a rejected reload must leave as it was.
type observable struct {
	tasks, msgs []string
	config      string
	stateFiles  map[string]string
	health      string
}

func observe(t *testing.T, srv *httptest.Server, dir string) observable {
	t.Helper()
	o := observable{
		tasks:      listed(t, srv.URL+fmt.Sprintf("/api/v1/tencent_im/%d/tasks", testSDKAppID), "task_ids"),
		msgs:       listed(t, srv.URL+"/api/v1/jpush/"+testAppKey+"/messages", "msg_ids"),
		stateFiles: map[string]string{},
	}
	_, o.config, _ = request(http.DefaultClient, http.MethodGet, srv.URL+"/config", "")
	files, _ := filepath.Glob(filepath.Join(dir, "state", "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		o.stateFiles[filepath.Base(f)] = string(b)
	}
	_, scrape, _ := request(http.DefaultClient, http.MethodGet, srv.URL+"/metrics", "")
	for _, line := range strings.Split(scrape, "\n") {
		if strings.HasPrefix(line, "imstats_exporter_refresh_interval_seconds") || strings.HasPrefix(line, "imstats_exporter_tracked_ids") {
			o.health += line + "\n"
		}
	}
	return o
}

// TestRejectedReloadChangesNothing makes reloads that pass the file's
// validation but fail the plan (a watched ID file that cannot be read, a
// moved state directory) together with changes of every kind of state, and
// checks that nothing observable changed.
func TestRejectedReloadChangesNothing(t *testing.T) {
	dir := t.TempDir()
	url := vendors(t)
	cfgFile := filepath.Join(dir, "exporter.yml")
	if err := os.WriteFile(filepath.Join(dir, "tasks.txt"), []byte("1400000000_2_2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, cfgFile, testConfig(url, dir, "7d", ""))
	s, srv := testServer(t, cfgFile)
	code, body, err := request(http.DefaultClient, http.MethodPost, srv.URL+"/api/v1/jpush/"+testAppKey+"/messages", `{"msg_ids":["1229760629"]}`)
	if err != nil || code != http.StatusOK {
		t.Fatalf("registering: %d %v %s", code, err, body)
	}
	before := observe(t, srv, dir)
	if len(before.tasks) != 2 || len(before.msgs) != 2 {
		t.Fatalf("before: tasks %v, msgs %v", before.tasks, before.msgs)
	}

	unreadable := filepath.Join(dir, "unreadable")
	if err := os.Mkdir(unreadable, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, config string
	}{
		{"watched file is a directory", strings.Replace(testConfig(url, dir, "1d", "refresh_intervals:\n  jpush_received: 5m\n"),
			filepath.Join(dir, "msgs.txt"), unreadable, 1)},
		{"state directory moved", strings.Replace(testConfig(url, dir, "1d", ""), filepath.Join(dir, "state"), filepath.Join(dir, "elsewhere"), 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeAtomic(t, cfgFile, strings.Replace(tc.config, `task_ids: ["1400000000_1_1"]`, `task_ids: ["1400000000_9_9"]`, 1))
			code, body, err := request(http.DefaultClient, http.MethodPost, srv.URL+"/-/reload", "")
			if err != nil || code != http.StatusInternalServerError {
				t.Fatalf("reload answered %d %v %s; want 500", code, err, body)
			}
			after := observe(t, srv, dir)
			if fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("a rejected reload changed what is observable:\nbefore %+v\nafter  %+v", before, after)
			}
			if _, err := os.Stat(filepath.Join(dir, "elsewhere")); err == nil {
				t.Fatal("a rejected reload created the new state directory")
			}
			if time.Duration(s.safe.Get().Tracking.MaxAge) != 7*24*time.Hour {
				t.Fatalf("max_age in force is %s after a rejected reload", s.safe.Get().Tracking.MaxAge)
			}
		})
	}
	if bytes.Contains([]byte(before.config), []byte(testTencentKey)) {
		t.Fatal("/config shows a secret")
	}
}

// TestGzipBodyIsOneMember checks that a gzip scrape is one gzip member that
// both Go's reader and a single-member reader (as curl's zlib is) decode to
// the whole exposition, vendor series and the exporter's own metrics.
func TestGzipBodyIsOneMember(t *testing.T) {
	s := renderServer(t, 1000)
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	plain := httptest.NewRecorder()
	s.serveMetrics(plain, req)
	req.Header.Set("Accept-Encoding", "gzip")
	for range 2 { // the second scrape serves the shared part from the cache
		zipped := httptest.NewRecorder()
		s.serveMetrics(zipped, req)
		if zipped.Header().Get("Content-Encoding") != "gzip" {
			t.Fatal("no Content-Encoding: gzip")
		}
		zr, err := gzip.NewReader(bytes.NewReader(zipped.Body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("decoding the body: %v", err)
		}
		if !strings.Contains(string(got), `tencent_im_push_task_target{sdkappid="1400000000",task_id="1400000000_144115212910570789_0000000999_17000000"} 999`) ||
			!strings.Contains(string(got), "imstats_exporter_config_last_reload_successful") {
			t.Fatalf("the first gzip member lacks the vendor series or the exporter's own:\n%.500s", got)
		}
		if strings.Count(string(got), "\n") != strings.Count(plain.Body.String(), "\n") {
			t.Fatalf("gzip body has %d lines, the plain one %d", strings.Count(string(got), "\n"), strings.Count(plain.Body.String(), "\n"))
		}
	}
}

// TestLandingPageLinksAnswer follows every link of the landing page.
func TestLandingPageLinksAnswer(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "exporter.yml")
	writeAtomic(t, cfgFile, testConfig(vendors(t), dir, "7d", ""))
	_, srv := testServer(t, cfgFile)
	_, page, err := request(http.DefaultClient, http.MethodGet, srv.URL+"/", "")
	if err != nil {
		t.Fatal(err)
	}
	links := regexp.MustCompile(`href="(/[^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(links) < 5 {
		t.Fatalf("the landing page has %d links:\n%s", len(links), page)
	}
	for _, l := range links {
		code, body, err := request(http.DefaultClient, http.MethodGet, srv.URL+l[1], "")
		if err != nil || code != http.StatusOK {
			t.Errorf("GET %s: %d %v %.200s", l[1], code, err, body)
		}
	}
	_, body, _ := request(http.DefaultClient, http.MethodGet, srv.URL+"/api/v1/", "")
	if !strings.Contains(body, fmt.Sprintf(`"/api/v1/tencent_im/%d/tasks"`, testSDKAppID)) || !strings.Contains(body, `"/api/v1/jpush/`+testAppKey+`/messages"`) {
		t.Errorf("the API index lacks an app: %s", body)
	}
}

// TestScrapeWaitsOnlyForAFirstSnapshot: the first scrape waits for the
// target's first refresh; once the target has a snapshot, a scrape that
// finds it stale asks for a refresh and is served at once, while the
// vendor call is still in flight.
func TestScrapeWaitsOnlyForAFirstSnapshot(t *testing.T) {
	jp := simulator.NewJPush(simulator.JPushOptions{Apps: []simulator.JPushApp{{AppKey: testAppKey, MasterSecret: testMasterSecret, VIP: true}}, Seed: 1})
	var first atomic.Bool
	var slow, inflight atomic.Int32 // slow counts only after inflight
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !first.CompareAndSwap(false, true) {
			// Every refresh after the first is slow: it ends on its own
			// after a while, long before the test's scrapes would give up.
			inflight.Add(1)
			defer inflight.Add(-1)
			slow.Add(1)
			time.Sleep(3 * time.Second)
		}
		jp.ServeHTTP(w, r)
	}))
	defer vendor.Close()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "exporter.yml")
	writeAtomic(t, cfgFile, fmt.Sprintf(`jpush:
  - app_key: %q
    master_secret: %q
    endpoint: %s
sources: {jpush_received: false, jpush_messages: false, jpush_status: false}
refresh_intervals: {jpush_users: 1s}
state_directory: %s
`, testAppKey, testMasterSecret, vendor.URL, filepath.Join(dir, "state")))
	_, srv := testServer(t, cfgFile)
	scrape := func() string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
		req.Header.Set(ScrapeTimeoutHeader, "30")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if body := scrape(); !strings.Contains(body, "jpush_users_day_timestamp_seconds{") {
		t.Fatalf("the first scrape did not wait for the first snapshot:\n%.2000s", body)
	}
	for slow.Load() == 0 {
		time.Sleep(100 * time.Millisecond)
		if body := scrape(); !strings.Contains(body, "jpush_users_day_timestamp_seconds{") {
			t.Fatal("a scrape of a stale target lost its snapshot")
		}
		if slow.Load() > 0 && inflight.Load() == 0 {
			t.Fatal("the scrape waited for the refresh it asked for")
		}
	}
	if inflight.Load() != 1 {
		t.Fatalf("after the scrape that found the snapshot stale, %d vendor calls in flight, want the refresh it asked for", inflight.Load())
	}
}

// TestNegotiatesWhatItServes: Prometheus 3 asks for protobuf first; the
// exporter, which serves text, answers with the next format asked for.
func TestNegotiatesWhatItServes(t *testing.T) {
	s := renderServer(t, 10)
	for _, tc := range []struct{ accept, want string }{
		{"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.9,application/openmetrics-text;version=1.0.0;q=0.8,text/plain;version=0.0.4;q=0.7", "application/openmetrics-text; version=1.0.0"},
		{"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", "text/plain; version=0.0.4"},
		{"", "text/plain; version=0.0.4"},
	} {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept", tc.accept)
		rec := httptest.NewRecorder()
		s.serveMetrics(rec, req)
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tc.want) {
			t.Errorf("Accept %q: Content-Type %q, want %q", tc.accept, ct, tc.want)
		}
		if om := strings.HasPrefix(tc.want, "application/openmetrics-text"); om != strings.HasSuffix(rec.Body.String(), "# EOF\n") {
			t.Errorf("Accept %q: OpenMetrics %v, but the body ends %q", tc.accept, om, rec.Body.String()[max(0, rec.Body.Len()-20):])
		}
	}
}

// TestPagesSayWhichAppIsNotWatched: an app that polls tracked IDs and
// tracks none has its "not watched" line on the landing page and on
// /status, and loses it as soon as an ID is registered.
func TestPagesSayWhichAppIsNotWatched(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "exporter.yml")
	writeAtomic(t, cfgFile, fmt.Sprintf(`tencent_im:
  - sdkappid: %d
    secret_key: %q
    endpoint: %s
    push:
      task_ids: ["1400000000_1_1"]
jpush:
  - app_key: %q
    master_secret: %q
    endpoint: %s
state_directory: %s
`, testSDKAppID, testTencentKey, vendors(t), testAppKey, testMasterSecret, "http://127.0.0.1:1", filepath.Join(dir, "state")))
	_, srv := testServer(t, cfgFile)
	get := func(path string) string {
		t.Helper()
		code, body, err := request(http.DefaultClient, http.MethodGet, srv.URL+path, "")
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET %s: %d %v %.300s", path, code, err, body)
		}
		return body
	}
	jpushLine := "jpush app <code>" + testAppKey + "</code>: this app's delivery is not watched: <a href=\"" + feedingDocs + "\">feed it IDs</a>"
	landing := get("/")
	if !strings.Contains(landing, jpushLine) {
		t.Errorf("the landing page lacks %q:\n%s", jpushLine, landing)
	}
	if strings.Contains(landing, fmt.Sprintf("app <code>%d</code>", testSDKAppID)) {
		t.Errorf("the landing page calls the Tencent app, which tracks a task, not watched:\n%s", landing)
	}
	status := get("/status")
	for _, want := range []string{
		"<td>tencent_im</td>\n<td><code>1400000000</code></td>",
		"tencent_operations: ", "tencent_push: ", "jpush_received: ",
		"<td>1</td>\n<td>watched</td>",
		"<td>0</td>\n<td><span class=\"bad\">not watched: <a href=\"" + feedingDocs + "\">feed it IDs</a></span></td>",
	} {
		if !strings.Contains(status, want) {
			t.Errorf("/status lacks %q:\n%s", want, status)
		}
	}

	code, body, err := request(http.DefaultClient, http.MethodPost, srv.URL+"/api/v1/jpush/"+testAppKey+"/messages", `{"msg_ids":["1613113584"]}`)
	if err != nil || code != http.StatusOK {
		t.Fatalf("registering a msg_id: %d %v %s", code, err, body)
	}
	if landing := get("/"); strings.Contains(landing, "not watched") {
		t.Errorf("the landing page still has a not-watched app after a registration:\n%s", landing)
	}
	if status := get("/status"); strings.Contains(status, "not watched") {
		t.Errorf("/status still has a not-watched app after a registration:\n%s", status)
	}
}

// TestGzipScrapesShareOneCompression: scrapes of one snapshot generation,
// at the same time or one after the other, compress its vendor series once
// between them; after one series changes, the next scrape compresses only
// the segment that holds it. (Before, a generation was compressed whole,
// and every change of any block, which the refresh loops make every few
// seconds, made the next scrape compress everything again.)
func TestGzipScrapesShareOneCompression(t *testing.T) {
	const n = 20_000
	s := renderServer(t, n)
	target := s.units.Load().units[0].target
	plain := httptest.NewRecorder()
	s.serveMetrics(plain, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	vendorText := plain.Body.String()[:strings.Index(plain.Body.String(), "\n# HELP imstats_exporter")+1]
	var vendor int64 // the vendor lines; the headers are compressed once per process
	for line := range strings.Lines(vendorText) {
		if !strings.HasPrefix(line, "# ") {
			vendor += int64(len(line))
		}
	}
	scrape := func() {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		w := httptest.NewRecorder()
		s.serveMetrics(w, req)
		if got := string(gunzip(t, w.Body.Bytes())); !strings.Contains(got, renderTask(n-1)) {
			t.Errorf("a gzip scrape lacks the last series")
		}
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(scrape)
	}
	wg.Wait()
	scrape()
	if got := compressed(s); got != vendor {
		t.Fatalf("9 scrapes of one generation compressed %d bytes; the vendor series are %d", got, vendor)
	}
	target.Put(renderTask(n/2), []expo.Sample{benchFamily.Gauge(-1, "1400000000", renderTask(n/2))})
	scrape()
	if again := compressed(s) - vendor; again <= 0 || again > vendor/4 {
		t.Fatalf("after one series changed, a scrape compressed %d bytes of %d", again, vendor)
	}
}

// compressed returns how many bytes of vendor lines s's targets have
// compressed for gzip scrapes.
func compressed(s *Server) (n int64) {
	for _, u := range s.units.Load().units {
		n += u.target.Compressed()
	}
	return n
}

// TestCurlReadsTheGzipBody: curl, whose zlib stops after the first gzip
// member and checks its CRC and length, reads the segmented body whole.
func TestCurlReadsTheGzipBody(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("no curl on PATH")
	}
	s := renderServer(t, 30_000)
	srv := httptest.NewServer(http.HandlerFunc(s.serveMetrics))
	defer srv.Close()
	plain := httptest.NewRecorder()
	s.serveMetrics(plain, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, curl, "--silent", "--show-error", "--fail", "--compressed", "--max-time", "20", srv.URL)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("curl: %v: %s", err, stderr.String())
	}
	vendor := plain.Body.String()[:strings.Index(plain.Body.String(), "\n# HELP imstats_exporter")+1]
	if !strings.HasPrefix(string(out), vendor) || !strings.Contains(string(out), "imstats_exporter_config_last_reload_successful") {
		t.Fatalf("curl read %d bytes that do not hold the %d bytes of vendor series and the exporter's own", len(out), len(vendor))

	}
}

// TestGzipFollowsTheTextOrderAcrossTargets: with two targets of one source
// and a target of another between them, the gzip body's vendor part holds
// the text's bytes, in the text's order (each family of a source once,
// its targets' lines together).
func TestGzipFollowsTheTextOrderAcrossTargets(t *testing.T) {
	unitOf := func(name string, sh shape, app string, put func(*refresh.Target)) *unit {
		def := sources.Def{Source: catalog.Source{Name: name}, Builder: sources.Builder{Schema: sh.schema}}
		tg := refresh.NewTarget(name, app, sh.schema, nil)
		put(tg)
		return &unit{def: def, target: tg}
	}
	tasks := func(app string, n int) func(*refresh.Target) {
		return func(tg *refresh.Target) {
			for i := range n {
				tg.Put(renderTask(i), []expo.Sample{benchFamily.Gauge(float64(i), app, renderTask(i))})
			}
		}
	}
	units := &unitList{units: []*unit{
		unitOf("single", singleShape, "1400000001", tasks("1400000001", 300)),
		unitOf("daemon", daemonShape, "8f3c", func(tg *refresh.Target) { fillDaemon(tg, 2000) }),
		unitOf("single", singleShape, "1400000002", tasks("1400000002", 200)),
	}}
	for _, format := range []expo.Format{expo.Text, expo.OpenMetrics} {
		var text, gz bytes.Buffer
		if err := expo.Write(&text, format, collectGroups(nil, units)); err != nil {
			t.Fatal(err)
		}
		if err := expo.WriteGzip(&gz, deflateUnits(format, units), nil); err != nil {
			t.Fatal(err)
		}
		if got := gunzip(t, gz.Bytes()); !bytes.Equal(got, text.Bytes()) {
			t.Fatalf("format %d: the gzip body's %d bytes differ from the text's %d", format, len(got), text.Len())
		}
		if n := strings.Count(text.String(), "# TYPE tencent_im_push_task_target "); n != 1 {
			t.Fatalf("format %d: the family of two targets has %d headers", format, n)
		}
	}
}
