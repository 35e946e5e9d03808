// Package webguard bounds and guards the exporter's HTTP server: read,
// write and idle timeouts, a request body limit enforced while reading,
// caps on concurrent requests by class (scrapes, push callbacks, writes,
// everything else; health and readiness checks have none, so that nothing
// else can make them fail), a cap on open connections that closes the longest idle ones
// first, a write deadline per piece of an answer so that a client that
// does not read is cut off, the lifecycle switch for POST /-/reload, and a
// token that write requests need on top of the web configuration's
// authentication, so that the credential Prometheus scrapes with cannot
// change anything. Push callbacks come from the vendor, which cannot send
// the write token: their receiver checks them instead.
//
// Like Prometheus' --web.enable-lifecycle, endpoints that change state are
// off unless a flag turns them on.
package webguard

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/alecthomas/units"
	"github.com/prometheus/client_golang/prometheus"
)

// ReloadPath is the lifecycle endpoint that --web.enable-lifecycle turns on.
const ReloadPath = "/-/reload"

// TokenHeader carries the write token. It is a header of its own so that it
// travels next to the Authorization header that basic auth uses;
// "Authorization: Bearer <token>" is accepted too when basic auth is off.
const TokenHeader = "X-Write-Token"

// Defaults of the flags.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 2 * time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxBodyBytes      = units.MiB
	DefaultMaxRequests       = 40
	DefaultMaxScrapes        = 10
	DefaultMaxWrites         = 10
	DefaultMaxConnections    = 1024
	DefaultWriteStallTimeout = 5 * time.Second
	// DefaultMaxCallbacks: Tencent sends up to 1000 callback requests a
	// second per app by default, each answered in about a millisecond.
	DefaultMaxCallbacks = 64
)

// maxHeaderBytes bounds a request's headers (Go's default is 1 MiB); basic
// auth and the write token fit many times over.
const maxHeaderBytes = 64 << 10

// Options are the web server's bounds and switches, one field per flag.
type Options struct {
	TelemetryPath     string           // the scrape endpoint, capped by MaxScrapes
	ReadHeaderTimeout time.Duration    // to read a request's headers
	ReadTimeout       time.Duration    // to read a whole request, body included
	WriteTimeout      time.Duration    // to answer; above Prometheus' scrape_timeout
	IdleTimeout       time.Duration    // a kept-alive connection waiting for its next request
	MaxBodyBytes      units.Base2Bytes // largest request body; larger gets 413
	WriteStallTimeout time.Duration    // to send one piece (writeChunk) of an answer; 0: no limit
	MaxRequests       int              // concurrent requests other than scrapes, health checks and writes; 0: no cap
	MaxScrapes        int              // concurrent requests to TelemetryPath being prepared; 0: no cap
	MaxWrites         int              // concurrent write requests (POST, DELETE, …); 0: no cap
	MaxConnections    int              // open connections; 0: no cap
	EnableLifecycle   bool             // POST /-/reload answers (SIGHUP always works)
	EnableTrackingAPI bool             // the tracking API accepts writes (POST, DELETE)
	WriteTokenFile    string           // a token every write request must carry; "" for none

	EnableCallbacks        bool   // the push callback receiver answers at CallbacksPath
	CallbacksPath          string // where the receiver is served; set by the caller
	CallbacksListenAddress string // a listen address of the receiver's own; "" serves it with the rest
	CallbacksConfigFile    string // exporter-toolkit web configuration (TLS) of CallbacksListenAddress
	MaxCallbacks           int    // concurrent push callbacks; 0: no cap
}

// DefaultOptions are the flags' defaults: write endpoints off, no token.
func DefaultOptions() Options {
	return Options{
		TelemetryPath:     "/metrics",
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		ReadTimeout:       DefaultReadTimeout,
		WriteTimeout:      DefaultWriteTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		MaxBodyBytes:      DefaultMaxBodyBytes,
		WriteStallTimeout: DefaultWriteStallTimeout,
		MaxRequests:       DefaultMaxRequests,
		MaxScrapes:        DefaultMaxScrapes,
		MaxWrites:         DefaultMaxWrites,
		MaxConnections:    DefaultMaxConnections,
		MaxCallbacks:      DefaultMaxCallbacks,
	}
}

// AddFlags defines the web flags on app (next to exporter-toolkit's
// --web.listen-address and --web.config.file) and returns the Options they
// fill when app parses.
func AddFlags(app *kingpin.Application) *Options {
	d := DefaultOptions()
	o := &Options{}
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default(d.TelemetryPath).StringVar(&o.TelemetryPath)
	app.Flag("web.enable-lifecycle", "Enable POST /-/reload (SIGHUP always reloads).").BoolVar(&o.EnableLifecycle)
	app.Flag("web.enable-tracking-api", "Enable the tracking API's writes (registering and removing IDs); reads are always on.").BoolVar(&o.EnableTrackingAPI)
	app.Flag("web.write-token-file", "File holding a token that every write request (POST /-/reload, the tracking API's POST and DELETE) must send in the "+TokenHeader+" header (or as Authorization: Bearer without basic auth), on top of --web.config.file's authentication.").PlaceHolder("FILE").StringVar(&o.WriteTokenFile)
	app.Flag("web.read-header-timeout", "Maximum time to read a request's headers.").Default(d.ReadHeaderTimeout.String()).DurationVar(&o.ReadHeaderTimeout)
	app.Flag("web.read-timeout", "Maximum time to read a whole request, body included.").Default(d.ReadTimeout.String()).DurationVar(&o.ReadTimeout)
	app.Flag("web.write-timeout", "Maximum time to answer a request; keep it above Prometheus' scrape_timeout, as a scrape may wait for a refresh.").Default(d.WriteTimeout.String()).DurationVar(&o.WriteTimeout)
	app.Flag("web.idle-timeout", "Maximum time a kept-alive connection waits for its next request; keep it above the scrape interval.").Default(d.IdleTimeout.String()).DurationVar(&o.IdleTimeout)
	app.Flag("web.max-request-body", "Largest request body; a larger one is refused with 413.").Default(d.MaxBodyBytes.String()).BytesVar(&o.MaxBodyBytes)
	app.Flag("web.write-stall-timeout", "Maximum time to send one 64 KiB piece of an answer; a client that reads slower is disconnected (0: only --web.write-timeout applies).").Default(d.WriteStallTimeout.String()).DurationVar(&o.WriteStallTimeout)
	app.Flag("web.max-requests", "Maximum concurrent requests other than scrapes, health checks and writes; more get 503 (0: no limit).").Default(fmt.Sprint(d.MaxRequests)).IntVar(&o.MaxRequests)
	app.Flag("web.max-scrapes", "Maximum concurrent scrapes of the telemetry path being prepared (a scrape no longer counts once its answer is being sent); more get 503 (0: no limit).").Default(fmt.Sprint(d.MaxScrapes)).IntVar(&o.MaxScrapes)
	app.Flag("web.max-write-requests", "Maximum concurrent write requests (POST /-/reload, the tracking API's POST and DELETE); more get 503 (0: no limit).").Default(fmt.Sprint(d.MaxWrites)).IntVar(&o.MaxWrites)
	app.Flag("web.max-connections", "Maximum open HTTP connections; a new one beyond it closes the longest idle one, or is closed itself when none is idle (0: no limit). Keep it well under the open files limit.").Default(fmt.Sprint(d.MaxConnections)).IntVar(&o.MaxConnections)
	app.Flag("web.enable-callbacks", "Enable the receiver of Tencent's push callbacks (POST /callbacks/tencent_im); it needs no write token and checks each app's callback_token instead.").BoolVar(&o.EnableCallbacks)
	app.Flag("web.callbacks-listen-address", "Serve the push callback receiver only on this address (and /metrics and the rest only on --web.listen-address), so that it can face the vendor alone.").PlaceHolder(":9788").StringVar(&o.CallbacksListenAddress)
	app.Flag("web.callbacks-config.file", "Web configuration file (TLS) of --web.callbacks-listen-address, in exporter-toolkit's format.").PlaceHolder("FILE").StringVar(&o.CallbacksConfigFile)
	app.Flag("web.max-callbacks", "Maximum concurrent push callback requests; more get 503, which Tencent retries (0: no limit).").Default(fmt.Sprint(d.MaxCallbacks)).IntVar(&o.MaxCallbacks)
	return o
}

// Configure sets the server's timeouts and header size limit from o. The
// connection cap is the Guard's ConnState, set apart.
func Configure(s *http.Server, o Options) {
	s.ReadHeaderTimeout = o.ReadHeaderTimeout
	s.ReadTimeout = o.ReadTimeout
	s.WriteTimeout = o.WriteTimeout
	s.IdleTimeout = o.IdleTimeout
	s.MaxHeaderBytes = maxHeaderBytes
}

// ConnState is the http.Server hook that caps open connections
// (MaxConnections): set it as the server's ConnState. Without a cap it
// does nothing.
func (g *Guard) ConnState(c net.Conn, state http.ConnState) {
	if g.conns != nil {
		g.conns.track(c, state)
	}
}

// Reasons a request is refused, the values of the reason label.
const (
	reasonConcurrency  = "concurrency_limit"
	reasonBodyTooLarge = "body_too_large"
	reasonLifecycle    = "lifecycle_disabled"
	reasonToken        = "write_token"
)

// Request classes, each with its own cap.
const (
	classScrape = iota
	classHealth // never capped: no other class can make health checks fail
	classWrite
	classCallback
	classOther
)

// healthPaths are the health and readiness checks.
var healthPaths = map[string]bool{"/-/healthy": true, "/-/ready": true}

// Guard is the HTTP middleware for Options.
type Guard struct {
	opts     Options
	tokenSum []byte                        // SHA-256 of the write token; nil when there is none
	caps     [classOther + 1]chan struct{} // by class; nil: no cap
	conns    *connLimit                    // nil: no cap
	rejected *prometheus.CounterVec
	stalled  prometheus.Counter
}

// New reads the write token, if any, and registers the guard's metrics
// with reg (nil: not exposed):
// imstats_exporter_http_requests_rejected_total,
// imstats_exporter_http_answers_stalled_total,
// imstats_exporter_http_request_slots_in_use and the connection cap's. A
// token file that cannot be read or is empty is an error.
func New(o Options, reg prometheus.Registerer) (*Guard, error) {
	g := &Guard{
		opts: o,
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imstats_exporter_http_requests_rejected_total",
			Help: "HTTP requests refused by the exporter's limits and switches, by reason.",
		}, []string{"reason"}),
		stalled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imstats_exporter_http_answers_stalled_total",
			Help: "HTTP answers cut off because the client did not take a piece of it within --web.write-stall-timeout, or it outlasted --web.write-timeout.",
		}),
	}
	for _, r := range []string{reasonConcurrency, reasonBodyTooLarge, reasonLifecycle, reasonToken} {
		g.rejected.WithLabelValues(r)
	}
	collectors := []prometheus.Collector{g.rejected, g.stalled}
	for _, c := range []struct {
		class, limit int
		name         string
	}{{classScrape, o.MaxScrapes, "scrape"}, {classWrite, o.MaxWrites, "write"}, {classCallback, o.MaxCallbacks, "callback"}, {classOther, o.MaxRequests, "other"}} {
		if c.limit <= 0 {
			continue
		}
		sem := make(chan struct{}, c.limit)
		g.caps[c.class] = sem
		collectors = append(collectors, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "imstats_exporter_http_request_slots_in_use",
			Help:        "Slots of the class's cap (--web.max-scrapes, --web.max-write-requests, --web.max-callbacks, --web.max-requests) held by requests being read or prepared.",
			ConstLabels: prometheus.Labels{"class": c.name},
		}, func() float64 { return float64(len(sem)) }))
	}
	if o.MaxConnections > 0 {
		g.conns = newConnLimit(o.MaxConnections)
		collectors = append(collectors, g.conns)
	}
	if reg != nil {
		for _, c := range collectors {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	if o.WriteTokenFile != "" {
		b, err := os.ReadFile(o.WriteTokenFile)
		if err != nil {
			return nil, fmt.Errorf("reading the write token: %w", err)
		}
		token := bytes.TrimSpace(b)
		if len(token) == 0 {
			return nil, errors.New("the write token file " + o.WriteTokenFile + " is empty")
		}
		sum := sha256.Sum256(token)
		g.tokenSum = sum[:]
	}
	return g, nil
}

// WritesOpen reports whether a write endpoint is on without a write token,
// so that anyone who passes the web configuration's authentication (or
// anyone at all without one) can change what is tracked or reload.
func (g *Guard) WritesOpen() bool {
	return (g.opts.EnableLifecycle || g.opts.EnableTrackingAPI) && g.tokenSum == nil
}

// isCallback reports whether r is for the push callback receiver.
func (g *Guard) isCallback(r *http.Request) bool {
	return g.opts.EnableCallbacks && r.URL.Path == g.opts.CallbacksPath
}

// classify returns r's class: scrapes by path, then health checks (only
// reads: a POST to a health path is a write like any other), then push
// callbacks by path, then writes by method.
func (g *Guard) classify(r *http.Request) int {
	switch {
	case r.URL.Path == g.opts.TelemetryPath:
		return classScrape
	case healthPaths[r.URL.Path] && !isWrite(r.Method):
		return classHealth
	case g.isCallback(r):
		return classCallback
	case isWrite(r.Method):
		return classWrite
	}
	return classOther
}

// Handler wraps next with the concurrency caps, the lifecycle switch, the
// write token check and the body limit, and gives each request a deadline
// of WriteTimeout so that work for a client the server has given up on
// stops. A request holds its class's slot while it is read and its answer
// prepared, and gives it back when the answer's first bytes go out: a
// client that does not read the answer holds no slot, only its
// connection, until a piece of the answer stalls for WriteStallTimeout.
func (g *Guard) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		orig := w
		gw := g.newWriter(w)
		defer gw.done()
		w = gw
		if sem := g.caps[g.classify(r)]; sem != nil {
			select {
			case sem <- struct{}{}:
				gw.release = func() { <-sem }
			default:
				g.rejected.WithLabelValues(reasonConcurrency).Inc()
				w.Header().Set("Retry-After", "1")
				if r.ContentLength != 0 {
					// Answered at once, without waiting for a body that
					// may trickle in: the connection closes instead.
					w.Header().Set("Connection", "close")
				}
				http.Error(w, "Too many concurrent requests.", http.StatusServiceUnavailable)
				return
			}
		}
		if r.URL.Path == ReloadPath && !g.opts.EnableLifecycle {
			g.rejected.WithLabelValues(reasonLifecycle).Inc()
			http.Error(w, "Lifecycle API is not enabled.", http.StatusForbidden)
			return
		}
		if isWrite(r.Method) && g.tokenSum != nil && !g.isCallback(r) {
			if code := g.checkToken(r); code != 0 {
				g.rejected.WithLabelValues(reasonToken).Inc()
				if code == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", `Bearer realm="imstats_exporter writes"`)
				}
				http.Error(w, http.StatusText(code), code)
				return
			}
		}
		if g.opts.MaxBodyBytes > 0 {
			if r.ContentLength > int64(g.opts.MaxBodyBytes) {
				// Refused before a byte of the body is read; the
				// connection closes rather than drain it.
				g.rejected.WithLabelValues(reasonBodyTooLarge).Inc()
				w.Header().Set("Connection", "close")
				http.Error(w, "Request body too large.", http.StatusRequestEntityTooLarge)
				return
			}
			// The server's own writer, which MaxBytesReader tells to close
			// the connection after the answer.
			r.Body = http.MaxBytesReader(orig, r.Body, int64(g.opts.MaxBodyBytes))
		}
		if g.opts.WriteTimeout > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), g.opts.WriteTimeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// checkToken returns 0 when r carries the write token, 401 when it carries
// none and 403 when it carries another. The comparison of digests takes
// the same time whatever the token sent.
func (g *Guard) checkToken(r *http.Request) int {
	got := r.Header.Get(TokenHeader)
	if got == "" {
		if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			got = v
		}
	}
	if got == "" {
		return http.StatusUnauthorized
	}
	sum := sha256.Sum256([]byte(got))
	if subtle.ConstantTimeCompare(sum[:], g.tokenSum) != 1 {
		return http.StatusForbidden
	}
	return 0
}

// isWrite reports whether a request with this method may change state.
func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}
