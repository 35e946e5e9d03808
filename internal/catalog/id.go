package catalog

import (
	"errors"
	"fmt"
	"strconv"
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

// A JPush msg_id is an unsigned 64-bit integer (the Report API answers it as
// a JSON number or a string of digits; JPush "REST API v3 Report",
// /received/detail and /messages/detail, whose samples are 1613113584 and
// 123456789). Its one accepted form is decimal digits without a leading zero,
// 1 to 2^64-1: 0 is no message, and 0001613113584 would be tracked apart
// from 1613113584 although the vendor answers both as one message.
const msgIDRule = "a msg_id is a decimal integer from 1 to 18446744073709551615 without leading zeros"

// validMsgID reports whether id is a msg_id in its one accepted form.
func validMsgID(id string) bool {
	if id == "" || id[0] == '0' || strings.Trim(id, "0123456789") != "" {
		return false
	}
	_, err := strconv.ParseUint(id, 10, 64)
	return err == nil
}

// ValidatorFor returns the ID rule of kind: ValidateID for every kind, and on
// top of it what the vendor's IDs look like:
//   - KindJPushMessages: decimal digits without a leading zero, 1 to
//     2^64-1 (see msgIDRule);
//   - KindJPushGroupMessages: letters and digits, as group_msgid values are
//     (JPush "REST API v3 Report", /group/messages/detail);
//   - KindTencentPush: letters, digits, '_' and '-', as is (case matters):
//     im_push answers TaskIds
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
			if !validMsgID(id) {
				return errors.New(msgIDRule)
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
