// Package webguard bounds and guards the exporter's HTTP server: read,
// write and idle timeouts, a request body limit enforced while reading, a
// cap on concurrent requests (one for scrapes, one for push callbacks, one
// for everything else), the lifecycle switch for POST /-/reload, and a
// token that write requests need on top of the web configuration's
// authentication, so that the credential Prometheus scrapes with cannot
// change anything. Push callbacks come from the vendor, which cannot send
// the write token: they are checked by their receiver instead.
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
	MaxRequests       int              // concurrent requests other than scrapes; 0: no cap
	MaxScrapes        int              // concurrent requests to TelemetryPath; 0: no cap
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
		MaxRequests:       DefaultMaxRequests,
		MaxScrapes:        DefaultMaxScrapes,
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
	app.Flag("web.max-requests", "Maximum concurrent requests other than scrapes; more get 503 (0: no limit).").Default(fmt.Sprint(d.MaxRequests)).IntVar(&o.MaxRequests)
	app.Flag("web.max-scrapes", "Maximum concurrent scrapes of the telemetry path; more get 503 (0: no limit).").Default(fmt.Sprint(d.MaxScrapes)).IntVar(&o.MaxScrapes)
	app.Flag("web.enable-callbacks", "Enable the receiver of Tencent's push callbacks (POST /callbacks/tencent_im); it needs no write token and checks each app's callback_token instead.").BoolVar(&o.EnableCallbacks)
	app.Flag("web.callbacks-listen-address", "Serve the push callback receiver only on this address (and /metrics and the rest only on --web.listen-address), so that it can face the vendor alone.").PlaceHolder(":9788").StringVar(&o.CallbacksListenAddress)
	app.Flag("web.callbacks-config.file", "Web configuration file (TLS) of --web.callbacks-listen-address, in exporter-toolkit's format.").PlaceHolder("FILE").StringVar(&o.CallbacksConfigFile)
	app.Flag("web.max-callbacks", "Maximum concurrent push callback requests; more get 503, which Tencent retries (0: no limit).").Default(fmt.Sprint(d.MaxCallbacks)).IntVar(&o.MaxCallbacks)
	return o
}

// Configure sets the server's timeouts and header size limit from o.
func Configure(s *http.Server, o Options) {
	s.ReadHeaderTimeout = o.ReadHeaderTimeout
	s.ReadTimeout = o.ReadTimeout
	s.WriteTimeout = o.WriteTimeout
	s.IdleTimeout = o.IdleTimeout
	s.MaxHeaderBytes = maxHeaderBytes
}

// Reasons a request is refused, the values of the reason label.
const (
	reasonConcurrency  = "concurrency_limit"
	reasonBodyTooLarge = "body_too_large"
	reasonLifecycle    = "lifecycle_disabled"
	reasonToken        = "write_token"
)

// Guard is the HTTP middleware for Options.
type Guard struct {
	opts      Options
	tokenSum  []byte // SHA-256 of the write token; nil when there is none
	scrapes   chan struct{}
	callbacks chan struct{}
	others    chan struct{}
	rejected  *prometheus.CounterVec
}

// New reads the write token, if any, and registers
// imstats_exporter_http_requests_rejected_total with reg (nil: not
// exposed). A token file that cannot be read or is empty is an error.
func New(o Options, reg prometheus.Registerer) (*Guard, error) {
	g := &Guard{
		opts: o,
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imstats_exporter_http_requests_rejected_total",
			Help: "HTTP requests refused by the exporter's limits and switches, by reason.",
		}, []string{"reason"}),
	}
	for _, r := range []string{reasonConcurrency, reasonBodyTooLarge, reasonLifecycle, reasonToken} {
		g.rejected.WithLabelValues(r)
	}
	if reg != nil {
		if err := reg.Register(g.rejected); err != nil {
			return nil, err
		}
	}
	if o.MaxScrapes > 0 {
		g.scrapes = make(chan struct{}, o.MaxScrapes)
	}
	if o.MaxRequests > 0 {
		g.others = make(chan struct{}, o.MaxRequests)
	}
	if o.MaxCallbacks > 0 {
		g.callbacks = make(chan struct{}, o.MaxCallbacks)
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

// Handler wraps next with the concurrency caps, the lifecycle switch, the
// write token check and the body limit, and gives each request a deadline
// of WriteTimeout so that work for a client the server has given up on
// stops. Push callbacks, when enabled, have a cap of their own and need no
// write token.
func (g *Guard) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		callback := g.opts.EnableCallbacks && r.URL.Path == g.opts.CallbacksPath
		sem := g.others
		switch {
		case r.URL.Path == g.opts.TelemetryPath:
			sem = g.scrapes
		case callback:
			sem = g.callbacks
		}
		if sem != nil {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			default:
				g.rejected.WithLabelValues(reasonConcurrency).Inc()
				w.Header().Set("Retry-After", "1")
				http.Error(w, "Too many concurrent requests.", http.StatusServiceUnavailable)
				return
			}
		}
		if r.URL.Path == ReloadPath && !g.opts.EnableLifecycle {
			g.rejected.WithLabelValues(reasonLifecycle).Inc()
			http.Error(w, "Lifecycle API is not enabled.", http.StatusForbidden)
			return
		}
		if isWrite(r.Method) && g.tokenSum != nil && !callback {
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
			r.Body = http.MaxBytesReader(w, r.Body, int64(g.opts.MaxBodyBytes))
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
