package callbacks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxEvents is the most events a callback carries: "The length of the
// events array ranges from 1 to 100" (Tencent Chat "All Users / Tags /
// UserID Push Callback", https://www.tencentcloud.com/document/product/1047/67551,
// and "Other Push Callbacks", …/67552).
const MaxEvents = 100

// maxDepth bounds the nesting of the values the decoder skips (fields it
// does not use), so that a hostile body cannot exhaust the stack.
const maxDepth = 32

// Command is a callback command the receiver takes.
type Command uint8

// The commands, as the CallbackCommand query parameter names them.
const (
	// AllMemberPush is Push.AllMemberPush: the events of all-user, tag and
	// single-user pushes (Tencent Chat "All Users / Tags / UserID Push
	// Callback").
	AllMemberPush Command = iota
	// OfflinePush is Push.OfflinePush: the offline pushes of one-to-one and
	// group chat messages (Tencent Chat "Other Push Callbacks").
	OfflinePush
	numCommands
)

// commandNames are the CallbackCommand values, by Command.
var commandNames = [numCommands]string{AllMemberPush: "Push.AllMemberPush", OfflinePush: "Push.OfflinePush"}

// commandLabels are the command label values, by Command.
var commandLabels = [numCommands]string{AllMemberPush: "all_member_push", OfflinePush: "offline_push"}

// parseCommand returns the Command a CallbackCommand value names.
func parseCommand(s string) (Command, bool) {
	for c, name := range commandNames {
		if s == name {
			return Command(c), true
		}
	}
	return 0, false
}

// The fields of an event the decoder reads, as bits of event.has.
const (
	fieldCommand uint8 = 1 << iota
	fieldEventType
	fieldTaskID
	fieldTaskTime
	fieldPlatform
	fieldStage
	fieldErrCode
)

// requiredFields are the fields every event of a command must carry. The
// event's own CallbackCommand is checked when present; the query
// parameter is what decides.
var requiredFields = [numCommands]uint8{
	AllMemberPush: fieldEventType | fieldTaskID | fieldTaskTime | fieldPlatform | fieldStage | fieldErrCode,
	OfflinePush:   fieldEventType | fieldPlatform | fieldStage | fieldErrCode,
}

// event is the part of a callback event the receiver uses. Recipients
// (To_Account), senders (From_Account), message keys (MsgKey) and every
// other field are skipped unread: they never reach memory outside the
// request body.
type event struct {
	eventType int64
	taskID    []byte // Push.AllMemberPush: within the body or the batch's scratch
	taskTime  int64  // Push.AllMemberPush: unix seconds
	platform  int64
	stage     int64
	errCode   int64
	has       uint8
}

// batch is a decoded callback body, reused from request to request.
type batch struct {
	events  []event
	scratch []byte // unescaped TaskIds, rare
}

// errBadBody is wrapped by every decoding error.
var errBadBody = errors.New("malformed callback body")

// errTooManyEvents is the error of a body with more than MaxEvents events.
var errTooManyEvents = fmt.Errorf("%w: more than %d events", errBadBody, MaxEvents)

// decode parses body, a callback of command cmd, into b: an object whose
// Events array holds 1 to MaxEvents objects, each with the fields the
// command requires, of the documented types (integers are JSON integers,
// TaskId and CallbackCommand strings). Unknown fields are skipped, at any
// depth up to maxDepth; a known field given twice, null, or of another
// type, is an error. Nothing after the object but whitespace is allowed.
func decode(body []byte, cmd Command, b *batch) error {
	b.events = b.events[:0]
	b.scratch = b.scratch[:0]
	d := decoder{data: body, cmd: cmd, b: b}
	if err := d.document(); err != nil {
		return fmt.Errorf("%w at byte %d: %v", errBadBody, d.pos, err)
	}
	return nil
}

// decoder is the state of one decode.
type decoder struct {
	data []byte
	pos  int
	cmd  Command
	b    *batch
}

var (
	errSyntax    = errors.New("invalid JSON")
	errEnd       = errors.New("unexpected end of body")
	errDepth     = fmt.Errorf("values nested deeper than %d", maxDepth)
	errNotInt    = errors.New("want an integer")
	errNotString = errors.New("want a string")
)

func (d *decoder) document() error {
	d.ws()
	if err := d.expect('{'); err != nil {
		return err
	}
	seen := false
	more, err := d.firstMember()
	for more {
		key, err := d.memberKey()
		if err != nil {
			return err
		}
		switch {
		case string(key) != "Events":
			err = d.skip(1)
		case seen:
			err = errors.New("the Events array is given twice")
		default:
			seen = true
			err = d.events()
		}
		if err != nil {
			return err
		}
		if more, err = d.nextMember(); err != nil {
			return err
		}
	}
	if err != nil {
		return err
	}
	if !seen {
		return errors.New("no Events array")
	}
	d.ws()
	if d.pos != len(d.data) {
		return errors.New("data after the object")
	}
	return nil
}

// firstMember is called after an object's '{': it reports whether a
// member follows, or moves past the '}' of an empty object.
func (d *decoder) firstMember() (bool, error) {
	d.ws()
	if d.peek() == '}' {
		d.pos++
		return false, nil
	}
	return true, nil
}

// memberKey parses a member's key and colon, returning the key unescaped,
// with pos at the value.
func (d *decoder) memberKey() ([]byte, error) {
	d.ws()
	key, err := d.key()
	if err != nil {
		return nil, err
	}
	d.ws()
	if err := d.expect(':'); err != nil {
		return nil, err
	}
	d.ws()
	return key, nil
}

// nextMember is called after a member's value: it reports whether another
// member follows, or moves past the object's '}'.
func (d *decoder) nextMember() (bool, error) { return d.another('}') }

// nextElement is called after an array element: it reports whether
// another element follows, or moves past the array's ']'.
func (d *decoder) nextElement() (bool, error) { return d.another(']') }

// another reads the ',' before another item, or the closing byte.
func (d *decoder) another(closing byte) (bool, error) {
	d.ws()
	switch d.next() {
	case ',':
		return true, nil
	case closing:
		return false, nil
	case 0:
		return false, errEnd
	}
	return false, errSyntax
}

// key returns a member's key, unescaped.
func (d *decoder) key() ([]byte, error) {
	raw, escaped, err := d.str()
	if err != nil || !escaped {
		return raw, err
	}
	return unescape(raw, nil)
}

func (d *decoder) events() error {
	if err := d.expect('['); err != nil {
		if d.peek() == 'n' {
			return errors.New("the Events array is null")
		}
		return errors.New("the Events value is not an array")
	}
	d.ws()
	if d.peek() == ']' {
		return errors.New("the Events array is empty")
	}
	for {
		if len(d.b.events) == MaxEvents {
			return errTooManyEvents
		}
		d.ws()
		if err := d.event(); err != nil {
			return fmt.Errorf("event %d (Events[%d]): %w", len(d.b.events), len(d.b.events), err)
		}
		if more, err := d.nextElement(); !more {
			return err
		}
	}
}

func (d *decoder) event() error {
	if err := d.expect('{'); err != nil {
		return errors.New("want an object")
	}
	var e event
	more, err := d.firstMember()
	for more {
		key, err := d.memberKey()
		if err != nil {
			return err
		}
		if err := d.eventField(&e, key); err != nil {
			return err
		}
		if more, err = d.nextMember(); err != nil {
			return err
		}
	}
	if err != nil {
		return err
	}
	if missing := requiredFields[d.cmd] &^ e.has; missing != 0 {
		return fmt.Errorf("%s missing", fieldName(missing))
	}
	d.b.events = append(d.b.events, e)
	return nil
}

// eventField parses the value of the member key of an event into e.
func (d *decoder) eventField(e *event, key []byte) error {
	var bit uint8
	var dst *int64
	switch string(key) {
	case "CallbackCommand":
		bit = fieldCommand
	case "EventType":
		bit, dst = fieldEventType, &e.eventType
	case "TaskId":
		bit = fieldTaskID
	case "TaskTime":
		bit, dst = fieldTaskTime, &e.taskTime
	case "PushPlatform":
		bit, dst = fieldPlatform, &e.platform
	case "PushStage":
		bit, dst = fieldStage, &e.stage
	case "ErrCode":
		bit, dst = fieldErrCode, &e.errCode
	default:
		return d.skip(1)
	}
	if e.has&bit != 0 {
		return fmt.Errorf("%s given twice", key)
	}
	e.has |= bit
	switch {
	case dst != nil:
		n, err := d.integer()
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		*dst = n
	case bit == fieldTaskID:
		id, err := d.stringValue()
		if err != nil {
			return fmt.Errorf("TaskId: %w", err)
		}
		e.taskID = id
	default: // CallbackCommand
		cmd, err := d.stringValue()
		if err != nil {
			return fmt.Errorf("CallbackCommand: %w", err)
		}
		if string(cmd) != commandNames[d.cmd] {
			return fmt.Errorf("CallbackCommand is not %s", commandNames[d.cmd])
		}
	}
	return nil
}

// fieldName names the lowest field of bits.
func fieldName(bits uint8) string {
	names := []string{"CallbackCommand", "EventType", "TaskId", "TaskTime", "PushPlatform", "PushStage", "ErrCode"}
	for i, n := range names {
		if bits&(1<<i) != 0 {
			return n
		}
	}
	return "a field"
}

// stringValue returns a string value, unescaped into the batch's scratch
// when it has escapes.
func (d *decoder) stringValue() ([]byte, error) {
	if d.peek() != '"' {
		return nil, errNotString
	}
	raw, escaped, err := d.str()
	if err != nil {
		return nil, err
	}
	if !escaped {
		// encoding/json would replace invalid UTF-8; a field the
		// receiver reads must be what was sent.
		if !utf8.Valid(raw) {
			return nil, errors.New("not valid UTF-8")
		}
		return raw, nil
	}
	start := len(d.b.scratch)
	out, err := unescape(raw, d.b.scratch)
	if err != nil {
		return nil, err
	}
	d.b.scratch = out
	return out[start:len(out):len(out)], nil
}

// unescape appends the JSON string content raw (escapes included, quotes
// excluded) to dst, unescaped; the rare path, through encoding/json.
func unescape(raw, dst []byte) ([]byte, error) {
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return nil, errSyntax
	}
	return append(dst, s...), nil
}

// str parses a string at pos and returns its content between the quotes,
// still escaped, and whether it has escapes. Control characters are
// refused, as JSON requires.
func (d *decoder) str() (raw []byte, escaped bool, err error) {
	if err := d.expect('"'); err != nil {
		return nil, false, err
	}
	start := d.pos
	// The common case: no escape before the closing quote, found by the
	// vectorised IndexByte; then only control characters are checked.
	if end := bytes.IndexByte(d.data[start:], '"'); end >= 0 {
		seg := d.data[start : start+end : start+end]
		if bytes.IndexByte(seg, '\\') < 0 {
			for _, c := range seg {
				if c < 0x20 {
					return nil, false, errSyntax
				}
			}
			d.pos = start + end + 1
			return seg, false, nil
		}
	}
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			raw = d.data[start:d.pos:d.pos]
			d.pos++
			return raw, escaped, nil
		case c == '\\':
			escaped = true
			if d.pos+1 >= len(d.data) {
				return nil, false, errEnd
			}
			switch d.data[d.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.pos += 2
			case 'u':
				if d.pos+6 > len(d.data) {
					return nil, false, errEnd
				}
				for _, h := range d.data[d.pos+2 : d.pos+6] {
					if !isHex(h) {
						return nil, false, errSyntax
					}
				}
				d.pos += 6
			default:
				return nil, false, errSyntax
			}
		case c < 0x20:
			return nil, false, errSyntax
		default:
			d.pos++
		}
	}
	return nil, false, errEnd
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// integer parses a JSON number that is an integer within int64: no
// fraction, no exponent.
func (d *decoder) integer() (int64, error) {
	start := d.pos
	neg := d.peek() == '-'
	if neg {
		d.pos++
	}
	digits := d.pos
	var n uint64
	for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
		if n > (1<<63)/10 {
			return 0, errors.New("integer out of range")
		}
		n = n*10 + uint64(d.data[d.pos]-'0')
		d.pos++
	}
	switch {
	case d.pos == digits:
		d.pos = start
		return 0, errNotInt
	case d.data[digits] == '0' && d.pos-digits > 1:
		return 0, errSyntax // a leading zero
	case d.pos < len(d.data) && (d.data[d.pos] == '.' || d.data[d.pos] == 'e' || d.data[d.pos] == 'E'):
		return 0, errNotInt
	case n > 1<<63 || (n == 1<<63 && !neg):
		return 0, errors.New("integer out of range")
	}
	if neg {
		return -int64(n), nil
	}
	return int64(n), nil
}

// skip parses and drops any JSON value at pos.
func (d *decoder) skip(depth int) error {
	if depth > maxDepth {
		return errDepth
	}
	switch c := d.peek(); {
	case c == '{':
		d.pos++
		more, err := d.firstMember()
		for more {
			if _, err := d.memberKey(); err != nil {
				return err
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			if more, err = d.nextMember(); err != nil {
				return err
			}
		}
		return err
	case c == '[':
		d.pos++
		d.ws()
		if d.peek() == ']' {
			d.pos++
			return nil
		}
		for {
			d.ws()
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			if more, err := d.nextElement(); !more {
				return err
			}
		}
	case c == '"':
		_, _, err := d.str()
		return err
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == 0:
		return errEnd
	}
	return errSyntax
}

// number parses any JSON number.
func (d *decoder) number() error {
	if d.peek() == '-' {
		d.pos++
	}
	switch {
	case d.peek() == '0':
		d.pos++
	case '1' <= d.peek() && d.peek() <= '9':
		d.digits()
	default:
		return errSyntax
	}
	if d.peek() == '.' {
		d.pos++
		if d.digits() == 0 {
			return errSyntax
		}
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.pos++
		if c := d.peek(); c == '+' || c == '-' {
			d.pos++
		}
		if d.digits() == 0 {
			return errSyntax
		}
	}
	return nil
}

func (d *decoder) digits() int {
	start := d.pos
	for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
		d.pos++
	}
	return d.pos - start
}

func (d *decoder) literal(lit string) error {
	if !bytes.HasPrefix(d.data[d.pos:], []byte(lit)) {
		return errSyntax
	}
	d.pos += len(lit)
	return nil
}

func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the byte at pos, 0 at the end (0 is never valid there).
func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// next returns the byte at pos and moves past it; 0 at the end.
func (d *decoder) next() byte {
	c := d.peek()
	if d.pos < len(d.data) {
		d.pos++
	}
	return c
}

func (d *decoder) expect(c byte) error {
	switch d.peek() {
	case c:
		d.pos++
		return nil
	case 0:
		return errEnd
	}
	return errSyntax
}
