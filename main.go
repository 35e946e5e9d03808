// Command imstats_exporter is a Prometheus exporter for Tencent Cloud IM
// operations data and push statistics, and JPush delivery reports.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/backfill"
	"github.com/imstats/imstats_exporter/internal/callbacks"
	"github.com/imstats/imstats_exporter/internal/demo"
	"github.com/imstats/imstats_exporter/internal/memlimit"
	"github.com/imstats/imstats_exporter/internal/server"
	"github.com/imstats/imstats_exporter/internal/webguard"
)

func main() { os.Exit(run()) }

func run() int {
	versionFromBuildInfo()
	app := kingpin.New(server.Name, "Prometheus exporter for Tencent Cloud IM and JPush statistics.")
	var (
		configFile  = app.Flag("config.file", "Configuration file.").Default("exporter.yml").String()
		logLevel    = app.Flag("log.level", "Only log messages with the given severity or above.").Default("info").Enum("debug", "info", "warn", "error")
		logFormat   = app.Flag("log.format", "Output format of log messages.").Default("logfmt").Enum("logfmt", "json")
		configCheck = app.Flag("config.check", "Validate the configuration file, print every problem, and exit.").Bool()
		demoMode    = app.Flag("demo", "Start the built-in simulator of both vendors on loopback and serve a demo configuration against it.").Bool()
		memoryLimit = app.Flag("runtime.memory-limit", "Ceiling for the Go runtime's soft memory limit (its GC works harder near it, and a warning is logged past 80% of it); 0 for none, or 90% of the container's memory limit when there is one. The GOMEMLIMIT environment variable, when set, wins.").Default("0").Bytes()
		gcPercent   = app.Flag("runtime.gc-percent", "Heap growth, in percent of the live heap, that triggers a garbage collection (GOGC); the resident size is about (1 + gc-percent/100) times the live heap plus 10%. The GOGC environment variable, when set, wins.").Default(strconv.Itoa(memlimit.DefaultGCPercent)).Int()
		demoDegrade = app.Flag("demo.degrade-channel", "In --demo, make the simulators deliver poorly through this vendor channel (huawei, xiaomi, …), to see the delivery alerts fire.").String()
		webOptions  = webguard.AddFlags(app)
		webConfig   = kingpinflag.AddFlags(app, ":9787")

		// serve takes the top-level flags; it is the command run when none is named.
		_              = app.Command("serve", "Serve the metrics with the flags above (the default command).").Default()
		backfillCmd    = app.Command("backfill", "Write the history the vendors hold (getappinfo's 30 days, JPush users' 60) as OpenMetrics for promtool tsdb create-blocks-from openmetrics.")
		backfillOutput = backfillCmd.Flag("output", "OpenMetrics file to write.").Required().String()
		backfillStep   = backfillCmd.Flag("step", "Time between two samples of a series; under Prometheus' lookback (5m) so that a query finds one at any time.").Default(backfill.DefaultStep.String()).Duration()
		backfillLabels = backfillCmd.Flag("label", "Label added to every series, as name=value; give the job and instance labels Prometheus gives the exporter's scrapes (repeatable).").StringMap()
	)
	var listenSet bool
	app.GetFlag("web.listen-address").IsSetByUser(&listenSet)
	app.Version(version.Print(server.Name))
	app.HelpFlag.Short('h')
	cmd, err := app.Parse(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	leveled := newLogger(*logFormat, *logLevel)
	base := log.With(leveled, "ts", log.DefaultTimestampUTC)
	logger := log.With(base, "caller", log.DefaultCaller)
	memlimit.Apply(logger, *gcPercent, int64(*memoryLimit))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if cmd == backfillCmd.FullCommand() {
		return runBackfill(ctx, *configFile, *backfillOutput, backfill.Options{Step: *backfillStep, Labels: *backfillLabels, Progress: os.Stderr, Logger: logger})
	}

	if *configCheck {
		cfg, err := config.Load(*configFile)
		if err == nil {
			err = cfg.CheckStateDirectory()
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: invalid configuration:\n%v\n", *configFile, err)
			return 1
		}
		fmt.Printf("%s: configuration is valid\n", *configFile)
		return 0
	}

	if *demoMode && !listenSet {
		// The demo serves its configuration: on loopback only, unless told.
		*webConfig.WebListenAddresses = []string{demo.ListenAddress}
	}
	// Bound before anything is started or said about where it serves: a
	// busy port ends the process here, with nothing to clean up.
	webOptions.CallbacksPath = callbacks.Path
	if *demoMode {
		// The demo's simulator sends push callbacks to the exporter.
		webOptions.EnableCallbacks = true
	}
	listeners, err := webguard.Listen(webConfig)
	if err != nil {
		level.Error(logger).Log("msg", "listening failed", "err", err)
		return 1
	}
	defer closeAll(listeners)
	// The receiver's own address, when it has one, is bound as early.
	var cbListeners []net.Listener
	systemd := false
	cbConfig := &web.FlagConfig{WebListenAddresses: &[]string{webOptions.CallbacksListenAddress}, WebSystemdSocket: &systemd, WebConfigFile: &webOptions.CallbacksConfigFile}
	if webOptions.EnableCallbacks && webOptions.CallbacksListenAddress != "" {
		if cbListeners, err = webguard.Listen(cbConfig); err != nil {
			level.Error(logger).Log("msg", "listening for push callbacks failed", "err", err)
			return 1
		}
		defer closeAll(cbListeners)
	}

	if *demoMode {
		cbAddr := listeners[0].Addr().String()
		if len(cbListeners) > 0 {
			cbAddr = cbListeners[0].Addr().String()
		}
		d, err := demo.Start(ctx, logger, demo.Options{DegradeChannel: *demoDegrade, CallbackURL: "http://" + demo.DisplayAddress(cbAddr) + callbacks.Path})
		if err != nil {
			level.Error(logger).Log("msg", "starting the demo failed", "err", err)
			return 1
		}
		defer d.Close()
		*configFile = d.ConfigFile
	}

	level.Info(logger).Log("msg", "starting "+server.Name, "version", version.Info(), "build_context", version.BuildContext())
	srv, err := server.New(server.Options{ConfigFile: *configFile, TelemetryPath: webOptions.TelemetryPath, Logger: logger,
		EnableTrackingWrites: webOptions.EnableTrackingAPI,
		EnableCallbacks:      webOptions.EnableCallbacks, CallbacksApart: len(cbListeners) > 0})
	if err != nil {
		level.Error(logger).Log("msg", "loading the configuration failed", "file", *configFile, "err", err)
		return 1
	}
	defer srv.Close()
	memory := memlimit.NewMonitor(logger)
	srv.Registerer().MustRegister(memory)
	go memory.Run(ctx, 15*time.Second)
	guard, err := webguard.New(*webOptions, srv.Registerer())
	if err != nil {
		level.Error(logger).Log("msg", "setting up the web server failed", "err", err)
		return 1
	}
	if webOptions.CallbacksListenAddress != "" && !webOptions.EnableCallbacks {
		level.Warn(logger).Log("msg", "--web.callbacks-listen-address is ignored without --web.enable-callbacks")
	}
	if guard.WritesOpen() {
		level.Warn(logger).Log("msg", "write endpoints are on without --web.write-token-file: whoever passes --web.config.file's authentication (anyone, without one) can reload and change what is tracked",
			"lifecycle", webOptions.EnableLifecycle, "tracking_api", webOptions.EnableTrackingAPI)
	}
	// Run ends before the deferred closes: the demo's directory is removed
	// after the last write into it.
	runCtx, cancelRun := context.WithCancel(ctx)
	runDone := make(chan struct{})
	go func() { srv.Run(runCtx); close(runDone) }()
	defer func() { cancelRun(); <-runDone }()
	handler, err := srv.Handler()
	if err != nil {
		level.Error(logger).Log("msg", "building the HTTP handler failed", "err", err)
		return 1
	}
	httpServer := &http.Server{Handler: guard.Handler(handler)}
	webguard.Configure(httpServer, *webOptions)
	httpServer.ConnState = guard.ConnState
	servers := []*http.Server{httpServer}
	serveErrs := make(chan error, 2)
	if len(cbListeners) > 0 {
		cbServer := &http.Server{Handler: guard.Handler(srv.CallbackHandler())}
		webguard.Configure(cbServer, *webOptions)
		cbServer.ConnState = guard.ConnState
		servers = append(servers, cbServer)
		go func() { serveErrs <- web.ServeMultiple(cbListeners, cbServer, cbConfig, webguard.SlogLogger(leveled)) }()
	}
	// Serving stops at once on a signal (or when a server fails); the
	// requests in flight get 5 seconds, and the deferred clean-ups wait for
	// them.
	shutdownDone := make(chan struct{})
	go func() {
		defer close(shutdownDone)
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, s := range servers {
			_ = s.Shutdown(shutdownCtx)
		}
	}()
	if *demoMode {
		for _, l := range listeners {
			a := demo.DisplayAddress(l.Addr().String())
			fmt.Fprintf(os.Stderr, "demo: metrics at http://%s%s, configuration at http://%s/config\n", a, webOptions.TelemetryPath, a)
		}
	}
	// exporter-toolkit logs through slog: bridged to the same go-kit logger
	// in the same format (the bridge adds its own caller; the go-kit filter
	// applies the level).
	go func() { serveErrs <- web.ServeMultiple(listeners, httpServer, webConfig, webguard.SlogLogger(leveled)) }()
	// The first server to stop (a failure, or the shutdown) stops the other.
	err = <-serveErrs
	stop()
	<-shutdownDone
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		level.Error(logger).Log("msg", "HTTP server failed", "err", err)
		return 1
	}
	return 0
}

// closeAll closes listeners that serving may already have closed.
func closeAll(listeners []net.Listener) {
	for _, l := range listeners {
		_ = l.Close()
	}
}

// versionFromBuildInfo fills in what -ldflags did not set (a plain go
// build) from the build information Go embeds: the main module's version
// and the commit's time. The revision comes from there already.
func versionFromBuildInfo() {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	if version.Version == "" {
		version.Version = bi.Main.Version
		if version.Version == "" || version.Version == "(devel)" {
			version.Version = "devel"
		}
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.time" && version.BuildDate == "" {
			version.BuildDate = s.Value
		}
	}
}

// runBackfill writes the backfill file; an app that fails is reported and
// the others are still written (exit status 1).
func runBackfill(ctx context.Context, configFile, output string, o backfill.Options) int {
	cfg, err := config.Load(configFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: invalid configuration:\n%v\n", configFile, err)
		return 1
	}
	f, err := os.Create(output)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	o.Out = f
	err = backfill.Run(ctx, cfg, o)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "backfill: %v\n", err)
		return 1
	}
	return 0
}

// newLogger returns the go-kit logger for the flags, filtered by level;
// the caller adds the timestamp.
func newLogger(format, lvl string) log.Logger {
	var l log.Logger
	if format == "json" {
		l = log.NewJSONLogger(log.NewSyncWriter(os.Stderr))
	} else {
		l = log.NewLogfmtLogger(log.NewSyncWriter(os.Stderr))
	}
	return level.NewFilter(l, level.Allow(level.ParseDefault(lvl, level.InfoValue())))
}
