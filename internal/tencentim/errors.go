package tencentim

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/imstats/imstats_exporter/internal/apierr"
)

// Vendor is the apierr.Error Vendor of every error this package returns.
const Vendor = "tencent_im"

// CodeInvalidRequest is the apierr.Error Code of a call the client refused to
// send because the vendor's documented limits forbid it (too many TaskIDs, too
// long a window) or because the request could not be built.
const CodeInvalidRequest = "invalid_request"

// Vendor error codes with a class of their own (Tencent Chat REST API error codes; the rest of the
// 70000–70999 range is account and UserSig errors).
const (
	codeSigExpired = 70001 // UserSig expired: regenerate and retry once
	codeSigLocked  = 70050 // too many bad UserSigs: wait at least 60 s
)

// Waits the vendor asks for with a rate-limit code. 60007, 60011, 60018 and
// 60019 only say "back off" (Tencent Chat REST API error codes); one second is the interval of the
// strictest API the exporter calls (all_member_push_statistics, 1 call/s,
// All/Tagged Users Push Data Statistics). 70050 asks for at least a minute.
const (
	rateLimitRetryAfter = time.Second
	sigLockedRetryAfter = time.Minute
)

// maxMessageRunes bounds the vendor text kept in an error message.
const maxMessageRunes = 200

// classify maps a non-zero vendor ErrorCode to what the caller does about it
// and the minimum wait before the next call.
func classify(code int64) (apierr.Class, time.Duration) {
	switch {
	case code == 60007, code == 60011, code == 60018, code == 60019:
		return apierr.RateLimited, rateLimitRetryAfter
	case code == codeSigLocked:
		return apierr.RateLimited, sigLockedRetryAfter
	case code == codeSigExpired:
		return apierr.SigExpired, 0
	case code == 70016, code == 70020:
		return apierr.WrongRegion, 0
	case code == 90009, code == 90045, code == 60010:
		// 90009 admin permission missing, 90045 push not enabled
		// (All/Tagged Users Push Data Statistics, 全员/标签推送).
		return apierr.Unavailable, 0
	case code >= 70000 && code <= 70999:
		return apierr.Auth, 0
	case code == 60008, code == 90102, code >= 130009 && code <= 130012:
		// 60008 server timeout; 90102 "internal error, please retry later"
		// (All/Tagged Users Push Data Statistics); 130009–130012 SQL errors of
		// getappinfo (Pulling Operations Data).
		return apierr.Transient, 0
	default:
		return apierr.Fatal, 0
	}
}

// vendorError is the error for an answer whose ErrorCode is not 0. Its message
// is the vendor's ErrorInfo; the caller redacts and sanitises it and sets the
// HTTP status.
func vendorError(api string, code int64, info string) *apierr.Error {
	class, retry := classify(code)
	if info == "" {
		info = "vendor error"
	}
	return &apierr.Error{
		Vendor:     Vendor,
		API:        api,
		Class:      class,
		Code:       strconv.FormatInt(code, 10),
		Message:    info,
		RetryAfter: retry,
	}
}

// statusError is the error for a non-2xx answer. The vendor answers 200 for
// every API error, so any other status comes from its gateway or a proxy
// (Pulling Operations Data: "always 200 unless a network error (such as
// error 502) occurs"); the body is not read for a verdict.
func statusError(api string, resp *http.Response) *apierr.Error {
	e := &apierr.Error{
		Vendor:     Vendor,
		API:        api,
		Class:      apierr.Fatal,
		Code:       strconv.Itoa(resp.StatusCode),
		HTTPStatus: resp.StatusCode,
		Message:    "unexpected HTTP status " + resp.Status,
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Class = apierr.RateLimited
		e.RetryAfter = retryAfterHeader(resp.Header.Get("Retry-After"))
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode >= 500:
		e.Class = apierr.Transient
	}
	return e
}

// retryAfterHeader reads a Retry-After given in seconds, bounded to [1 s, 1 h]
// so that a missing or absurd value neither hammers nor stalls the source.
func retryAfterHeader(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 {
		return rateLimitRetryAfter
	}
	return min(time.Duration(n)*time.Second, time.Hour)
}

// invalidResponse is the error for a body that cannot be understood.
func invalidResponse(api, msg string) *apierr.Error {
	return &apierr.Error{Vendor: Vendor, API: api, Class: apierr.InvalidResponse, Code: apierr.CodeInvalidResponse, Message: msg}
}

// invalidRequest is the error for a call refused before anything was sent.
func invalidRequest(api, msg string) *apierr.Error {
	return &apierr.Error{Vendor: Vendor, API: api, Class: apierr.Fatal, Code: CodeInvalidRequest, Message: msg}
}

// networkError is the error for a request that got no usable answer.
func networkError(api, msg string) *apierr.Error {
	return &apierr.Error{Vendor: Vendor, API: api, Class: apierr.Transient, Code: apierr.CodeNetwork, Message: msg}
}

// sanitize makes text from the vendor or the network safe for one log line:
// control and format characters (newlines, bidi overrides) become spaces and
// the text is cut to maxMessageRunes. Secrets must be removed before, so that
// the cut cannot leave part of one behind.
func sanitize(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == maxMessageRunes {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}
