package jpush

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/imstats/imstats_exporter/internal/count"
)

// Count is a statistic that may be missing: JPush reports absent data as null
// (JPush "REST API v3 Report": 如果无此项数据则为 null), which is not 0. nil
// means null, absent or not a number; otherwise it points at the value.
type Count = *int64

// parseCount decodes a count by the rule of package count: a JSON number or
// a string of digits, 0 to 2^53. Anything else (a negative or fractional
// value, an exponent, null) is nil.
func parseCount(raw json.RawMessage) Count {
	n, ok, _ := count.JSON(raw)
	if !ok {
		return nil
	}
	return &n
}

// decoder decodes the counts of one answer entry and tallies those it
// refused (present, not null, and not a count by the rule of package count),
// so that the caller can log them: a refused count gives no series.
type decoder struct{ refused int }

// count is parseCount, tallying a refusal.
func (d *decoder) count(raw json.RawMessage) Count {
	n, ok, refused := count.JSON(raw)
	if refused {
		d.refused++
	}
	if !ok {
		return nil
	}
	return &n
}

// parseID decodes a message ID, which JPush sends as a string (received) or
// as a number (JPush "REST API v3 Report", the messages/detail sample:
// "msg_id": 123456789). A number is returned as its decimal integer text.
func parseID(raw json.RawMessage) (string, bool) {
	text := bytes.TrimSpace(raw)
	if len(text) == 0 {
		return "", false
	}
	if text[0] == '"' {
		s, ok := jsonString(text)
		s = strings.TrimSpace(s)
		return s, ok && s != ""
	}
	if allDigits(string(text)) {
		return string(text), true
	}
	// An ID written as a float (1.613113584e9) is accepted while float64
	// holds it exactly.
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil || f < 0 || f != math.Trunc(f) || f > 1<<53 {
		return "", false
	}
	return strconv.FormatInt(int64(f), 10), true
}

// jsonString decodes raw as a JSON string.
func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// object decodes raw as a JSON object, or returns nil.
func object(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// allDigits reports whether s is a non-empty run of ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// snakeCase turns a vendor key into a label value: camelCase words are split
// with underscores (jgAndroid → jg_android, quickXiaomi → quick_xiaomi,
// FCMPush → fcm_push), letters lowered, any other character becomes an
// underscore, and runs of underscores collapse. It returns "" for a key with
// no letter or digit.
func snakeCase(s string) string {
	var b strings.Builder
	pendingSep := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case isUpper(ch):
			prevWordEnd := i > 0 && (isLower(s[i-1]) || isDigit(s[i-1]))
			acronymEnd := i > 0 && isUpper(s[i-1]) && i+1 < len(s) && isLower(s[i+1])
			if prevWordEnd || acronymEnd {
				pendingSep = true
			}
			ch += 'a' - 'A'
		case isLower(ch) || isDigit(ch):
		default:
			pendingSep = true
			continue
		}
		if pendingSep && b.Len() > 0 {
			b.WriteByte('_')
		}
		pendingSep = false
		b.WriteByte(ch)
	}
	return b.String()
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
