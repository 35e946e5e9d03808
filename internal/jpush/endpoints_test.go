package jpush

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// n returns a Count holding v.
func n(v int64) Count { return &v }

// fn builds a Funnel of five present stages.
func fn(target, sent, received, display, click int64) Funnel {
	return Funnel{n(target), n(sent), n(received), n(display), n(click)}
}

func cf(platform, channel string, f Funnel) ChannelFunnel {
	return ChannelFunnel{Platform: platform, Channel: channel, Funnel: f}
}

// combined is cf for a count that includes other channels' (Combined).
func combined(platform, channel string, f Funnel) ChannelFunnel {
	return ChannelFunnel{Platform: platform, Channel: channel, Combined: true, Funnel: f}
}

// dump renders v with Counts as numbers or null, for failure messages.
func dump(v any) string {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func checkEqual(t *testing.T, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", dump(got), dump(want))
	}
}

func TestReceived(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		call func(*Client, []string) ([]Received, error)
		want []Received
	}{
		{
			name: "received/detail: seed sample, a numeric msg_id, quoted counts, a new channel; floats and junk values are nil and an entry without msg_id is dropped",
			file: "received_detail.json",
			call: func(c *Client, ids []string) ([]Received, error) { return c.ReceivedDetail(context.Background(), ids) },
			want: []Received{
				{MsgID: "1613113584", Channels: map[string]SentReceived{
					"jpush": {Received: n(62)}, "android_pns": {n(12), n(12)}, "ios_apns": {n(11), n(5)}, "ios_msg": {Received: n(3)},
					"wp_mpns": {Sent: n(3)}, "quickapp_jpush": {Received: n(1)}, "quickapp_pns": {Sent: n(1)},
				}},
				{MsgID: "1229760629", Channels: map[string]SentReceived{
					"jpush": {Received: n(56)}, "android_pns": {n(12), n(12)}, "ios_apns": {n(33), n(17)}, "ios_msg": {Received: n(3)},
					"wp_mpns": {}, "quickapp_jpush": {Received: n(1)}, "quickapp_pns": {Sent: n(1)},
				}},
				{MsgID: "18100000123456789", Channels: map[string]SentReceived{
					"jpush": {Received: n(40)}, "android_pns": {}, "harmony_pns": {n(4), n(2)}, "ios_apns": {},
				}, Refused: 4},
			},
		},
		{
			name: "legacy received: android_received is channel android",
			file: "received.json",
			call: func(c *Client, ids []string) ([]Received, error) { return c.Received(context.Background(), ids) },
			want: []Received{
				{MsgID: "1613113584", Channels: map[string]SentReceived{
					"android": {Received: n(62)}, "ios_apns": {n(11), n(5)}, "ios_msg": {Received: n(3)}, "wp_mpns": {Sent: n(3)},
				}},
				{MsgID: "1229760629", Channels: map[string]SentReceived{
					"android": {Received: n(56)}, "ios_apns": {n(33), n(17)}, "ios_msg": {Received: n(3)}, "wp_mpns": {},
				}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStub(t, file(t, tt.file))
			got, err := tt.call(s.client(Options{}), []string{"1613113584", "1229760629"})
			if err != nil {
				t.Fatal(err)
			}
			checkEqual(t, got, tt.want)
		})
	}
}

func TestMessagesDetail(t *testing.T) {
	t.Parallel()
	seed := fn(100, 90, 80, 70, 50)
	tests := []struct {
		name  string
		file  string
		group bool
		want  []Message
	}{
		{
			name: "seed sample: details and winphone, not the other legacy blocks; subqicukapp is quickapp; JPush's own channel is jpush everywhere; quick-app channels lose their prefix",
			file: "messages_detail.json",
			want: []Message{{MsgID: "123456789", Types: []TypeFunnel{
				{Type: "inapp", Funnel: seed, Channels: []ChannelFunnel{cf("android", "jpush", seed), cf("ios", "jpush", seed)}},
				{Type: "message", Funnel: seed, Channels: []ChannelFunnel{
					cf("android", "fcm", seed), cf("android", "huawei", seed), cf("android", "jpush", seed), cf("android", "xiaomi", seed),
					cf("ios", "jpush", seed), cf("quickapp", "jpush", seed),
				}},
				{Type: "notification", Funnel: seed, Channels: []ChannelFunnel{
					cf("android", "asus", seed), cf("android", "fcm", seed), cf("android", "huawei", seed), cf("android", "jpush", seed),
					cf("android", "meizu", seed), cf("android", "oppo", seed), cf("android", "tuibida", fn(100, 60, 50, 40, 30)),
					cf("android", "vivo", seed), cf("android", "xiaomi", seed),
					cf("ios", "apns", seed), cf("ios", "voip", seed),
					cf("quickapp", "huawei", seed), cf("quickapp", "jpush", seed), cf("quickapp", "oppo", seed), cf("quickapp", "xiaomi", seed),
					cf("winphone", "mpns", Funnel{Target: n(100), Sent: n(100), Click: n(100)}),
				}},
			}}},
		},
		{
			name: "variants: string msg_id, nulls, quoted counts, subquickapp next to subqicukapp, new platform, channel and type; details null falls back to legacy; bad entries dropped",
			file: "messages_detail_variants.json",
			want: []Message{
				{MsgID: "2000000001", Types: []TypeFunnel{
					{Type: "live_activity", Funnel: fn(8, 8, 7, 6, 5)},
					{Type: "notification", Funnel: Funnel{Target: n(1000), Sent: n(950), Click: n(40)}, Channels: []ChannelFunnel{
						cf("android", "honor_push", Funnel{Target: n(10), Sent: n(9), Display: n(7)}),
						cf("android", "xiaomi", fn(400, 390, 380, 300, 20)),
						cf("harmonyos", "hm_push", Funnel{Target: n(3)}),
						cf("quickapp", "jpush", fn(6, 6, 6, 6, 6)), // subqicukapp sorts first
					}},
				}, Refused: 1},
				{MsgID: "3000000002", Types: []TypeFunnel{
					{Type: "notification", Channels: []ChannelFunnel{combined("android_and_ios", "jpush", Funnel{})}},
					{Type: "notification_and_message", Channels: []ChannelFunnel{combined("android_and_ios", "jpush", Funnel{Target: n(14), Received: n(2)})}},
				}},
			},
		},
		{
			name: "legacy shape: each block under the type, platform and channel its definition names, the jpush block and pns totals Combined, no type totals",
			file: "messages_legacy.json",
			want: []Message{{MsgID: "1613113584", Types: []TypeFunnel{
				{Type: "all", Channels: []ChannelFunnel{
					cf("android", "fcm", Funnel{Target: n(25), Sent: n(24), Received: n(23), Display: n(22)}),
					cf("android", "honor", fn(26, 25, 24, 23, 9)),
					cf("android", "huawei", Funnel{Target: n(21), Sent: n(20), Display: n(18)}),
					cf("android", "meizu", Funnel{Target: n(22), Sent: n(21), Received: n(20), Display: n(19)}),
					cf("android", "oppo", Funnel{Target: n(23), Sent: n(22), Received: n(21), Display: n(20)}),
					combined("android", "pns", Funnel{Target: n(100), Sent: n(99), Received: n(98), Display: n(97)}),
					cf("android", "vivo", Funnel{Target: n(24), Sent: n(23), Received: n(22), Display: n(21)}),
					cf("android", "xiaomi", Funnel{Target: n(20), Sent: n(19), Received: n(18), Display: n(17)}),
					cf("quickapp", "jpush", Funnel{Target: n(7), Received: n(5)}),
					cf("quickapp", "pns", Funnel{Target: n(2), Sent: n(1)}),
				}},
				{Type: "message", Channels: []ChannelFunnel{
					combined("android_and_ios", "jpush", Funnel{Click: n(60)}),
					cf("ios", "jpush", Funnel{Target: n(40), Received: n(39), Display: n(38), Click: n(37)}),
					cf("quickapp", "jpush", Funnel{Click: n(3)}),
				}},
				{Type: "notification", Channels: []ChannelFunnel{
					combined("android_and_ios", "jpush", Funnel{Click: n(80)}),
					cf("ios", "apns", fn(60, 59, 58, 57, 56)),
					cf("quickapp", "jpush", Funnel{Click: n(4)}),
					cf("winphone", "mpns", Funnel{Target: n(10), Sent: n(9), Click: n(8)}),
				}},
				{Type: "notification_and_message", Channels: []ChannelFunnel{
					combined("android_and_ios", "jpush", Funnel{Target: n(110), Sent: n(105), Received: n(100), Display: n(90)}),
				}},
			}}},
		},
		{
			name:  "group seed sample (legacy shape, group_msgid)",
			file:  "group_messages_detail.json",
			group: true,
			want: []Message{{MsgID: "bsp54sn8bpn8hc3etq40", Types: []TypeFunnel{
				{Type: "all", Channels: []ChannelFunnel{
					cf("android", "fcm", Funnel{Target: n(0), Sent: n(0), Received: n(0)}),
					cf("android", "huawei", Funnel{Target: n(0), Sent: n(0), Received: n(0)}),
					cf("android", "meizu", Funnel{Target: n(0), Sent: n(0), Received: n(0)}),
					cf("android", "oppo", Funnel{Target: n(0), Sent: n(0), Received: n(0)}),
					combined("android", "pns", Funnel{Target: n(1), Sent: n(1), Received: n(1)}),
					cf("android", "vivo", Funnel{Target: n(0), Sent: n(0), Received: n(0)}),
					cf("android", "xiaomi", Funnel{Target: n(1), Sent: n(1), Received: n(1)}),
				}},
				{Type: "message", Channels: []ChannelFunnel{
					combined("android_and_ios", "jpush", Funnel{Click: n(0)}),
					cf("ios", "jpush", Funnel{Target: n(0), Received: n(0), Click: n(0)}),
				}},
				{Type: "notification", Channels: []ChannelFunnel{
					combined("android_and_ios", "jpush", Funnel{Click: n(0)}),
					cf("ios", "apns", Funnel{Target: n(0), Sent: n(0), Received: n(0), Click: n(0)}),
					cf("winphone", "mpns", Funnel{Target: n(0), Sent: n(0), Click: n(0)}),
				}},
				{Type: "notification_and_message", Channels: []ChannelFunnel{
					combined("android_and_ios", "jpush", Funnel{Target: n(14), Received: n(2)}),
				}},
			}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStub(t, file(t, tt.file))
			c := s.client(Options{})
			var got []Message
			var err error
			if tt.group {
				got, err = c.GroupMessagesDetail(context.Background(), []string{"bsp54sn8bpn8hc3etq40"})
			} else {
				got, err = c.MessagesDetail(context.Background(), []string{"1"})
			}
			if err != nil {
				t.Fatal(err)
			}
			checkEqual(t, got, tt.want)
		})
	}
}

func TestGroupMessagesDetailWithDetails(t *testing.T) {
	t.Parallel()
	s := newStub(t, answer(200, nil, `[{"group_msgids":"g1","details":{"notification":{"target":3,"subAndroid":{"jgAndroid":{"target":3}}}},"jpush":{"target":9}}]`))
	got, err := s.client(Options{}).GroupMessagesDetail(context.Background(), []string{"g1"})
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, got, []Message{{MsgID: "g1", Types: []TypeFunnel{
		{Type: "notification", Funnel: Funnel{Target: n(3)}, Channels: []ChannelFunnel{cf("android", "jpush", Funnel{Target: n(3)})}},
	}}})
}

func TestUsers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		file  string
		group bool
		want  []UsersDay
	}{
		{
			name: "seed sample: a day without data has no platforms, absent counts are nil",
			file: "users.json",
			want: []UsersDay{
				{Day: "2014-06-10", Platforms: map[string]UserCounts{}},
				{Day: "2014-06-11", Platforms: map[string]UserCounts{"android": {Active: n(1)}}},
				{Day: "2014-06-12", Platforms: map[string]UserCounts{"android": {Active: n(1), Online: n(2)}}},
			},
		},
		{
			name:  "group seed sample",
			file:  "group_users.json",
			group: true,
			want: []UsersDay{
				{Day: "2020-08-06", Platforms: map[string]UserCounts{"android": {New: n(5), Online: n(11), Active: n(7)}}},
				{Day: "2020-08-07", Platforms: map[string]UserCounts{"android": {New: n(2), Online: n(8), Active: n(6)}}},
			},
		},
		{
			name: "variants: quoted counts, null, a float count refused, new platform and fields; items without a string time and non-object platforms dropped",
			file: "users_variants.json",
			want: []UsersDay{
				{Day: "2024-03-01", Platforms: map[string]UserCounts{
					"android":    {New: n(12)},
					"ios":        {New: n(3), Online: n(9), Active: n(8)},
					"harmony_os": {Active: n(2)},
				}, Refused: 1},
				{Day: "2024-03-03", Platforms: map[string]UserCounts{"ios": {}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStub(t, file(t, tt.file))
			c := s.client(Options{})
			var got []UsersDay
			var err error
			if tt.group {
				got, err = c.GroupUsers(context.Background(), t0, 2)
			} else {
				got, err = c.Users(context.Background(), t0, 3)
			}
			if err != nil {
				t.Fatal(err)
			}
			checkEqual(t, got, tt.want)
		})
	}
}

func TestStatusMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		want map[string]int
	}{
		{
			name: "seed sample",
			file: "status.json",
			want: map[string]int{"02078f0f1b8": 2, "1507bfd3a7c568d4761": 0, "0207870a9b8": 2},
		},
		{
			name: "quoted and unknown codes kept; null, text, float (4.0, 1.5) and missing statuses dropped",
			file: "status_variants.json",
			want: map[string]int{"a1": 1, "a2": 3, "a4": 7},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStub(t, file(t, tt.file))
			got, err := s.client(Options{}).StatusMessage(context.Background(), "327640176", []string{"02078f0f1b8"}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			checkEqual(t, got, tt.want)
		})
	}
}

func TestStatusName(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]string{
		0: "delivered", 1: "not_delivered", 2: "not_in_app", 3: "not_targeted", 4: "system_error", 7: "code_7", -1: "code_-1",
	} {
		if got := StatusName(code); got != want {
			t.Errorf("StatusName(%d) = %q, want %q", code, got, want)
		}
	}
}

func TestParseCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want Count
	}{
		{raw: "62", want: n(62)},
		{raw: "0", want: n(0)},
		{raw: `"40"`, want: n(40)},
		{raw: `" 41 "`, want: n(41)},
		{raw: "9007199254740992", want: n(1 << 53)},
		// The rule of package count: digits only, 0 to 2^53.
		{raw: "-3"},
		{raw: `"-0"`},
		{raw: "9.0"},
		{raw: "1e3"},
		{raw: `"1e23"`},
		{raw: `"2.0"`},
		{raw: "9007199254740993"},
		{raw: "9223372036854775807"},
		{raw: ""},
		{raw: "null"},
		{raw: "true"},
		{raw: "1.5"},
		{raw: "1e19"},
		{raw: "9223372036854775808"},
		{raw: `""`},
		{raw: `"n/a"`},
		{raw: `"0x10"`},
		{raw: `"Inf"`},
		{raw: `"NaN"`},
		{raw: `"1_000"`},
		{raw: `"12abc"`},
		{raw: `{"count":1}`},
		{raw: "[1]"},
	}
	for _, tt := range tests {
		if got := parseCount(json.RawMessage(tt.raw)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseCount(%s) = %s, want %s", tt.raw, dump(got), dump(tt.want))
		}
	}
}

func TestParseID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw    string
		want   string
		wantOK bool
	}{
		{raw: `"1613113584"`, want: "1613113584", wantOK: true},
		{raw: `" bsp54sn8bpn8hc3etq40 "`, want: "bsp54sn8bpn8hc3etq40", wantOK: true},
		{raw: "123456789", want: "123456789", wantOK: true},
		{raw: "18100000123456789012", want: "18100000123456789012", wantOK: true},
		{raw: "1.613113584e9", want: "1613113584", wantOK: true},
		{raw: "3000000002.0", want: "3000000002", wantOK: true},
		{raw: `""`},
		{raw: "null"},
		{raw: "true"},
		{raw: "-5"},
		{raw: "1.5"},
		{raw: "1e300"},
		{raw: "{}"},
		{raw: ""},
	}
	for _, tt := range tests {
		got, ok := parseID(json.RawMessage(tt.raw))
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseID(%s) = %q, %v; want %q, %v", tt.raw, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestSnakeCase(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"xiaomi":      "xiaomi",
		"jgAndroid":   "jg_android",
		"jgIos":       "jg_ios",
		"quickXiaomi": "quick_xiaomi",
		"quickOppo":   "quick_oppo",
		"quickHuawei": "quick_huawei",
		"quickJg":     "quick_jg",
		"FCMPush":     "fcm_push",
		"jgIOS":       "jg_ios",
		"hms2Push":    "hms2_push",
		"jg_android":  "jg_android",
		"Honor":       "honor",
		"quick-jg ":   "quick_jg",
		"__x__y":      "x_y",
		"小米":          "",
		"":            "",
	} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMsgIDJSON(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"327640176":            `327640176`,
		"0":                    `0`,
		"0123":                 `"0123"`,
		"9223372036854775808":  `"9223372036854775808"`,
		"abc":                  `"abc"`,
		`quo"te`:               `"quo\"te"`,
		"9223372036854775807":  `9223372036854775807`,
		"-1":                   `"-1"`,
		"1e3":                  `"1e3"`,
		"12345678901234567890": `"12345678901234567890"`,
	} {
		if got := string(msgIDJSON(in)); got != want {
			t.Errorf("msgIDJSON(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestMessagesOld checks the old /messages (消息统计, VIP, 旧): the seed's
// sample mapped to the funnels /messages/detail gives, online_push not read,
// a negative count refused.
func TestMessagesOld(t *testing.T) {
	t.Parallel()
	s := newStub(t, file(t, "messages_old.json"))
	got, err := s.client(Options{}).Messages(context.Background(), []string{"269978303", "1613113584"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Message{
		{MsgID: "269978303", Types: []TypeFunnel{
			{Type: TypeAll, Channels: []ChannelFunnel{{Platform: "android", Channel: "all", Funnel: Funnel{Target: n(4), Received: n(1)}}}},
			{Type: TypeMessage, Channels: []ChannelFunnel{
				{Platform: "android", Channel: "all"},
				{Platform: "ios", Channel: "jpush", Funnel: Funnel{Target: n(10), Received: n(8), Click: n(50)}},
			}},
			{Type: TypeNotification, Channels: []ChannelFunnel{
				{Platform: "android", Channel: "all"},
				{Platform: "ios", Channel: "apns", Funnel: Funnel{Target: n(2), Sent: n(2), Received: n(1)}},
				{Platform: "winphone", Channel: "mpns", Funnel: Funnel{Target: n(100), Sent: n(100), Click: n(100)}},
			}},
		}},
		{MsgID: "1613113584", Types: []TypeFunnel{
			{Type: TypeAll, Channels: []ChannelFunnel{{Platform: "android", Channel: "all", Funnel: Funnel{Target: n(7)}}}},
		}, Refused: 1},
	}
	checkEqual(t, got, want)
	if reqs := s.requests(); len(reqs) != 1 || reqs[0].path != "/v3/messages" || !strings.Contains(reqs[0].query, "269978303") {
		t.Errorf("requests %v, want one GET /v3/messages?msg_ids=269978303,1613113584", reqs)
	}
}
