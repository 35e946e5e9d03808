package tencentim

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imstats/imstats_exporter/internal/count"
)

// MaxLossWindow is the longest StartTime–EndTime window of the push loss
// APIs: "最大支持7天内数据查询" (Tencent Chat "All/Tagged Users Push Loss
// Analysis", https://intl.cloud.tencent.com/document/product/1047/71895, and
// "Chat Service Push Loss Analysis", …/71898).
const MaxLossWindow = 7 * 24 * time.Hour

// LossEntry is one element of a loss array: how many pushes were lost for one
// error code, on one channel for the Platform… arrays.
type LossEntry struct {
	// EventType is 1 offline or 2 online (see EventTypeName); 0 where the
	// API reports none (the totals, and every entry of normal_push_loss).
	EventType int
	// PushPlatform is the vendor channel (see PlatformName); 0 in the totals.
	PushPlatform int
	// Code is ErrCode as a short token: a number is written in decimal.
	Code string
	// Count is ErrCount, a count by the rule of package count.
	Count int64
	// Info is ErrInfo, the vendor's text, as sent; the caller sanitises it
	// before it shows it anywhere.
	Info string
}

// LossReport is the loss analysis of one push task, of all pushes of a window
// (TaskID empty), or of the chat-message pushes of a window
// (normal_push_loss). Entries are in the vendor's order.
type LossReport struct {
	TaskID string
	// NotSent is ReadyToSendLoss: pushes lost before they were sent
	// (e.g. "Certificate id not set", "token not uploaded").
	NotSent []LossEntry
	// NotDelivered is PostSendDeliveredLoss: pushes sent and not delivered
	// (e.g. "regid_invalid", "Unregistered").
	NotDelivered []LossEntry
	// PlatformNotSent and PlatformNotDelivered are the same per channel
	// (PlatformReadyToSendLoss, PlatformPostSendDeliveredLoss).
	PlatformNotSent      []LossEntry
	PlatformNotDelivered []LossEntry
	// Skipped counts the entries left out because their ErrCode is not a
	// short token or their ErrCount is not a count (package count: a
	// negative, fractional or non-digit value, or none).
	Skipped int
}

// checkLossWindow refuses a window the loss APIs forbid, on the whole seconds
// actually sent.
func checkLossWindow(api string, start, end int64) error {
	switch {
	case end <= start:
		return invalidRequest(api, "end time not after start time")
	case end-start > int64(MaxLossWindow/time.Second):
		return invalidRequest(api, fmt.Sprintf("window of %.1f days, at most %d",
			float64(end-start)/86400, MaxLossWindow/(24*time.Hour)))
	}
	return nil
}

// PushLoss calls all_member_push_loss for the window [start, end]: the
// losses of each of taskIDs, or of all pushes when taskIDs is empty
// (All/Tagged Users Push Loss Analysis: "为空时表示整体统计"). It refuses,
// with an apierr.Fatal error and no request sent, more than
// MaxTaskIDsPerCall IDs, an empty ID, an end not after start or a window
// longer than MaxLossWindow. The API allows 1 call/s per app: the bucket the
// client's Limiter gives for APIPushLoss should have a Rate.MinGap of a
// second. Results that are not objects are skipped.
func (c *Client) PushLoss(ctx context.Context, start, end time.Time, taskIDs []string) ([]LossReport, error) {
	// The request has the shape of all_member_push_statistics'.
	req := pushStatsRequest{StartTime: start.Unix(), EndTime: end.Unix(), TaskID: taskIDs}
	if len(taskIDs) > MaxTaskIDsPerCall {
		return nil, invalidRequest(APIPushLoss, fmt.Sprintf("%d task IDs, at most %d a call", len(taskIDs), MaxTaskIDsPerCall))
	}
	if err := checkLossWindow(APIPushLoss, req.StartTime, req.EndTime); err != nil {
		return nil, err
	}
	for _, id := range taskIDs {
		if id == "" {
			return nil, invalidRequest(APIPushLoss, "empty task ID")
		}
	}
	var body pushLossBody
	// TaskID is required, empty for the overall statistics: sent as [],
	// never omitted.
	if req.TaskID == nil {
		req.TaskID = []string{}
	}
	if err := c.Call(ctx, APIPushLoss, req, &body); err != nil {
		return nil, err
	}
	return body.reports, nil
}

// NormalPushLoss calls normal_push_loss for the window [start, end]: the
// losses of the offline pushes of one-to-one and group chat messages (Chat
// Service Push Loss Analysis). It refuses, with an apierr.Fatal error and no
// request sent, an end not after start or a window longer than
// MaxLossWindow. The API allows 1 call/s per app, on a budget of its own.
func (c *Client) NormalPushLoss(ctx context.Context, start, end time.Time) (LossReport, error) {
	req := normalPushRequest{StartTime: start.Unix(), EndTime: end.Unix()}
	if err := checkLossWindow(APINormalPushLoss, req.StartTime, req.EndTime); err != nil {
		return LossReport{}, err
	}
	var body normalLossBody
	if err := c.Call(ctx, APINormalPushLoss, req, &body); err != nil {
		return LossReport{}, err
	}
	return body.report, nil
}

// rawLoss holds the four loss arrays of a result, undecoded.
type rawLoss struct {
	ReadyToSendLoss               json.RawMessage
	PostSendDeliveredLoss         json.RawMessage
	PlatformReadyToSendLoss       json.RawMessage
	PlatformPostSendDeliveredLoss json.RawMessage
}

// has reports whether any of the four arrays is there.
func (r rawLoss) has() bool {
	return len(r.ReadyToSendLoss)+len(r.PostSendDeliveredLoss)+len(r.PlatformReadyToSendLoss)+len(r.PlatformPostSendDeliveredLoss) > 0
}

// report decodes the four arrays. An array that is absent, null or not an
// array gives no entries; a bad entry is counted in Skipped.
func (r rawLoss) report(taskID string) LossReport {
	rep := LossReport{TaskID: taskID}
	rep.NotSent = rep.entries(r.ReadyToSendLoss)
	rep.NotDelivered = rep.entries(r.PostSendDeliveredLoss)
	rep.PlatformNotSent = rep.entries(r.PlatformReadyToSendLoss)
	rep.PlatformNotDelivered = rep.entries(r.PlatformPostSendDeliveredLoss)
	return rep
}

// rawLossEntry is one element of a loss array.
type rawLossEntry struct {
	EventType    json.RawMessage
	PushPlatform json.RawMessage
	ErrCode      json.RawMessage
	ErrCount     json.RawMessage
	ErrInfo      json.RawMessage
}

// entries decodes one loss array, counting the entries it leaves out.
func (rep *LossReport) entries(raw json.RawMessage) []LossEntry {
	items, err := arrayOf(raw)
	if err != nil {
		rep.Skipped++ // a whole array of the wrong type
		return nil
	}
	var out []LossEntry
	for _, item := range items {
		var e rawLossEntry
		if !isObject(item) || json.Unmarshal(item, &e) != nil {
			rep.Skipped++
			continue
		}
		code, okCode := lossCode(e.ErrCode)
		n, okCount, _ := count.JSON(e.ErrCount)
		if !okCode || !okCount {
			rep.Skipped++
			continue
		}
		info, _ := scalarText(e.ErrInfo)
		out = append(out, LossEntry{
			EventType:    parseCode(e.EventType),
			PushPlatform: parseCode(e.PushPlatform),
			Code:         code,
			Count:        n,
			Info:         info,
		})
	}
	return out
}

// lossCodePattern is what an ErrCode must look like to become a label value:
// a short token, such as "-1", "410" or "80300007".
var lossCodePattern = regexp.MustCompile(`^-?[0-9A-Za-z_.]{1,32}$`)

// lossCode reads an ErrCode. The pages document a string ("-1"); a JSON
// integer is accepted too and written in decimal, so that 410 and "410" are
// one code. Anything that is not a short token is no code.
func lossCode(raw json.RawMessage) (string, bool) {
	s, ok := scalarText(raw)
	if !ok {
		return "", false
	}
	if t := strings.TrimSpace(string(raw)); t != "" && t[0] != '"' {
		// A JSON number (or boolean): only an integer is a code.
		n, ok := parseInt(raw)
		if !ok {
			return "", false
		}
		return strconv.FormatInt(n, 10), true
	}
	s = strings.TrimSpace(s)
	if !lossCodePattern.MatchString(s) {
		return "", false
	}
	return s, true
}

// pushLossBody decodes an all_member_push_loss answer. A Results that is not
// an array fails the decode, as for all_member_push_statistics.
type pushLossBody struct {
	reports []LossReport
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *pushLossBody) UnmarshalJSON(data []byte) error {
	items, err := resultItems(data)
	if err != nil {
		return err
	}
	if items != nil {
		b.reports = make([]LossReport, 0, len(items))
	}
	for _, item := range items {
		var r struct {
			TaskID json.RawMessage
			rawLoss
		}
		if !isObject(item) || json.Unmarshal(item, &r) != nil {
			continue
		}
		taskID, _ := scalarText(r.TaskID)
		b.reports = append(b.reports, r.report(taskID))
	}
	return nil
}

// normalLossBody decodes a normal_push_loss answer. The page's sample puts
// the four arrays in an object without a key, which is not JSON (Chat
// Service Push Loss Analysis): the arrays are read at the top level and, when
// none is there, inside the first member that is an object holding any of
// them, whatever its key.
type normalLossBody struct {
	report LossReport
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *normalLossBody) UnmarshalJSON(data []byte) error {
	var top rawLoss
	if err := json.Unmarshal(data, &top); err != nil {
		return err
	}
	if top.has() {
		b.report = top.report("")
		return nil
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return err
	}
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	// Map order is random; the answer's nested object is normally the
	// only one, and sorting keeps the choice stable when it is not.
	slices.Sort(keys)
	for _, k := range keys {
		v := members[k]
		var nested rawLoss
		if !isObject(v) || json.Unmarshal(v, &nested) != nil || !nested.has() {
			continue
		}
		b.report = nested.report("")
		return nil
	}
	return nil
}
