package jpush

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// Message is one message's delivery funnel from messages/detail or
// group/messages/detail.
type Message struct {
	// MsgID is the msg_id (or the group_msgid) as text.
	MsgID string
	// Types holds a funnel per message type, sorted by Type.
	Types []TypeFunnel
}

// TypeFunnel is the funnel of one message type.
type TypeFunnel struct {
	// Type is notification, message or inapp (or a type JPush adds later).
	Type string
	// Funnel is the type's total; all nil when only the legacy shape was sent.
	Funnel
	// Channels holds a funnel per platform and channel, sorted.
	Channels []ChannelFunnel
}

// ChannelFunnel is the funnel of one delivery channel of a platform.
type ChannelFunnel struct {
	// Platform is android, ios, quickapp or winphone (or, lower-cased, one
	// JPush adds later).
	Platform string
	// Channel is the channel in snake_case: xiaomi, jg_android, apns, …
	Channel string
	Funnel
}

// Funnel is the life cycle of a message (jpush-report-api-v3.txt, 消息生命周期状态定义):
// valid targets, sent, received by the device, displayed, clicked. Any stage
// may be nil.
type Funnel struct {
	Target, Sent, Received, Display, Click Count
}

// MessagesDetail calls GET /v3/messages/detail (VIP only; a free account gets
// an apierr.Unavailable) for up to MaxMsgIDsPerCall messages. An entry is read
// from its details block (the metrics since 2021-09-01), or else from the
// legacy blocks, mapped onto the same structure as documented on legacyTypes.
// No msgIDs means no request and no result.
func (c *Client) MessagesDetail(ctx context.Context, msgIDs []string) ([]Message, error) {
	return c.messages(ctx, APIMessagesDetail, "msg_ids", msgIDs, MaxMsgIDsPerCall, "msg_id")
}

// GroupMessagesDetail calls GET /v3/group/messages/detail (VIP only) for up to
// MaxGroupMsgIDsPerCall group messages; Message.MsgID is the group_msgid. The
// client must be built with the group credential ("group-" + group_key).
func (c *Client) GroupMessagesDetail(ctx context.Context, groupMsgIDs []string) ([]Message, error) {
	// jpush-report-api-v3.txt: its sample names the answer's ID group_msgid,
	// its parameter list group_msgids; both are read, msg_id as a last resort.
	return c.messages(ctx, APIGroupMessagesDetail, "group_msgids", groupMsgIDs, MaxGroupMsgIDsPerCall, "group_msgid", "group_msgids", "msg_id")
}

func (c *Client) messages(ctx context.Context, api, param string, ids []string, max int, idKeys ...string) ([]Message, error) {
	if err := checkIDs(api, param, ids, max); err != nil || len(ids) == 0 {
		return nil, err
	}
	var out []Message
	err := c.do(ctx, api, http.MethodGet, idQuery(param, ids), nil, func(body []byte) (err error) {
		out, err = decodeMessages(body, idKeys...)
		return err
	})
	return out, err
}

// decodeMessages decodes a messages/detail or group/messages/detail answer: a
// JSON array of objects, each identified by the first of idKeys present.
// Entries that are not objects or lack a usable ID are dropped.
//
// An entry is read from its "details" block (the metrics introduced on
// 2021-09-01) when that block yields a type; otherwise from the legacy blocks,
// which older messages and group/messages/detail carry (see legacyTypes).
func decodeMessages(body []byte, idKeys ...string) ([]Message, error) {
	var rows []json.RawMessage
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(rows))
	for _, raw := range rows {
		row := object(raw)
		var id string
		var ok bool
		for _, k := range idKeys {
			if id, ok = parseID(row[k]); ok {
				break
			}
		}
		if !ok {
			continue
		}
		types := detailTypes(object(row["details"]))
		if len(types) == 0 {
			types = legacyTypes(row)
		}
		out = append(out, Message{MsgID: id, Types: types})
	}
	return out, nil
}

// funnelOf reads the five stages from m, each key being prefix + stage name.
func funnelOf(m map[string]json.RawMessage, prefix string) Funnel {
	return Funnel{
		Target:   parseCount(m[prefix+"target"]),
		Sent:     parseCount(m[prefix+"sent"]),
		Received: parseCount(m[prefix+"received"]),
		Display:  parseCount(m[prefix+"display"]),
		Click:    parseCount(m[prefix+"click"]),
	}
}

// platformOf maps a "sub<Platform>" key of a details type to its platform:
// subAndroid → android, subios → ios, subquickapp → quickapp.
// jpush-report-api-v3.txt spells the quick-app block subqicukapp; that
// spelling maps to quickapp too.
func platformOf(key string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.ToLower(key), "sub")
	if !ok {
		return "", false
	}
	if rest == "qicukapp" {
		return "quickapp", true
	}
	rest = snakeCase(rest)
	return rest, rest != ""
}

// sortedKeys returns m's keys in order, so that output and tie-breaking do not
// depend on map iteration.
func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// detailTypes reads a "details" block: one object per message type, holding
// the type's total funnel and a "sub<Platform>" object per platform, which
// holds a funnel per channel keyed in camelCase (jgAndroid, quickXiaomi).
// Counts may be null. When two keys name the same type or platform and
// channel (subqicukapp and subquickapp both holding quickJg), the first in key
// order wins.
func detailTypes(details map[string]json.RawMessage) []TypeFunnel {
	var types []TypeFunnel
	for _, typeKey := range sortedKeys(details) {
		block := object(details[typeKey])
		typ := snakeCase(typeKey)
		if block == nil || typ == "" || slices.ContainsFunc(types, func(t TypeFunnel) bool { return t.Type == typ }) {
			continue
		}
		tf := TypeFunnel{Type: typ, Funnel: funnelOf(block, "")}
		for _, subKey := range sortedKeys(block) {
			platform, ok := platformOf(subKey)
			if !ok {
				continue
			}
			channels := object(block[subKey])
			for _, chKey := range sortedKeys(channels) {
				ch := object(channels[chKey])
				name := snakeCase(chKey)
				if ch == nil || name == "" {
					continue
				}
				tf.Channels = appendChannel(tf.Channels, ChannelFunnel{Platform: platform, Channel: name, Funnel: funnelOf(ch, "")})
			}
		}
		sortChannels(tf.Channels)
		types = append(types, tf)
	}
	slices.SortFunc(types, func(a, b TypeFunnel) int { return cmp.Compare(a.Type, b.Type) })
	return types
}

// appendChannel appends cf unless its platform and channel are already there.
func appendChannel(list []ChannelFunnel, cf ChannelFunnel) []ChannelFunnel {
	if slices.ContainsFunc(list, func(x ChannelFunnel) bool { return x.Platform == cf.Platform && x.Channel == cf.Channel }) {
		return list
	}
	return append(list, cf)
}

func sortChannels(list []ChannelFunnel) {
	slices.SortFunc(list, func(a, b ChannelFunnel) int {
		return cmp.Or(cmp.Compare(a.Platform, b.Platform), cmp.Compare(a.Channel, b.Channel))
	})
}

// legacyVendors names the android_pns "<x>_detail" blocks; an unknown one is
// named by its prefix in snake_case.
var legacyVendors = map[string]string{
	"xm":   "xiaomi",
	"hw":   "huawei",
	"mz":   "meizu",
	"oppo": "oppo",
	"vivo": "vivo",
	"fcm":  "fcm",
}

// legacyTypes maps the metrics JPush reported before 2021-09-01 (and still
// reports for group/messages/detail) onto the details structure. From
// jpush-report-api-v3.txt (2021.09.01前旧体系指标 and the group sample):
//
//   - notification, android/jpush: the jpush block's target, sent, received,
//     display and click; its online_push is ignored (该字段2021.09.01失效).
//   - notification, android/<vendor>: android_pns.<x>_detail's stages
//     (documented: target, sent, received, display; xm → xiaomi, hw →
//     huawei, mz → meizu, oppo, vivo, fcm, any other <x> as is).
//   - notification, ios/apns: ios.apns_{target,sent,received,display,click}.
//   - notification, winphone/mpns: winphone.mpns_target, mpns_sent, click.
//   - notification, quickapp/quick_jg: quickapp_jpush's target, received,
//     click (the Jiguang channel of quick apps, quickJg in details).
//   - message, ios/jg_ios: ios.msg_{target,received,display,click} (and
//     msg_sent, should it appear).
//   - message, android/jpush: jpush.msg_click as click.
//   - message, quickapp/quick_jg: quickapp_jpush.msg_click as click.
//
// The android_pns.pns_* and quickapp_pns.pns_* totals cover the vendor
// channels only, so they are neither a type total nor one channel: they are
// not read, and every legacy TypeFunnel's own Funnel is all nil. A block that
// is absent yields no channel; a present block with null counts yields a
// channel with nil counts.
func legacyTypes(row map[string]json.RawMessage) []TypeFunnel {
	var notification, message []ChannelFunnel
	if jp := object(row["jpush"]); jp != nil {
		notification = append(notification, ChannelFunnel{Platform: "android", Channel: "jpush", Funnel: funnelOf(jp, "")})
		if raw, ok := jp["msg_click"]; ok {
			message = append(message, ChannelFunnel{Platform: "android", Channel: "jpush", Funnel: Funnel{Click: parseCount(raw)}})
		}
	}
	pns := object(row["android_pns"])
	for _, key := range sortedKeys(pns) {
		prefix, ok := strings.CutSuffix(key, "_detail")
		detail := object(pns[key])
		if !ok || detail == nil {
			continue
		}
		name, known := legacyVendors[prefix]
		if !known {
			name = snakeCase(prefix)
		}
		if name == "" {
			continue
		}
		notification = appendChannel(notification, ChannelFunnel{Platform: "android", Channel: name, Funnel: funnelOf(detail, "")})
	}
	if ios := object(row["ios"]); ios != nil {
		if hasPrefix(ios, "apns_") {
			notification = append(notification, ChannelFunnel{Platform: "ios", Channel: "apns", Funnel: funnelOf(ios, "apns_")})
		}
		if hasPrefix(ios, "msg_") {
			message = append(message, ChannelFunnel{Platform: "ios", Channel: "jg_ios", Funnel: funnelOf(ios, "msg_")})
		}
	}
	if wp := object(row["winphone"]); wp != nil {
		notification = append(notification, ChannelFunnel{Platform: "winphone", Channel: "mpns", Funnel: Funnel{
			Target: parseCount(wp["mpns_target"]),
			Sent:   parseCount(wp["mpns_sent"]),
			Click:  parseCount(wp["click"]),
		}})
	}
	if qa := object(row["quickapp_jpush"]); qa != nil {
		notification = append(notification, ChannelFunnel{Platform: "quickapp", Channel: "quick_jg", Funnel: Funnel{
			Target:   parseCount(qa["target"]),
			Received: parseCount(qa["received"]),
			Click:    parseCount(qa["click"]),
		}})
		if raw, ok := qa["msg_click"]; ok {
			message = append(message, ChannelFunnel{Platform: "quickapp", Channel: "quick_jg", Funnel: Funnel{Click: parseCount(raw)}})
		}
	}
	var types []TypeFunnel
	if len(message) > 0 {
		sortChannels(message)
		types = append(types, TypeFunnel{Type: "message", Channels: message})
	}
	if len(notification) > 0 {
		sortChannels(notification)
		types = append(types, TypeFunnel{Type: "notification", Channels: notification})
	}
	return types
}

// hasPrefix reports whether any key of m starts with prefix.
func hasPrefix(m map[string]json.RawMessage, prefix string) bool {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}
