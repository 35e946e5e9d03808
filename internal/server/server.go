// Package server wires the configuration, the sources and the HTTP
// endpoints of the exporter: /metrics, the landing page and /status,
// health and readiness, /-/reload (and SIGHUP), /config, the tracking API
// and the push callback receiver.
//
// The Server is the one owner of every (source, app)'s state for the life
// of the process (registry.go): a reload turns the new configuration into a
// plan with no side effect, and only a complete plan is committed, in one
// step, by the one goroutine that runs reloads.
//
// Lock order: Server.reloadMu (reloads only) may be held while calling
// into tracking sets (Prepare, Commit) and refresh loops (Configure); those
// take only their own leaf locks and never call back. The scrape path takes
// no Server lock at all: it loads the committed unit list atomically.
package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/callbacks"
	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/sources"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

// Name is the exporter's name, as in imstats_exporter_build_info.
const Name = "imstats_exporter"

// Options configure a Server.
type Options struct {
	ConfigFile    string
	TelemetryPath string // default /metrics
	Logger        log.Logger
	Clock         clock.Clock       // nil: clock.Real{}
	Transport     http.RoundTripper // nil: http.DefaultTransport
	// EnableTrackingWrites turns on the tracking API's POST and DELETE.
	// (The HTTP layer, internal/webguard, gates POST /-/reload and caps
	// concurrent requests.)
	EnableTrackingWrites bool
	// EnableCallbacks turns on the push callback receiver; with
	// CallbacksApart it is served by CallbackHandler only, not by Handler.
	EnableCallbacks, CallbacksApart bool
}

// Server owns the exporter's state for the life of the process.
type Server struct {
	opts     Options
	logger   log.Logger
	registry *prometheus.Registry
	safe     *config.SafeConfig
	deps     sources.Deps
	reloads  chan chan error

	ctx    context.Context // parent of every loop; cancelled by Close
	cancel context.CancelFunc
	loops  sync.WaitGroup // every loop started, until it returns

	reloadMu sync.Mutex // serialises reloads; guards state
	state    state

	// Read without locks by scrapes and the tracking API; replaced by commit.
	units  atomic.Pointer[unitList]
	served atomic.Pointer[map[setKey]*tracking.Set]

	scrapes   *scrapeCache
	callbacks *callbacks.Receiver // nil unless Options.EnableCallbacks
}

// New loads the configuration and starts the sources. A configuration that
// does not load is an error: the process should not start with it.
func New(o Options) (*Server, error) {
	if o.TelemetryPath == "" {
		o.TelemetryPath = "/metrics"
	}
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if err := sources.Check(); err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts:     o,
		logger:   o.Logger,
		registry: reg,
		safe:     config.NewSafeConfig(reg),
		reloads:  make(chan chan error),
		ctx:      ctx,
		cancel:   cancel,
		state:    state{units: map[unitKey]*unit{}, sets: map[setKey]*tracking.Set{}},
		scrapes:  newScrapeCache(),
	}
	s.units.Store(&unitList{})
	s.served.Store(&map[setKey]*tracking.Set{})
	s.deps = sources.Deps{
		Clock:      o.Clock,
		Logger:     o.Logger,
		Transport:  o.Transport,
		APIMetrics: sources.NewAPIMetrics(reg),
		Limiters:   sources.NewLimiters(o.Clock),
	}
	reg.MustRegister(
		versioncollector.NewCollector(Name),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		healthCollector{s},
	)
	if o.EnableCallbacks {
		s.callbacks = callbacks.New(callbacks.Options{Apps: s.callbackApp, Clock: o.Clock, Logger: o.Logger})
		reg.MustRegister(s.callbacks)
	}
	if err := s.Reload(); err != nil {
		cancel()
		return nil, err
	}
	return s, nil
}

// Registerer is the registry of the exporter's own metrics, for the HTTP
// layer's.
func (s *Server) Registerer() prometheus.Registerer { return s.registry }

// Close stops every source's loop and waits for them to return, then for
// the saves of tracked-ID state under way: nothing the server started
// writes into the state directory after it returns (the demo removes its
// directory then).
func (s *Server) Close() {
	s.cancel()
	s.loops.Wait()
	for _, set := range *s.served.Load() {
		set.Wait()
	}
}

// Reload loads the configuration file again. A configuration that loads and
// plans is committed whole; otherwise nothing changes and the error is
// returned.
func (s *Server) Reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	p, err := s.loadPlan()
	if err != nil {
		s.safe.ReloadResult(false)
		return err
	}
	s.commit(p)
	s.safe.Set(p.cfg)
	s.safe.ReloadResult(true)
	cfg := p.cfg
	level.Info(s.logger).Log("msg", "configuration loaded", "file", s.opts.ConfigFile,
		"tencent_im_apps", len(cfg.TencentIM), "jpush_apps", len(cfg.JPush), "jpush_groups", len(cfg.JPushGroups))
	return nil
}

// loadPlan loads the configuration file and turns it into a plan, with no
// side effect.
func (s *Server) loadPlan() (*plan, error) {
	cfg, err := config.Load(s.opts.ConfigFile)
	if err != nil {
		return nil, err
	}
	return s.makePlan(cfg)
}

// Run handles reload requests, from SIGHUP and from POST /-/reload, in one
// goroutine, and maintains the tracked-ID sets (ageing, watched files,
// retried saves) in the background, until ctx ends.
func (s *Server) Run(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	maintain := time.NewTimer(s.maintainInterval())
	defer maintain.Stop()
	for {
		select {
		case <-ctx.Done():
			s.Close()
			return
		case <-maintain.C:
			s.maintain()
			maintain.Reset(s.maintainInterval())
		case <-hup:
			if err := s.Reload(); err != nil {
				level.Error(s.logger).Log("msg", "reload on SIGHUP failed; keeping the running configuration", "err", err)
			}
		case reply := <-s.reloads:
			err := s.Reload()
			if err != nil {
				level.Error(s.logger).Log("msg", "reload on request failed; keeping the running configuration", "err", err)
			}
			reply <- err
		}
	}
}

func (s *Server) maintainInterval() time.Duration {
	return time.Duration(s.safe.Get().Tracking.FileCheckInterval)
}

// maintain lets every served set expire aged IDs, re-read its watched file
// and retry a pending save; each set logs its own changes of state.
func (s *Server) maintain() {
	for _, set := range *s.served.Load() {
		_ = set.Maintain()
	}
}

// lookupSet is the tracking API's lookup: the served set of (kind, app).
func (s *Server) lookupSet(kind, app string) (*tracking.Set, bool) {
	set, ok := (*s.served.Load())[setKey{kind, app}]
	return set, ok
}

// callbackApp is the callback receiver's lookup: the tencent_im app of a
// decimal SdkAppid in force, with its token and its served TaskId set.
func (s *Server) callbackApp(sdkappid string) (callbacks.App, bool) {
	id, err := strconv.ParseUint(sdkappid, 10, 64)
	if err != nil {
		return callbacks.App{}, false
	}
	cfg := s.safe.Get()
	for i := range cfg.TencentIM {
		a := &cfg.TencentIM[i]
		if a.SDKAppID != id {
			continue
		}
		app := callbacks.App{Token: string(a.CallbackToken)}
		if set, ok := s.lookupSet(catalog.KindTencentPush, sdkappid); ok {
			app.Tasks = set
		}
		return app, true
	}
	return callbacks.App{}, false
}

// CallbackHandler serves the push callback receiver alone, for a listen
// address of its own; nil when callbacks are off.
func (s *Server) CallbackHandler() http.Handler {
	if s.callbacks == nil {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle(callbacks.Path, s.callbacks)
	return mux
}

// Handler returns the exporter's HTTP endpoints.
func (s *Server) Handler() (http.Handler, error) {
	mux := http.NewServeMux()
	if s.callbacks != nil && !s.opts.CallbacksApart {
		mux.Handle(callbacks.Path, s.callbacks)
	}
	mux.Handle(s.opts.TelemetryPath, http.HandlerFunc(s.serveMetrics))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy") })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Ready") })
	mux.HandleFunc("/-/reload", s.handleReload)
	mux.HandleFunc("GET /config", s.handleConfig)
	tracking.NewAPI(s.lookupSet, tracking.APIOptions{AllowWrites: s.opts.EnableTrackingWrites}).Register(mux)
	mux.HandleFunc("GET /api/v1/{$}", s.handleAPIIndex)
	mux.HandleFunc("GET /status", s.handleStatus)
	if s.opts.TelemetryPath != "/" {
		landing, err := newLandingPage(s, web.LandingConfig{
			Name:        Name,
			Description: "Prometheus exporter for Tencent Cloud IM operations data and push statistics, and JPush delivery reports",
			Version:     version.Info(),
			// The exporter serves no /debug/pprof: no link to it.
			Profiling: "false",
			Links: []web.LandingLinks{
				{Address: s.opts.TelemetryPath, Text: "Metrics"},
				{Address: "/config", Text: "Configuration (secrets hidden)"},
				{Address: "/status", Text: "Status: every app's sources, refreshes, tracked IDs, and whether its delivery is watched"},
				{Address: "/api/v1/", Text: "Tracking API: the endpoints of the apps in force"},
				{Address: "/-/healthy", Text: "Health"},
				{Address: "/-/ready", Text: "Readiness"},
			},
		})
		if err != nil {
			return nil, err
		}
		mux.Handle("/", landing)
	}
	return mux, nil
}

// handleReload serves POST /-/reload: 200 when the new configuration is in
// force, 500 with the reason (the old one keeps running), 405 for another
// method. Whether the endpoint is on at all is the HTTP layer's decision
// (--web.enable-lifecycle, internal/webguard).
func (s *Server) handleReload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "This endpoint requires a POST request.", http.StatusMethodNotAllowed)
		return
	}
	reply := make(chan error, 1)
	select {
	case s.reloads <- reply:
	case <-r.Context().Done():
		return
	}
	if err := <-reply; err != nil {
		http.Error(w, "failed to reload config: "+err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "configuration reloaded")
}

// handleAPIIndex lists the tracking API's endpoints of the apps in force,
// and whether its writes are on.
func (s *Server) handleAPIIndex(w http.ResponseWriter, _ *http.Request) {
	var paths []string
	for k := range *s.served.Load() {
		if kind, ok := catalog.LookupIDKind(k.kind); ok {
			paths = append(paths, kind.Path(k.app))
		}
	}
	slices.Sort(paths)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(struct {
		Endpoints []string `json:"endpoints"`
		Writes    bool     `json:"writes_enabled"`
	}{paths, s.opts.EnableTrackingWrites})
}

func (s *Server) handleConfig(w http.ResponseWriter, _ *http.Request) {
	out, err := s.safe.Get().Redacted()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(out)
}
