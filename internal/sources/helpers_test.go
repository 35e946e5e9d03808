package sources

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/refresh"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

// samples is the directory of the vendor answers and expected expositions
// that the mapping's own tests use.
var samples = filepath.Join("..", "..", "collector", "testdata")

// lockedBuffer is a log sink the test reads while steps write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines counts the log lines containing every one of parts.
func (l *lockedBuffer) lines(parts ...string) int {
	n := 0
	for line := range strings.SplitSeq(l.String(), "\n") {
		all := line != ""
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

// env is what a source needs from the process, on a fake clock, with the
// production limiters and request metrics on a registry of the test's own.
type env struct {
	t    testing.TB
	fc   *clocktest.Fake
	reg  *prometheus.Registry
	logs *lockedBuffer
	deps Deps
}

func newEnv(t testing.TB, start time.Time) *env {
	t.Helper()
	e := &env{t: t, fc: clocktest.NewFake(start), reg: prometheus.NewRegistry(), logs: &lockedBuffer{}}
	e.deps = Deps{
		Clock:      e.fc,
		Logger:     log.NewLogfmtLogger(e.logs),
		APIMetrics: NewAPIMetrics(e.reg),
		Limiters:   NewLimiters(e.fc),
	}
	return e
}

// config parses a configuration.
func (e *env) config(yml string) *config.Config {
	e.t.Helper()
	cfg, err := config.Parse([]byte(yml), e.t.TempDir())
	if err != nil {
		e.t.Fatalf("config:\n%s\n%v", yml, err)
	}
	return cfg
}

// set returns an in-memory tracked-ID set of kind listing static, with the
// configuration's bounds.
func (e *env) set(cfg *config.Config, kind string, static ...string) *tracking.Set {
	e.t.Helper()
	s, err := tracking.Open(tracking.Options{Kind: kind, App: "test", Clock: e.fc})
	if err != nil {
		e.t.Fatal(err)
	}
	ch, err := s.Prepare(tracking.Config{Static: static, MaxAge: time.Duration(cfg.Tracking.MaxAge), Cap: cfg.Tracking.MaxIDsPerApp})
	if err != nil {
		e.t.Fatal(err)
	}
	ch.Commit()
	return s
}

// add registers ids through the API origin, sent at sent (zero: unknown).
func (e *env) add(s *tracking.Set, sent time.Time, ids ...string) {
	e.t.Helper()
	if _, err := s.Add(context.Background(), ids, tracking.OriginAPI, sent); err != nil {
		e.t.Fatal(err)
	}
}

// tencentApp is the first Tencent app of cfg with its tracked tasks.
func (e *env) tencentApp(cfg *config.Config, ids *tracking.Set) App {
	a := &cfg.TencentIM[0]
	return App{Name: fmt.Sprint(a.SDKAppID), Config: cfg, Tencent: a, IDs: ids, Deps: e.deps}
}

// jpushApp is the first JPush app of cfg with its tracked messages.
func (e *env) jpushApp(cfg *config.Config, ids *tracking.Set) App {
	a := &cfg.JPush[0]
	return App{Name: a.AppKey, Config: cfg, JPush: a, IDs: ids, Deps: e.deps}
}

// groupApp is the first JPush group of cfg with its tracked messages.
func (e *env) groupApp(cfg *config.Config, ids *tracking.Set) App {
	g := &cfg.JPushGroups[0]
	return App{Name: g.GroupKey, Config: cfg, Group: g, IDs: ids, Deps: e.deps}
}

// unit is a source's job for one app and its target, as the server makes
// them from the source table.
type unit struct {
	def    Def
	job    Job
	target *refresh.Target
}

// lookup returns the source named name joined to its builder.
func lookup(name string) (Def, bool) {
	for _, d := range Defs() {
		if d.Name == name {
			return d, true
		}
	}
	return Def{}, false
}

func (e *env) unit(source string, a App) *unit {
	e.t.Helper()
	def, ok := lookup(source)
	if !ok {
		e.t.Fatalf("no source %s", source)
	}
	u := &unit{def: def, job: def.New(), target: refresh.NewTarget(source, a.Name, def.Schema, e.deps.Logger)}
	u.job.Configure(a)
	return u
}

// step runs one step of u, moving the fake clock on while the step waits on
// it (a rate-limit bucket) and only then, so that the vendor sees the calls
// at the times the buckets chose.
func (e *env) step(u *unit, woken bool) (time.Duration, error) {
	e.t.Helper()
	type result struct {
		wait time.Duration
		err  error
	}
	done := make(chan result, 1)
	go func() {
		w, err := u.job.Step(context.Background(), u.target, woken)
		done <- result{w, err}
	}()
	deadline := time.Now().Add(time.Minute) // bounds a hung test only
	for {
		select {
		case r := <-done:
			return r.wait, r.err
		default:
		}
		if time.Now().After(deadline) {
			e.t.Fatal("the step did not end")
		}
		if e.fc.Waiters() > 0 {
			e.fc.Advance(50 * time.Millisecond)
		} else {
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// mustStep runs a step that must succeed.
func (e *env) mustStep(u *unit, woken bool) time.Duration {
	e.t.Helper()
	wait, err := e.step(u, woken)
	if err != nil {
		e.t.Fatalf("step of %s: %v", u.def.Name, err)
	}
	return wait
}

// render writes the target's snapshot as the text exposition format.
func render(t testing.TB, tg *refresh.Target) string {
	t.Helper()
	g := expo.Group{Schema: tg.Schema()}
	tg.Lend(&g)
	var b bytes.Buffer
	if err := expo.Write(&b, expo.Text, []expo.Group{g}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// parse reads an exposition text.
func parse(t testing.TB, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parsing:\n%s\n%v", text, err)
	}
	return mfs
}

// normalize rewrites an exposition text with families and series sorted, so
// that two texts with the same content compare equal.
func normalize(t testing.TB, text string) string {
	t.Helper()
	mfs := parse(t, text)
	var b strings.Builder
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range mfs {
			if !yield(n) {
				return
			}
		}
	}) {
		mf := mfs[name]
		for _, m := range mf.Metric {
			sort.Slice(m.Label, func(i, j int) bool { return m.Label[i].GetName() < m.Label[j].GetName() })
		}
		sort.Slice(mf.Metric, func(i, j int) bool { return seriesKey(name, mf.Metric[i]) < seriesKey(name, mf.Metric[j]) })
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// expectFile compares the target's snapshot with an expected exposition.
func expectFile(t testing.TB, tg *refresh.Target, file string) {
	t.Helper()
	want, err := os.ReadFile(filepath.Join(samples, file))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := normalize(t, render(t, tg)), normalize(t, string(want)); got != want {
		t.Fatalf("snapshot:\n%s\nwant (%s):\n%s", got, file, want)
	}
}

// seriesKey renders a series as name{label="value",...}, labels sorted.
func seriesKey(name string, m *dto.Metric) string {
	labels := make([]string, 0, len(m.GetLabel()))
	for _, l := range m.GetLabel() {
		labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	sort.Strings(labels)
	return name + "{" + strings.Join(labels, ",") + "}"
}

// series returns every series of the snapshot (or of a gathered registry's
// text) by seriesKey.
func series(t testing.TB, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for name, mf := range parse(t, text) {
		for _, m := range mf.GetMetric() {
			v := m.GetGauge().GetValue()
			if m.Counter != nil {
				v = m.GetCounter().GetValue()
			} else if m.Untyped != nil {
				v = m.GetUntyped().GetValue()
			}
			out[seriesKey(name, m)] = v
		}
	}
	return out
}

// labelValues returns the distinct values of label in the series of family.
func labelValues(t testing.TB, text, family, label string) []string {
	t.Helper()
	seen := map[string]bool{}
	if mf, ok := parse(t, text)[family]; ok {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					seen[l.GetValue()] = true
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// apiRequests returns imstats_exporter_api_requests_total of (vendor, api,
// code) in the env's registry.
func (e *env) apiRequests(vendor, api, code string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "imstats_exporter_api_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if got["vendor"] == vendor && got["api"] == api && got["code"] == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// fileServer answers each request with the testdata file its path (without
// the leading "/v3/" or "/v4/") names in files, and an error for any other
// path (JPush's 2003 as JPush answers it); it records the requests.
type fileServer struct {
	url  string
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	path, query string
	body        []byte
}

func serveFiles(t testing.TB, files map[string]string) *fileServer {
	t.Helper()
	fs := &fileServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := new(bytes.Buffer)
		_, _ = body.ReadFrom(r.Body)
		fs.mu.Lock()
		fs.reqs = append(fs.reqs, recorded{r.URL.Path, r.URL.RawQuery, body.Bytes()})
		fs.mu.Unlock()
		api := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/v3/"), "/v4/")
		name, ok := files[api]
		if !ok {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":{"code":2003,"message":"no permission"}}`))
			return
		}
		data, err := os.ReadFile(filepath.Join(samples, name))
		if err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
	}))
	t.Cleanup(srv.Close)
	fs.url = srv.URL
	return fs
}

// requests returns the requests received so far.
func (fs *fileServer) requests() []recorded {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return slices.Clone(fs.reqs)
}
