package jpush

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// Received is one message's delivery counts from received or
// received/detail.
type Received struct {
	// MsgID is the message ID as decimal text.
	MsgID string
	// Channels holds the counts by channel; see ReceivedDetail for the names.
	Channels map[string]SentReceived
	// Refused is how many counts of the entry were refused (see
	// Message.Refused).
	Refused int
}

// SentReceived is a channel's pair of counts; either may be nil.
type SentReceived struct {
	Sent, Received Count
}

// ReceivedDetail calls GET /v3/received/detail for up to MaxMsgIDsPerCall
// messages. Every "<channel>_sent" and "<channel>_received" field of an entry
// becomes channel <channel>: jpush_received → "jpush", android_pns_sent →
// "android_pns", quickapp_jpush_received → "quickapp_jpush", and any channel
// JPush adds later. No msgIDs means no request and no result.
func (c *Client) ReceivedDetail(ctx context.Context, msgIDs []string) ([]Received, error) {
	return c.received(ctx, APIReceivedDetail, msgIDs)
}

// Received calls the legacy GET /v3/received, which JPush's "REST API v3 Report"
// page says is no longer maintained; its android_received field becomes channel "android".
// Otherwise it behaves as ReceivedDetail.
func (c *Client) Received(ctx context.Context, msgIDs []string) ([]Received, error) {
	return c.received(ctx, APIReceived, msgIDs)
}

func (c *Client) received(ctx context.Context, api string, msgIDs []string) ([]Received, error) {
	if err := checkIDs(api, "msg_ids", msgIDs, MaxMsgIDsPerCall); err != nil || len(msgIDs) == 0 {
		return nil, err
	}
	var out []Received
	err := c.do(ctx, api, http.MethodGet, idQuery("msg_ids", msgIDs), nil, func(body []byte) (err error) {
		out, err = decodeReceived(body)
		return err
	})
	return out, err
}

// decodeReceived decodes a received or received/detail answer: a JSON array
// of objects. Entries that are not objects or lack a usable msg_id are
// dropped.
func decodeReceived(body []byte) ([]Received, error) {
	var rows []json.RawMessage
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, err
	}
	out := make([]Received, 0, len(rows))
	for _, raw := range rows {
		row := object(raw)
		id, ok := parseID(row["msg_id"])
		if !ok {
			continue
		}
		r := Received{MsgID: id, Channels: map[string]SentReceived{}}
		d := &decoder{}
		for key, value := range row {
			if ch, ok := strings.CutSuffix(key, "_sent"); ok && ch != "" {
				sr := r.Channels[ch]
				sr.Sent = d.count(value)
				r.Channels[ch] = sr
			} else if ch, ok := strings.CutSuffix(key, "_received"); ok && ch != "" {
				sr := r.Channels[ch]
				sr.Received = d.count(value)
				r.Channels[ch] = sr
			}
		}
		r.Refused = d.refused
		out = append(out, r)
	}
	return out, nil
}
