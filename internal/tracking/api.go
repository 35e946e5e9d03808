package tracking

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imstats/imstats_exporter/internal/catalog"
)

const (
	// MaxIDsPerRequest is the most IDs one POST may register.
	MaxIDsPerRequest = 1000
	// MaxRequestBytes bounds a POST body; it is enforced while reading.
	MaxRequestBytes = 1 << 20
)

// writesDisabledMessage is the error the API answers to a write (POST,
// DELETE) when APIOptions.AllowWrites is false.
const writesDisabledMessage = "the tracking API's writes are not enabled (--web.enable-tracking-api)"

// notSavedMessage is the API's answer while the state file cannot be saved.
const notSavedMessage = "the change is tracked but not saved to the state file (see the exporter's log); retry until this succeeds"

// APIOptions configure an API.
type APIOptions struct {
	// AllowWrites enables POST and DELETE; without it they answer 403 and
	// only GET works.
	AllowWrites bool
}

// API serves the tracked-ID endpoints:
//
//	GET    /api/v1/tencent_im/{sdkappid}/tasks            list
//	POST   /api/v1/tencent_im/{sdkappid}/tasks            {"task_ids":[…],"sent_at":"<RFC 3339>"}
//	DELETE /api/v1/tencent_im/{sdkappid}/tasks/{id}       untrack one
//
// and the same for /api/v1/jpush/{app_key}/messages ("msg_ids") and
// /api/v1/jpush_groups/{group_key}/messages ("group_msg_ids").
type API struct {
	lookup func(kind, app string) (*Set, bool)
	opts   APIOptions
}

// NewAPI returns an API that finds the Set of an app with lookup, called on
// every request because the apps change on a configuration reload.
func NewAPI(lookup func(kind, app string) (*Set, bool), o APIOptions) *API {
	return &API{lookup: lookup, opts: o}
}

// The Allow headers of the collection and of one ID.
const (
	allowList = "GET, HEAD, POST"
	allowItem = "DELETE"
)

// Register adds the endpoints to mux; any other method on their paths gets
// 405 with an Allow header.
func (a *API) Register(mux *http.ServeMux) {
	for _, rt := range catalog.IDKinds {
		mux.HandleFunc("GET "+rt.Route, func(w http.ResponseWriter, r *http.Request) { a.get(w, r, rt) })
		mux.HandleFunc("POST "+rt.Route, func(w http.ResponseWriter, r *http.Request) { a.post(w, r, rt) })
		mux.HandleFunc(rt.Route, methodNotAllowed(allowList))
		item := rt.Route + "/{id}"
		mux.HandleFunc("DELETE "+item, func(w http.ResponseWriter, r *http.Request) { a.delete(w, r, rt) })
		mux.HandleFunc(item, methodNotAllowed(allowItem))
	}
}

// methodNotAllowed answers 405 naming the allowed methods.
func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeJSON(w, http.StatusMethodNotAllowed, errorResponse{fmt.Sprintf("method %s not allowed; allowed: %s", quoteShort(r.Method), allow)})
	}
}

// addResponse is the answer to a successful POST.
type addResponse struct {
	Added   int `json:"added"`
	Tracked int `json:"tracked"`
}

// removeResponse is the answer to a successful DELETE.
type removeResponse struct {
	Removed int `json:"removed"`
	Tracked int `json:"tracked"`
}

// errorResponse is the answer to a failed request.
type errorResponse struct {
	Error string `json:"error"`
}

// post registers the IDs of the request body.
func (a *API) post(w http.ResponseWriter, r *http.Request, rt catalog.IDKind) {
	if !a.writable(w) {
		return
	}
	set, ok := a.set(w, r, rt)
	if !ok {
		return
	}
	req, err := decodeRequest(http.MaxBytesReader(w, r.Body, MaxRequestBytes), rt)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeJSON(w, http.StatusRequestEntityTooLarge, errorResponse{fmt.Sprintf("request body is larger than %d bytes", MaxRequestBytes)})
		return
	case err != nil:
		writeJSON(w, http.StatusBadRequest, errorResponse{err.Error()})
		return
	}
	added, err := set.Add(r.Context(), req.ids, OriginAPI, req.sent)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, addResponse{Added: added, Tracked: set.Len()})
}

// delete untracks the ID of the path.
func (a *API) delete(w http.ResponseWriter, r *http.Request, rt catalog.IDKind) {
	if !a.writable(w) {
		return
	}
	set, ok := a.set(w, r, rt)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if err := set.validate(id); err != nil {
		writeJSON(w, http.StatusBadRequest, errorResponse{fmt.Sprintf("%v %s: %v", ErrInvalidID, quoteShort(id), err)})
		return
	}
	// Remove first, even for an ID memory no longer tracks: after a failed
	// save memory has dropped it while the state file still holds it, and a
	// retry must answer 503 (as Remove does until a save succeeds), not 404.
	tracked := set.Tracked(id)
	removed, err := set.Remove(r.Context(), []string{id}, OriginAPI)
	if err != nil {
		writeError(w, err)
		return
	}
	if !tracked && removed == 0 {
		writeJSON(w, http.StatusNotFound, errorResponse{fmt.Sprintf("ID %s is not tracked", quoteShort(id))})
		return
	}
	writeJSON(w, http.StatusOK, removeResponse{Removed: removed, Tracked: set.Len()})
}

// writeError answers the error of Add or Remove.
func writeError(w http.ResponseWriter, err error) {
	var limited *RateLimitError
	switch {
	case errors.Is(err, ErrInvalidID):
		writeJSON(w, http.StatusBadRequest, errorResponse{err.Error()})
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(limited.RetryAfter.Seconds())))))
		writeJSON(w, http.StatusTooManyRequests, errorResponse{err.Error()})
	case errors.Is(err, ErrStillListed):
		writeJSON(w, http.StatusConflict, errorResponse{err.Error()})
	case errors.Is(err, ErrNotSaved):
		// The cause names paths on the server; the exporter's log has it.
		writeJSON(w, http.StatusServiceUnavailable, errorResponse{notSavedMessage})
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeJSON(w, http.StatusServiceUnavailable, errorResponse{"the change is not known to be saved yet; retry"})
	default:
		writeJSON(w, http.StatusInternalServerError, errorResponse{err.Error()})
	}
}

// get lists the tracked IDs.
func (a *API) get(w http.ResponseWriter, r *http.Request, rt catalog.IDKind) {
	set, ok := a.set(w, r, rt)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string][]ID{rt.ListKey: set.IDs()})
}

// writable answers 403 unless writes are enabled.
func (a *API) writable(w http.ResponseWriter) bool {
	if !a.opts.AllowWrites {
		writeJSON(w, http.StatusForbidden, errorResponse{writesDisabledMessage})
		return false
	}
	return true
}

// set finds the Set the request is about, answering 404 if there is none.
func (a *API) set(w http.ResponseWriter, r *http.Request, rt catalog.IDKind) (*Set, bool) {
	app := r.PathValue(rt.AppParam)
	set, ok := a.lookup(rt.Name, app)
	if !ok || set == nil {
		writeJSON(w, http.StatusNotFound, errorResponse{fmt.Sprintf("unknown %s %s", rt.AppParam, quoteShort(app))})
		return nil, false
	}
	return set, true
}

// request is a decoded POST body.
type request struct {
	ids  []string
	sent time.Time
}

// sentAtKey is the optional field of a POST body saying when the push or
// message was sent.
const sentAtKey = "sent_at"

// decodeRequest reads a body of the form {"<listKey>":[...],"sent_at":"…"}.
// The messages of its errors are meant for the client.
func decodeRequest(body io.Reader, rt catalog.IDKind) (request, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return request{}, err
	}
	if err := checkNoDuplicateKeys(data); err != nil {
		return request{}, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return request{}, fmt.Errorf("invalid JSON: %v", syntax)
		}
		return request{}, fmt.Errorf(`request body must be a JSON object {"%s":[...]}`, rt.ListKey)
	}
	var unknown []string
	for k := range fields {
		if k != rt.ListKey && k != sentAtKey {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		return request{}, fmt.Errorf("unknown field %s", quoteShort(slices.Min(unknown)))
	}
	var req request
	if raw, ok := fields[sentAtKey]; ok {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return request{}, fmt.Errorf("field %q must be an RFC 3339 time string", sentAtKey)
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || t.Year() < 1 || t.Year() > 9999 {
			return request{}, fmt.Errorf("field %q: %s is not an RFC 3339 time", sentAtKey, quoteShort(s))
		}
		req.sent = t.UTC()
	}
	raw, ok := fields[rt.ListKey]
	if !ok {
		return request{}, fmt.Errorf("missing field %q", rt.ListKey)
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return request{}, fmt.Errorf("field %q must be a list of IDs", rt.ListKey)
	}
	switch {
	case len(elems) == 0:
		return request{}, fmt.Errorf("field %q is empty", rt.ListKey)
	case len(elems) > MaxIDsPerRequest:
		return request{}, fmt.Errorf("field %q has %d IDs, at most %d are allowed per request", rt.ListKey, len(elems), MaxIDsPerRequest)
	}
	req.ids = make([]string, len(elems))
	for i, el := range elems {
		id, err := decodeID(el, rt.Numbers)
		if err != nil {
			return request{}, fmt.Errorf("%s[%d]: %w", rt.ListKey, i, err)
		}
		req.ids[i] = id
	}
	return req, nil
}

// checkNoDuplicateKeys refuses a JSON document in which an object, at any
// depth, has the same key twice: encoding/json would silently keep the last
// one. Syntax errors are left to the decoder that follows.
func checkNoDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// keys holds, for each open container, the keys seen (nil for an array).
	var keys []map[string]bool
	expectKey := func() bool { return len(keys) > 0 && keys[len(keys)-1] != nil }
	for {
		// In an object, Token alternates keys and values; More tells whether
		// a key follows.
		if expectKey() && dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil
			}
			k, _ := tok.(string)
			if keys[len(keys)-1][k] {
				return fmt.Errorf("duplicate key %s", quoteShort(k))
			}
			keys[len(keys)-1][k] = true
		}
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		switch tok {
		case json.Delim('{'):
			keys = append(keys, map[string]bool{})
		case json.Delim('['):
			keys = append(keys, nil)
		case json.Delim('}'), json.Delim(']'):
			keys = keys[:len(keys)-1]
		}
		if len(keys) == 0 {
			return nil
		}
	}
}

// decodeID decodes one element of an ID list: a string, or, if numbers is
// set, an unsigned decimal integer kept as its digits (decoding it as a
// float64 would lose the digits of IDs above 2^53).
func decodeID(el json.RawMessage, numbers bool) (string, error) {
	if len(el) > 0 && el[0] == '"' {
		var s string
		if err := json.Unmarshal(el, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	if !numbers {
		return "", errors.New("want a string")
	}
	if len(el) == 0 || (el[0] != '-' && (el[0] < '0' || el[0] > '9')) {
		return "", errors.New("want a string or an integer")
	}
	if strings.Trim(string(el), "0123456789") != "" {
		return "", fmt.Errorf("%s is not an unsigned decimal integer", shorten(string(el)))
	}
	return string(el), nil
}

// writeJSON answers with status and v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// The client may be gone; there is nobody left to tell about it.
	_ = json.NewEncoder(w).Encode(v)
}
