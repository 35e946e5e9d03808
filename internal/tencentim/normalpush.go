package tencentim

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// NormalPushResult is the statistics of the offline pushes that one-to-one
// and group chat messages triggered within a window, as normal_push_statistics
// reports them (Tencent Chat "普通推送数据统计", Normal Push Data Statistics,
// https://trtc.io/zh/document/71897). Unlike all_member_push_statistics it
// reports no EventType.
type NormalPushResult struct {
	PushStats
	Platforms []NormalPlatformStats // in the vendor's order, as sent
	// Refused is as for PushResult.
	Refused int
}

// NormalPlatformStats is the statistics of one push channel in a
// NormalPushResult.
type NormalPlatformStats struct {
	PushPlatform int // vendor channel; see PlatformName
	PushStats
}

// normalPushRequest is the normal_push_statistics request body.
type normalPushRequest struct {
	StartTime int64 `json:"StartTime"`
	EndTime   int64 `json:"EndTime"`
}

// NormalPushStatistics calls normal_push_statistics for the window
// [start, end]. It refuses, with an apierr.Fatal error and no request sent, an
// end not after start (an empty window counts nothing) or a window longer
// than MaxStatisticsWindow ("最大支持30天内数据查询", Normal Push Data
// Statistics). The API allows 1 call/s per app: the bucket the client's
// Limiter gives for APINormalPushStatistics should have a Rate.MinGap of a
// second.
func (c *Client) NormalPushStatistics(ctx context.Context, start, end time.Time) (NormalPushResult, error) {
	// The limits are checked on the whole seconds actually sent.
	req := normalPushRequest{StartTime: start.Unix(), EndTime: end.Unix()}
	switch {
	case req.EndTime <= req.StartTime:
		return NormalPushResult{}, invalidRequest(APINormalPushStatistics, "end time not after start time")
	case req.EndTime-req.StartTime > int64(MaxStatisticsWindow/time.Second):
		return NormalPushResult{}, invalidRequest(APINormalPushStatistics, fmt.Sprintf("window of %.1f days, at most %d",
			float64(req.EndTime-req.StartTime)/86400, MaxStatisticsWindow/(24*time.Hour)))
	}
	var body normalPushBody
	if err := c.Call(ctx, APINormalPushStatistics, req, &body); err != nil {
		return NormalPushResult{}, err
	}
	return body.result, nil
}

// rawNormalPlatform is one element of PlatformStatistics.
type rawNormalPlatform struct {
	PushPlatform json.RawMessage
	rawStats
}

// normalPushBody decodes a normal_push_statistics answer. A
// PlatformStatistics that is not an array fails the decode, as a Results that
// is not one does for all_member_push_statistics: the answer is not what the
// vendor documents. Anything else odd (an element that is not an object, a
// count that is not a count) is skipped or left nil.
type normalPushBody struct {
	result NormalPushResult
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *normalPushBody) UnmarshalJSON(data []byte) error {
	var raw struct {
		rawStats
		PlatformStatistics json.RawMessage
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	items, err := arrayOf(raw.PlatformStatistics)
	if err != nil {
		return err
	}
	b.result = NormalPushResult{}
	b.result.PushStats = raw.stats(&b.result.Refused)
	for _, item := range items {
		var p rawNormalPlatform
		if !isObject(item) || json.Unmarshal(item, &p) != nil {
			continue
		}
		b.result.Platforms = append(b.result.Platforms, NormalPlatformStats{
			PushPlatform: parseCode(p.PushPlatform),
			PushStats:    p.stats(&b.result.Refused),
		})
	}
	return nil
}
