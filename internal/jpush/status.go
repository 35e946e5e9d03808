package jpush

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"
)

// The delivery states of status/message (JPush "REST API v3 Report", status 含义).
const (
	StatusDelivered    = 0 // 送达
	StatusNotDelivered = 1 // 未送达
	StatusNotInApp     = 2 // registration_id 不属于该应用
	StatusNotTargeted  = 3 // 属于该应用,但不是该条 message 的推送目标
	StatusSystemError  = 4 // 系统异常
)

// StatusName returns the metric label of a status/message status code:
// delivered, not_delivered, not_in_app, not_targeted, system_error, or code_N
// for a code the documentation does not list.
func StatusName(code int) string {
	switch code {
	case StatusDelivered:
		return "delivered"
	case StatusNotDelivered:
		return "not_delivered"
	case StatusNotInApp:
		return "not_in_app"
	case StatusNotTargeted:
		return "not_targeted"
	case StatusSystemError:
		return "system_error"
	default:
		return "code_" + strconv.Itoa(code)
	}
}

// ReportLocation returns the zone of the Report API's days: China Standard
// Time, UTC+8 all year (Asia/Shanghai, which has had no daylight saving time
// since 1991), as a fixed zone so that it needs no time zone database.
func ReportLocation() *time.Location { return time.FixedZone("CST", 8*60*60) }

// StatusDate returns the date to ask status/message about for a message sent
// at sent: the start of that day in loc, the vendor's day (ReportLocation
// when loc is nil). status/message answers about one day, the current one
// when no date is given (JPush "REST API v3 Report", 送达状态查询: date 可选。
// 查询的指定日期,格式为 yyyy-mm-dd,默认为当天), so a message sent on an
// earlier day must be asked about with the day it was sent. A zero sent gives
// a zero date, which StatusMessage omits.
func StatusDate(sent time.Time, loc *time.Location) time.Time {
	if sent.IsZero() {
		return time.Time{}
	}
	if loc == nil {
		loc = ReportLocation()
	}
	y, m, d := sent.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// StatusMessage calls POST /v3/status/message: the delivery status of one
// message on up to MaxRegistrationIDsPerCall devices, keyed by registration
// ID. A zero date omits the parameter (the API then uses the current day);
// otherwise it is sent as YYYY-MM-DD in date's location (see StatusDate). No
// registration IDs means no request and no result.
func (c *Client) StatusMessage(ctx context.Context, msgID string, registrationIDs []string, date time.Time) (map[string]int, error) {
	if msgID == "" {
		return nil, refuse(APIStatusMessage, "empty msg_id")
	}
	if len(registrationIDs) > MaxRegistrationIDsPerCall {
		return nil, refuse(APIStatusMessage, "%d registration_ids in one call, the API allows at most %d", len(registrationIDs), MaxRegistrationIDsPerCall)
	}
	if len(registrationIDs) == 0 {
		return nil, nil
	}
	req := struct {
		MsgID           json.RawMessage `json:"msg_id"`
		RegistrationIDs []string        `json:"registration_ids"`
		Date            string          `json:"date,omitempty"`
	}{MsgID: msgIDJSON(msgID), RegistrationIDs: registrationIDs}
	if !date.IsZero() {
		req.Date = date.Format(time.DateOnly)
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return nil, refuse(APIStatusMessage, "cannot encode the request: %v", err)
	}
	var out map[string]int
	err = c.do(ctx, APIStatusMessage, http.MethodPost, "", payload, func(body []byte) (err error) {
		out, err = decodeStatus(body)
		return err
	})
	return out, err
}

// msgIDJSON renders a msg_id the way the request sample of
// JPush's "REST API v3 Report" page does ("msg_id": 327640176): a JSON number when it is an integer that fits an
// int64 with no leading zero, else a JSON string.
func msgIDJSON(id string) json.RawMessage {
	if allDigits(id) && (id == "0" || id[0] != '0') {
		if _, err := strconv.ParseInt(id, 10, 64); err == nil {
			return json.RawMessage(id)
		}
	}
	quoted, _ := json.Marshal(id) // a string always encodes
	return quoted
}

// decodeStatus decodes a status/message answer: an object keyed by
// registration ID whose values are {"status": N}. Entries without an integer
// status are dropped.
func decodeStatus(body []byte) (map[string]int, error) {
	var rows map[string]json.RawMessage
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, err
	}
	out := make(map[string]int, len(rows))
	for id, raw := range rows {
		n := parseCount(object(raw)["status"])
		if n == nil || *n < math.MinInt32 || *n > math.MaxInt32 {
			continue
		}
		out[id] = int(*n)
	}
	return out, nil
}
