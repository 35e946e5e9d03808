// Package server wires the configuration, the collectors and the HTTP
// endpoints of the exporter: /metrics, the landing page, health and
// readiness, /-/reload (and SIGHUP), /config and the tracking API.
package server

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/imstats/imstats_exporter/collector"
	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/clock"
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
}

// Server owns the exporter's state for the life of the process.
type Server struct {
	opts     Options
	logger   log.Logger
	registry *prometheus.Registry
	safe     *config.SafeConfig
	holder   collector.Holder
	deps     collector.Deps
	reloads  chan chan error

	mu sync.Mutex // serialises reloads
}

// New loads the configuration and builds the collectors. A configuration
// that does not load is an error: the process should not start with it.
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
	reg := prometheus.NewRegistry()
	s := &Server{
		opts:     o,
		logger:   o.Logger,
		registry: reg,
		safe:     config.NewSafeConfig(reg),
		reloads:  make(chan chan error),
	}
	s.deps = collector.Deps{
		Clock:      o.Clock,
		Logger:     o.Logger,
		Transport:  o.Transport,
		APIMetrics: collector.NewAPIMetrics(reg),
		Limiters:   collector.NewLimiters(o.Clock),
		Trackers:   collector.NewTrackers(o.Clock, o.Logger, s.holder.Kick),
	}
	reg.MustRegister(
		versioncollector.NewCollector(Name),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&s.holder,
	)
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload loads the configuration file again; on success the collectors are
// rebuilt from it (keeping their snapshots), on failure the running
// configuration stays and the error is returned.
func (s *Server) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.safe.ReloadWith(s.opts.ConfigFile, func(cfg *config.Config) error {
		exp, specs, err := collector.Build(cfg, s.deps)
		if err != nil {
			return err
		}
		s.deps.Trackers.Commit(specs)
		s.holder.Swap(exp)
		return nil
	})
	if err != nil {
		return err
	}
	cfg := s.safe.Get()
	level.Info(s.logger).Log("msg", "configuration loaded", "file", s.opts.ConfigFile,
		"tencent_im_apps", len(cfg.TencentIM), "jpush_apps", len(cfg.JPush), "jpush_groups", len(cfg.JPushGroups))
	return nil
}

// Run handles reload requests, from SIGHUP and from POST /-/reload, in one
// goroutine, and re-reads the watched ID files, until ctx ends.
func (s *Server) Run(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	fileCheck := time.NewTimer(s.fileCheckInterval())
	defer fileCheck.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-fileCheck.C:
			s.deps.Trackers.SyncFiles()
			fileCheck.Reset(s.fileCheckInterval())
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

func (s *Server) fileCheckInterval() time.Duration {
	return time.Duration(s.safe.Get().Tracking.FileCheckInterval)
}

// Handler returns the exporter's HTTP endpoints.
func (s *Server) Handler() (http.Handler, error) {
	mux := http.NewServeMux()
	limits := func() (time.Duration, time.Duration) {
		l := s.safe.Get().Limits
		return time.Duration(l.ScrapeTimeoutMargin), time.Duration(l.MaxScrapeWait)
	}
	mux.Handle(s.opts.TelemetryPath, collector.Handler(&s.holder, s.registry, limits,
		promhttp.HandlerOpts{ErrorLog: stdLogger{s.logger}, EnableOpenMetrics: true}))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy") })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Ready") })
	mux.HandleFunc("/-/reload", s.handleReload)
	mux.HandleFunc("GET /config", s.handleConfig)
	tracking.NewAPI(s.deps.Trackers.Lookup).Register(mux)
	if s.opts.TelemetryPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        Name,
			Description: "Prometheus exporter for Tencent Cloud IM operations data and push statistics, and JPush delivery reports",
			Version:     version.Info(),
			Links: []web.LandingLinks{
				{Address: s.opts.TelemetryPath, Text: "Metrics"},
				{Address: "/config", Text: "Configuration (secrets hidden)"},
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
// force, 500 with the reason (the old one keeps running), 405 otherwise.
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

func (s *Server) handleConfig(w http.ResponseWriter, _ *http.Request) {
	out, err := s.safe.Get().Redacted()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(out)
}

// stdLogger adapts the go-kit logger to promhttp's error logger.
type stdLogger struct{ l log.Logger }

func (s stdLogger) Println(v ...any) { level.Error(s.l).Log("msg", fmt.Sprint(v...)) }
