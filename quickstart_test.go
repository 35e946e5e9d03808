package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/simulator"
)

// quickStartBlock returns the fenced block that follows the marker comment
// <!-- quickstart:name --> in the README.
func quickStartBlock(t *testing.T, readme, name string) string {
	t.Helper()
	re := regexp.MustCompile("(?s)<!-- quickstart:" + regexp.QuoteMeta(name) + " -->\n```[a-z]*\n(.*?)```")
	m := re.FindStringSubmatch(readme)
	if m == nil {
		t.Fatalf("README.md has no fenced block after <!-- quickstart:%s -->", name)
	}
	return m[1]
}

// replaceAll replaces old with new in s and fails when old is not there, so
// that a quick start that changes shape fails here instead of passing
// without its substitutions.
func replaceAll(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("the quick start no longer contains %q:\n%s", old, s)
	}
	return strings.ReplaceAll(s, old, new)
}

// seriesOf matches a sample of the metric name whose labels include label.
func seriesOf(name, label string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\{[^}]*` + regexp.QuoteMeta(label) + `[^}]*\} \S+$`)
}

// TestQuickStart copies the README's quick start into a fresh directory:
// the configuration as written, the secret files installed by the README's
// own commands, the system paths moved into the directory, the region
// replaced by the simulator's endpoint and the secrets by its credentials.
// The configuration must pass --config.check as the exporter's user would
// run it, and the exporter must then export data of both vendors, with the
// IDs the sender writes into the watched files. The Prometheus part (the
// scrape job and rule_files) must pass promtool check config with the
// rules of alerts/.
func TestQuickStart(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)

	// The IDs of the quick start are the simulator's apps, so only the
	// endpoints and the secrets change.
	const (
		sdkappid     = 1400000000
		appKey       = "7d431e42dfa6a6d693ac2d04"
		secretKey    = "quickstart-tencent-secret-key-0123456789"
		masterSecret = "quickstart-jpush-master-secret-0"
	)
	tencent := simulator.NewTencent(simulator.TencentOptions{Apps: []simulator.TencentApp{{SDKAppID: sdkappid, Identifier: "admin", SecretKey: secretKey}}, Seed: 17})
	jpush := simulator.NewJPush(simulator.JPushOptions{Apps: []simulator.JPushApp{{AppKey: appKey, MasterSecret: masterSecret, VIP: true}}, Seed: 17})
	mux := http.NewServeMux()
	mux.Handle("/v4/", tencent)
	mux.Handle("/v3/", jpush)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	paths := strings.NewReplacer(
		"/etc/imstats", filepath.Join(dir, "etc"),
		"/var/lib/imstats", filepath.Join(dir, "state"),
		"/var/lib/pusher", filepath.Join(dir, "pusher"),
	)
	config := quickStartBlock(t, readme, "config")
	config = replaceAll(t, config, "region: singapore", "endpoint: "+srv.URL)
	config = regexp.MustCompile(`(?m)^(\s+)(master_secret_file: .*)$`).ReplaceAllString(config, "${1}${2}\n${1}endpoint: "+srv.URL)
	config = paths.Replace(config)
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(work, "exporter.yml"), config)

	// The README's commands, run as they are but for sudo and the owner:
	// the test owns what it installs.
	files := quickStartBlock(t, readme, "files")
	files = replaceAll(t, files, "sudo -u imstats /usr/local/bin/imstats_exporter", binary)
	files = replaceAll(t, files, "-o root -g imstats", fmt.Sprintf("-o %d -g %d", os.Getuid(), os.Getgid()))
	files = replaceAll(t, files, "sudo ", "")
	files = paths.Replace(files)
	cmd := exec.Command("sh", "-e", "-c", files)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "TIM_SECRET_KEY="+secretKey, "JPUSH_MASTER_SECRET="+masterSecret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the quick start's commands: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "configuration is valid") {
		t.Fatalf("--config.check did not pass:\n%s", out)
	}
	etc := filepath.Join(dir, "etc")
	for name, want := range map[string]os.FileMode{".": 0o750 | os.ModeDir, "exporter.yml": 0o640, "tim.key": 0o640, "jpush.secret": 0o640} {
		fi, err := os.Stat(filepath.Join(etc, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s has mode %v, want %v", name, fi.Mode(), want)
		}
	}

	// The sender writes the IDs the push APIs answered into the watched files.
	taskID, err := tencent.Push(sdkappid, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	msgID, err := jpush.Push(appKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "pusher"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "pusher", "tencent-task-ids.txt"), taskID+"\n")
	writeFile(t, filepath.Join(dir, "pusher", "jpush-msg-ids.txt"), msgID+"\n")

	e := start(t, "--config.file="+filepath.Join(etc, "exporter.yml"))
	for _, series := range []*regexp.Regexp{
		seriesOf("tencent_im_active_users", fmt.Sprintf(`sdkappid="%d"`, sdkappid)),
		seriesOf("tencent_im_push_task_target", fmt.Sprintf(`task_id="%s"`, taskID)),
		seriesOf("jpush_users_active", fmt.Sprintf(`app_key="%s"`, appKey)),
		seriesOf("jpush_message_delivery_received", fmt.Sprintf(`msg_id="%s"`, msgID)),
	} {
		e.waitFor(func() bool { _, s := e.get("/metrics"); return series.MatchString(s) }, series.String())
	}
	if strings.Contains(e.logs.String(), secretKey) || strings.Contains(e.logs.String(), masterSecret) {
		t.Error("a secret appears in the logs")
	}

	t.Run("prometheus", func(t *testing.T) {
		alerts, err := filepath.Abs("alerts")
		if err != nil {
			t.Fatal(err)
		}
		prom := replaceAll(t, quickStartBlock(t, readme, "prometheus"), "/etc/prometheus/imstats", alerts)
		path := filepath.Join(t.TempDir(), "prometheus.yml")
		writeFile(t, path, prom)
		if out, err := exec.Command("promtool", "check", "config", path).CombinedOutput(); err != nil {
			t.Fatalf("promtool check config of the quick start's Prometheus part: %v\n%s", err, out)
		}
	})
}
