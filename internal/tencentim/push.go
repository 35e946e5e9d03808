package tencentim

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/imstats/imstats_exporter/internal/count"
)

// Limits of all_member_push_statistics (All/Tagged Users Push Data Statistics).
const (
	// MaxTaskIDsPerCall is the most TaskIDs one call may ask for.
	MaxTaskIDsPerCall = 5
	// MaxStatisticsWindow is the longest StartTime–EndTime window.
	MaxStatisticsWindow = 30 * 24 * time.Hour
)

// Count is a nullable count: nil when the vendor sent none, null, or a value
// that is not a non-negative integer (a number or a numeric string is
// accepted). A nil Count is "unknown", never 0.
type Count = *int64

// PushStats are the stages of a push: targeted, sent, delivered, clicked.
type PushStats struct {
	TotalCount     Count // "quantity that can be sent"
	SentCount      Count
	DeliveredCount Count
	ClickCount     Count
}

// PushResult is the statistics of one push task, or of all pushes when TaskID
// is empty.
type PushResult struct {
	TaskID string
	PushStats
	Platforms []PlatformStats // in the vendor's order, as sent
	// Refused is how many counts of the result and its platforms were
	// refused (a negative, fractional or non-digit value): they are nil, as
	// a null is.
	Refused int
}

// PlatformStats is the statistics of one push channel of a task.
type PlatformStats struct {
	EventType    int // 1 offline, 2 online; see EventTypeName
	PushPlatform int // vendor channel; see PlatformName
	PushStats
}

// pushStatsRequest is the all_member_push_statistics request body.
type pushStatsRequest struct {
	StartTime int64    `json:"StartTime"`
	EndTime   int64    `json:"EndTime"`
	TaskID    []string `json:"TaskID"`
}

// PushStatistics calls all_member_push_statistics for the window [start, end].
// taskIDs empty asks for the overall statistics. It refuses, with an
// apierr.Fatal error and no request sent, more than MaxTaskIDsPerCall IDs, an
// empty ID, end before start, or a window longer than MaxStatisticsWindow.
// A success without Results gives no results.
func (c *Client) PushStatistics(ctx context.Context, start, end time.Time, taskIDs []string) ([]PushResult, error) {
	// The limits are checked on the whole seconds actually sent.
	req := pushStatsRequest{StartTime: start.Unix(), EndTime: end.Unix(), TaskID: taskIDs}
	switch {
	case len(taskIDs) > MaxTaskIDsPerCall:
		return nil, invalidRequest(APIPushStatistics, fmt.Sprintf("%d task IDs, at most %d a call", len(taskIDs), MaxTaskIDsPerCall))
	case req.EndTime < req.StartTime:
		return nil, invalidRequest(APIPushStatistics, "end time before start time")
	case req.EndTime-req.StartTime > int64(MaxStatisticsWindow/time.Second):
		return nil, invalidRequest(APIPushStatistics, fmt.Sprintf("window of %.1f days, at most %d",
			float64(req.EndTime-req.StartTime)/86400, MaxStatisticsWindow/(24*time.Hour)))
	}
	for _, id := range taskIDs {
		if id == "" {
			return nil, invalidRequest(APIPushStatistics, "empty task ID")
		}
	}
	// TaskID is documented as required but "leave blank for overall
	// statistics" (All/Tagged Users Push Data Statistics): the blank is sent as an
	// empty array, never omitted and never null.
	if req.TaskID == nil {
		req.TaskID = []string{}
	}
	var body pushStatsBody
	if err := c.Call(ctx, APIPushStatistics, req, &body); err != nil {
		return nil, err
	}
	return body.results, nil
}

// rawStats holds the four counts of a result or a platform entry, undecoded.
type rawStats struct {
	TotalCount     json.RawMessage
	SentCount      json.RawMessage
	DeliveredCount json.RawMessage
	ClickCount     json.RawMessage
}

// stats decodes the four counts, adding to refused those present but
// refused (not a count by the rule of package count).
func (r rawStats) stats(refused *int) PushStats {
	return PushStats{
		TotalCount:     tallyCount(r.TotalCount, refused),
		SentCount:      tallyCount(r.SentCount, refused),
		DeliveredCount: tallyCount(r.DeliveredCount, refused),
		ClickCount:     tallyCount(r.ClickCount, refused),
	}
}

// rawResult is one element of Results. encoding/json matches names without
// regard to case, so "TaskId" (the spelling of im_push,
// 全员/标签推送) is read too.
type rawResult struct {
	TaskID json.RawMessage
	rawStats
	PlatformStatistics json.RawMessage
}

// rawPlatform is one element of PlatformStatistics.
type rawPlatform struct {
	EventType    json.RawMessage
	PushPlatform json.RawMessage
	rawStats
}

// resultItems returns the elements of an answer's Results array: nil when
// it is absent, an error when it is not an array.
func resultItems(data []byte) ([]json.RawMessage, error) {
	var raw struct {
		Results json.RawMessage
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	return arrayOf(raw.Results)
}

// pushStatsBody decodes an all_member_push_statistics answer. A Results that
// is not an array fails the decode; anything else odd inside it (an element
// that is not an object, a PlatformStatistics that is not an array, a count
// that is not a count) is skipped or left nil.
type pushStatsBody struct {
	results []PushResult
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *pushStatsBody) UnmarshalJSON(data []byte) error {
	items, err := resultItems(data)
	if err != nil {
		return err
	}
	if items != nil {
		b.results = make([]PushResult, 0, len(items))
	}
	for _, item := range items {
		var r rawResult
		if !isObject(item) || json.Unmarshal(item, &r) != nil {
			continue
		}
		taskID, _ := scalarText(r.TaskID)
		res := PushResult{TaskID: taskID}
		res.PushStats = r.stats(&res.Refused)
		platforms, _ := arrayOf(r.PlatformStatistics)
		for _, p := range platforms {
			var rp rawPlatform
			if !isObject(p) || json.Unmarshal(p, &rp) != nil {
				continue
			}
			// PushPlatform defaults to 0 (unknown) for online pushes
			// (All/Tagged Users Push Data Statistics); a missing EventType is 0
			// too and is named code_0.
			res.Platforms = append(res.Platforms, PlatformStats{
				EventType:    parseCode(rp.EventType),
				PushPlatform: parseCode(rp.PushPlatform),
				PushStats:    rp.stats(&res.Refused),
			})
		}
		b.results = append(b.results, res)
	}
	return nil
}

// tallyCount reads a count by the rule of package count: a JSON number or a
// string of digits, 0 to 2^53. Anything else is no count (nil): a negative
// or fractional value cannot be a number of messages, and publishing it
// would fake one. A value present but refused adds 1 to refused, so that the
// caller can log it.
func tallyCount(raw json.RawMessage, refused *int) Count {
	n, ok, bad := count.JSON(raw)
	if bad {
		*refused++
	}
	if !ok {
		return nil
	}
	return &n
}

// parseCode reads an enumeration code; anything unreadable is 0.
func parseCode(raw json.RawMessage) int {
	n, ok := parseInt(raw)
	if !ok || n != int64(int(n)) {
		return 0
	}
	return int(n)
}

// platformNames are the PushPlatform codes (All/Tagged Users Push Data Statistics).
var platformNames = [...]string{"unknown", "apns", "xiaomi", "huawei", "fcm", "meizu", "oppo", "vivo", "honor"}

// KnownPlatform reports whether a PushPlatform code is one the documents
// list (0 to 8).
func KnownPlatform(code int) bool { return code >= 0 && code < len(platformNames) }

// PlatformName returns the metric label of a PushPlatform code: unknown, apns,
// xiaomi, huawei, fcm, meizu, oppo, vivo, honor, or code_N for another code.
func PlatformName(code int) string {
	if code >= 0 && code < len(platformNames) {
		return platformNames[code]
	}
	return "code_" + strconv.Itoa(code)
}

// EventTypeName returns the metric label of an EventType: offline (1), online
// (2), or code_N for another value.
func EventTypeName(t int) string {
	switch t {
	case 1:
		return "offline"
	case 2:
		return "online"
	default:
		return "code_" + strconv.Itoa(t)
	}
}
