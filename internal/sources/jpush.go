package sources

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/imstats/imstats_exporter/collector"
	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/jpush"
	"github.com/imstats/imstats_exporter/internal/refresh"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

// init registers the builders of the sources whose jobs this file holds.
func init() {
	register(catalog.SourceJPushReceived, Builder{Schema: collector.ReceivedSchema, New: func() Job { return &received{} }})
	register(catalog.SourceJPushMessages, Builder{Schema: collector.MessagesSchema, New: func() Job { return &messages{} }})
	register(catalog.SourceJPushStatus, Builder{Schema: collector.StatusSchema, New: func() Job { return &status{} },
		Needs: func(a App) bool { return len(a.JPush.CanaryRegistrationIDs) > 0 }})
	register(catalog.SourceJPushGroupMessages, Builder{Schema: collector.GroupMessagesSchema, New: func() Job { return &messages{group: true} }})
}

// messageSettings are what every JPush source polling messages needs.
type messageSettings struct {
	client *jpush.Client
	key    string
	ids    *tracking.Set
	policy refresh.QueuePolicy
	detail bool
	clock  clock.Clock
	logger log.Logger
	loc    *time.Location
	// canaries are the registration IDs jpush_status asks about.
	canaries []string
	// source names the job's source; maxLabels is limits.max_label_values.
	source    string
	maxLabels int64
	metrics   *APIMetrics
}

// newMessageSettings returns the settings of source for app a, asking
// batch IDs a call.
func newMessageSettings(a App, source string, batch int) *messageSettings {
	s := &messageSettings{
		source:    source,
		maxLabels: a.Config.Limits.MaxLabelValues,
		metrics:   a.Deps.APIMetrics,
		key:       a.Name,
		ids:       a.IDs,
		detail:    a.Config.ChannelDetail(source),
		clock:     a.Deps.Clock,
		logger:    a.Deps.Logger,
		loc:       a.Config.Location,
		policy: refresh.QueuePolicy{
			BatchSize:       batch,
			Interval:        a.Config.RefreshIntervals.For(source),
			SettledInterval: time.Duration(a.Config.Tracking.SettledRefreshInterval),
			SettledAfter:    collector.JPushSettledAfter,
		},
	}
	if a.Group != nil {
		s.client, _ = NewJPushGroupClient(a.Config, *a.Group, a.Deps)
	} else {
		s.client, _ = NewJPushClient(a.Config, *a.JPush, a.Deps)
		s.canaries = a.JPush.CanaryRegistrationIDs
	}
	return s
}

// messageJob is the part of the message sources that is the same: the
// queue, the settings, and a step that asks the due batch with fetch.
type messageJob struct {
	q      idQueue
	s      atomic.Pointer[messageSettings]
	labels labelGuard // loop only
}

// Wake implements refresh.Job.
func (j *messageJob) Wake() <-chan struct{} { return j.q.wake() }

// step asks the due batch with fetch and puts each answered ID's samples.
// An ID the vendor did not answer for keeps its previous values.
func (j *messageJob) step(ctx context.Context, t *refresh.Target, woken bool, fetch func(ctx context.Context, s *messageSettings, ids []string) (map[string][]expo.Sample, error)) (time.Duration, error) {
	s := j.s.Load()
	now := s.clock.Now()
	batch, wait := j.q.next(t, s.ids, woken, now, s.policy, nil)
	if len(batch) == 0 {
		return wait, nil
	}
	got, err := fetch(ctx, s, batch)
	if err != nil {
		return 0, err
	}
	if j.labels.lim != nil {
		j.labels.report(s.metrics, s.logger, s.source, s.key, s.maxLabels)
	}
	for _, id := range batch {
		if samples, ok := got[id]; ok {
			t.Put(id, samples)
		}
	}
	j.q.queue.Done(batch, s.clock.Now())
	return j.q.after(s.clock.Now(), s.policy, time.Time{}), nil
}

// received is the jpush_received source: /received/detail per tracked
// message and channel, or the legacy /received when detail is refused.
type received struct {
	messageJob
	legacy atomic.Bool // detail was refused: use /received
}

// Configure implements Job. The fallback to /received was decided on the
// previous settings' endpoint and credentials: a reload tries
// /received/detail again.
func (j *received) Configure(a App) {
	j.s.Store(newMessageSettings(a, catalog.SourceJPushReceived, jpush.MaxMsgIDsPerCall))
	j.legacy.Store(false)
}

// Step implements refresh.Job.
func (j *received) Step(ctx context.Context, t *refresh.Target, woken bool) (time.Duration, error) {
	return j.step(ctx, t, woken, j.fetch)
}

func (j *received) fetch(ctx context.Context, s *messageSettings, ids []string) (map[string][]expo.Sample, error) {
	var res []jpush.Received
	var err error
	// Read once: a reload may reset the flag while the step runs.
	legacy := j.legacy.Load()
	if !legacy {
		res, err = s.client.ReceivedDetail(ctx, ids)
		if c := apierr.ClassOf(err); c == apierr.Unavailable || c == apierr.Fatal {
			// /received is "no longer maintained" but still answers for
			// accounts that cannot use /received/detail (JPush "REST API
			// v3 Report", 送达统计(旧)).
			level.Info(s.logger).Log("msg", "received/detail refused; using the legacy /received", "app_key", s.key, "err", err)
			j.legacy.Store(true)
			legacy = true
		}
	}
	if legacy {
		res, err = s.client.Received(ctx, ids)
	}
	if err != nil {
		return nil, err
	}
	got := map[string][]expo.Sample{}
	for _, r := range res {
		if _, dup := got[r.MsgID]; !dup && slices.Contains(ids, r.MsgID) {
			got[r.MsgID] = collector.ReceivedSamples(s.key, r)
			j.labels.countsRefused(s.logger, s.source, s.key, r.MsgID, r.Refused)
		}
	}
	return got, nil
}

// messages is the jpush_messages source (/messages/detail, VIP, or the old
// /messages where detail is refused) or the jpush_group_messages source
// (/group/messages/detail).
type messages struct {
	messageJob
	group  bool
	legacy atomic.Bool // /messages/detail was refused: use /messages
}

// Configure implements Job. As for received, a reload tries
// /messages/detail again.
func (j *messages) Configure(a App) {
	if j.group {
		j.s.Store(newMessageSettings(a, catalog.SourceJPushGroupMessages, jpush.MaxGroupMsgIDsPerCall))
		return
	}
	j.s.Store(newMessageSettings(a, catalog.SourceJPushMessages, jpush.MaxMsgIDsPerCall))
	j.legacy.Store(false)
}

// Step implements refresh.Job.
func (j *messages) Step(ctx context.Context, t *refresh.Target, woken bool) (time.Duration, error) {
	return j.step(ctx, t, woken, j.fetch)
}

func (j *messages) fetch(ctx context.Context, s *messageSettings, ids []string) (map[string][]expo.Sample, error) {
	var res []jpush.Message
	var err error
	switch legacy := j.legacy.Load(); {
	case j.group:
		res, err = s.client.GroupMessagesDetail(ctx, ids)
	case legacy:
		res, err = s.client.Messages(ctx, ids)
	default:
		res, err = s.client.MessagesDetail(ctx, ids)
		if apierr.ClassOf(err) == apierr.Unavailable {
			// An account with the old VIP /messages only (JPush "REST API
			// v3 Report", 消息统计(VIP 专属接口,旧)): detail answers 2003.
			level.Info(s.logger).Log("msg", "messages/detail refused; using the old /messages", "app_key", s.key, "err", err)
			j.legacy.Store(true)
			res, err = s.client.Messages(ctx, ids)
		}
	}
	if err != nil {
		return nil, err
	}
	got := map[string][]expo.Sample{}
	lim := j.labels.limit(s.maxLabels)
	for _, m := range res {
		if _, dup := got[m.MsgID]; !dup && slices.Contains(ids, m.MsgID) {
			got[m.MsgID] = collector.MessageSamples(j.group, s.key, m, s.detail, lim)
			j.labels.countsRefused(s.logger, s.source, s.key, m.MsgID, m.Refused)
		}
	}
	return got, nil
}

// status is the jpush_status source: for every tracked message, how many of
// the configured canary devices are in each delivery status.
type status struct {
	messageJob
}

// Configure implements Job. /status/message takes one msg_id a call (JPush
// "REST API v3 Report", /status/message).
func (j *status) Configure(a App) {
	j.s.Store(newMessageSettings(a, catalog.SourceJPushStatus, 1))
}

// Step implements refresh.Job.
func (j *status) Step(ctx context.Context, t *refresh.Target, woken bool) (time.Duration, error) {
	return j.step(ctx, t, woken, j.fetch)
}

func (j *status) fetch(ctx context.Context, s *messageSettings, ids []string) (map[string][]expo.Sample, error) {
	got := map[string][]expo.Sample{}
	for _, id := range ids {
		// One call: the configuration allows at most the 1000 registration
		// IDs a call takes (config: canary_registration_ids). The date is
		// the day the message was sent (or first tracked): the vendor
		// answers for one day.
		res, err := s.client.StatusMessage(ctx, id, s.canaries, jpush.StatusDate(j.q.since[id], s.loc))
		if err != nil {
			return nil, err
		}
		got[id] = collector.StatusSamples(s.key, id, s.canaries, res, j.labels.limit(s.maxLabels))
	}
	return got, nil
}
