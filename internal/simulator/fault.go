package simulator

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imstats/imstats_exporter/internal/clock"
)

// switchboard holds what both simulated vendors keep apart from their data:
// the faults switched on per API and the log of the calls received, the
// newest maxCalls. C is the vendor's call record.
type switchboard[C any] struct {
	mu     sync.Mutex
	faults map[string]*Fault
	calls  []C
}

// setFault switches f on for api ("" for every API), or off when f is nil.
// It keeps a copy of f.
func (b *switchboard[C]) setFault(api string, f *Fault) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f == nil {
		delete(b.faults, api)
		return
	}
	if b.faults == nil {
		b.faults = map[string]*Fault{}
	}
	c := *f
	b.faults[api] = &c
}

// fault returns the fault of api, else the one for every API, else nil.
func (b *switchboard[C]) fault(api string) *Fault {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f, ok := b.faults[api]; ok {
		return f
	}
	return b.faults[""]
}

// record logs a call, dropping the oldest tenth when the log is full.
func (b *switchboard[C]) record(c C) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.calls) == maxCalls {
		b.calls = slices.Delete(b.calls, 0, maxCalls/10)
	}
	b.calls = append(b.calls, c)
}

// log returns a copy of the call log, oldest first.
func (b *switchboard[C]) log() []C {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls)
}

// Fault makes a simulated API misbehave. The fields combine: Delay is waited
// out first; then Reset, else HTTPStatus/Body, else ErrorCode replaces the
// API's answer (in that order); Oversize and Truncate then alter whatever body
// is sent.
type Fault struct {
	// HTTPStatus, when not zero, answers with this status and Body instead of
	// the API's answer (a proxy's 502, a 503 during maintenance).
	HTTPStatus int
	// Body is the raw body of that answer (an HTML error page, garbage JSON).
	// A Body with HTTPStatus zero is sent with status 200.
	Body []byte
	// ErrorCode, when not zero, answers with the vendor's error body for this
	// code (Tencent: HTTP 200, ActionStatus FAIL) instead of the API's answer.
	ErrorCode int
	// Delay holds the answer back this long on the simulator's clock. A client
	// that gives up first gets no answer.
	Delay time.Duration
	// Truncate sends the headers (with the full Content-Length) and the first
	// half of the body, then closes the connection.
	Truncate bool
	// Reset closes the connection (TCP RST) without answering.
	Reset bool
	// Oversize pads a JSON object body to this many bytes with an extra string
	// member, so that it stays valid JSON that only a size limit rejects.
	Oversize int64
}

// reply is a complete answer of a simulated API.
type reply struct {
	status int
	header http.Header // added to the response; may be nil
	body   []byte
}

// jsonReply answers v as JSON with status.
func jsonReply(status int, v any) reply {
	body, err := json.Marshal(v)
	if err != nil {
		// The simulator only encodes its own structs, maps of strings and
		// numbers: an error here is a bug in the simulator.
		panic("simulator: encoding an answer: " + err.Error())
	}
	return reply{status: status, header: http.Header{"Content-Type": {"application/json"}}, body: body}
}

// exchange is what serveWithFault needs of a simulated API for one request.
type exchange struct {
	answer      func() reply         // the API's own reply
	vendorError func(code int) reply // the vendor's error reply for Fault.ErrorCode
	// record logs the call. It runs once the answer is decided and before
	// any of it is sent, so that a client never sees an answer to a call
	// that the log does not list yet.
	record func()
}

// serveWithFault answers r under f (nil: no fault). x.answer and
// x.vendorError are only called when the fault does not replace them.
func serveWithFault(w http.ResponseWriter, r *http.Request, c clock.Clock, f *Fault, x exchange) {
	if f == nil {
		rep := x.answer()
		x.record()
		writeReply(w, rep, 0, false)
		return
	}
	if f.Delay > 0 {
		// net/http notices a client that gave up only once the request body
		// has been read: read it now, and hand the handler a copy.
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
		r.Body = io.NopCloser(bytes.NewReader(body))
		select {
		case <-c.After(f.Delay):
		case <-r.Context().Done():
			x.record()
			return
		}
	}
	var rep reply
	switch {
	case f.Reset:
		x.record()
		abort(w, true)
		return
	case f.HTTPStatus != 0 || f.Body != nil:
		rep = reply{
			status: cmp.Or(f.HTTPStatus, http.StatusOK),
			header: http.Header{"Content-Type": {http.DetectContentType(f.Body)}},
			body:   f.Body,
		}
	case f.ErrorCode != 0:
		rep = x.vendorError(f.ErrorCode)
	default:
		rep = x.answer()
	}
	x.record()
	writeReply(w, rep, f.Oversize, f.Truncate)
}

// writeReply sends rep, its body padded to oversize bytes (see Fault.Oversize)
// and, when truncate is set, cut in half and followed by a closed connection.
func writeReply(w http.ResponseWriter, rep reply, oversize int64, truncate bool) {
	body, size := padded(rep.body, oversize)
	h := w.Header()
	for k, v := range rep.header {
		h[k] = v
	}
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(rep.status)
	n := size
	if truncate {
		n = size / 2
	}
	// A write error means the client has gone: there is nobody left to tell.
	_, _ = io.CopyN(w, body, n)
	if truncate {
		abort(w, false)
	}
}

// padded returns body padded to size bytes by an extra "Padding" member
// opening the JSON object, and the padded length. A body that is not a JSON
// object, or is already that large, is returned as it is.
func padded(body []byte, size int64) (io.Reader, int64) {
	const open = `{"Padding":"`
	if int64(len(body)) >= size || len(body) < 2 || body[0] != '{' {
		return bytes.NewReader(body), int64(len(body))
	}
	rest := body[1:]
	sep := `",`
	if string(bytes.TrimSpace(rest)) == "}" {
		sep = `"`
	}
	fill := size - int64(len(open)+len(sep)+len(rest))
	if fill < 0 {
		return bytes.NewReader(body), int64(len(body))
	}
	return io.MultiReader(strings.NewReader(open), io.LimitReader(filler{}, fill), strings.NewReader(sep), bytes.NewReader(rest)), size
}

// filler is an endless stream of 'x'.
type filler struct{}

func (filler) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// abort closes the client's connection: with a TCP RST and nothing sent when
// rst is set (a crashed peer), else with a FIN after what was written so far
// (a body cut short). A connection that cannot be hijacked (HTTP/2) is aborted
// with the panic net/http reserves for that purpose.
func abort(w http.ResponseWriter, rst bool) {
	rc := http.NewResponseController(w)
	if !rst {
		_ = rc.Flush() // an error leaves nothing to do: the connection closes next
	}
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok && rst {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
