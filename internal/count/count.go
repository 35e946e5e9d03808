// Package count holds the one rule every vendor count passes before it
// becomes a sample, the same in every client (tencentim, jpush) and in the
// collector: a count is a non-negative integer no larger than 2^53 (the
// largest a float64 sample holds exactly), written as decimal digits. A
// vendor sends counts as JSON numbers or as strings of digits (Tencent Chat
// "Pulling Operations Data": every value is a string; JPush "REST API v3
// Report": some answers quote numbers). Anything else — a sign (even -0), a
// fraction, an exponent (1e23), hex, Inf, NaN, null — is no count: the entry
// gives no series, never a fake 0.
package count

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Max is the largest count accepted: 2^53.
const Max = 1 << 53

// Text reads a count written as text, surrounding spaces allowed.
func Text(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 20 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > Max {
		return 0, false
	}
	return int64(n), true
}

// JSON reads a count sent as a JSON number or as a JSON string holding one.
// It reports whether raw was present but refused (not null, not absent), so
// that a caller can log what it dropped.
func JSON(raw json.RawMessage) (n int64, ok, refused bool) {
	text := bytes.TrimSpace(raw)
	if len(text) == 0 || string(text) == "null" {
		return 0, false, false
	}
	s := string(text)
	if text[0] == '"' {
		if err := json.Unmarshal(text, &s); err != nil {
			return 0, false, true
		}
	}
	n, ok = Text(s)
	return n, ok, !ok
}
