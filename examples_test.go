package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestExamples checks the deployment examples: the Prometheus configuration
// with promtool (a missing promtool fails, as in CI), the systemd unit with
// systemd-analyze where it is installed, and that every flag the unit
// and the Dockerfile name exists. In CI (CI=true) a missing systemd-analyze
// fails too.
func TestExamples(t *testing.T) {
	t.Parallel()
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	t.Run("promtool check config", func(t *testing.T) {
		out, err := exec.Command("promtool", "check", "config", "examples/prometheus.yml").CombinedOutput()
		if err != nil {
			t.Fatalf("promtool check config examples/prometheus.yml: %v\n%s", err, out)
		}
		cfg := read("examples/prometheus.yml")
		for _, want := range []string{"job_name: imstats", "scrape_interval: 60s", "scrape_timeout: 30s", "imstats-alerts.yml", "imstats-rules.yml"} {
			if !strings.Contains(cfg, want) {
				t.Errorf("examples/prometheus.yml lacks %q", want)
			}
		}
	})

	unit := read("examples/imstats_exporter.service")
	t.Run("systemd unit", func(t *testing.T) {
		for _, want := range []string{"\nUser=imstats\n", "\nStateDirectory=imstats\n", "\nProtectSystem=strict\n", "\nNoNewPrivileges=yes\n", "\nCapabilityBoundingSet=\n",
			"\nProcSubset=pid\n", "\nPrivateUsers=yes\n", "\nSystemCallErrorNumber=EPERM\n", "\nLimitNOFILE=65536\n",
			// Optional flags come from an optional file.
			"\nEnvironmentFile=-/etc/imstats/imstats_exporter.env\n", " $ARGS\n"} {
			if !strings.Contains(unit, want) {
				t.Errorf("the unit lacks %q", strings.TrimSpace(want))
			}
		}
		// TLS and basic auth are optional: the unit must start without
		// a web configuration file.
		execStart := regexp.MustCompile(`(?m)^ExecStart=(?:.*\\\n)*.*$`).FindString(unit)
		if execStart == "" || strings.Contains(execStart, "--web.config.file") {
			t.Errorf("ExecStart needs a web configuration file or is missing:\n%s", execStart)
		}
		analyze, err := exec.LookPath("systemd-analyze")
		if err != nil {
			// CI installs it (.ci/run): there a missing tool is a failure.
			if os.Getenv("CI") == "true" {
				t.Fatal("systemd-analyze not installed")
			}
			t.Skip("systemd-analyze not installed")
		}
		// verify wants ExecStart's binary to exist: point it at this one.
		copyPath := t.TempDir() + "/imstats_exporter.service"
		writeFile(t, copyPath, strings.ReplaceAll(unit, "/usr/local/bin/imstats_exporter", binary))
		if out, err := exec.Command(analyze, "verify", copyPath).CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	})

	docker := read("examples/Dockerfile")
	t.Run("Dockerfile", func(t *testing.T) {
		if n := len(regexp.MustCompile(`(?m)^FROM `).FindAllString(docker, -1)); n != 2 {
			t.Errorf("%d stages, want a builder and a runtime", n)
		}
		for _, want := range []string{"\nUSER 65532:65532\n", `VOLUME ["/var/lib/imstats"]`, "\nEXPOSE 9787\n",
			// The host's layout is readable only by imstats: the
			// documented run takes its user and group.
			`--user "$(id -u imstats):$(id -g imstats)"`} {
			if !strings.Contains(docker, want) {
				t.Errorf("the Dockerfile lacks %q", strings.TrimSpace(want))
			}
		}
	})

	t.Run(".dockerignore", func(t *testing.T) {
		var patterns []string
		for line := range strings.SplitSeq(read(".dockerignore"), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				patterns = append(patterns, strings.TrimPrefix(line, "/"))
			}
		}
		for _, want := range []string{".git", "examples/secrets", "**/*.key"} {
			if !slices.Contains(patterns, want) {
				t.Errorf(".dockerignore lacks %s", want)
			}
		}
		// What go build . needs stays in the context.
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", ".").Output()
		if err != nil {
			t.Fatal(err)
		}
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		needed := []string{"go.mod", "go.sum", "main.go"}
		for dir := range strings.SplitSeq(string(out), "\n") {
			if rel, ok := strings.CutPrefix(dir, wd+"/"); ok {
				needed = append(needed, rel+"/x.go")
			}
		}
		for _, path := range needed {
			for _, p := range patterns {
				if m, _ := filepath.Match(strings.TrimPrefix(p, "**/"), filepath.Base(path)); m || path == p || strings.HasPrefix(path, p+"/") {
					t.Errorf(".dockerignore's %s leaves %s out of the build", p, path)
				}
			}
		}
	})

	t.Run("flags exist", func(t *testing.T) {
		help, err := exec.Command(binary, "--help").CombinedOutput()
		if err != nil {
			t.Fatal(err)
		}
		// The exporter's flags, in commands and comments alike.
		for _, flag := range regexp.MustCompile(`--((?:web|config|log)\.[a-z.-]+)`).FindAllStringSubmatch(unit+docker, -1) {
			if !regexp.MustCompile(`--(\[no-\])?` + regexp.QuoteMeta(flag[1]) + `[= \n]`).Match(help) {
				t.Errorf("--%s is not a flag of the exporter", flag[1])
			}
		}
	})
}
