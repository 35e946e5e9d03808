package simulator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// CallbackTarget is where the push callbacks of an app go, as its
// callback URL and webhook token are configured in Tencent's console.
type CallbackTarget struct {
	// URL is the callback URL, without a query.
	URL string
	// Token is the webhook authentication token; "" sends no signature.
	Token string
}

// How much the simulator's push service reports.
const (
	// callbackTaskSpan is how long after its creation a task's events are
	// reported.
	callbackTaskSpan = 2 * time.Hour
	// taskEventsPerTick and chatEventsPerTick are the events of one batch:
	// a task's, and the chat messages' of an app.
	taskEventsPerTick = 100
	chatEventsPerTick = 20
)

// callbackEvent is one event of a push callback, with the fields of
// Tencent Chat "All Users / Tags / UserID Push Callback" (Push.AllMemberPush)
// and "Other Push Callbacks" (Push.OfflinePush).
type callbackEvent struct {
	CallbackCommand string
	EventType       int
	TaskID          string `json:"TaskId,omitempty"`
	TaskTime        int64  `json:",omitempty"`
	EventTime       int64
	FromAccount     string `json:"From_Account,omitempty"`
	ToAccount       string `json:"To_Account"`
	PushPlatform    int
	PushStage       int
	MsgKey          string `json:",omitempty"`
	MsgSeq          int64  `json:",omitempty"`
	ErrCode         int
	ErrInfo         string
}

// callbackBatch is one callback request to make.
type callbackBatch struct {
	sdkappid uint64
	command  string
	events   []callbackEvent
}

// failure is the ErrCode and ErrInfo of an undelivered push on a platform,
// after the loss reasons of Tencent's push loss analysis samples.
func failure(platform int, r *rand.Rand) (int, string) {
	switch {
	case platform == 1:
		return 410, "Unregistered"
	case r.IntN(4) == 0:
		return -2, "token not uploaded"
	}
	return 1, "regid_invalid"
}

// callbackBatches returns the batches of one tick at now: for each app, a
// batch of each task younger than callbackTaskSpan and a batch of chat
// message pushes. Deliveries succeed at the task's rate for the channel
// (times a DegradePlatform factor); the others fail with a loss reason.
func (t *Tencent) callbackBatches(now time.Time, tick uint64) []callbackBatch {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []callbackBatch
	for id, app := range t.apps {
		r := rand.New(rand.NewPCG(uint64(app.model.seed)^id, tick))
		for _, task := range app.tasks {
			if now.Sub(task.created) > callbackTaskSpan || len(task.entries) == 0 {
				continue
			}
			var total int64
			for _, e := range task.entries {
				total += e.total
			}
			b := callbackBatch{sdkappid: id, command: "Push.AllMemberPush"}
			for range taskEventsPerTick {
				e := task.entries[len(task.entries)-1]
				for pick, k := r.Int64N(max(total, 1)), 0; k < len(task.entries); k++ {
					if pick < task.entries[k].total {
						e = task.entries[k]
						break
					}
					pick -= task.entries[k].total
				}
				ev := callbackEvent{
					CallbackCommand: "Push.AllMemberPush", EventType: e.channel.eventType,
					TaskID: task.id, TaskTime: task.created.Unix(), EventTime: now.Unix(),
					ToAccount: fmt.Sprintf("user%d", r.IntN(1_000_000)), PushPlatform: e.channel.platform, PushStage: 1, ErrInfo: "OK",
				}
				if r.Float64() >= e.delivered*t.degraded.of(e.channel.platform) {
					ev.ErrCode, ev.ErrInfo = failure(e.channel.platform, r)
				}
				b.events = append(b.events, ev)
			}
			out = append(out, b)
		}
		chat := callbackBatch{sdkappid: id, command: "Push.OfflinePush"}
		for range chatEventsPerTick {
			ch := offlineChannels[r.IntN(len(offlineChannels))]
			ev := callbackEvent{
				CallbackCommand: "Push.OfflinePush", EventType: 1 + r.IntN(2), EventTime: now.Unix(),
				FromAccount: fmt.Sprintf("user%d", r.IntN(1_000_000)), ToAccount: fmt.Sprintf("user%d", r.IntN(1_000_000)),
				PushPlatform: ch.platform, PushStage: 1, MsgSeq: r.Int64N(1 << 31), ErrInfo: "OK",
			}
			if ev.EventType == 1 {
				ev.MsgKey = fmt.Sprintf("%d_%d_%d", ev.MsgSeq, r.Uint32(), now.Unix())
			}
			if r.Float64() >= ch.delivered*t.degraded.of(ch.platform) {
				ev.ErrCode, ev.ErrInfo = failure(ch.platform, r)
			}
			chat.events = append(chat.events, ev)
		}
		out = append(out, chat)
	}
	return out
}

// SendCallbacks acts as Tencent's push service with the push callbacks
// switched on: every interval until ctx ends, it posts each app's batches
// (see callbackBatches) to its target, signed when the target has a token
// (Sign = hex(SHA-256(token + RequestTime)), Tencent Cloud "Webhooks
// Overview", Security Considerations). Apps without a target are skipped.
// A failed post is passed to onError and not retried.
func (t *Tencent) SendCallbacks(ctx context.Context, client *http.Client, targets map[uint64]CallbackTarget, interval time.Duration, onError func(error)) {
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for tick := uint64(0); ; tick++ {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		now := t.clock.Now()
		for _, b := range t.callbackBatches(now, tick) {
			target, ok := targets[b.sdkappid]
			if !ok {
				continue
			}
			if err := postCallback(ctx, client, target, b, now); err != nil && ctx.Err() == nil {
				onError(err)
			}
		}
		timer.Reset(interval)
	}
}

// postCallback posts one batch.
func postCallback(ctx context.Context, client *http.Client, target CallbackTarget, b callbackBatch, now time.Time) error {
	q := url.Values{"SdkAppid": {strconv.FormatUint(b.sdkappid, 10)}, "CallbackCommand": {b.command}, "contenttype": {"json"}}
	if target.Token != "" {
		requestTime := strconv.FormatInt(now.Unix(), 10)
		sum := sha256.Sum256([]byte(target.Token + requestTime))
		q.Set("Sign", hex.EncodeToString(sum[:]))
		q.Set("RequestTime", requestTime)
	}
	body, err := json.Marshal(struct{ Events []callbackEvent }{b.events})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.URL+"?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s callback of %d: %s: %s", b.command, b.sdkappid, resp.Status, bytes.TrimSpace(answer))
	}
	return nil
}
