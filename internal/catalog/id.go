package catalog

import (
	"errors"
	"fmt"
	"strings"
)

// MaxIDBytes is the longest ID ValidateID accepts.
const MaxIDBytes = 128

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
