// Package apierr is the vendor-neutral error both vendor clients return, so
// that the refresh machinery can decide on backoff, rate limiting and source
// availability without knowing any vendor's error codes.
package apierr

import (
	"errors"
	"fmt"
	"time"
)

// Class is what the refresh machinery does about an error.
type Class int

// The error classes, from the error codes the vendors document (Tencent
// Chat REST API error codes, JPush "REST API v3 Report").
const (
	// Transient errors (network, 5xx, vendor internal errors) are retried with
	// exponential backoff.
	Transient Class = iota
	// RateLimited errors wait at least RetryAfter before the next call.
	RateLimited
	// SigExpired is Tencent's 70001: the client regenerates the UserSig and
	// retries once before returning it.
	SigExpired
	// Auth errors are rejected credentials (bad UserSig, wrong master secret).
	Auth
	// WrongRegion is Tencent's 70016/70020: the app lives in another region.
	WrongRegion
	// Unavailable means the account cannot use this API (JPush VIP-only 2003,
	// Tencent 90009/90045/60010): the source is marked unavailable and polled
	// rarely.
	Unavailable
	// InvalidResponse is a body the client could not decode or that was too
	// large.
	InvalidResponse
	// Fatal is any other vendor error: the request itself is wrong.
	Fatal
	// WrongApp is an answer about another app than the one asked about (a
	// getappinfo row whose AppId is not the configured SDKAppID): a proxy or
	// a mis-set endpoint serving another app. None of its data is used.
	WrongApp
)

var classNames = [...]string{"transient", "rate_limited", "sig_expired", "auth", "wrong_region", "unavailable", "invalid_response", "fatal", "wrong_app"}

// String returns the class name used in logs.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class_%d", int(c))
}

// Codes used in Error.Code when the vendor gave no code of its own.
const (
	CodeNetwork         = "network"
	CodeInvalidResponse = "invalid_response"
	CodeWrongApp        = "wrong_app"
)

// Error is a failed vendor call. It never holds a credential, a signature or a
// URL with either in it.
type Error struct {
	Vendor     string        // "tencent_im" or "jpush"
	API        string        // the API name as used in metrics, e.g. "openconfigsvr/getappinfo"
	Class      Class         // what to do about it
	Code       string        // vendor error code, HTTP status, CodeNetwork or CodeInvalidResponse
	HTTPStatus int           // 0 when no response arrived
	Message    string        // vendor error text or a description; never a secret
	RetryAfter time.Duration // minimum wait the vendor asked for, 0 if none
}

// Error implements error.
func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s: %s (code %s", e.Vendor, e.API, e.Message, e.Code)
	if e.HTTPStatus != 0 && e.Code != fmt.Sprint(e.HTTPStatus) {
		msg += fmt.Sprintf(", HTTP %d", e.HTTPStatus)
	}
	return msg + ")"
}

// ClassOf returns the class of err: the Class of an *Error in its chain, or
// Transient for anything else (a cancelled context, a network failure that was
// not wrapped).
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Transient
}

// RetryAfterOf returns the RetryAfter of an *Error in err's chain, or 0.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
