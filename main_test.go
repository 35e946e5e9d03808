package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/simulator"
)

// binary is the exporter built once for every end-to-end test.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "imstats-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "imstats_exporter")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the exporter: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer collects a process's output for assertions while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// exporter is a running exporter process.
type exporter struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	logs *syncBuffer
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs the exporter with args and waits until it answers /-/healthy.
func start(t *testing.T, args ...string) *exporter {
	t.Helper()
	e := &exporter{t: t, addr: freeAddr(t), logs: &syncBuffer{}}
	e.cmd = exec.Command(binary, append([]string{"--web.listen-address=" + e.addr, "--log.level=debug"}, args...)...)
	e.cmd.Stdout, e.cmd.Stderr = e.logs, e.logs
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.stop)
	e.waitFor(func() bool {
		resp, err := http.Get("http://" + e.addr + "/-/healthy")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, "the exporter to answer /-/healthy")
	return e
}

// waitFor polls cond until it holds; it gives up after a minute, which only
// bounds a failing test.
func (e *exporter) waitFor(cond func() bool, what string) {
	e.t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	e.t.Fatalf("gave up waiting for %s; logs:\n%s", what, e.logs.String())
}

func (e *exporter) stop() {
	if e.cmd.ProcessState != nil {
		return
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = e.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = e.cmd.Process.Kill()
		<-done
	}
}

func (e *exporter) get(path string) (int, string) {
	e.t.Helper()
	return e.do(http.MethodGet, path, "")
}

func (e *exporter) do(method, path, body string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, "http://"+e.addr+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// sample returns the value of the series matching selector (a metric name
// with its labels in exposition order) in the scrape, and whether it is there.
func sample(scrape, selector string) (float64, bool) {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(selector) + ` (\S+)$`)
	m := re.FindStringSubmatch(scrape)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil
}

func promtoolCheck(t *testing.T, scrape string) {
	t.Helper()
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = strings.NewReader(scrape)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

const getAppInfoCalls = `imstats_exporter_api_requests_total{api="openconfigsvr/getappinfo",code="0",vendor="tencent_im"}`

func TestDemo(t *testing.T) {
	t.Parallel()
	e := start(t, "--demo", "--web.enable-lifecycle")
	var scrape string
	e.waitFor(func() bool {
		_, scrape = e.get("/metrics")
		_, ok := sample(scrape, `tencent_im_active_users{sdkappid="1400000001"}`)
		return ok
	}, "tencent_im_active_users")

	// Every source of the demo has values, JPush included.
	families := []string{
		"tencent_im_push_task_delivered", "tencent_im_push_window_platform_delivered",
		"tencent_im_push_task_platform_loss", "tencent_im_push_window_loss", "tencent_im_normal_push_window_platform_loss",
		"tencent_im_push_loss_reason_info",
		"jpush_message_delivery_received", "jpush_message_channel_received", "jpush_message_target",
		"jpush_users_active", "jpush_message_devices", "jpush_group_message_channel_received", "jpush_group_users_active",
		"imstats_exporter_rate_limit_remaining", "tencent_im_push_events_total",
	}
	e.waitFor(func() bool {
		_, scrape = e.get("/metrics")
		for _, f := range families {
			if !strings.Contains(scrape, "\n"+f+"{") {
				return false
			}
		}
		return true
	}, "every demo metric family")

	t.Run("promtool check metrics", func(t *testing.T) { promtoolCheck(t, scrape) })

	t.Run("the first app's tasks are tracked by the push callbacks", func(t *testing.T) {
		code, body := e.get("/api/v1/tencent_im/1400000001/tasks")
		if code != http.StatusOK || !strings.Contains(body, `"origin":"callback"`) || !strings.Contains(body, `"sent":`) {
			t.Errorf("tasks = %d %s, want one tracked from a callback with its sent time", code, body)
		}
		code, body = e.get("/api/v1/tencent_im/1400000002/tasks")
		if code != http.StatusOK || !strings.Contains(body, `"origin":"file"`) || !strings.Contains(body, `"sent":`) {
			t.Errorf("tasks = %d %s, want one from the watched file with its sent time", code, body)
		}
	})

	t.Run("20 back-to-back scrapes cost one getappinfo call per app", func(t *testing.T) {
		before, _ := sample(scrape, getAppInfoCalls)
		for range 20 {
			_, scrape = e.get("/metrics")
		}
		after, _ := sample(scrape, getAppInfoCalls)
		if before != 2 || after != 2 {
			t.Fatalf("getappinfo calls: %v before, %v after 20 scrapes; want 2 (one per demo app)", before, after)
		}
	})

	t.Run("endpoints", func(t *testing.T) {
		for _, tc := range []struct {
			method, path string
			code         int
			contains     string
		}{
			{"GET", "/", 200, "/metrics"},
			{"GET", "/-/healthy", 200, "Healthy"},
			{"GET", "/-/ready", 200, "Ready"},
			{"GET", "/-/reload", 405, "POST"},
			{"POST", "/-/reload", 200, "reloaded"},
			{"GET", "/config", 200, "secret_key_file: "},
		} {
			code, body := e.do(tc.method, tc.path, "")
			if code != tc.code || !strings.Contains(body, tc.contains) {
				t.Errorf("%s %s = %d %q, want %d containing %q", tc.method, tc.path, code, body, tc.code, tc.contains)
			}
		}
	})

	t.Run("build_info has a version without -ldflags", func(t *testing.T) {
		if !regexp.MustCompile(`imstats_exporter_build_info\{[^}]*version="[^"]+"`).MatchString(scrape) {
			t.Error("imstats_exporter_build_info has an empty version")
		}
	})

	t.Run("exporter-toolkit logs in the project's format", func(t *testing.T) {
		var line string
		for l := range strings.SplitSeq(e.logs.String(), "\n") {
			if strings.Contains(l, `msg="Listening on"`) {
				line = l
			}
		}
		if !strings.HasPrefix(line, "level=info ts=") || strings.Count(line, "ts=") != 1 || strings.Contains(line, "time=") {
			t.Errorf("want level=info ts=… with one timestamp, got %q", line)
		}
	})

	t.Run("no secret anywhere", func(t *testing.T) {
		_, cfg := e.get("/config")
		_, landing := e.get("/")
		for name, text := range map[string]string{"/metrics": scrape, "/config": cfg, "/": landing, "logs": e.logs.String()} {
			for _, secret := range []string{"demo-tencent-im-secret-key", "demo-tencent-im-callback-token", "demo-jpush-master-secret", "demo-jpush-group-secret", "usersig=", "Basic "} {
				if strings.Contains(text, secret) {
					t.Errorf("%s contains %q", name, secret)
				}
			}
		}
	})
}

// minimalConfig is a configuration with one JPush app whose endpoint does
// not answer (the discard port on loopback): enough to start the exporter
// for tests of its HTTP side.
const minimalConfig = `jpush:
  - app_key: "7d431e42dfa6a6d693ac2d04"
    master_secret: "0123456789abcdef01234567"
    endpoint: http://127.0.0.1:9
state_directory: state
`

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tim.key"), "k\n")
	for _, tc := range []struct {
		name, config string
		code         int
		want         string
	}{
		{"valid", "tencent_im:\n  - sdkappid: 1400000000\n    secret_key_file: tim.key\n", 0, "configuration is valid"},
		{"misspelt key", "tencent_im:\n  - sdkappid: 1400000000\n    secret_key_file: tim.key\n    regoin: singapore\n", 1, "line 4: tencent_im[0].regoin: unknown key"},
		{"every problem", "tencent_im:\n  - sdkappid: 0\nrefresh_intervals:\n  jpush_received: soon\n", 1, "jpush_received"},
	} {
		path := filepath.Join(dir, tc.name+".yml")
		writeFile(t, path, tc.config)
		out, err := exec.Command(binary, "--config.check", "--config.file="+path).CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s: exit %d, output:\n%s\nwant exit %d containing %q", tc.name, code, out, tc.code, tc.want)
		}
	}
}

// vendor starts the Tencent simulator for one app on loopback.
func vendor(t *testing.T, key string) (*simulator.Tencent, string) {
	t.Helper()
	sim := simulator.NewTencent(simulator.TencentOptions{Apps: []simulator.TencentApp{{SDKAppID: 1400000000, Identifier: "admin", SecretKey: key}}, Seed: 7})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv.URL
}

func TestReloadAndRestart(t *testing.T) {
	t.Parallel()
	const key = "e2e-secret-key-0123456789"
	sim, url := vendor(t, key)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tim.key"), key+"\n")
	cfgPath := filepath.Join(dir, "exporter.yml")
	good := fmt.Sprintf("tencent_im:\n  - sdkappid: 1400000000\n    secret_key_file: tim.key\n    endpoint: %s\n    push:\n      windows: [24h]\nstate_directory: state\n", url)
	writeFile(t, cfgPath, good)

	e := start(t, "--config.file="+cfgPath, "--web.enable-lifecycle", "--web.enable-tracking-api")
	taskID, err := sim.Push(1400000000, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := e.do("POST", "/api/v1/tencent_im/1400000000/tasks", `{"task_ids":["`+taskID+`"]}`); code != 200 {
		t.Fatalf("registering a task: %d %s", code, body)
	}
	taskSeries := `tencent_im_push_task_target{sdkappid="1400000000",task_id="` + taskID + `"}`
	e.waitFor(func() bool { _, s := e.get("/metrics"); _, ok := sample(s, taskSeries); return ok }, "the registered task's statistics")

	// A bad file is refused with its reason, and the old configuration keeps running.
	writeFile(t, cfgPath, good+"bogus: 1\n")
	code, body := e.do("POST", "/-/reload", "")
	if code != 500 || !strings.Contains(body, "bogus: unknown key") {
		t.Fatalf("reload of a bad file: %d %q", code, body)
	}
	_, scrape := e.get("/metrics")
	if v, _ := sample(scrape, "imstats_exporter_config_last_reload_successful"); v != 0 {
		t.Fatalf("config_last_reload_successful = %v after a failed reload", v)
	}
	if _, ok := sample(scrape, taskSeries); !ok {
		t.Fatal("the running configuration stopped serving after a failed reload")
	}
	// SIGHUP reloads a fixed file.
	writeFile(t, cfgPath, good)
	if err := e.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	e.waitFor(func() bool {
		_, s := e.get("/metrics")
		v, _ := sample(s, "imstats_exporter_config_last_reload_successful")
		return v == 1
	}, "a successful reload on SIGHUP")

	// The registered task survives a restart.
	e.stop()
	e2 := start(t, "--config.file="+cfgPath, "--web.enable-tracking-api")
	_, list := e2.get("/api/v1/tencent_im/1400000000/tasks")
	if !strings.Contains(list, taskID) {
		t.Fatalf("after a restart the task list is %s", list)
	}
	e2.waitFor(func() bool { _, s := e2.get("/metrics"); _, ok := sample(s, taskSeries); return ok }, "the task's statistics after a restart")
	for _, text := range []string{e.logs.String(), e2.logs.String()} {
		if strings.Contains(text, key) {
			t.Fatal("the secret key appears in the logs")
		}
	}
}

// TestCallbacksListenAddress: with a listen address of its own, the
// receiver answers there, the demo's simulator posts there, and the main
// address does not serve it.
func TestCallbacksListenAddress(t *testing.T) {
	t.Parallel()
	cbAddr := freeAddr(t)
	e := start(t, "--demo", "--web.callbacks-listen-address="+cbAddr)
	e.waitFor(func() bool {
		_, scrape := e.get("/metrics")
		return strings.Contains(scrape, "\ntencent_im_push_events_total{")
	}, "push events from the demo's callbacks")
	if code, _ := e.do(http.MethodPost, "/callbacks/tencent_im?SdkAppid=1400000001&CallbackCommand=Push.OfflinePush", `{"Events":[]}`); code != http.StatusNotFound {
		t.Errorf("the main address answers the callback path with %d, want 404", code)
	}
	resp, err := http.Get("http://" + cbAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the callback address serves /metrics: %d", resp.StatusCode)
	}
}

func TestFirstHour(t *testing.T) {
	t.Parallel()
	t.Run("--version without -ldflags", func(t *testing.T) {
		out, err := exec.Command(binary, "--version").CombinedOutput()
		if err != nil {
			t.Fatal(err, string(out))
		}
		if !regexp.MustCompile(`^imstats_exporter, version \S+ `).Match(out) {
			t.Errorf("no version in %q", out)
		}
	})
	t.Run("every serve flag in the top-level --help", func(t *testing.T) {
		out, err := exec.Command(binary, "--help").CombinedOutput()
		if err != nil {
			t.Fatal(err, string(out))
		}
		for _, flag := range []string{"config.file", "config.check", "demo", "web.listen-address", "web.config.file", "web.telemetry-path",
			"web.enable-lifecycle", "web.enable-tracking-api", "web.write-token-file", "web.write-timeout", "web.max-request-body", "web.max-requests", "web.max-scrapes",
			"web.enable-callbacks", "web.callbacks-listen-address", "web.callbacks-config.file", "web.max-callbacks"} {
			if !regexp.MustCompile(`--(\[no-\])?` + regexp.QuoteMeta(flag) + `[= \n]`).Match(out) {
				t.Errorf("--help does not show --%s", flag)
			}
		}
	})
}
