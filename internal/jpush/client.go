// Package jpush is a client for the JPush (Jiguang) Report API v3: HTTP Basic
// authentication with an app's (or a group's) credentials, the per-AppKey
// rate-limit headers, the {"error":{…}} answers mapped to apierr classes, and
// lenient decoders for the statistics the exporter reads.
//
// The vendor documentation is JPush's "REST API v3 Report" (统计 API) page.
// Its samples are not valid JSON, the live API adds fields over time and
// reports missing data as null, so the decoders are strict only about the overall
// shape of an answer (an array of objects, an object of items) and lenient
// about every value in it: a count that is null, absent or not a number is
// nil, never 0.
package jpush

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/ratelimit"
)

// Vendor is the apierr.Error Vendor of every error this package returns.
const Vendor = "jpush"

// DefaultBaseURL is the Report API root, the 调用地址 of JPush's "REST API v3
// Report" page.
const DefaultBaseURL = "https://report.jpush.cn/v3"

// DefaultMaxResponseBytes is the largest answer body read when
// Options.MaxResponseBytes is 0.
const DefaultMaxResponseBytes = 16 << 20

// The API names, as used in metrics and in Options.Observe; each is also the
// path after the API root (Options.BaseURL).
const (
	APIReceived            = "received"
	APIReceivedDetail      = "received/detail"
	APIStatusMessage       = "status/message"
	APIMessagesDetail      = "messages/detail"
	APIMessages            = "messages"
	APIUsers               = "users"
	APIGroupMessagesDetail = "group/messages/detail"
	APIGroupUsers          = "group/users"
)

// Per-call limits from JPush's "REST API v3 Report" page. The client refuses a call
// beyond them without sending it.
const (
	// MaxMsgIDsPerCall is the msg_ids limit of received, received/detail and
	// messages/detail (最多支持 100 个 msg_id).
	MaxMsgIDsPerCall = 100
	// MaxGroupMsgIDsPerCall is the group_msgids limit of group/messages/detail
	// (最多支持 10 个 group_msgids).
	MaxGroupMsgIDsPerCall = 10
	// MaxRegistrationIDsPerCall is the registration_ids limit of
	// status/message (一次调用最多支持 1000 个).
	MaxRegistrationIDsPerCall = 1000
	// MaxUsersDays is the longest users window for an app (60 天以内).
	MaxUsersDays = 60
	// MaxGroupUsersDays is the longest group/users window (30 天以内).
	MaxGroupUsersDays = 30
)

// codeRefused is the apierr.Error Code of a call the client refused to send
// because the documentation forbids it (too many IDs, too long a window).
const codeRefused = "refused"

// maxReset caps X-Rate-Limit-Reset: the quota is per minute, so a larger value
// is bogus and must not block the bucket for longer than this.
const maxReset = time.Hour

// maxMessageLen bounds the vendor error text kept in an apierr.Error.
const maxMessageLen = 200

// Options configure a Client.
type Options struct {
	// Username is the app_key, or the group prefix ("group-") followed by
	// the group_key for a group app.
	Username string
	// Password is the master_secret, or the group_secret for a group app.
	Password string
	// BaseURL is the Report API root the API name is appended to;
	// DefaultBaseURL when empty. A URL without a path is a host and gets
	// /v3, the root of report.jpush.cn (https://report.jpush.cn →
	// /v3/received/detail); a URL with a path is the root as it is, so a
	// zone or proxy serving the API under another path works
	// (https://host/v3/report → /v3/report/received/detail).
	BaseURL string
	// HTTPClient sends the requests; a client with a 30 s timeout when nil.
	HTTPClient *http.Client
	// Clock times requests and rate-limit waits; clock.Real when nil.
	Clock clock.Clock
	// MaxResponseBytes bounds an answer body; DefaultMaxResponseBytes when 0.
	MaxResponseBytes int64
	// Bucket is the credential's token bucket: JPush limits calls per AppKey
	// per minute across the whole Report API, so one bucket serves every
	// method. Every request waits for a token; nil means no limit.
	Bucket *ratelimit.Bucket
	// Observe, when set, is called once per HTTP request with the API name,
	// "0" on success or else the JPush error code, the HTTP status,
	// apierr.CodeNetwork or apierr.CodeInvalidResponse, and the duration.
	Observe func(api, code string, d time.Duration)
}

// Client calls the JPush Report API v3 with one credential. It is safe for
// concurrent use.
type Client struct {
	username, password string
	secretForms        []string // password and Basic token, redacted from messages
	baseURL            string
	http               *http.Client
	clock              clock.Clock
	maxBytes           int64
	bucket             *ratelimit.Bucket
	observe            func(api, code string, d time.Duration)

	mu        sync.Mutex
	remaining int
	quota     int
	limitSeen bool
}

// New returns a Client for the credential in o.
func New(o Options) *Client {
	c := &Client{
		username: o.Username,
		password: o.Password,
		baseURL:  apiRoot(o.BaseURL),
		http:     o.HTTPClient,
		clock:    o.Clock,
		maxBytes: o.MaxResponseBytes,
		bucket:   o.Bucket,
		observe:  o.Observe,
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.clock == nil {
		c.clock = clock.Real{}
	}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultMaxResponseBytes
	}
	if o.Password != "" {
		token := base64.StdEncoding.EncodeToString([]byte(o.Username + ":" + o.Password))
		c.secretForms = []string{o.Password, token}
	}
	return c
}

// apiRoot is the URL the API names are appended to (see Options.BaseURL).
// An unparsable URL is kept as it is: the request then fails with an
// invalid endpoint error that does not quote it.
func apiRoot(base string) string {
	base = strings.TrimRight(base, "/")
	if base == "" {
		return DefaultBaseURL
	}
	if u, err := url.Parse(base); err == nil && u.Path == "" && u.Opaque == "" {
		return base + "/v3"
	}
	return base
}

// RateLimit returns the quota state from the last answer's headers: calls
// remaining in the current window and the per-window quota (0 when the header
// was never sent). ok is false until an answer carried X-Rate-Limit-Remaining.
func (c *Client) RateLimit() (remaining, quota int, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remaining, c.quota, c.limitSeen
}

// refuse is the error of a call the documentation forbids; nothing is sent.
func refuse(api, format string, args ...any) error {
	return &apierr.Error{Vendor: Vendor, API: api, Class: apierr.Fatal, Code: codeRefused, Message: fmt.Sprintf(format, args...)}
}

// checkIDs refuses an ID list longer than max, or with an ID that would break
// the comma-separated query parameter.
func checkIDs(api, param string, ids []string, max int) error {
	if len(ids) > max {
		return refuse(api, "%d %s in one call, the API allows at most %d", len(ids), param, max)
	}
	for _, id := range ids {
		if id == "" || strings.Contains(id, ",") {
			return refuse(api, "empty %s or one containing a comma", param)
		}
	}
	return nil
}

// idQuery renders param=id1,id2 with the commas unescaped, as in every
// request sample of JPush's "REST API v3 Report" page.
func idQuery(param string, ids []string) string {
	esc := make([]string, len(ids))
	for i, id := range ids {
		esc[i] = url.QueryEscape(id)
	}
	return param + "=" + strings.Join(esc, ",")
}

// do sends one request to <root>/<api> after taking a token from the bucket, and
// on success hands the body to decode. It reports the outcome to Observe.
func (c *Client) do(ctx context.Context, api, method, rawQuery string, payload []byte, decode func([]byte) error) error {
	if c.bucket != nil {
		if err := c.bucket.Wait(ctx); err != nil {
			return err
		}
	}
	u := c.baseURL + "/" + api
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		// The parse error would quote the URL, which may hold userinfo.
		return &apierr.Error{Vendor: Vendor, API: api, Class: apierr.Fatal, Code: codeRefused, Message: "invalid endpoint URL"}
	}
	req.SetBasicAuth(c.username, c.password)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := c.clock.Now()
	err = c.roundTrip(ctx, api, req, decode)
	if c.observe != nil {
		c.observe(api, codeOf(err), c.clock.Now().Sub(start))
	}
	return err
}

// codeOf is the Observe code of a request's outcome.
func codeOf(err error) string {
	var e *apierr.Error
	switch {
	case err == nil:
		return "0"
	case errors.As(err, &e):
		return e.Code
	default:
		return apierr.CodeNetwork
	}
}

func (c *Client) roundTrip(ctx context.Context, api string, req *http.Request, decode func([]byte) error) error {
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return c.networkError(api, "request failed", err)
	}
	defer resp.Body.Close()
	reset, hasReset := c.observeHeaders(resp.Header)

	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return c.networkError(api, "reading the answer failed", err)
	}
	if int64(len(body)) > c.maxBytes {
		return c.invalid(api, resp.StatusCode, fmt.Sprintf("answer larger than %d bytes", c.maxBytes))
	}

	code, message, hasCode := vendorError(body)
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if ok && !hasCode {
		if err := decode(body); err != nil {
			return c.invalid(api, resp.StatusCode, "cannot decode the answer: "+err.Error())
		}
		return nil
	}

	e := &apierr.Error{Vendor: Vendor, API: api, HTTPStatus: resp.StatusCode, Code: strconv.Itoa(resp.StatusCode)}
	if hasCode {
		e.Code = strconv.FormatInt(code, 10)
	}
	e.Message = c.sanitize(message)
	if e.Message == "" {
		e.Message = "HTTP " + strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)
	}
	e.Class = classify(resp.StatusCode, code, hasCode)
	if e.Class == apierr.RateLimited {
		e.RetryAfter = time.Second
		if hasReset && reset > e.RetryAfter {
			e.RetryAfter = reset
		}
		if c.bucket != nil {
			c.bucket.BlockUntil(c.clock.Now().Add(e.RetryAfter))
		}
	}
	return e
}

// classify maps an error answer to its class, per the error code table (错误码)
// of JPush's "REST API v3 Report" page and JPush's rate limiting (HTTP 429,
// code 2002, 2001 in older versions of its documentation).
func classify(status int, code int64, hasCode bool) apierr.Class {
	switch {
	// 2002 is the current over-quota code, 2001 the one older docs give.
	case status == http.StatusTooManyRequests || code == 2002 || code == 2001:
		return apierr.RateLimited
	case status == http.StatusUnauthorized || code == 3001:
		return apierr.Auth
	case code == 2003: // 无权使用此接口: a VIP-only API on a free account.
		return apierr.Unavailable
	case code == 10 || status >= 500: // 10: 系统内部错误.
		return apierr.Transient
	case status < 400 && !hasCode:
		return apierr.InvalidResponse // neither success nor an error answer
	default: // 3004, 3005, any other 4xx: the request itself is wrong.
		return apierr.Fatal
	}
}

// vendorError extracts {"error":{"code":N,"message":"…"}} from a body. It is
// looked for on every status: an answer carrying one is an error whatever its
// HTTP status says. A code may be a number or a numeric string; 0 is no code.
func vendorError(body []byte) (code int64, message string, ok bool) {
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || trimmed[0] != '{' {
		return 0, "", false // not an object: spare decoding a large array twice
	}
	var eb struct {
		Error map[string]json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &eb) != nil || eb.Error == nil {
		return 0, "", false
	}
	n := parseCount(eb.Error["code"])
	if n == nil || *n == 0 {
		return 0, "", false
	}
	message, _ = jsonString(eb.Error["message"]) // a non-string message is dropped
	return *n, message, true
}

// sanitize makes vendor text safe for logs: secrets redacted, control
// characters dropped, length bounded.
func (c *Client) sanitize(s string) string {
	for _, secret := range c.secretForms {
		s = strings.ReplaceAll(s, secret, "<secret>")
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > maxMessageLen {
		s = string(r[:maxMessageLen]) + "…"
	}
	return strings.TrimSpace(s)
}

func (c *Client) networkError(api, what string, err error) error {
	// A *url.Error quotes the request URL; keep only the cause.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &apierr.Error{Vendor: Vendor, API: api, Class: apierr.Transient, Code: apierr.CodeNetwork, Message: c.sanitize(what + ": " + err.Error())}
}

func (c *Client) invalid(api string, status int, msg string) error {
	return &apierr.Error{Vendor: Vendor, API: api, Class: apierr.InvalidResponse, Code: apierr.CodeInvalidResponse, HTTPStatus: status, Message: c.sanitize(msg)}
}

// observeHeaders records the rate-limit headers JPush sends on every answer
// and passes them to the bucket. It returns X-Rate-Limit-Reset.
func (c *Client) observeHeaders(h http.Header) (reset time.Duration, hasReset bool) {
	quota, hasQuota := headerInt(h, "X-Rate-Limit-Quota")
	if !hasQuota {
		// Older versions of JPush's rate-limiting page name the quota header
		// X-Rate-Limit-Limit.
		quota, hasQuota = headerInt(h, "X-Rate-Limit-Limit")
	}
	remaining, hasRemaining := headerInt(h, "X-Rate-Limit-Remaining")
	if secs, ok := headerInt(h, "X-Rate-Limit-Reset"); ok {
		reset, hasReset = maxReset, true
		if secs < int(maxReset/time.Second) {
			reset = time.Duration(secs) * time.Second
		}
	}
	c.mu.Lock()
	if hasQuota {
		c.quota = quota
	}
	if hasRemaining {
		c.remaining, c.limitSeen = remaining, true
	}
	c.mu.Unlock()
	if hasRemaining && c.bucket != nil {
		c.bucket.Observe(remaining, reset)
	}
	return reset, hasReset
}

// headerInt reads a non-negative integer header.
func headerInt(h http.Header, key string) (int, bool) {
	v := strings.TrimSpace(h.Get(key))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
