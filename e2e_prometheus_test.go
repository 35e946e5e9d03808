package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// degradedChannel is the channel the demo degrades: a channel of both vendors
// (a JPush messages/detail channel and a Tencent PushPlatform).
const degradedChannel = "huawei"

// evaluationInterval is Prometheus' rule evaluation interval in the test.
const evaluationInterval = "2s"

// e2eBudget bounds the whole test: the demo's alerting rules
// (alerts/demo/imstats-alerts.yml) wait 2m before a delivery alert fires.
const e2eBudget = 5 * time.Minute

// dashboardSubstitutions are what Grafana would put in place of its built-in
// variables; the dashboards' own variables all become their "All" value ".*"
// (dashboards/check.sh makes every variable multi-value with allValue ".*").
var dashboardSubstitutions = map[string]string{
	"__rate_interval": "1m",
	"__range":         "1h",
	"__interval":      "15s",
}

// maxAPIBody bounds every answer read from Prometheus and Alertmanager.
const maxAPIBody = 8 << 20

// TestPrometheusDashboardsAndAlerts runs the shipped dashboards and rules on
// real parts, all on loopback: Debian's Prometheus (or the first prometheus
// on PATH: make e2e-prom3 puts Prometheus 3 there) scrapes the exporter
// running --demo with one channel degraded, one running --demo as is, plus
// a misconfigured exporter
// whose vendor refuses every call (so that the error panels have errors to
// show); it loads the shipped recording rules and the demo's alerting rules
// (the shipped ones with the delivery alerts waiting 2m, as the README tells
// demo users to load), and sends to Debian's Alertmanager. History
// comes from imstats_exporter backfill, turned into blocks by promtool before
// Prometheus starts. The test fails, never skips, without those tools.
func TestPrometheusDashboardsAndAlerts(t *testing.T) {
	t.Parallel()
	started := time.Now()
	deadline := started.Add(e2eBudget)
	prometheusBin, alertmanagerBin, promtoolBin := tool(t, "prometheus"), tool(t, "prometheus-alertmanager", "alertmanager"), tool(t, "promtool")
	dir := t.TempDir()

	demo := start(t, "--demo", "--demo.degrade-channel="+degradedChannel)
	calm := start(t, "--demo")
	broken := startMisconfigured(t, dir)

	dataDir := filepath.Join(dir, "prometheus")
	historyErr := giveHistory(demoConfigFile(t, demo), demo.addr, promtoolBin, dir, dataDir)

	amAddr := freeAddr(t)
	writeFile(t, filepath.Join(dir, "alertmanager.yml"), "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n")
	am := runProcess(t, "alertmanager", alertmanagerBin,
		"--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "alertmanager"),
		"--web.listen-address="+amAddr,
		"--cluster.listen-address=", // no gossip port
	)
	am.waitReady(t, "http://"+amAddr, deadline)

	rules := ruleFiles(t)
	promAddr := freeAddr(t)
	writeFile(t, filepath.Join(dir, "prometheus.yml"), fmt.Sprintf(`global:
  scrape_interval: 2s
  scrape_timeout: 2s
  evaluation_interval: %s
rule_files: [%q, %q]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: imstats
    static_configs:
      - targets: [%q, %q, %q]
`, evaluationInterval, rules[0], rules[1], amAddr, demo.addr, calm.addr, broken.addr))
	prom := runProcess(t, "prometheus", prometheusBin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+dataDir,
		// Longer than the backfilled history (JPush users: 60 days), which
		// would otherwise be deleted at once.
		"--storage.tsdb.retention.time=90d",
		"--web.listen-address="+promAddr,
	)
	prom.waitReady(t, "http://"+promAddr, deadline)
	api := promAPI("http://" + promAddr)

	t.Run("alerts", func(t *testing.T) {
		testAlerts(t, api, "http://"+amAddr, demo.addr, calm.addr, started, deadline)
	})
	t.Run("why", func(t *testing.T) {
		testWhyAlerts(t, api, demo.addr, deadline)
	})
	t.Run("dashboards", func(t *testing.T) {
		testDashboards(t, api, historyErr, deadline)
	})
	if t.Failed() {
		t.Logf("prometheus logs (end):\n%s\nalertmanager logs (end):\n%s", tail(prom.logs.String()), tail(am.logs.String()))
	}
}

// deliveryAlerts are the alerts about push delivery; the demo raises only
// ImstatsPushChannelBelowPeers (and, should its tenth ever look like
// nothing, ImstatsPushChannelStopped), and only for the degraded channel:
// the others compare with a day of history, which a fresh demo does not
// have.
var deliveryAlerts = []string{"ImstatsPushChannelStopped", "ImstatsPushChannelBelowPeers", "ImstatsPushChannelBelowNormal", "ImstatsPushDeliveryBelowNormal"}

// testAlerts waits for ImstatsPushChannelBelowPeers on the degraded channel
// of each vendor to reach Alertmanager, and logs how long after the demo
// started it did; then checks that it is the only delivery alert
// Prometheus has (pending or firing) for the degraded demo,
// and that the demo without a degraded channel has none. It also checks
// that the reach the old cross-vendor rule records is the lowest of the
// Tencent offline channels on the degraded one: in a fresh demo every
// channel is still delivering (a push settles over hours), so firing alone
// would not show that the rules follow the channel.
func testAlerts(t *testing.T, api promAPI, amURL string, degraded, calm string, started, deadline time.Time) {
	vendors := []string{"tencent_im", "jpush"}
	const name = "ImstatsPushChannelBelowPeers"
	var alerts []amAlert
	var err error
	firing := func() bool {
		alerts, err = activeAlerts(amURL, name)
		for _, v := range vendors {
			if !slices.ContainsFunc(alerts, func(a amAlert) bool {
				return a.Labels["vendor"] == v && a.Labels["channel"] == degradedChannel && a.Labels["instance"] == degraded
			}) {
				return false
			}
		}
		return true
	}
	if !poll(deadline, firing) {
		t.Fatalf("%s{channel=%q} did not reach Alertmanager for each of %q; active alerts %+v, last error %v",
			name, degradedChannel, vendors, alerts, err)
	}
	t.Logf("%s{channel=%q} reached Alertmanager for each of %q %s after the demo started", name, degradedChannel, vendors, time.Since(started).Round(time.Second))
	for _, a := range alerts {
		if a.Labels["severity"] != "critical" || a.Labels["app"] == "" || a.Labels["source"] == "" || a.Labels["window"] == "" ||
			a.Status.State != "active" ||
			!strings.Contains(a.Annotations["summary"], "channel "+a.Labels["channel"]) ||
			!strings.HasSuffix(a.Annotations["runbook_url"], "/docs/runbooks.md#imstatspushchannelbelowpeers") {
			t.Errorf("alert %+v: want severity critical, app, source and window labels, state active, a summary naming the channel and the runbook", a)
		}
	}

	// Exactly that alert: every delivery alert Prometheus holds, pending
	// included, is about the degraded channel of the degraded demo.
	held, err := api.alerts()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range held {
		if !slices.Contains(deliveryAlerts, a.Labels["alertname"]) {
			continue
		}
		switch {
		case a.Labels["instance"] == calm:
			t.Errorf("the demo without a degraded channel raised %s (%s): %v", a.Labels["alertname"], a.State, a.Labels)
		case a.Labels["alertname"] != name && a.Labels["alertname"] != "ImstatsPushChannelStopped" || a.Labels["channel"] != degradedChannel:
			t.Errorf("the demo degrading %s raised %s (%s) about channel %q: %v", degradedChannel, a.Labels["alertname"], a.State, a.Labels["channel"], a.Labels)
		}
	}

	reach, err := api.query(fmt.Sprintf(`imstats:push_reach:ratio{provider="tencent_im", channel!="unknown", instance=%q}`, degraded))
	if err != nil {
		t.Fatal(err)
	}
	byWindow := map[string]map[string]float64{} // app/window → channel → reach
	for _, s := range reach {
		key := s.Metric["app"] + "/" + s.Metric["window"]
		if byWindow[key] == nil {
			byWindow[key] = map[string]float64{}
		}
		byWindow[key][s.Metric["channel"]] = s.Value
	}
	if len(byWindow) == 0 {
		t.Fatal("imstats:push_reach:ratio has no Tencent series")
	}
	for key, channels := range byWindow {
		degradedReach, ok := channels[degradedChannel]
		if !ok || len(channels) < 2 {
			t.Errorf("%s: reach per channel %v, want %s and the other offline channels", key, channels, degradedChannel)
			continue
		}
		for ch, r := range channels {
			if ch != degradedChannel && r <= degradedReach {
				t.Errorf("%s: reach of %s %.4f is not above the degraded %s %.4f", key, ch, r, degradedChannel, degradedReach)
			}
		}
	}
}

// testDashboards checks that every variable of dashboards/*.json has values
// and that every panel query returns data. A query that looks back a day or
// more (offset, [7d]) only has data when Prometheus was given history, which
// backfill provides; without it those queries fail in a subtest of their own
// that names them.
func testDashboards(t *testing.T, api promAPI, historyErr error, deadline time.Time) {
	files, err := filepath.Glob("dashboards/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	var live, history []dashboardQuery
	var variables []dashboardVariable
	for _, f := range files {
		qs, vs := loadDashboard(t, f)
		variables = append(variables, vs...)
		for _, q := range qs {
			if needsHistory.MatchString(q.expr) {
				history = append(history, q)
			} else {
				live = append(live, q)
			}
		}
	}

	t.Run("variables", func(t *testing.T) {
		var empty []string
		poll(deadline, func() bool {
			empty = empty[:0]
			for _, v := range variables {
				if values, err := api.labelValues(v.label, v.selector); err != nil || len(values) == 0 {
					empty = append(empty, fmt.Sprintf("%s $%s: label_values(%s, %s): %v", v.file, v.name, v.selector, v.label, err))
				}
			}
			return len(empty) == 0
		})
		for _, e := range empty {
			t.Errorf("variable without values: %s", e)
		}
	})
	t.Run("live", func(t *testing.T) { assertData(t, api, live, deadline) })
	t.Run("history", func(t *testing.T) {
		if historyErr != nil {
			var names []string
			for _, q := range history {
				names = append(names, q.String())
			}
			t.Fatalf("%d dashboard queries need history (a day or more back), and giving Prometheus history failed: %v\nthe queries:\n%s",
				len(history), historyErr, strings.Join(names, "\n"))
		}
		assertData(t, api, history, deadline)
		if t.Failed() {
			t.Log("the backfilled history only answers these queries if it looks like what Prometheus would have scraped: " +
				"the figure a scrape saw at least every 5m (the lookback), with the scrape's job and instance labels")
		}
	})
}

// needsHistory matches a query that reads a day or more into the past.
var needsHistory = regexp.MustCompile(`\boffset\b|\[\d+[dwy]\]`)

// assertData waits until every query returns data, then reports those that
// never did.
func assertData(t *testing.T, api promAPI, queries []dashboardQuery, deadline time.Time) {
	t.Helper()
	failing := map[string]string{}
	poll(deadline, func() bool {
		clear(failing)
		for _, q := range queries {
			if res, err := api.query(q.expr); err != nil {
				failing[q.String()] = err.Error()
			} else if len(res) == 0 {
				failing[q.String()] = "no data"
			}
		}
		return len(failing) == 0
	})
	for _, q := range slices.Sorted(maps.Keys(failing)) {
		t.Errorf("%s: %s", q, failing[q])
	}
}

// dashboardQuery is one target of one panel, variables substituted.
type dashboardQuery struct {
	file, panel, refID, expr string
}

func (q dashboardQuery) String() string {
	return fmt.Sprintf("%s panel %q query %s: %s", q.file, q.panel, q.refID, q.expr)
}

// dashboardVariable is a query variable, label_values(selector, label).
type dashboardVariable struct {
	file, name, selector, label string
}

var (
	// variableRef is a variable reference: $name, ${name}, ${name:format} or
	// [[name]].
	variableRef = regexp.MustCompile(`\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]`)
	// labelValuesQuery is a variable's query, label_values(selector, label).
	labelValuesQuery = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)
)

// loadDashboard returns the panel queries and query variables of a Grafana
// dashboard file, with every variable substituted.
func loadDashboard(t *testing.T, path string) ([]dashboardQuery, []dashboardVariable) {
	t.Helper()
	type panel struct {
		Title   string
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string
		}
		Panels []panel // a collapsed row's panels
	}
	var dash struct {
		Panels     []panel
		Templating struct {
			List []struct {
				Name, Type string
				Query      json.RawMessage // a string, or {"query": "…"}
			}
		}
	}
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, &dash)
	}
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	file := filepath.Base(path)
	defined := map[string]bool{}
	for _, v := range dash.Templating.List {
		defined[v.Name] = true
	}
	var unknown []string
	substitute := func(s string) string {
		return variableRef.ReplaceAllStringFunc(s, func(ref string) string {
			m := variableRef.FindStringSubmatch(ref)
			name := m[1] + m[2] + m[3]
			if v, ok := dashboardSubstitutions[name]; ok {
				return v
			}
			if !defined[name] {
				unknown = append(unknown, name)
			}
			return ".*"
		})
	}

	var vars []dashboardVariable
	for _, v := range dash.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct{ Query string }
		if json.Unmarshal(v.Query, &q) != nil {
			_ = json.Unmarshal(v.Query, &q.Query) // the plain string form
		}
		m := labelValuesQuery.FindStringSubmatch(strings.TrimSpace(q.Query))
		if m == nil {
			t.Errorf("%s: variable %s: query %q is not label_values(selector, label)", file, v.Name, q.Query)
			continue
		}
		vars = append(vars, dashboardVariable{file: file, name: v.Name, selector: substitute(m[1]), label: m[2]})
	}

	var queries []dashboardQuery
	var walk func([]panel)
	walk = func(panels []panel) {
		for _, p := range panels {
			for _, tg := range p.Targets {
				queries = append(queries, dashboardQuery{file: file, panel: p.Title, refID: tg.RefID, expr: substitute(tg.Expr)})
			}
			walk(p.Panels)
		}
	}
	walk(dash.Panels)
	for _, name := range unknown {
		t.Errorf("%s: undefined variable $%s", file, name)
	}
	if len(queries) == 0 {
		t.Errorf("%s: no panel queries", file)
	}
	return queries, vars
}

// ruleFiles returns the rule files Prometheus loads, as the README has demo
// users load them: the recording rules as shipped and the demo's alerting
// rules.
func ruleFiles(t *testing.T) [2]string {
	t.Helper()
	var paths [2]string
	for i, name := range []string{"alerts/imstats-rules.yml", "alerts/demo/imstats-alerts.yml"} {
		p, err := filepath.Abs(name)
		if err != nil {
			t.Fatal(err)
		}
		paths[i] = p
	}
	return paths
}

// startMisconfigured runs an exporter whose only app has the wrong secret key
// for its simulated vendor: every call it makes is refused (Tencent 70003).
func startMisconfigured(t *testing.T, dir string) *exporter {
	t.Helper()
	_, vendorURL := vendor(t, "the-right-key-0123456789")
	sub := filepath.Join(dir, "misconfigured")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(sub, "tim.key"), "a-wrong-key-0123456789\n")
	cfg := fmt.Sprintf("tencent_im:\n  - sdkappid: 1400000000\n    secret_key_file: tim.key\n    endpoint: %s\nstate_directory: state\n", vendorURL)
	writeFile(t, filepath.Join(sub, "exporter.yml"), cfg)
	return start(t, "--config.file="+filepath.Join(sub, "exporter.yml"))
}

var demoConfigLine = regexp.MustCompile(`msg="demo simulator listening" url=\S+ config=(\S+)`)

// demoConfigFile returns the configuration file the demo wrote, from its log.
func demoConfigFile(t *testing.T, demo *exporter) string {
	t.Helper()
	m := demoConfigLine.FindStringSubmatch(demo.logs.String())
	if m == nil {
		t.Fatalf("the demo did not log its configuration file; logs:\n%s", demo.logs.String())
	}
	return m[1]
}

// giveHistory gives Prometheus the vendors' history before it starts:
// imstats_exporter backfill writes it as OpenMetrics, with the job and
// instance labels the scrape config gives the exporter at instance, and
// promtool turns that into blocks in the data directory.
func giveHistory(config, instance, promtool, dir, dataDir string) error {
	om := filepath.Join(dir, "backfill.om")
	if out, err := exec.Command(binary, "backfill", "--config.file="+config, "--output="+om, "--label=job=imstats", "--label=instance="+instance).CombinedOutput(); err != nil {
		return fmt.Errorf("imstats_exporter backfill: %v: %s", err, out)
	}
	if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=720h", om, dataDir).CombinedOutput(); err != nil {
		return fmt.Errorf("promtool tsdb create-blocks-from openmetrics: %v: %s", err, out)
	}
	return nil
}

// tool returns the path of the first of names found on PATH; the test fails
// (never skips) without it.
func tool(t *testing.T, names ...string) string {
	t.Helper()
	for _, name := range names {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Fatalf("%s not found on PATH: install Debian's prometheus and prometheus-alertmanager (.ci/run does)", strings.Join(names, " or "))
	return ""
}

// poll calls cond every 250ms until it holds or the deadline passes, and
// returns whether it held.
func poll(deadline time.Time, cond func() bool) bool {
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// process is a server the test runs, stopped when the test ends.
type process struct {
	name   string
	cmd    *exec.Cmd
	logs   *syncBuffer
	exited chan struct{}
}

// runProcess starts bin with args; its output is kept for failure messages.
func runProcess(t *testing.T, name, bin string, args ...string) *process {
	t.Helper()
	p := &process{name: name, cmd: exec.Command(bin, args...), logs: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.stop)
	return p
}

// stop sends SIGTERM and kills the process if it has not exited 10s later.
func (p *process) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// waitReady waits until base/-/ready answers 200; it fails at once when the
// process exits.
func (p *process) waitReady(t *testing.T, base string, deadline time.Time) {
	t.Helper()
	exited := false
	ready := poll(deadline, func() bool {
		select {
		case <-p.exited:
			exited = true
			return true
		default:
		}
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if exited || !ready {
		t.Fatalf("%s is not ready (exited: %v); logs:\n%s", p.name, exited, p.logs.String())
	}
}

// tail returns the end of a process's log, enough to see why it failed.
func tail(logs string) string {
	const keep = 4 << 10
	if len(logs) <= keep {
		return logs
	}
	return "…" + logs[len(logs)-keep:]
}

// apiClient bounds every request to Prometheus and Alertmanager.
var apiClient = &http.Client{Timeout: 10 * time.Second}

// getJSON decodes the JSON answer of a GET, read through maxAPIBody.
func getJSON(u string, v any) error {
	resp, err := apiClient.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIBody+1))
	if err != nil {
		return err
	}
	if len(body) > maxAPIBody {
		return fmt.Errorf("GET %s: answer larger than %d bytes", u, maxAPIBody)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %.500s", u, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %v", u, err)
	}
	return nil
}

// promAPI is Prometheus' HTTP API at a base URL.
type promAPI string

// promSample is one series of an instant query's answer.
type promSample struct {
	Metric map[string]string
	Value  float64
}

// query evaluates expr now and returns its series; a scalar or string answer
// is one sample without labels.
func (p promAPI) query(expr string) ([]promSample, error) {
	var ans struct {
		Status string
		Error  string
		Data   struct {
			ResultType string
			Result     json.RawMessage
		}
	}
	if err := getJSON(string(p)+"/api/v1/query?query="+url.QueryEscape(expr), &ans); err != nil {
		return nil, err
	}
	if ans.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", expr, ans.Error)
	}
	switch ans.Data.ResultType {
	case "vector":
		var series []struct {
			Metric map[string]string
			Value  []json.RawMessage // [time, "value"]
		}
		if err := json.Unmarshal(ans.Data.Result, &series); err != nil {
			return nil, fmt.Errorf("query %s: %v", expr, err)
		}
		out := make([]promSample, 0, len(series))
		for _, s := range series {
			v, err := sampleValue(s.Value)
			if err != nil {
				return nil, fmt.Errorf("query %s: %v", expr, err)
			}
			out = append(out, promSample{Metric: s.Metric, Value: v})
		}
		return out, nil
	case "scalar", "string":
		return []promSample{{}}, nil
	default:
		return nil, fmt.Errorf("query %s: result type %q", expr, ans.Data.ResultType)
	}
}

// sampleValue reads the value of a [time, "value"] pair.
func sampleValue(pair []json.RawMessage) (float64, error) {
	if len(pair) != 2 {
		return 0, errors.New("a sample is not a [time, value] pair")
	}
	var s string
	if err := json.Unmarshal(pair[1], &s); err != nil {
		return 0, err
	}
	return strconv.ParseFloat(s, 64)
}

// labelValues returns the values of label on the series matching selector,
// what Grafana's label_values(selector, label) lists.
func (p promAPI) labelValues(label, selector string) ([]string, error) {
	var ans struct {
		Status string
		Error  string
		Data   []string
	}
	u := fmt.Sprintf("%s/api/v1/label/%s/values?match[]=%s", string(p), url.PathEscape(label), url.QueryEscape(selector))
	if err := getJSON(u, &ans); err != nil {
		return nil, err
	}
	if ans.Status != "success" {
		return nil, errors.New(ans.Error)
	}
	return ans.Data, nil
}

// promAlert is an alert as Prometheus' /api/v1/alerts lists it, pending
// or firing.
type promAlert struct {
	Labels map[string]string
	State  string
}

// alerts returns every alert Prometheus holds, pending and firing.
func (p promAPI) alerts() ([]promAlert, error) {
	var ans struct {
		Status string
		Error  string
		Data   struct{ Alerts []promAlert }
	}
	if err := getJSON(string(p)+"/api/v1/alerts", &ans); err != nil {
		return nil, err
	}
	if ans.Status != "success" {
		return nil, errors.New(ans.Error)
	}
	return ans.Data.Alerts, nil
}

// amAlert is an alert as Alertmanager's API v2 lists it.
type amAlert struct {
	Labels      map[string]string
	Annotations map[string]string
	Status      struct{ State string }
}

// activeAlerts returns Alertmanager's active alerts named name.
func activeAlerts(base, name string) ([]amAlert, error) {
	var alerts []amAlert
	err := getJSON(base+"/api/v2/alerts?active=true&filter="+url.QueryEscape(fmt.Sprintf("alertname=%q", name)), &alerts)
	return alerts, err
}
