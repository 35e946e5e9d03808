// Package callbacks receives Tencent Chat's push callbacks: POST
// /callbacks/tencent_im with Push.AllMemberPush (all-user, tag and
// single-user pushes) and Push.OfflinePush (the offline pushes of chat
// messages) events, in batches of 1 to 100 (Tencent Chat "All Users / Tags
// / UserID Push Callback",
// https://www.tencentcloud.com/document/product/1047/67551, and "Other
// Push Callbacks", https://www.tencentcloud.com/document/product/1047/67552).
//
// For every accepted batch the Receiver tracks the TaskIds of
// Push.AllMemberPush events with their TaskTime as sent time, durably
// before it answers, and counts the events in
// tencent_im_push_events_total{sdkappid,command,event_type,platform,stage,code}.
// A batch is accepted whole or not at all: anything refused (an SdkAppid
// that is not configured, a missing or wrong signature, a body that is not
// the documented shape) is answered with a 4xx and Tencent's FAIL answer,
// and nothing of it is counted, tracked or logged. Recipients
// (To_Account), senders (From_Account) and message keys (MsgKey) are never
// read out of the body.
//
// Locks: Receiver.mu guards the map of apps; each app's counters and
// known-TaskId cache have their own mutex. All are leaves: no other
// component is called while one is held (the tracked-ID set is called with
// none held).
package callbacks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

// Path is where the receiver is served.
const Path = "/callbacks/tencent_im"

// DefaultMaxBodyBytes bounds a callback body: 100 events of a few hundred
// bytes each fit many times over.
const DefaultMaxBodyBytes = 1 << 20

// defaultKnownIDs bounds the cache of TaskIds known to be tracked, per
// app; it is emptied when full.
const defaultKnownIDs = 4096

// maxTaskTimeAhead: a TaskTime later than now by more than this is
// refused; a task's events come after it started.
const maxTaskTimeAhead = 24 * time.Hour

// App is what the receiver needs of one configured Tencent Chat app.
type App struct {
	// Token is the app's webhook authentication token; "" when it has
	// none, and then signatures are not checked.
	Token string
	// Tasks tracks the app's push TaskIds; nil when its push statistics
	// are off, and then TaskIds are only counted.
	Tasks Tracker
}

// Tracker is the part of a tracked-ID set (tracking.Set) the receiver
// uses.
type Tracker interface {
	Add(ctx context.Context, ids []string, origin tracking.Origin, sent time.Time) (int, error)
	// Changed returns a channel closed at the set's next change (an ID
	// added, removed, aged out or evicted).
	Changed() <-chan struct{}
}

// Options configure a Receiver.
type Options struct {
	// Apps returns the configured app of an SdkAppid (decimal), or false.
	// It is called once per request and must be fast and safe for
	// concurrent use.
	Apps func(sdkappid string) (App, bool)
	// Clock tells the time; nil is clock.Real{}.
	Clock clock.Clock
	// Logger receives debug lines about refused requests; nil discards.
	Logger log.Logger
	// MaxBodyBytes bounds a body; 0 is DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxSkew is how far from now a signed RequestTime may be; 0 is
	// DefaultMaxSkew.
	MaxSkew time.Duration
	// MaxCodes and MaxSeries bound the label values; 0 is DefaultMaxCodes,
	// DefaultMaxSeries.
	MaxCodes, MaxSeries int
}

// Receiver is the callback endpoint and the collector of its counters. It
// is safe for concurrent use.
type Receiver struct {
	opts     Options
	pool     sync.Pool // of *request
	rejected *prometheus.CounterVec

	mu   sync.RWMutex
	apps map[string]*appState
}

// appState is what the receiver keeps per SdkAppid it has accepted a
// callback for.
type appState struct {
	counters *counters

	knownMu   sync.Mutex
	knownFor  Tracker             // the set known holds IDs of
	knownAsOf <-chan struct{}     // knownFor's change channel when known was filled
	known     map[string]struct{} // TaskIds durably tracked in knownFor
}

// Reasons a request is refused, the values of the reason label.
const (
	reasonMethod     = "method"
	reasonQuery      = "bad_query"
	reasonUnknownApp = "unknown_sdkappid"
	reasonSignature  = "signature"
	reasonTooLarge   = "body_too_large"
	reasonBody       = "bad_body"
	reasonNotSaved   = "not_saved"
)

var eventsDesc = prometheus.NewDesc("tencent_im_push_events_total",
	"Push events received from Tencent's push callbacks (Push.AllMemberPush, Push.OfflinePush), by SdkAppid, command, EventType, PushPlatform, PushStage and ErrCode.",
	[]string{"sdkappid", "command", "event_type", "platform", "stage", "code"}, nil)

// New returns a Receiver. Register it with a registry to export its
// counters.
func New(o Options) *Receiver {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxSkew <= 0 {
		o.MaxSkew = DefaultMaxSkew
	}
	if o.MaxCodes <= 0 {
		o.MaxCodes = DefaultMaxCodes
	}
	if o.MaxSeries <= 0 {
		o.MaxSeries = DefaultMaxSeries
	}
	r := &Receiver{
		opts: o,
		apps: make(map[string]*appState),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imstats_exporter_callback_requests_rejected_total",
			Help: "Push callback requests refused, by reason; nothing of them was counted or tracked.",
		}, []string{"reason"}),
	}
	for _, reason := range []string{reasonMethod, reasonQuery, reasonUnknownApp, reasonSignature, reasonTooLarge, reasonBody, reasonNotSaved} {
		r.rejected.WithLabelValues(reason)
	}
	r.pool.New = func() any { return new(request) }
	return r
}

// request is the per-request scratch, pooled.
type request struct {
	body  []byte
	batch batch
	agg   []aggregate
	ids   []taskRef
}

// aggregate is the events of one label set in a batch.
type aggregate struct {
	key seriesKey
	n   uint64
}

// taskRef is a distinct TaskId of a batch.
type taskRef struct {
	id   []byte
	time int64
}

// failure is a refused request: its status, the reason label and a
// message for the FAIL answer that names no user.
type failure struct {
	status int
	reason string
	msg    string
}

// okAnswer is the answer Tencent expects (Tencent Chat "All Users / Tags /
// UserID Push Callback", 回调应答示例).
var okAnswer = []byte(`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}` + "\n")

// ServeHTTP receives one callback.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rq := r.pool.Get().(*request)
	defer r.pool.Put(rq)
	if f := r.receive(req, rq); f != nil {
		r.rejected.WithLabelValues(f.reason).Inc()
		level.Debug(r.opts.Logger).Log("msg", "push callback refused", "reason", f.reason, "status", f.status, "err", f.msg)
		r.fail(w, f)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(okAnswer)
}

// fail answers f: its status and Tencent's FAIL answer with the status as
// ErrorCode.
func (r *Receiver) fail(w http.ResponseWriter, f *failure) {
	switch f.status {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", http.MethodPost)
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	_ = json.NewEncoder(w).Encode(struct {
		ActionStatus string
		ErrorInfo    string
		ErrorCode    int
	}{"FAIL", f.msg, f.status})
}

func refuse(status int, reason, format string, args ...any) *failure {
	return &failure{status: status, reason: reason, msg: fmt.Sprintf(format, args...)}
}

// receive checks, tracks and counts one callback; nil means accepted.
func (r *Receiver) receive(req *http.Request, rq *request) *failure {
	if req.Method != http.MethodPost {
		return refuse(http.StatusMethodNotAllowed, reasonMethod, "push callbacks are POST requests")
	}
	q := req.URL.Query()
	sdkappid := q.Get("SdkAppid")
	if !isSDKAppID(sdkappid) {
		return refuse(http.StatusBadRequest, reasonQuery, "SdkAppid must be a decimal SDKAppID")
	}
	cmd, ok := parseCommand(q.Get("CallbackCommand"))
	if !ok {
		return refuse(http.StatusBadRequest, reasonQuery, "CallbackCommand must be %s or %s", commandNames[AllMemberPush], commandNames[OfflinePush])
	}
	if ct := q.Get("contenttype"); ct != "" && !strings.EqualFold(ct, "json") {
		return refuse(http.StatusBadRequest, reasonQuery, "contenttype must be json")
	}
	app, ok := r.opts.Apps(sdkappid)
	if !ok {
		return refuse(http.StatusForbidden, reasonUnknownApp, "SdkAppid %s is not a configured tencent_im app", sdkappid)
	}
	if app.Token != "" {
		switch err := verifySignature(app.Token, q.Get("Sign"), q.Get("RequestTime"), r.opts.Clock.Now(), r.opts.MaxSkew); {
		case errors.Is(err, errNoSignature):
			return refuse(http.StatusUnauthorized, reasonSignature, "%v", err)
		case err != nil:
			return refuse(http.StatusForbidden, reasonSignature, "%v", err)
		}
	}
	if f := r.readBody(req, rq); f != nil {
		return f
	}
	if err := decode(rq.body, cmd, &rq.batch); err != nil {
		return refuse(http.StatusBadRequest, reasonBody, "%v", err)
	}
	st := r.app(sdkappid)
	if cmd == AllMemberPush {
		if f := r.track(req.Context(), st, app.Tasks, rq); f != nil {
			return f
		}
	}
	r.count(st, cmd, rq)
	return nil
}

// isSDKAppID reports whether s is a decimal SDKAppID (a uint64).
func isSDKAppID(s string) bool {
	if s == "" || len(s) > 20 || s[0] == '0' {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// readBody reads the body into rq.body, refusing one over MaxBodyBytes
// (or over the HTTP layer's limit, which fails the read).
func (r *Receiver) readBody(req *http.Request, rq *request) *failure {
	limit := r.opts.MaxBodyBytes
	if req.ContentLength > limit {
		return refuse(http.StatusRequestEntityTooLarge, reasonTooLarge, "body larger than %d bytes", limit)
	}
	buf := bytes.NewBuffer(rq.body[:0])
	if req.ContentLength > 0 {
		buf.Grow(int(req.ContentLength))
	}
	_, err := buf.ReadFrom(io.LimitReader(req.Body, limit+1))
	rq.body = buf.Bytes()
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge) || int64(len(rq.body)) > limit:
		return refuse(http.StatusRequestEntityTooLarge, reasonTooLarge, "body larger than %d bytes", min(limit, tooLargeLimit(tooLarge)))
	case err != nil:
		return refuse(http.StatusBadRequest, reasonBody, "reading the body: %v", err)
	}
	return nil
}

func tooLargeLimit(e *http.MaxBytesError) int64 {
	if e == nil {
		return 1<<63 - 1
	}
	return e.Limit
}

// app returns the state of sdkappid, creating it.
func (r *Receiver) app(sdkappid string) *appState {
	r.mu.RLock()
	st, ok := r.apps[sdkappid]
	r.mu.RUnlock()
	if ok {
		return st
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, ok := r.apps[sdkappid]; ok {
		return st
	}
	st = &appState{counters: newCounters(r.opts.MaxCodes, r.opts.MaxSeries)}
	r.apps[sdkappid] = st
	return st
}

// track makes the batch's TaskIds tracked, durably, with their TaskTime
// as sent time. TaskIds the app's set already holds durably (as far as
// the cache knows) cost no call at all; the others one Add each, which
// writes only for an ID new to the set.
func (r *Receiver) track(ctx context.Context, st *appState, tasks Tracker, rq *request) *failure {
	rq.ids = rq.ids[:0]
	now := r.opts.Clock.Now()
	for i := range rq.batch.events {
		e := &rq.batch.events[i]
		if e.taskTime < 1 || time.Unix(e.taskTime, 0).Sub(now) > maxTaskTimeAhead {
			return refuse(http.StatusBadRequest, reasonBody, "Events[%d]: TaskTime %d is out of range", i, e.taskTime)
		}
		dup := false
		for _, t := range rq.ids {
			if bytes.Equal(t.id, e.taskID) {
				dup = true
				break
			}
		}
		if !dup {
			rq.ids = append(rq.ids, taskRef{id: e.taskID, time: e.taskTime})
		}
	}
	validate := catalog.ValidatorFor(catalog.KindTencentPush)
	n := 0
	for _, t := range rq.ids {
		if tasks != nil && st.isKnown(tasks, t.id) {
			continue
		}
		if err := validate(string(t.id)); err != nil {
			return refuse(http.StatusBadRequest, reasonBody, "TaskId %q: %v", shortID(t.id), err)
		}
		rq.ids[n] = t
		n++
	}
	if tasks == nil {
		return nil
	}
	for _, t := range rq.ids[:n] {
		id := string(t.id)
		if _, err := tasks.Add(ctx, []string{id}, tracking.OriginCallback, time.Unix(t.time, 0)); err != nil {
			level.Debug(r.opts.Logger).Log("msg", "push callback refused: its TaskId could not be tracked durably; Tencent retries it", "task_id", id, "err", err)
			return refuse(http.StatusServiceUnavailable, reasonNotSaved, "the TaskId could not be saved; retry")
		}
		st.markKnown(tasks, tasks.Changed(), id)
	}
	return nil
}

// shortID shortens an ID for a message.
func shortID(id []byte) string {
	if len(id) > 64 {
		return string(id[:64]) + "…"
	}
	return string(id)
}

// isKnown reports whether id is known to be durably tracked in tasks: the
// cache holds it and the set has not changed since (an ID removed through
// the API, aged out or evicted must be tracked again when a callback
// names it).
func (st *appState) isKnown(tasks Tracker, id []byte) bool {
	st.knownMu.Lock()
	defer st.knownMu.Unlock()
	if st.knownFor != tasks || closed(st.knownAsOf) {
		return false
	}
	_, ok := st.known[string(id)]
	return ok
}

// markKnown records that id is durably tracked in tasks, whose change
// channel, read after id was added, is asOf.
func (st *appState) markKnown(tasks Tracker, asOf <-chan struct{}, id string) {
	st.knownMu.Lock()
	defer st.knownMu.Unlock()
	if st.knownFor != tasks || st.knownAsOf != asOf || len(st.known) >= defaultKnownIDs {
		st.knownFor, st.knownAsOf, st.known = tasks, asOf, make(map[string]struct{})
	}
	st.known[id] = struct{}{}
}

// closed reports whether ch is closed (nil never is).
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// count adds the batch's events to the app's counters, aggregated by
// label set first so that a batch costs one counter update per label set.
func (r *Receiver) count(st *appState, cmd Command, rq *request) {
	rq.agg = rq.agg[:0]
next:
	for i := range rq.batch.events {
		k := keyOf(cmd, &rq.batch.events[i])
		for j := range rq.agg {
			if rq.agg[j].key == k {
				rq.agg[j].n++
				continue next
			}
		}
		rq.agg = append(rq.agg, aggregate{key: k, n: 1})
	}
	for _, a := range rq.agg {
		st.counters.add(a.key, a.n)
	}
}

// Describe implements prometheus.Collector.
func (r *Receiver) Describe(ch chan<- *prometheus.Desc) {
	ch <- eventsDesc
	r.rejected.Describe(ch)
}

// Collect implements prometheus.Collector: the counters of the apps
// configured now.
func (r *Receiver) Collect(ch chan<- prometheus.Metric) {
	r.mu.RLock()
	apps := make(map[string]*appState, len(r.apps))
	for id, st := range r.apps {
		apps[id] = st
	}
	r.mu.RUnlock()
	for id, st := range apps {
		if _, ok := r.opts.Apps(id); !ok {
			continue
		}
		for _, s := range st.counters.snapshot() {
			ch <- prometheus.MustNewConstMetric(eventsDesc, prometheus.CounterValue, float64(s.value),
				id, s.labels[0], s.labels[1], s.labels[2], s.labels[3], s.labels[4])
		}
	}
	r.rejected.Collect(ch)
}

// Counted returns how many events have been counted for sdkappid, for
// tests and benchmarks.
func (r *Receiver) Counted(sdkappid string) uint64 {
	r.mu.RLock()
	st, ok := r.apps[sdkappid]
	r.mu.RUnlock()
	if !ok {
		return 0
	}
	return st.counters.total()
}
