package simulator

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/jpush"
	"github.com/imstats/imstats_exporter/internal/ratelimit"
)

func TestJPushAPINamesMatchClient(t *testing.T) {
	t.Parallel()
	for sim, client := range map[string]string{
		JPushReceived: jpush.APIReceived, JPushReceivedDetail: jpush.APIReceivedDetail,
		JPushStatusMessage: jpush.APIStatusMessage, JPushMessagesDetail: jpush.APIMessagesDetail,
		JPushUsers: jpush.APIUsers, JPushGroupMessagesDetail: jpush.APIGroupMessagesDetail,
		JPushGroupUsers: jpush.APIGroupUsers,
	} {
		if sim != client {
			t.Errorf("simulator API %q, client API %q", sim, client)
		}
	}
}

// jpMaxBytes bounds the client's answers: well above any simulated answer,
// well below what an Oversize fault sends.
const jpMaxBytes = 1 << 20

// jpClient returns a JPush client for the harness with a bucket on its clock.
func (h *jpHarness) jpClient(user, pass string) (*jpush.Client, *ratelimit.Bucket) {
	bucket := ratelimit.New(h.clk, ratelimit.PerMinute(2400))
	return jpush.New(jpush.Options{
		Username: user, Password: pass, BaseURL: h.srv.URL, HTTPClient: h.srv.Client(), Clock: h.clk, Bucket: bucket,
		MaxResponseBytes: jpMaxBytes,
	}), bucket
}

func apiErrOf(t *testing.T, err error) *apierr.Error {
	t.Helper()
	var e *apierr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *apierr.Error", err)
	}
	return e
}

func TestJPushClientEveryMethod(t *testing.T) {
	t.Parallel()
	h := newJPHarness(t, jpSeed, 0)
	ctx := context.Background()
	c, _ := h.jpClient(jpVIPApp, jpVIPSecret)
	gc, _ := h.jpClient("group-"+jpGroup, jpGroupSecret)
	var ids []string
	for range 3 {
		ids = append(ids, h.push(t, jpVIPApp))
	}
	gid := h.groupPush(t, jpGroup)
	h.clk.Advance(2 * time.Hour)

	t.Run("received/detail", func(t *testing.T) {
		got, err := c.ReceivedDetail(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(ids) || got[0].MsgID != ids[0] {
			t.Fatalf("%+v, want an entry per msg_id in order", got)
		}
		for _, ch := range []string{"jpush", "android_pns", "ios_apns", "quickapp_jpush", "quickapp_pns"} {
			if _, ok := got[0].Channels[ch]; !ok {
				t.Errorf("channel %s missing: %v", ch, got[0].Channels)
			}
		}
		if wp := got[0].Channels["wp_mpns"]; wp.Sent != nil {
			t.Errorf("wp_mpns sent %d, want nil (null)", *wp.Sent)
		}
		if pns := got[0].Channels["android_pns"]; pns.Sent == nil || pns.Received == nil || *pns.Received > *pns.Sent || *pns.Received == 0 {
			t.Errorf("android_pns %+v: want 0 < received ≤ sent", pns)
		}
	})
	t.Run("received", func(t *testing.T) {
		got, err := c.Received(ctx, ids[:1])
		if err != nil {
			t.Fatal(err)
		}
		if a := got[0].Channels["android"]; len(got) != 1 || a.Received == nil || *a.Received == 0 {
			t.Errorf("%+v: want android received", got)
		}
	})
	t.Run("messages/detail", func(t *testing.T) {
		got, err := c.MessagesDetail(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(ids) || got[0].MsgID != ids[0] {
			t.Fatalf("%d messages, want %d in order", len(got), len(ids))
		}
		var notification *jpush.TypeFunnel
		for i := range got[0].Types {
			if got[0].Types[i].Type == "notification" {
				notification = &got[0].Types[i]
			}
		}
		if notification == nil || notification.Target == nil || notification.Received == nil {
			t.Fatalf("%+v: want a notification type with totals (details, not legacy)", got[0].Types)
		}
		var names []string
		var sum int64
		for _, ch := range notification.Channels {
			names = append(names, ch.Platform+"/"+ch.Channel)
			sum += *ch.Target
			if ch.Platform == "quickapp" && ch.Channel == "jpush" && (ch.Display != nil || ch.Click != nil) {
				t.Errorf("quickJg display/click %v %v, want nil", ch.Display, ch.Click)
			}
		}
		want := []string{"android/fcm", "android/honor", "android/huawei", "android/jpush", "android/meizu", "android/oppo",
			"android/vivo", "android/xiaomi", "ios/apns", "quickapp/jpush", "quickapp/xiaomi", "winphone/mpns"}
		if !slices.Equal(names, want) {
			t.Errorf("channels %v, want %v", names, want)
		}
		if sum != *notification.Target {
			t.Errorf("channel targets sum to %d, type target %d", sum, *notification.Target)
		}
	})
	t.Run("group/messages/detail", func(t *testing.T) {
		got, err := gc.GroupMessagesDetail(ctx, []string{gid})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].MsgID != gid || len(got[0].Types) == 0 {
			t.Fatalf("%+v, want the group message in the legacy shape", got)
		}
		for _, tf := range got[0].Types {
			if tf.Target != nil {
				t.Errorf("type %s has a total %d: legacy answers have none", tf.Type, *tf.Target)
			}
		}
	})
	t.Run("users", func(t *testing.T) {
		got, err := c.Users(ctx, jpT0.AddDate(0, 0, -2), 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[0].Day != "2025-03-10" || got[2].Day != "2025-03-12" {
			t.Fatalf("%+v, want 2025-03-10 to 2025-03-12", got)
		}
		if a := got[1].Platforms["android"]; a.Active == nil || a.New == nil || a.Online == nil {
			t.Errorf("android %+v, want every count", a)
		}
	})
	t.Run("group/users", func(t *testing.T) {
		got, err := gc.GroupUsers(ctx, jpT0.AddDate(0, 0, -29), jpush.MaxGroupUsersDays)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 30 || got[29].Platforms["ios"].Active == nil {
			t.Errorf("%d days, want 30 up to today with iOS figures", len(got))
		}
	})
	t.Run("status/message", func(t *testing.T) {
		regs := []string{"1507bfd3a7c568d4761", "02078f0f1b8", "0207870a9b8", "160a3797c8b8f7bd1b0"}
		got, err := c.StatusMessage(ctx, ids[0], regs, jpT0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(regs) {
			t.Errorf("%v, want a status per registration ID", got)
		}
		for reg, s := range got {
			if s < jpush.StatusDelivered || s > jpush.StatusSystemError {
				t.Errorf("%s has undocumented status %d", reg, s)
			}
		}
	})
	if remaining, quota, ok := c.RateLimit(); !ok || quota != 2400 || remaining >= 2400 {
		t.Errorf("RateLimit() = %d, %d, %v; want the simulator's 2400 quota, partly used", remaining, quota, ok)
	}
}

func TestJPushClientErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("free app: messages/detail and users unavailable", func(t *testing.T) {
		t.Parallel()
		h := newJPHarness(t, jpSeed, 0)
		c, _ := h.jpClient(jpFreeApp, jpFreeSecret)
		_, err := c.MessagesDetail(ctx, []string{h.push(t, jpFreeApp)})
		if e := apiErrOf(t, err); e.Class != apierr.Unavailable || e.Code != "2003" {
			t.Errorf("messages/detail: %+v, want unavailable 2003", *e)
		}
		_, err = c.Users(ctx, jpT0, 1)
		if e := apiErrOf(t, err); e.Class != apierr.Unavailable {
			t.Errorf("users: %+v, want unavailable", *e)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		t.Parallel()
		h := newJPHarness(t, jpSeed, 0)
		c, _ := h.jpClient(jpVIPApp, "wrong")
		_, err := c.ReceivedDetail(ctx, []string{"1"})
		if e := apiErrOf(t, err); e.Class != apierr.Auth || e.Code != "3001" {
			t.Errorf("%+v, want auth 3001", *e)
		}
	})
	t.Run("group endpoint without the group prefix", func(t *testing.T) {
		t.Parallel()
		h := newJPHarness(t, jpSeed, 0)
		c, _ := h.jpClient(jpGroup, jpGroupSecret)
		_, err := c.GroupUsers(ctx, jpT0, 1)
		if e := apiErrOf(t, err); e.Class != apierr.Auth {
			t.Errorf("%+v, want auth", *e)
		}
	})
	t.Run("quota spent elsewhere: 429 blocks the bucket until the window resets", func(t *testing.T) {
		t.Parallel()
		h := newJPHarness(t, jpSeed, 2)
		// Another exporter with the same AppKey spends the minute's quota.
		other, _ := h.jpClient(jpVIPApp, jpVIPSecret)
		for range 2 {
			if _, err := other.ReceivedDetail(ctx, []string{"1"}); err != nil {
				t.Fatal(err)
			}
		}
		h.clk.Advance(15 * time.Second)
		c, bucket := h.jpClient(jpVIPApp, jpVIPSecret)
		_, err := c.ReceivedDetail(ctx, []string{"1"})
		e := apiErrOf(t, err)
		if e.Class != apierr.RateLimited || e.Code != "2002" || e.RetryAfter != 45*time.Second {
			t.Fatalf("%+v, want rate limited 2002 for 45s", *e)
		}
		if got := bucket.BlockedUntil(); !got.Equal(jpT0.Add(time.Minute)) {
			t.Errorf("bucket blocked until %v, want the window's end %v", got, jpT0.Add(time.Minute))
		}
	})
	t.Run("remaining 0: the client waits for the reset instead of sending", func(t *testing.T) {
		t.Parallel()
		h := newJPHarness(t, jpSeed, 2)
		c, _ := h.jpClient(jpVIPApp, jpVIPSecret)
		for range 2 {
			if _, err := c.ReceivedDetail(ctx, []string{"1"}); err != nil {
				t.Fatal(err)
			}
		}
		done := make(chan error, 1)
		go func() {
			_, err := c.ReceivedDetail(ctx, []string{"1"})
			done <- err
		}()
		for h.clk.Waiters() == 0 {
			time.Sleep(time.Millisecond) // until the call waits on the fake clock
		}
		if n := len(h.sim.Calls()); n != 2 {
			t.Fatalf("%d calls before the reset, want 2", n)
		}
		h.clk.Advance(time.Minute)
		if err := <-done; err != nil {
			t.Fatalf("after the reset: %v", err)
		}
		if calls := h.sim.Calls(); len(calls) != 3 || calls[2].Status != 200 {
			t.Errorf("calls %+v, want a third, successful one", calls)
		}
	})
	for _, tc := range []struct {
		name      string
		api       string
		fault     Fault
		wantClass apierr.Class
		wantCode  string
		status    int // logged in Calls
	}{
		{"error code 10", JPushReceivedDetail, Fault{ErrorCode: 10}, apierr.Transient, "10", 500},
		{"error code 2002", JPushReceivedDetail, Fault{ErrorCode: 2002}, apierr.RateLimited, "2002", 429},
		{"error code 2003", JPushMessagesDetail, Fault{ErrorCode: 2003}, apierr.Unavailable, "2003", 403},
		{"proxy 502", JPushReceivedDetail, Fault{HTTPStatus: 502, Body: []byte("<html>bad gateway</html>")}, apierr.Transient, "502", 0},
		{"garbage on 200", JPushReceivedDetail, Fault{Body: []byte(`[{"msg_id":`)}, apierr.InvalidResponse, apierr.CodeInvalidResponse, 0},
		{"oversize", JPushUsers, Fault{Oversize: 2 * jpMaxBytes}, apierr.InvalidResponse, apierr.CodeInvalidResponse, 200},
		{"truncated", JPushReceivedDetail, Fault{Truncate: true}, apierr.Transient, apierr.CodeNetwork, 200},
		{"reset", JPushReceivedDetail, Fault{Reset: true}, apierr.Transient, apierr.CodeNetwork, 0},
		{"fault for every API", "", Fault{ErrorCode: 3001}, apierr.Auth, "3001", 401},
	} {
		t.Run("fault: "+tc.name, func(t *testing.T) {
			t.Parallel()
			h := newJPHarness(t, jpSeed, 0)
			h.sim.SetFault(tc.api, &tc.fault)
			c, _ := h.jpClient(jpVIPApp, jpVIPSecret)
			var err error
			switch tc.api {
			case JPushMessagesDetail:
				_, err = c.MessagesDetail(ctx, []string{"1"})
			case JPushUsers:
				_, err = c.Users(ctx, jpT0, 1)
			default:
				_, err = c.ReceivedDetail(ctx, []string{"1"})
			}
			if e := apiErrOf(t, err); e.Class != tc.wantClass || e.Code != tc.wantCode {
				t.Errorf("%+v, want class %v code %s", *e, tc.wantClass, tc.wantCode)
			}
			if calls := h.sim.Calls(); len(calls) != 1 || calls[0].Status != tc.status {
				t.Errorf("calls %+v, want one with status %d", calls, tc.status)
			}
			h.sim.SetFault(tc.api, nil)
			h.clk.Advance(time.Minute) // past any block a rate-limit error put on the bucket
			if _, err := c.ReceivedDetail(ctx, []string{"1"}); err != nil {
				t.Errorf("after clearing the fault: %v", err)
			}
		})
	}
}

// TestJPushClientLegacyShape reads a message answered in the shape before
// 2021-09-01 with the real client: the legacy jpush block is JPush's own
// channel over Android and iOS (Combined), and it counts what received/detail's
// jpush_received counts; ios.msg_* is what ios_msg_received counts.
func TestJPushClientLegacyShape(t *testing.T) {
	t.Parallel()
	h := newJPHarnessLegacy(t, jpSeed, 0, 1)
	ctx := context.Background()
	c, _ := h.jpClient(jpVIPApp, jpVIPSecret)
	id := h.push(t, jpVIPApp)
	h.clk.Advance(2 * time.Hour)
	msgs, err := c.MessagesDetail(ctx, []string{id})
	if err != nil || len(msgs) != 1 || msgs[0].MsgID != id {
		t.Fatalf("%+v %v, want the message", msgs, err)
	}
	rec, err := c.ReceivedDetail(ctx, []string{id})
	if err != nil || len(rec) != 1 {
		t.Fatalf("%+v %v", rec, err)
	}
	find := func(typ, platform, channel string) *jpush.ChannelFunnel {
		for _, tf := range msgs[0].Types {
			if tf.Target != nil || tf.Received != nil {
				t.Errorf("type %s has a total; the legacy shape has none", tf.Type)
			}
			for i, ch := range tf.Channels {
				if tf.Type == typ && ch.Platform == platform && ch.Channel == channel {
					return &tf.Channels[i]
				}
			}
		}
		t.Fatalf("no %s %s/%s in %+v", typ, platform, channel, msgs[0].Types)
		return nil
	}
	jp := find(jpush.TypeNotificationAndMessage, jpush.PlatformAndroidAndIOS, jpush.ChannelJPush)
	if !jp.Combined || jp.Received == nil || rec[0].Channels["jpush"].Received == nil || *jp.Received != *rec[0].Channels["jpush"].Received {
		t.Errorf("legacy jpush block %+v, want Combined and received = jpush_received %v", jp, rec[0].Channels["jpush"].Received)
	}
	if msg := find(jpush.TypeMessage, jpush.PlatformIOS, jpush.ChannelJPush); msg.Combined || msg.Received == nil || *msg.Received != *rec[0].Channels["ios_msg"].Received {
		t.Errorf("ios.msg_* %+v, want received = ios_msg_received %v", msg, rec[0].Channels["ios_msg"].Received)
	}
	find(jpush.TypeAll, jpush.PlatformAndroid, "xiaomi")
	find(jpush.TypeAll, jpush.PlatformAndroid, jpush.ChannelPNS)
	find(jpush.TypeAll, jpush.PlatformQuickApp, jpush.ChannelPNS)
	find(jpush.TypeNotification, jpush.PlatformWinPhone, "mpns")
}

// TestJPushClientStatusOfAnEarlierDay asks status/message about a message
// sent the day before: only with the date of the day it was sent
// (jpush.StatusDate) are its canaries' statuses known.
func TestJPushClientStatusOfAnEarlierDay(t *testing.T) {
	t.Parallel()
	h := newJPHarness(t, jpSeed, 0)
	ctx := context.Background()
	c, _ := h.jpClient(jpVIPApp, jpVIPSecret)
	sent := h.clk.Now()
	id := h.push(t, jpVIPApp)
	h.clk.Advance(12 * time.Hour) // 03:04 the next day in Shanghai
	canaries := []string{"1a0018970a0000001", "1a0018970a0000002", "1a0018970a0000003", "1a0018970a0000004"}
	today, err := c.StatusMessage(ctx, id, canaries, time.Time{})
	if err != nil || len(today) != 0 {
		t.Errorf("asked about today: %v %v, want no statuses", today, err)
	}
	got, err := c.StatusMessage(ctx, id, canaries, jpush.StatusDate(sent, nil))
	if err != nil || len(got) != len(canaries) {
		t.Errorf("asked about the day it was sent: %v %v, want a status per canary", got, err)
	}
	calls := h.sim.Calls()
	if n := len(calls); n != 2 || calls[1].Status != 200 {
		t.Errorf("calls %+v", calls)
	}
}

func TestJPushLegacyShareSpreadsEvenly(t *testing.T) {
	t.Parallel()
	h := newJPHarnessLegacy(t, jpSeed, 0, 0.25)
	c, _ := h.jpClient(jpVIPApp, jpVIPSecret)
	var ids []string
	for range 8 {
		ids = append(ids, h.push(t, jpVIPApp))
	}
	h.clk.Advance(time.Hour)
	msgs, err := c.MessagesDetail(context.Background(), ids)
	if err != nil || len(msgs) != len(ids) {
		t.Fatalf("%d messages, %v", len(msgs), err)
	}
	var legacy []int
	for i, m := range msgs {
		hasTotals := false
		for _, tf := range m.Types {
			hasTotals = hasTotals || tf.Target != nil
		}
		if !hasTotals {
			legacy = append(legacy, i+1)
		}
	}
	if !slices.Equal(legacy, []int{4, 8}) {
		t.Errorf("legacy-shaped pushes %v, want the 4th and the 8th", legacy)
	}
}
