package tracking

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Origin says where a tracked ID came from.
type Origin string

// The origins of tracked IDs.
const (
	// OriginConfig is an ID listed in the configuration file.
	OriginConfig Origin = "config"
	// OriginFile is an ID listed in the watched file.
	OriginFile Origin = "file"
	// OriginAPI is an ID registered through the HTTP API.
	OriginAPI Origin = "api"
	// OriginCallback is an ID seen in a vendor's push callback (Tencent's
	// Push.AllMemberPush TaskIds). It lives as an API registration does:
	// until removed through the API, aged out or evicted.
	OriginCallback Origin = "callback"
)

// valid reports whether o is one of the known origins.
func (o Origin) valid() bool {
	return o == OriginConfig || o == OriginFile || o == OriginAPI || o == OriginCallback
}

// ID is one tracked ID, as Set.IDs returns it and the HTTP API lists it.
type ID struct {
	// ID is the vendor's identifier (TaskID, msg_id or group_msgid).
	ID string `json:"id"`
	// Added is when the ID was first seen; its age is measured from here.
	Added time.Time `json:"added"`
	// Sent is when the push or message was sent, if the client that
	// registered the ID said so (the API's sent_at); zero if unknown.
	Sent time.Time `json:"sent,omitzero"`
	// Origin is where the ID came from; see Set for how origins combine.
	Origin Origin `json:"origin"`
}

// MaxIDBytes is the longest ID ValidateID accepts.
const MaxIDBytes = 128

// ErrInvalidID is wrapped by every error Set.Add returns for an ID that the
// validator refuses, so that callers can tell bad input from a failed write.
var ErrInvalidID = errors.New("invalid ID")

// ValidateID is the default validator: it accepts a non-empty ID of at most
// MaxIDBytes bytes of printable ASCII without whitespace or commas. IDs travel
// comma-separated in query strings (msg_ids, group_msgids:
// JPush "REST API v3 Report"), and an empty TaskID asks Tencent for the overall
// statistics instead of one task's (Tencent Chat "All/Tagged Users Push Data Statistics"), so
// neither may be part of an ID.
func ValidateID(id string) error {
	if id == "" {
		return errors.New("empty")
	}
	if len(id) > MaxIDBytes {
		return fmt.Errorf("longer than %d bytes", MaxIDBytes)
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case b == ',':
			return errors.New("contains a comma")
		case b == ' ' || (b >= '\t' && b <= '\r'):
			return errors.New("contains whitespace")
		case b < 0x21 || b > 0x7e:
			return fmt.Errorf("contains the non-printable or non-ASCII byte 0x%02x", b)
		}
	}
	return nil
}

// shownIDBytes is how much of an ID (or any client-supplied string) an error
// or log message shows, so that a huge input cannot flood a response or a log
// line.
const shownIDBytes = 64

// quoteShort quotes s, shortened, for an error message.
func quoteShort(s string) string {
	if len(s) <= shownIDBytes {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:shownIDBytes]) + fmt.Sprintf("… (%d bytes)", len(s))
}

// shorten shortens s for a log value, which the logger quotes itself.
func shorten(s string) string {
	if len(s) <= shownIDBytes {
		return s
	}
	return s[:shownIDBytes] + fmt.Sprintf("… (%d bytes)", len(s))
}

// maxMsgIDDigits is the most digits a JPush msg_id has: it is an unsigned
// 64-bit integer (the Report API answers it as a JSON number or a string of
// digits; JPush "REST API v3 Report", /received/detail and /messages/detail).
const maxMsgIDDigits = 20

// ValidatorFor returns the ID rule of kind: ValidateID for every kind, and on
// top of it what the vendor's IDs look like:
//   - KindJPushMessages: decimal digits only (a msg_id is an integer);
//   - KindJPushGroupMessages: letters and digits, as group_msgid values are
//     (JPush "REST API v3 Report", /group/messages/detail);
//   - KindTencentPush: letters, digits, '_' and '-': im_push answers TaskIds
//     such as 1400123456_144115212910570789_4155518400_15723514 (Tencent Chat
//     "全员/标签推送", im_push), and the statistics page's samples use
//     xxx-yyy-zzz (Tencent Chat "All/Tagged Users Push Data Statistics").
//
// An unknown kind gets ValidateID.
func ValidatorFor(kind string) func(string) error {
	switch kind {
	case KindJPushMessages:
		return func(id string) error {
			if err := ValidateID(id); err != nil {
				return err
			}
			if len(id) > maxMsgIDDigits || strings.Trim(id, "0123456789") != "" {
				return fmt.Errorf("a msg_id is an integer of at most %d digits", maxMsgIDDigits)
			}
			return nil
		}
	case KindJPushGroupMessages:
		return charsetValidator("a group_msgid has only letters and digits", "")
	case KindTencentPush:
		return charsetValidator("a TaskId has only letters, digits, '_' and '-'", "_-")
	default:
		return ValidateID
	}
}

// charsetValidator returns a rule that applies ValidateID and then accepts
// only ASCII letters, digits and the bytes of extra.
func charsetValidator(rule, extra string) func(string) error {
	return func(id string) error {
		if err := ValidateID(id); err != nil {
			return err
		}
		for i := 0; i < len(id); i++ {
			b := id[i]
			if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte(extra, b) >= 0) {
				return errors.New(rule)
			}
		}
		return nil
	}
}
