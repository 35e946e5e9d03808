package jpush

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// The label values of the message types, platforms and channels the mapping
// gives beyond the vendor's own keys. JPush's "REST API v3 Report" page
// defines the blocks they come from (2021.09.01前旧体系指标, the
// group/messages/detail answer, the received/detail fields).
const (
	// TypeNotification, TypeMessage and TypeInApp are the details types
	// notification, message and inapp.
	TypeNotification = "notification"
	TypeMessage      = "message"
	TypeInApp        = "inapp"
	// TypeNotificationAndMessage is a count the vendor gives for
	// notifications and custom messages together: the jpush block, "普通Android
	// 用户通知/自定义消息 以及 iOS用户自定义消息".
	TypeNotificationAndMessage = "notification_and_message"
	// TypeAll is a count the vendor does not split by type at all: the
	// vendor channels of android_pns and quickapp_pns, quickapp_jpush's
	// targets and receipts.
	TypeAll = "all"

	// PlatformAndroid, PlatformIOS, PlatformQuickApp and PlatformWinPhone
	// are the platforms of the details sub-blocks and of the legacy blocks.
	PlatformAndroid  = "android"
	PlatformIOS      = "ios"
	PlatformQuickApp = "quickapp"
	PlatformWinPhone = "winphone"
	// PlatformAndroidAndIOS is a count over Android and iOS together: the
	// legacy jpush block, jpush_received.
	PlatformAndroidAndIOS = "android_and_ios"

	// ChannelJPush is JPush's own channel (极光通道) on every platform and
	// in both shapes: details' jgAndroid, jgIos and quickJg, the legacy
	// jpush and quickapp_jpush blocks, ios.msg_* (iOS custom messages go
	// through the JPush channel, the jpush block's definition says).
	ChannelJPush = "jpush"
	// ChannelPNS is the vendor channels (厂商通道) of a platform together:
	// android_pns.pns_*, quickapp_pns.
	ChannelPNS = "pns"
)

// Message is one message's delivery funnel from messages/detail or
// group/messages/detail.
type Message struct {
	// MsgID is the msg_id (or the group_msgid) as text.
	MsgID string
	// Types holds a funnel per message type, sorted by Type.
	Types []TypeFunnel
	// Refused is how many counts of the entry were refused (a negative,
	// fractional or non-digit value): they are nil, as a null is.
	Refused int
}

// TypeFunnel is the funnel of one message type.
type TypeFunnel struct {
	// Type is notification, message or inapp (or a type JPush adds later),
	// or for the legacy shape also TypeNotificationAndMessage or TypeAll.
	Type string
	// Funnel is the type's total; all nil when only the legacy shape was sent.
	Funnel
	// Channels holds a funnel per platform and channel, sorted.
	Channels []ChannelFunnel
}

// ChannelFunnel is the funnel of one delivery channel of a platform.
type ChannelFunnel struct {
	// Platform is android, ios, quickapp or winphone (or, lower-cased, one
	// JPush adds later), or PlatformAndroidAndIOS.
	Platform string
	// Channel is the channel in snake_case: xiaomi, jpush, apns, pns, …
	Channel string
	// Combined marks a count the vendor reports over several channels or
	// platforms at once that includes counts of other ChannelFunnels of the
	// same message: the legacy jpush block (it includes ios.msg_*) and
	// android_pns.pns_* (the sum of the <x>_detail channels). Adding it to
	// them would count deliveries twice.
	Combined bool
	Funnel
}

// Funnel is the life cycle of a message (JPush "REST API v3 Report",
// 消息生命周期状态定义): valid targets, sent, received by the device,
// displayed, clicked. Any stage may be nil.
type Funnel struct {
	Target, Sent, Received, Display, Click Count
}

// MessagesDetail calls GET /v3/messages/detail (VIP only; a free account gets
// an apierr.Unavailable) for up to MaxMsgIDsPerCall messages. An entry is read
// from its details block (the metrics since 2021-09-01) and its winphone
// block, or else from the legacy blocks, mapped as documented on legacyTypes.
// No msgIDs means no request and no result.
func (c *Client) MessagesDetail(ctx context.Context, msgIDs []string) ([]Message, error) {
	return c.messages(ctx, APIMessagesDetail, "msg_ids", msgIDs, MaxMsgIDsPerCall, "msg_id")
}

// Messages calls the old GET /v3/messages for up to MaxMsgIDsPerCall
// messages: 消息统计, VIP only and "此接口后期不再维护" (no longer
// maintained, JPush "REST API v3 Report"), for an account that has it but
// not /messages/detail. Each entry's android, ios and winphone blocks are mapped
// as documented on oldMessageTypes.
func (c *Client) Messages(ctx context.Context, msgIDs []string) ([]Message, error) {
	if err := checkIDs(APIMessages, "msg_ids", msgIDs, MaxMsgIDsPerCall); err != nil || len(msgIDs) == 0 {
		return nil, err
	}
	var out []Message
	err := c.do(ctx, APIMessages, http.MethodGet, idQuery("msg_ids", msgIDs), nil, func(body []byte) error {
		var rows []json.RawMessage
		if err := json.Unmarshal(body, &rows); err != nil {
			return err
		}
		out = make([]Message, 0, len(rows))
		for _, raw := range rows {
			row := object(raw)
			if id, ok := parseID(row["msg_id"]); ok {
				d := &decoder{}
				types := d.oldMessageTypes(row)
				out = append(out, Message{MsgID: id, Types: types, Refused: d.refused})
			}
		}
		return nil
	})
	return out, err
}

// oldMessageTypes maps an entry of the old /messages answer (JPush "REST API
// v3 Report", 消息统计(VIP 专属接口,旧)) to the funnels /messages/detail
// gives, where the fields' definitions correspond:
//
//   - android.{target,received} (推送目标数, 推送送达数; every channel, both
//     types): type all, platform android, channel all, as /received's
//     android_received;
//   - android.click (用户点击数): type notification; android.msg_click
//     (自定义消息点击数): type message; both android / all;
//   - ios.{apns_target,apns_sent,apns_received,click} (APNs 通知): type
//     notification, ios, apns, as the old ios.apns_* of /messages/detail;
//   - ios.{target,received,msg_click} (自定义消息目标数, 送达数, 点击数): type
//     message, ios, jpush, as ios.msg_*;
//   - winphone.{mpns_target,mpns_sent,click}: notification, winphone, mpns.
//
// android.online_push (在线推送数) is not read: no funnel stage is that count
// (see legacyTypes). No count is a type total.
func (d *decoder) oldMessageTypes(row map[string]json.RawMessage) []TypeFunnel {
	var types []TypeFunnel
	if a := object(row["android"]); a != nil {
		types = addChannel(types, TypeAll, ChannelFunnel{Platform: PlatformAndroid, Channel: "all", Funnel: Funnel{
			Target: d.count(a["target"]), Received: d.count(a["received"]),
		}})
		if raw, ok := a["click"]; ok {
			types = addChannel(types, TypeNotification, ChannelFunnel{Platform: PlatformAndroid, Channel: "all", Funnel: Funnel{Click: d.count(raw)}})
		}
		if raw, ok := a["msg_click"]; ok {
			types = addChannel(types, TypeMessage, ChannelFunnel{Platform: PlatformAndroid, Channel: "all", Funnel: Funnel{Click: d.count(raw)}})
		}
	}
	if ios := object(row["ios"]); ios != nil {
		if hasPrefix(ios, "apns_") || ios["click"] != nil {
			types = addChannel(types, TypeNotification, ChannelFunnel{Platform: PlatformIOS, Channel: "apns", Funnel: Funnel{
				Target: d.count(ios["apns_target"]), Sent: d.count(ios["apns_sent"]),
				Received: d.count(ios["apns_received"]), Click: d.count(ios["click"]),
			}})
		}
		if ios["target"] != nil || ios["received"] != nil || ios["msg_click"] != nil {
			types = addChannel(types, TypeMessage, ChannelFunnel{Platform: PlatformIOS, Channel: ChannelJPush, Funnel: Funnel{
				Target: d.count(ios["target"]), Received: d.count(ios["received"]), Click: d.count(ios["msg_click"]),
			}})
		}
	}
	if wp, ok := d.winphone(row); ok {
		types = addChannel(types, TypeNotification, wp)
	}
	return types
}

// GroupMessagesDetail calls GET /v3/group/messages/detail (VIP only) for up to
// MaxGroupMsgIDsPerCall group messages; Message.MsgID is the group_msgid. The
// client must be built with the group credential ("group-" + group_key).
func (c *Client) GroupMessagesDetail(ctx context.Context, groupMsgIDs []string) ([]Message, error) {
	// JPush "REST API v3 Report": its sample names the answer's ID group_msgid,
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
// which older messages and group/messages/detail carry (see legacyTypes). The
// details block has no Windows Phone platform, so the legacy winphone block is
// read in both cases.
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
		d := &decoder{}
		types := d.detailTypes(object(row["details"]))
		if len(types) == 0 {
			types = d.legacyTypes(row)
		} else if wp, ok := d.winphone(row); ok {
			types = addChannel(types, TypeNotification, wp)
		}
		out = append(out, Message{MsgID: id, Types: types, Refused: d.refused})
	}
	return out, nil
}

// funnelOf reads the five stages from m, each key being prefix + stage name.
func (d *decoder) funnelOf(m map[string]json.RawMessage, prefix string) Funnel {
	return Funnel{
		Target:   d.count(m[prefix+"target"]),
		Sent:     d.count(m[prefix+"sent"]),
		Received: d.count(m[prefix+"received"]),
		Display:  d.count(m[prefix+"display"]),
		Click:    d.count(m[prefix+"click"]),
	}
}

// platformOf maps a "sub<Platform>" key of a details type to its platform:
// subAndroid → android, subios → ios, subquickapp → quickapp. JPush's "REST
// API v3 Report" page spells the quick-app block subqicukapp; that spelling
// maps to quickapp too.
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
func (d *decoder) detailTypes(details map[string]json.RawMessage) []TypeFunnel {
	var types []TypeFunnel
	for _, typeKey := range sortedKeys(details) {
		block := object(details[typeKey])
		typ := snakeCase(typeKey)
		if block == nil || typ == "" || slices.ContainsFunc(types, func(t TypeFunnel) bool { return t.Type == typ }) {
			continue
		}
		tf := TypeFunnel{Type: typ, Funnel: d.funnelOf(block, "")}
		seen := map[channelKey]bool{}
		for _, subKey := range sortedKeys(block) {
			platform, ok := platformOf(subKey)
			if !ok {
				continue
			}
			channels := object(block[subKey])
			for _, chKey := range sortedKeys(channels) {
				ch := object(channels[chKey])
				name := channelName(platform, chKey)
				if ch == nil || name == "" {
					continue
				}
				if k := (channelKey{platform, name}); !seen[k] {
					seen[k] = true
					tf.Channels = append(tf.Channels, ChannelFunnel{Platform: platform, Channel: name, Funnel: d.funnelOf(ch, "")})
				}
			}
		}
		sortChannels(tf.Channels)
		types = append(types, tf)
	}
	slices.SortFunc(types, func(a, b TypeFunnel) int { return cmp.Compare(a.Type, b.Type) })
	return types
}

// channelKey identifies a channel of a type: a vendor answer may name one
// twice (two keys that map to one name), and the first one wins. Checking
// with a map keeps decoding linear in the answer's size: an answer with
// 60 000 channel keys made a scan per insert quadratic.
type channelKey struct{ platform, channel string }

func sortChannels(list []ChannelFunnel) {
	slices.SortFunc(list, func(a, b ChannelFunnel) int {
		return cmp.Or(cmp.Compare(a.Platform, b.Platform), cmp.Compare(a.Channel, b.Channel))
	})
}

// channelName is the label value of a details channel key: snake_case, with
// JPush's own channel named jpush on every platform (jgAndroid, jgIos,
// quickJg; the legacy blocks call it jpush) and the quick-app channels named
// without their "quick" prefix, the platform being quickapp already
// (quickXiaomi → xiaomi).
func channelName(platform, key string) string {
	name := snakeCase(key)
	if platform == PlatformQuickApp {
		if rest, ok := strings.CutPrefix(name, "quick_"); ok {
			name = rest
		}
	}
	if name == "jg" || strings.HasPrefix(name, "jg_") {
		return ChannelJPush
	}
	return name
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
// reports for group/messages/detail), as JPush's "REST API v3 Report" page
// defines them (2021.09.01前旧体系指标 and 分组统计-消息统计). Each count goes to
// the type, platform and channel its definition names, and no further:
//
//   - jpush, "极光通道统计数据,走极光通道下发的普通Android用户通知/自定义消息 以及
//     iOS用户自定义消息总体情况": platform android_and_ios, channel jpush,
//     Combined (it includes ios.msg_*). target, sent, received and display
//     are type notification_and_message; click (通知栏消息点击数量) is type
//     notification; msg_click (自定义消息点击数量) is type message.
//     online_push is not read: on /messages/detail "该字段2021.09.01失效"
//     (no longer valid); /group/messages/detail lists it ("在线推送数", pushes
//     to devices online) without that note, but it is no stage of the
//     funnel (消息生命周期状态定义: target, sent, received, display, click) —
//     not sent, which also counts the pushes held for offline devices — and
//     the group answer has no sent to compare it with, so no family holds it.
//   - android_pns.<x>_detail, "走厂商通道下发": type all (the page does not
//     say which types), platform android, channel xm → xiaomi, hw → huawei,
//     mz → meizu, oppo, vivo, fcm (another <x> as is).
//   - android_pns.pns_{target,sent,received,display}: type all, android,
//     channel pns, Combined (the vendor channels together).
//   - ios.apns_* (APNs 通知): type notification, ios, apns.
//   - ios.msg_* (自定义消息): type message, ios, jpush.
//   - winphone (MPNs 通知): type notification, winphone, mpns.
//   - quickapp_jpush, "快应用推送走极光通道": quickapp, jpush; target, sent,
//     received and display are type all; click is type notification and
//     msg_click type message, as in the jpush block. online_push is not read
//     (as in the jpush block).
//   - quickapp_pns, "快应用推送走厂商通道": type all, quickapp, pns.
//
// No legacy count is a type total: every legacy TypeFunnel's own Funnel is
// all nil. A block that is absent yields no channel; a present block with null
// counts yields a channel with nil counts.
func (d *decoder) legacyTypes(row map[string]json.RawMessage) []TypeFunnel {
	var types []TypeFunnel
	if jp := object(row["jpush"]); jp != nil {
		types = d.addJPushBlock(types, jp, PlatformAndroidAndIOS, TypeNotificationAndMessage, true)
	}
	pns := object(row["android_pns"])
	var vendors []ChannelFunnel
	seen := map[string]bool{}
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
		if name == "" || name == ChannelPNS || seen[name] {
			continue
		}
		seen[name] = true
		vendors = append(vendors, ChannelFunnel{Platform: PlatformAndroid, Channel: name, Funnel: d.funnelOf(detail, "")})
	}
	if len(vendors) > 0 {
		types = addChannel(types, TypeAll, vendors...)
	}
	if hasPrefix(pns, "pns_") {
		types = addChannel(types, TypeAll, ChannelFunnel{Platform: PlatformAndroid, Channel: ChannelPNS, Combined: true, Funnel: d.funnelOf(pns, "pns_")})
	}
	if ios := object(row["ios"]); ios != nil {
		if hasPrefix(ios, "apns_") {
			types = addChannel(types, TypeNotification, ChannelFunnel{Platform: PlatformIOS, Channel: "apns", Funnel: d.funnelOf(ios, "apns_")})
		}
		if hasPrefix(ios, "msg_") {
			types = addChannel(types, TypeMessage, ChannelFunnel{Platform: PlatformIOS, Channel: ChannelJPush, Funnel: d.funnelOf(ios, "msg_")})
		}
	}
	if wp, ok := d.winphone(row); ok {
		types = addChannel(types, TypeNotification, wp)
	}
	if qa := object(row["quickapp_jpush"]); qa != nil {
		types = d.addJPushBlock(types, qa, PlatformQuickApp, TypeAll, false)
	}
	if qp := object(row["quickapp_pns"]); qp != nil {
		types = addChannel(types, TypeAll, ChannelFunnel{Platform: PlatformQuickApp, Channel: ChannelPNS, Funnel: Funnel{
			Target: d.count(qp["pns_target"]),
			Sent:   d.count(qp["pns_sent"]),
		}})
	}
	return types
}

// addJPushBlock adds a legacy block of the JPush channel (jpush,
// quickapp_jpush): its funnel but the clicks as type typ, click as a
// notification click, msg_click as a custom message click.
func (d *decoder) addJPushBlock(types []TypeFunnel, block map[string]json.RawMessage, platform, typ string, combined bool) []TypeFunnel {
	f := d.funnelOf(block, "")
	f.Click = nil
	types = addChannel(types, typ, ChannelFunnel{Platform: platform, Channel: ChannelJPush, Combined: combined, Funnel: f})
	if raw, ok := block["click"]; ok {
		types = addChannel(types, TypeNotification, ChannelFunnel{Platform: platform, Channel: ChannelJPush, Combined: combined, Funnel: Funnel{Click: d.count(raw)}})
	}
	if raw, ok := block["msg_click"]; ok {
		types = addChannel(types, TypeMessage, ChannelFunnel{Platform: platform, Channel: ChannelJPush, Combined: combined, Funnel: Funnel{Click: d.count(raw)}})
	}
	return types
}

// winphone reads the winphone block (MPNs notifications): mpns_target,
// mpns_sent and click; false when the answer has none.
func (d *decoder) winphone(row map[string]json.RawMessage) (ChannelFunnel, bool) {
	wp := object(row["winphone"])
	if wp == nil {
		return ChannelFunnel{}, false
	}
	return ChannelFunnel{Platform: PlatformWinPhone, Channel: "mpns", Funnel: Funnel{
		Target: d.count(wp["mpns_target"]),
		Sent:   d.count(wp["mpns_sent"]),
		Click:  d.count(wp["click"]),
	}}, true
}

// addChannel adds cfs to the type typ of types, adding the type (with a nil
// total) when it is not there, and keeps types and channels sorted. A channel
// already in the type is kept and the new one dropped. cfs must not repeat a
// channel among themselves; the few blocks added one at a time are checked
// with a scan, the many of android_pns were made unique with a map.
func addChannel(types []TypeFunnel, typ string, cfs ...ChannelFunnel) []TypeFunnel {
	i, found := slices.BinarySearchFunc(types, typ, func(t TypeFunnel, typ string) int { return cmp.Compare(t.Type, typ) })
	if !found {
		types = slices.Insert(types, i, TypeFunnel{Type: typ})
	}
	list := types[i].Channels
	for _, cf := range cfs {
		if !found || !slices.ContainsFunc(types[i].Channels, func(x ChannelFunnel) bool { return x.Platform == cf.Platform && x.Channel == cf.Channel }) {
			list = append(list, cf)
		}
	}
	sortChannels(list)
	types[i].Channels = list
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
