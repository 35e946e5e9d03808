package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/imstats/imstats_exporter/internal/catalog"
)

// documents are the README and every page of docs/.
func documents(t *testing.T) map[string]string {
	t.Helper()
	names, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	for _, name := range append(names, "README.md") {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		docs[name] = string(b)
	}
	return docs
}

// fence opens or closes a fenced code block.
var fence = regexp.MustCompile("^\\s*```")

// prose returns the lines of a markdown text outside fenced code blocks.
func prose(text string) []string {
	var lines []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		if fence.MatchString(line) {
			in = !in
			continue
		}
		if !in {
			lines = append(lines, line)
		}
	}
	return lines
}

// anchors returns the anchors GitHub gives the headings of a markdown text:
// lower case, punctuation but '-' and '_' dropped, spaces turned into '-',
// and "-1", "-2", … after a repeated one.
func anchors(text string) map[string]bool {
	heading := regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*$`)
	seen := map[string]int{}
	out := map[string]bool{}
	for _, line := range prose(text) {
		m := heading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			out[a+"-"+strconv.Itoa(n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

// TestDocs checks the README and docs/: every relative link and anchor
// resolves, every alert has its runbook section under the anchor its
// runbook_url names, every exporter flag the documents name exists, the
// Tencent regions of the configuration reference are the client's, the
// dashboards ask at import for what the documents say, and the README stays
// a front door.
func TestDocs(t *testing.T) {
	t.Parallel()
	docs := documents(t)

	t.Run("README at most 500 lines", func(t *testing.T) {
		if n := strings.Count(docs["README.md"], "\n"); n > 500 {
			t.Errorf("README.md has %d lines, want at most 500: move the details to docs/", n)
		}
	})

	t.Run("relative links", func(t *testing.T) {
		link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
		for name, text := range docs {
			for _, line := range prose(text) {
				for _, m := range link.FindAllStringSubmatch(line, -1) {
					target := m[1]
					if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
						continue
					}
					path, anchor, _ := strings.Cut(target, "#")
					file := name
					if path != "" {
						file = filepath.Join(filepath.Dir(name), path)
						if _, err := os.Stat(file); err != nil {
							t.Errorf("%s: link %s: %v", name, target, err)
							continue
						}
					}
					if anchor == "" {
						continue
					}
					if !strings.HasSuffix(file, ".md") {
						t.Errorf("%s: link %s: an anchor into a file that is not markdown", name, target)
						continue
					}
					b, err := os.ReadFile(file)
					if err != nil {
						t.Fatal(err)
					}
					if !anchors(string(b))[anchor] {
						t.Errorf("%s: link %s: %s has no heading with the anchor #%s", name, target, file, anchor)
					}
				}
			}
		}
	})

	t.Run("a runbook section per alert", func(t *testing.T) {
		b, err := os.ReadFile("alerts/imstats-alerts.yml")
		if err != nil {
			t.Fatal(err)
		}
		runbooks := anchors(docs[filepath.Join("docs", "runbooks.md")])
		alerts := map[string]bool{}
		for _, m := range regexp.MustCompile(`(?m)^\s*- alert: "?(\w+)"?$`).FindAllStringSubmatch(string(b), -1) {
			alerts[strings.ToLower(m[1])] = true
			if !runbooks[strings.ToLower(m[1])] {
				t.Errorf("docs/runbooks.md has no section for %s (anchor #%s)", m[1], strings.ToLower(m[1]))
			}
		}
		if len(alerts) == 0 {
			t.Fatal("no alert in alerts/imstats-alerts.yml")
		}
		for a := range runbooks {
			if strings.HasPrefix(a, "imstats") && !alerts[a] {
				t.Errorf("docs/runbooks.md has a section #%s for an alert that does not exist", a)
			}
		}
	})

	t.Run("flags exist", func(t *testing.T) {
		var help strings.Builder
		for _, args := range [][]string{{"--help"}, {"backfill", "--help"}} {
			out, err := exec.Command(binary, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %v\n%s", args, err, out)
			}
			help.Write(out)
		}
		// A pattern such as --web.max-* stands for several flags.
		flag := regexp.MustCompile(`--((?:web|config|log|runtime|demo)\.[a-z.*-]+)`)
		for name, text := range docs {
			for _, m := range flag.FindAllStringSubmatch(text, -1) {
				f := strings.TrimRight(m[1], ".-")
				if strings.Contains(f, "*") {
					continue
				}
				if !regexp.MustCompile(`--(\[no-\])?` + regexp.QuoteMeta(f) + `[= \n]`).MatchString(help.String()) {
					t.Errorf("%s names --%s, which is not a flag of the exporter", name, f)
				}
			}
		}
	})

	t.Run("every Tencent region and its host", func(t *testing.T) {
		text := docs[filepath.Join("docs", "configuration.md")]
		for _, region := range catalog.Regions() {
			url, _ := catalog.RegionBaseURL(region)
			if !regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(region) + "`[^|]*\\| `" + regexp.QuoteMeta(url) + "` \\|$").MatchString(text) {
				t.Errorf("docs/configuration.md has no row | `%s` | `%s` |", region, url)
			}
		}
	})

	t.Run("dashboards ask for no import inputs", func(t *testing.T) {
		files, err := filepath.Glob("dashboards/*.json")
		if err != nil || len(files) == 0 {
			t.Fatalf("no dashboards: %v", err)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var d struct {
				Inputs     []json.RawMessage `json:"__inputs"`
				Templating struct {
					List []struct {
						Name, Type string
						Query      json.RawMessage
					}
				}
			}
			if err := json.Unmarshal(b, &d); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if len(d.Inputs) > 0 {
				t.Errorf("%s declares import inputs; the README says it asks for none", file)
			}
			found := false
			for _, v := range d.Templating.List {
				found = found || v.Name == "datasource" && v.Type == "datasource" && string(v.Query) == `"prometheus"`
			}
			if !found {
				t.Errorf("%s has no Prometheus datasource variable named datasource, as the README says", file)
			}
		}
	})
}
