package tracking

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// The kinds of tracked IDs the HTTP API serves; lookup receives one of them.
const (
	// KindTencentPush is Tencent IM push TaskIDs.
	KindTencentPush = "tencent_push"
	// KindJPushMessages is JPush msg_ids.
	KindJPushMessages = "jpush_messages"
	// KindJPushGroupMessages is JPush group_msgids.
	KindJPushGroupMessages = "jpush_group_messages"
)

const (
	// MaxIDsPerRequest is the most IDs one POST may register.
	MaxIDsPerRequest = 1000
	// MaxRequestBytes bounds a POST body.
	MaxRequestBytes = 1 << 20
)

// API serves the tracked-ID endpoints of SPEC §4.
type API struct {
	lookup func(kind, app string) (*Set, bool)
}

// NewAPI returns an API that finds the Set of an app with lookup, called on
// every request because the apps change on a configuration reload.
func NewAPI(lookup func(kind, app string) (*Set, bool)) *API {
	return &API{lookup: lookup}
}

// route is one family of endpoints.
type route struct {
	path     string
	kind     string
	appParam string // the path wildcard naming the app
	listKey  string // the JSON field holding the IDs
	numbers  bool   // whether IDs may be JSON numbers
}

// Register adds the endpoints to mux: for each kind, POST registers IDs and
// GET lists them; the method-qualified patterns make mux answer 405 to any
// other method.
func (a *API) Register(mux *http.ServeMux) {
	for _, rt := range []route{
		{path: "/api/v1/tencent_im/{sdkappid}/tasks", kind: KindTencentPush, appParam: "sdkappid", listKey: "task_ids"},
		// msg_id is a number in some JPush answers and requests
		// (jpush-report-api-v3.txt: /messages/detail, /status/message).
		{path: "/api/v1/jpush/{app_key}/messages", kind: KindJPushMessages, appParam: "app_key", listKey: "msg_ids", numbers: true},
		{path: "/api/v1/jpush_groups/{group_key}/messages", kind: KindJPushGroupMessages, appParam: "group_key", listKey: "group_msg_ids"},
	} {
		mux.HandleFunc("POST "+rt.path, func(w http.ResponseWriter, r *http.Request) { a.post(w, r, rt) })
		mux.HandleFunc("GET "+rt.path, func(w http.ResponseWriter, r *http.Request) { a.get(w, r, rt) })
	}
}

// addResponse is the answer to a successful POST.
type addResponse struct {
	Added   int `json:"added"`
	Tracked int `json:"tracked"`
}

// errorResponse is the answer to a failed request.
type errorResponse struct {
	Error string `json:"error"`
}

// post registers the IDs of the request body.
func (a *API) post(w http.ResponseWriter, r *http.Request, rt route) {
	set, ok := a.set(w, r, rt)
	if !ok {
		return
	}
	ids, err := decodeIDs(http.MaxBytesReader(w, r.Body, MaxRequestBytes), rt)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeJSON(w, http.StatusRequestEntityTooLarge, errorResponse{fmt.Sprintf("request body is larger than %d bytes", MaxRequestBytes)})
		return
	case err != nil:
		writeJSON(w, http.StatusBadRequest, errorResponse{err.Error()})
		return
	}
	added, err := set.Add(ids, OriginAPI)
	switch {
	case errors.Is(err, ErrInvalidID):
		writeJSON(w, http.StatusBadRequest, errorResponse{err.Error()})
		return
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, errorResponse{fmt.Sprintf("IDs are tracked but not persisted: %v", err)})
		return
	}
	writeJSON(w, http.StatusOK, addResponse{Added: added, Tracked: set.Len()})
}

// get lists the tracked IDs.
func (a *API) get(w http.ResponseWriter, r *http.Request, rt route) {
	set, ok := a.set(w, r, rt)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string][]ID{rt.listKey: set.IDs()})
}

// set finds the Set the request is about, answering 404 if there is none.
func (a *API) set(w http.ResponseWriter, r *http.Request, rt route) (*Set, bool) {
	app := r.PathValue(rt.appParam)
	set, ok := a.lookup(rt.kind, app)
	if !ok || set == nil {
		writeJSON(w, http.StatusNotFound, errorResponse{fmt.Sprintf("unknown %s %s", rt.appParam, quoteShort(app))})
		return nil, false
	}
	return set, true
}

// decodeIDs reads a body of the form {"<listKey>":[...]}. The messages of its
// errors are meant for the client.
func decodeIDs(body io.Reader, rt route) ([]string, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, fmt.Errorf("invalid JSON: %v", syntax)
		}
		return nil, fmt.Errorf(`request body must be a JSON object {"%s":[...]}`, rt.listKey)
	}
	var unknown []string
	for k := range fields {
		if k != rt.listKey {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown field %s", quoteShort(slices.Min(unknown)))
	}
	raw, ok := fields[rt.listKey]
	if !ok {
		return nil, fmt.Errorf("missing field %q", rt.listKey)
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, fmt.Errorf("field %q must be a list of IDs", rt.listKey)
	}
	switch {
	case len(elems) == 0:
		return nil, fmt.Errorf("field %q is empty", rt.listKey)
	case len(elems) > MaxIDsPerRequest:
		return nil, fmt.Errorf("field %q has %d IDs, at most %d are allowed per request", rt.listKey, len(elems), MaxIDsPerRequest)
	}
	ids := make([]string, len(elems))
	for i, el := range elems {
		id, err := decodeID(el, rt.numbers)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", rt.listKey, i, err)
		}
		ids[i] = id
	}
	return ids, nil
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
