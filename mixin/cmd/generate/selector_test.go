package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// vectorSelectors returns every vector selector of a PromQL expression as
// written: the metric name and its {…} matchers, or the matchers alone. It
// knows just enough PromQL for that: strings, ranges and label lists are
// skipped, and an identifier is a metric name unless a keyword, an
// aggregation or a function call.
func vectorSelectors(expr string) ([]string, error) {
	var out []string
	s := expr
	skipSpace := func(i int) int {
		for i < len(s) && strings.ContainsRune(" \t\r\n", rune(s[i])) {
			i++
		}
		return i
	}
	// closing returns the index after the close that ends what opens at i,
	// quotes respected.
	closing := func(i int, open, close byte) (int, error) {
		depth := 0
		for j := i; j < len(s); j++ {
			switch c := s[j]; {
			case c == '"' || c == '\'' || c == '`':
				end, err := stringEnd(s, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case c == open:
				depth++
			case c == close:
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("%q: unbalanced %c", expr, open)
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case strings.ContainsRune(" \t\r\n", rune(c)):
			i++
		case c == '"' || c == '\'' || c == '`':
			end, err := stringEnd(s, i)
			if err != nil {
				return nil, err
			}
			i = end
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '[':
			end, err := closing(i, '[', ']')
			if err != nil {
				return nil, err
			}
			i = end
		case c == '{':
			end, err := closing(i, '{', '}')
			if err != nil {
				return nil, err
			}
			out = append(out, s[i:end])
			i = end
		case c == '$' || isIdentStart(c) || isDigit(c) || c == '.':
			j := i + 1
			for j < len(s) && (isIdentStart(s[j]) || isDigit(s[j]) || s[j] == '.') {
				j++
			}
			word := s[i:j]
			next := skipSpace(j)
			switch {
			case c == '$' || isDigit(c) || c == '.':
				// A variable, a number or a duration.
				i = j
			case labelListKeywords[strings.ToLower(word)]:
				i = next
				if next < len(s) && s[next] == '(' {
					end, err := closing(next, '(', ')')
					if err != nil {
						return nil, err
					}
					i = end
				}
			case keywords[strings.ToLower(word)] || aggregations[strings.ToLower(word)]:
				i = j
			case next < len(s) && s[next] == '(':
				i = j // a function call
			case next < len(s) && s[next] == '{':
				end, err := closing(next, '{', '}')
				if err != nil {
					return nil, err
				}
				out = append(out, word+s[next:end])
				i = end
			default:
				out = append(out, word)
				i = j
			}
		default:
			i++
		}
	}
	return out, nil
}

// stringEnd returns the index after the string literal that starts at i.
func stringEnd(s string, i int) (int, error) {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`':
			j++
		case s[j] == q:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("%q: unterminated string", s)
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

var (
	// labelListKeywords are followed by a list of label names.
	labelListKeywords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}
	keywords          = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true, "inf": true, "nan": true}
	aggregations      = map[string]bool{
		"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true, "count": true,
		"count_values": true, "bottomk": true, "topk": true, "quantile": true, "limitk": true, "limit_ratio": true,
	}
)

func TestVectorSelectors(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`sum without (a, b) (foo{x="1"} / bar offset 1d)`, []string{`foo{x="1"}`, `bar`}},
		{`label_replace(up{job="a"}, "x", "$1", "y", "(.*)")`, []string{`up{job="a"}`}},
		{`rate(m{c=~"a|}b"}[$__rate_interval]) > 0 and on (x) group_left (y) n`, []string{`m{c=~"a|}b"}`, `n`}},
		{`{__name__=~"a|b", job="j"}`, []string{`{__name__=~"a|b", job="j"}`}},
		{`histogram_quantile(0.5, sum by (le) (rate(h_bucket[5m])))`, []string{`h_bucket`}},
		{"a:b:sum - ignoring (channel) group_right c:d:ratio\n", []string{`a:b:sum`, `c:d:ratio`}},
		{`time() - t{j="x"} > 3 * i or vector(0) unless absent(up)`, []string{`t{j="x"}`, `i`, `up`}},
		{`count(x == 0) or clamp_min(y - z offset 1h, 0)`, []string{`x`, `y`, `z`}},
	}
	for _, tt := range tests {
		got, err := vectorSelectors(tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("vectorSelectors(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

// renderedMixin is what the mixin renders, as the selector check reads it.
type renderedMixin struct {
	Alerts, Rules struct {
		Groups []struct {
			Name  string
			Rules []struct{ Alert, Record, Expr string }
		}
	}
	Dashboards map[string]dashboard
}

type dashboard struct {
	Panels     []dashboardPanel
	Templating struct {
		List []struct {
			Name, Type, Definition string
			Query                  json.RawMessage
		}
	}
}

type dashboardPanel struct {
	Title   string
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string
	}
	Panels []dashboardPanel
}

// labelValues is a variable's query, label_values(selector, label).
var labelValues = regexp.MustCompile(`^label_values\((.+),\s*\w+\)$`)

// missingSelector returns every query of m that reads a series without
// selector: each alert and recording rule expression, and each dashboard
// panel query and variable query, must have it in every vector selector.
// A dashboard query may instead have job=~"$job" when its dashboard's job
// variable has the selector; its selectors also need job=~"$job" and
// instance=~"$instance", so that the dashboard's variables choose targets.
func missingSelector(m renderedMixin, selector string) ([]string, error) {
	norm := func(s string) string { return strings.Join(strings.Fields(s), "") }
	want := norm(selector)
	var missing []string
	check := func(where, expr string, viaJob bool, variables bool) error {
		sels, err := vectorSelectors(expr)
		if err != nil {
			return fmt.Errorf("%s: %v", where, err)
		}
		if len(sels) == 0 {
			missing = append(missing, where+": no series read in "+expr)
		}
		for _, s := range sels {
			s := norm(s)
			direct := strings.Contains(s, want)
			job := strings.Contains(s, `job=~"$job"`)
			switch {
			case !direct && !(viaJob && job):
				missing = append(missing, fmt.Sprintf("%s: %s has no %s", where, s, selector))
			case variables && (!job || !strings.Contains(s, `instance=~"$instance"`)):
				missing = append(missing, fmt.Sprintf("%s: %s has no job=~\"$job\" and instance=~\"$instance\"", where, s))
			}
		}
		return nil
	}
	for kind, groups := range map[string]struct {
		Groups []struct {
			Name  string
			Rules []struct{ Alert, Record, Expr string }
		}
	}{"alerts": m.Alerts, "rules": m.Rules} {
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				if err := check(fmt.Sprintf("%s %s %s%s", kind, g.Name, r.Alert, r.Record), r.Expr, false, false); err != nil {
					return nil, err
				}
			}
		}
	}
	for name, d := range m.Dashboards {
		jobHasSelector := false
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			var q struct{ Query string }
			if err := json.Unmarshal(v.Query, &q); err != nil {
				if err := json.Unmarshal(v.Query, &q.Query); err != nil {
					return nil, fmt.Errorf("%s variable %s: query: %v", name, v.Name, err)
				}
			}
			for _, text := range []string{v.Definition, q.Query} {
				sub := labelValues.FindStringSubmatch(text)
				if sub == nil {
					return nil, fmt.Errorf("%s variable %s: %q is not label_values(selector, label)", name, v.Name, text)
				}
				where := fmt.Sprintf("%s variable %s", name, v.Name)
				switch v.Name {
				case "job":
					sels, err := vectorSelectors(sub[1])
					if err != nil {
						return nil, fmt.Errorf("%s: %v", where, err)
					}
					jobHasSelector = len(sels) > 0
					for _, s := range sels {
						jobHasSelector = jobHasSelector && strings.Contains(norm(s), want)
					}
				case "instance":
					if err := check(where, sub[1], false, false); err != nil {
						return nil, err
					}
				default:
					if err := check(where, sub[1], jobHasSelector, true); err != nil {
						return nil, err
					}
				}
			}
		}
		var walk func(ps []dashboardPanel) error
		walk = func(ps []dashboardPanel) error {
			for _, p := range ps {
				for _, t := range p.Targets {
					if err := check(fmt.Sprintf("%s panel %q query %s", name, p.Title, t.RefID), t.Expr, jobHasSelector, true); err != nil {
						return err
					}
				}
				if err := walk(p.Panels); err != nil {
					return err
				}
			}
			return nil
		}
		if err := walk(d.Panels); err != nil {
			return nil, err
		}
	}
	slices.Sort(missing)
	return missing, nil
}

// renderWithSelector renders the mixin of repoRoot with metricSelector set
// to selector, with plain jsonnet: no native functions.
func renderWithSelector(t *testing.T, selector string) renderedMixin {
	t.Helper()
	snippet := fmt.Sprintf(`local m = (import 'mixin.libsonnet') + { _config+:: { metricSelector: %q } };
{ alerts: m.prometheusAlerts, rules: m.prometheusRules, dashboards: m.grafanaDashboards }`, selector)
	out, err := newVM(repoRoot, nil).EvaluateAnonymousSnippet(filepath.Join(repoRoot, "mixin", "selector_test.jsonnet"), snippet)
	if err != nil {
		t.Fatal(err)
	}
	var m renderedMixin
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMetricSelectorReachesEveryQuery renders the mixin with a custom
// metricSelector and checks that every alert, every recording rule and every
// dashboard query reads only series it selects.
func TestMetricSelectorReachesEveryQuery(t *testing.T) {
	const selector = `job="x"`
	m := renderWithSelector(t, selector)
	counts := map[string]int{"alerts": 0, "rules": 0, "dashboards": len(m.Dashboards)}
	for _, g := range m.Alerts.Groups {
		counts["alerts"] += len(g.Rules)
	}
	for _, g := range m.Rules.Groups {
		counts["rules"] += len(g.Rules)
	}
	for kind, n := range counts {
		if n == 0 {
			t.Errorf("the mixin renders no %s", kind)
		}
	}
	missing, err := missingSelector(m, selector)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range missing {
		t.Error(q)
	}
}

// TestMissingSelectorFindsQueriesWithout checks that the check above fails
// for a rule, a panel and a variable that read a series without the
// selector, and accepts a panel that has it through the job variable.
func TestMissingSelectorFindsQueriesWithout(t *testing.T) {
	var m renderedMixin
	if err := json.Unmarshal([]byte(`{
		"alerts": {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "a{job=\"x\"} > 0 and b"}]}]},
		"rules": {"groups": [{"name": "g", "rules": [{"record": "r", "expr": "sum without (i) (c{job=\"x\"})"}]}]},
		"dashboards": {"d.json": {
			"templating": {"list": [
				{"name": "job", "type": "query", "definition": "label_values(i{job=\"x\"}, job)", "query": {"query": "label_values(i{job=\"x\"}, job)"}},
				{"name": "app", "type": "query", "definition": "label_values(e, app)", "query": "label_values(e, app)"}
			]},
			"panels": [{"title": "row", "panels": [
				{"title": "via job", "targets": [{"refId": "A", "expr": "d{job=~\"$job\", instance=~\"$instance\"}"}]},
				{"title": "no instance", "targets": [{"refId": "A", "expr": "f{job=\"x\", job=~\"$job\"}"}]}
			]}]
		}}
	}`), &m); err != nil {
		t.Fatal(err)
	}
	missing, err := missingSelector(m, `job="x"`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`alerts g A: b has no job="x"`,
		`d.json panel "no instance" query A: f{job="x",job=~"$job"} has no job=~"$job" and instance=~"$instance"`,
		`d.json variable app: e has no job="x"`,
		`d.json variable app: e has no job="x"`,
	}
	if !slices.Equal(missing, want) {
		t.Errorf("missing =\n%q\nwant\n%q", missing, want)
	}
}

// TestReadmeExample evaluates the jsonnet example of mixin/README.md, the
// mixin imported from this repository rather than from a vendor directory,
// and checks that its overrides reach the rendered files.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot, "mixin", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```jsonnet\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("mixin/README.md has no jsonnet example")
	}
	const vendored = "github.com/imstats/imstats_exporter/mixin/mixin.libsonnet"
	if !bytes.Contains(block[1], []byte(vendored)) {
		t.Fatalf("the example does not import %s", vendored)
	}
	src := strings.Replace(string(block[1]), vendored, "mixin.libsonnet", 1)
	out, err := newVM(repoRoot, nil).EvaluateAnonymousSnippet("readme.jsonnet", src)
	if err != nil {
		t.Fatal(err)
	}
	var files map[string]string
	if err := json.Unmarshal([]byte(out), &files); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`up{job="push-stats"} == 0`, `"for": "1h"`} {
		if !strings.Contains(files["imstats-alerts.yml"], want) {
			t.Errorf("imstats-alerts.yml of the example has no %s", want)
		}
	}
	if !strings.Contains(files["push-delivery.json"], `job=\"push-stats\"`) {
		t.Error("push-delivery.json of the example has no job=\"push-stats\"")
	}
}
