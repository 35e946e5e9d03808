// Package tencentim is a client for the Tencent Cloud IM (Chat) REST API:
// TLSSigAPIv2 UserSig generation and renewal, the ActionStatus/ErrorCode
// verdict of every answer, and the typed calls the exporter makes
// (getappinfo, all_member_push_statistics, normal_push_statistics). The
// region endpoints are in internal/catalog.
package tencentim

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/ratelimit"
)

// The REST APIs this package knows, as named in request paths and metrics.
const (
	// APIGetAppInfo pulls the daily operations data of the last 30 days.
	APIGetAppInfo = "openconfigsvr/getappinfo"
	// APIPushStatistics reads the statistics of all-member push tasks.
	APIPushStatistics = "timpush/all_member_push_statistics"
	// APINormalPushStatistics reads the statistics of the offline pushes
	// that one-to-one and group chat messages trigger.
	APINormalPushStatistics = "timpush/normal_push_statistics"
	// APIPushLoss reads why all-member pushes were lost, per error code.
	APIPushLoss = "timpush/all_member_push_loss"
	// APINormalPushLoss reads why the offline pushes of chat messages were
	// lost, per error code.
	APINormalPushLoss = "timpush/normal_push_loss"
)

// Defaults applied by New to zero Options fields.
const (
	DefaultHTTPTimeout      = 30 * time.Second
	DefaultMaxResponseBytes = 16 << 20
	DefaultUserSigExpire    = 24 * time.Hour
)

// Options configure a Client. SDKAppID, Identifier, SecretKey and BaseURL are
// required; the rest have defaults.
type Options struct {
	SDKAppID   uint64
	Identifier string // the app admin account
	SecretKey  string // the app's UserSig key; never logged
	// BaseURL is the region's host (e.g. https://adminapisgp.im.qcloud.com)
	// or a proxy's URL, with any path prefix; the client appends /v4/<api>
	// as in "https://xxxxxx/v4/openconfigsvr/getappinfo". A trailing slash or
	// /v4 is not doubled.
	BaseURL string
	// HTTPClient sends the requests. nil: a client with a DefaultHTTPTimeout
	// timeout. Either way redirects are not followed (New uses a copy with
	// CheckRedirect replaced): a redirect would carry the UserSig in its query
	// to another URL.
	HTTPClient *http.Client
	Clock      clock.Clock // nil: clock.Real{}
	// MaxResponseBytes bounds every response body. 0: DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// UserSigExpire is the lifetime of the generated UserSigs. 0:
	// DefaultUserSigExpire.
	UserSigExpire time.Duration
	// Limiter returns the bucket to take a token from before every HTTP
	// request to api, the retry after a 70001 included; the client calls the
	// bucket's Done when the request completes. nil, or a nil bucket: no
	// limit.
	Limiter func(api string) *ratelimit.Bucket
	// Observe, if not nil, is called once per HTTP request sent, with code "0"
	// for success, else the vendor ErrorCode, the HTTP status,
	// apierr.CodeNetwork or apierr.CodeInvalidResponse, and the time the
	// request took.
	Observe func(api, code string, d time.Duration)
}

// Client calls the Tencent IM REST API for one SDKAppID. It is safe for
// concurrent use.
type Client struct {
	sdkappid   uint64
	identifier string
	key        string
	baseURL    string
	http       *http.Client
	clock      clock.Clock
	maxBody    int64
	sigExpire  time.Duration
	renewAfter time.Duration // age at which a cached UserSig is replaced
	limiter    func(api string) *ratelimit.Bucket
	observe    func(api, code string, d time.Duration)

	mu    sync.Mutex
	sig   string // cached UserSig; "" when none
	sigAt time.Time
}

// New returns a Client for o, applying the defaults documented on Options.
func New(o Options) *Client {
	c := &Client{
		sdkappid:   o.SDKAppID,
		identifier: o.Identifier,
		key:        o.SecretKey,
		baseURL:    strings.TrimSuffix(strings.TrimRight(o.BaseURL, "/"), "/v4"),
		clock:      o.Clock,
		maxBody:    o.MaxResponseBytes,
		sigExpire:  o.UserSigExpire,
		limiter:    o.Limiter,
		observe:    o.Observe,
	}
	hc := http.Client{Timeout: DefaultHTTPTimeout}
	if o.HTTPClient != nil {
		hc = *o.HTTPClient
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = &hc
	if c.clock == nil {
		c.clock = clock.Real{}
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	if c.sigExpire <= 0 {
		c.sigExpire = DefaultUserSigExpire
	}
	c.renewAfter = c.sigExpire - renewMargin(c.sigExpire)
	return c
}

// renewMargin is how much lifetime a cached UserSig must have left to be
// reused: 10% of it or an hour, whichever is larger, but at most half of it so
// that a short lifetime still leaves a positive reuse period.
func renewMargin(lifetime time.Duration) time.Duration {
	return min(max(lifetime/10, time.Hour), lifetime/2)
}

// Call POSTs req as JSON to {BaseURL}/v4/{api}?sdkappid=&identifier=&usersig=
// &random=&contenttype=json and, when the vendor's verdict is success, decodes
// the body into resp (skipped when resp is nil). A 70001 (UserSig expired)
// regenerates the UserSig and retries once. Errors are *apierr.Error; one
// caused by ctx also wraps ctx.Err().
func (c *Client) Call(ctx context.Context, api string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return invalidRequest(api, "encoding request: "+sanitize(err.Error()))
	}
	for attempt := 0; ; attempt++ {
		sig, err := c.userSig()
		if err != nil {
			return invalidRequest(api, "generating UserSig: "+c.scrub(err.Error(), ""))
		}
		err = c.send(ctx, api, sig, body, resp)
		if attempt == 0 && apierr.ClassOf(err) == apierr.SigExpired {
			c.invalidate(sig)
			continue
		}
		return err
	}
}

// send makes one HTTP request and returns its verdict. It takes a token
// from api's bucket first, and tells the bucket when the request completed,
// after pausing it for as long as a rate-limit answer asks: the next caller
// of the API, let out by Done, then sees the pause.
func (c *Client) send(ctx context.Context, api, sig string, body []byte, resp any) (err error) {
	if err := ctx.Err(); err != nil {
		return cancelled(api, "cancelled before the request", err)
	}
	if c.limiter != nil {
		if b := c.limiter(api); b != nil {
			if err := b.Wait(ctx); err != nil {
				return cancelled(api, "cancelled while waiting for the rate limiter", err)
			}
			defer func() {
				if apierr.ClassOf(err) == apierr.RateLimited {
					b.BlockUntil(c.clock.Now().Add(apierr.RetryAfterOf(err)))
				}
				b.Done(c.clock.Now())
			}()
		}
	}
	// The UserSig alphabet needs no escaping (usersig.go); the identifier may.
	u := fmt.Sprintf("%s/v4/%s?sdkappid=%d&identifier=%s&usersig=%s&random=%d&contenttype=json",
		c.baseURL, api, c.sdkappid, url.QueryEscape(c.identifier), sig, rand.Uint32())
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return invalidRequest(api, "building request: "+c.scrub(unwrapURLError(err), sig))
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")

	start := c.clock.Now()
	code, err := c.roundTrip(hreq, api, sig, resp)
	if c.observe != nil {
		c.observe(api, code, c.clock.Now().Sub(start))
	}
	return err
}

// roundTrip sends hreq and decodes the answer into resp. It returns the code
// to observe and the error, if any, with its message scrubbed.
func (c *Client) roundTrip(hreq *http.Request, api, sig string, resp any) (string, error) {
	hresp, err := c.http.Do(hreq)
	if err != nil {
		return apierr.CodeNetwork, c.transportError(hreq, api, "", err, sig)
	}
	defer hresp.Body.Close()
	if hresp.StatusCode < 200 || hresp.StatusCode > 299 {
		// Drain a little so that the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(hresp.Body, 64<<10))
		e := statusError(api, hresp)
		e.Message = c.scrub(e.Message, sig)
		return e.Code, e
	}
	body, err := io.ReadAll(io.LimitReader(hresp.Body, c.maxBody+1))
	if err != nil {
		return apierr.CodeNetwork, c.transportError(hreq, api, "reading response: ", err, sig)
	}
	if int64(len(body)) > c.maxBody {
		e := invalidResponse(api, fmt.Sprintf("response larger than %d bytes", c.maxBody))
		e.HTTPStatus = hresp.StatusCode
		return e.Code, e
	}
	if e := c.decode(api, body, sig, resp); e != nil {
		e.HTTPStatus = hresp.StatusCode
		return e.Code, e
	}
	return "0", nil
}

// decode is decodeBody with the error message scrubbed: the vendor's
// ErrorInfo may echo anything it was sent.
func (c *Client) decode(api string, body []byte, sig string, resp any) *apierr.Error {
	e := decodeBody(api, body, resp)
	if e != nil {
		e.Message = c.scrub(e.Message, sig)
	}
	return e
}

// transportError is the error for a request that failed on the way: the
// cancellation when the request's context ended, else a network error.
func (c *Client) transportError(hreq *http.Request, api, during string, err error, sig string) error {
	if cause := hreq.Context().Err(); cause != nil {
		return cancelled(api, "request cancelled", cause)
	}
	return networkError(api, during+c.scrub(unwrapURLError(err), sig))
}

// cancelled is the error for a call that ctx ended; it wraps cause so that
// errors.Is(err, context.Canceled) holds.
func cancelled(api, msg string, cause error) error {
	return fmt.Errorf("%w: %w", networkError(api, msg), cause)
}

// unwrapURLError returns the text of err without the URL that *url.Error
// prints: the URL carries the UserSig.
func unwrapURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// scrub removes the secret key and the UserSig from s, then sanitises it.
func (c *Client) scrub(s, sig string) string {
	for _, secret := range []string{c.key, sig} {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "<secret>")
		}
	}
	return sanitize(s)
}

// userSig returns the cached UserSig, generating a new one when there is none
// or the cached one is within its renewal margin of expiring.
func (c *Client) userSig() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	// A clock that went back makes the cached UserSig's age unknowable.
	if c.sig != "" && !now.Before(c.sigAt) && now.Sub(c.sigAt) < c.renewAfter {
		return c.sig, nil
	}
	sig, err := GenUserSig(c.sdkappid, c.key, c.identifier, c.sigExpire, now, zlib.BestCompression)
	if err != nil {
		return "", err
	}
	c.sig, c.sigAt = sig, now
	return sig, nil
}

// invalidate drops the cached UserSig if it is still sig, the one the vendor
// declared expired; a newer one another goroutine generated meanwhile stays.
func (c *Client) invalidate(sig string) {
	c.mu.Lock()
	if c.sig == sig {
		c.sig = ""
	}
	c.mu.Unlock()
}

// envelope is the verdict part of every answer. Fields are raw so that a
// wrong type is reported as such instead of failing the whole decode.
type envelope struct {
	ActionStatus json.RawMessage
	ErrorCode    json.RawMessage
	ErrorInfo    json.RawMessage
}

// decodeBody applies the vendor's verdict to a 2xx body and, on success,
// decodes it into resp. Tencent answers HTTP 200 for API errors: the verdict is
// ErrorCode, with ActionStatus "FAIL" when present. ActionStatus may be absent
// (the getappinfo sample has none, Pulling Operations Data); ErrorInfo text
// is never interpreted (the docs spell success "sucess",
// All/Tagged Users Push Data Statistics). A body with neither an ErrorCode nor
// ActionStatus "OK" (a proxy's JSON, say) is not taken for a success.
func decodeBody(api string, body []byte, resp any) *apierr.Error {
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		return invalidResponse(api, "response is not a JSON object")
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return invalidResponse(api, "response is not valid JSON: "+err.Error())
	}
	status, _ := scalarText(env.ActionStatus)
	code, hasCode := parseInt(env.ErrorCode)
	switch {
	case hasCode && code != 0:
		info, _ := scalarText(env.ErrorInfo)
		return vendorError(api, code, info)
	case len(env.ErrorCode) != 0 && !isNull(env.ErrorCode) && !hasCode:
		return invalidResponse(api, "ErrorCode is not an integer")
	case strings.EqualFold(status, "FAIL"):
		return invalidResponse(api, "ActionStatus FAIL without an ErrorCode")
	case !hasCode && !strings.EqualFold(status, "OK"):
		return invalidResponse(api, "response has neither ErrorCode nor ActionStatus OK")
	}
	if resp == nil {
		return nil
	}
	if err := json.Unmarshal(body, resp); err != nil {
		return invalidResponse(api, "decoding response: "+err.Error())
	}
	return nil
}

// isNull reports whether raw is the JSON literal null.
func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// isObject reports whether raw is a JSON object.
func isObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

// arrayOf splits a JSON array into its elements: nil for an absent or null
// value, an error for anything that is not an array.
func arrayOf(raw json.RawMessage) ([]json.RawMessage, error) {
	if len(raw) == 0 || isNull(raw) {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	return items, nil
}

// scalarText returns a JSON scalar as text: a string's value, a number's or a
// boolean's literal. null, objects, arrays and absent values give false.
func scalarText(raw json.RawMessage) (string, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "", false
	}
	switch c := t[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return "", false
		}
		return s, true
	case c == 't' || c == 'f' || c == '-' || (c >= '0' && c <= '9'):
		if !json.Valid(t) {
			return "", false
		}
		return string(t), true
	default:
		return "", false
	}
}

// parseInt reads an integer sent as a JSON number or as a string holding a
// JSON number (the vendors' docs promise one and sometimes send the other). A
// number with a fraction, out of int64 range or anything else gives false.
func parseInt(raw json.RawMessage) (int64, bool) {
	s, ok := scalarText(raw)
	if !ok {
		return 0, false
	}
	s = strings.TrimSpace(s)
	if s == "" || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) || !json.Valid([]byte(s)) {
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	// Exponent forms such as 1e3; 2^63 is exactly representable.
	const limit = float64(1 << 63)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < -limit || f >= limit {
		return 0, false
	}
	return int64(f), true
}
