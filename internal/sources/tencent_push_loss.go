package sources

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/imstats/imstats_exporter/collector"
	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/refresh"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// lossReasonsKey is the block key of tencent_push_loss' reason texts; a
// TaskId has no '/', so it is never a tracked ID.
const lossReasonsKey = "loss/reasons"

// init registers the builders of the sources whose jobs this file holds.
func init() {
	register(catalog.SourceTencentPushLoss, Builder{Schema: collector.PushLossSchema, New: func() Job { return &pushLoss{} }})
	register(catalog.SourceTencentNormalPushLoss, Builder{Schema: collector.NormalPushLossSchema, New: newNormalPushLoss})
}

// lossWindows returns the configured push windows of a Tencent app as the
// loss APIs ask for them: a window longer than tencentim.MaxLossWindow (7
// days) is clamped to it and keeps its configured label, so that its series
// join those of the statistics.
func lossWindows(app *config.TencentApp) []pushWindow {
	out := windows(app)
	for i := range out {
		out[i].duration = min(out[i].duration, tencentim.MaxLossWindow)
	}
	return out
}

// pushLoss is the tencent_push_loss source: why pushes were lost, per error
// code and channel (Tencent Chat "All/Tagged Users Push Loss Analysis",
// all_member_push_loss, https://intl.cloud.tencent.com/document/product/1047/71895),
// for each rolling window and for every tracked task five at a time, on the
// API's own 1 call/s budget. Tasks are queued as tencent_push queues them,
// so that a task's losses are asked for as long as its statistics are and
// settle with them.
type pushLoss struct {
	q           idQueue
	s           atomic.Pointer[taskSettings]
	windowsNext map[string]time.Time             // when each window is due; loop only
	reasons     map[string]collector.LossReasons // the reason texts of each block; loop only
	labels      labelGuard                       // loop only
}

// Configure implements Job.
func (j *pushLoss) Configure(a App) {
	j.s.Store(newTaskSettings(a, catalog.SourceTencentPushLoss, lossWindows))
}

// Wake implements refresh.Job.
func (j *pushLoss) Wake() <-chan struct{} { return j.q.wake() }

// Step implements refresh.Job: a due window first, else the due tasks.
func (j *pushLoss) Step(ctx context.Context, t *refresh.Target, woken bool) (time.Duration, error) {
	s := j.s.Load()
	now := s.clock.Now()
	if j.windowsNext == nil {
		j.windowsNext = map[string]time.Time{}
		j.reasons = map[string]collector.LossReasons{}
	}
	w, due, nextWindow := dueWindow(s.windows, j.windowsNext, now)
	if due {
		res, err := s.client.PushLoss(ctx, now.Add(-w.duration), now, nil)
		if err != nil {
			return 0, err
		}
		key := windowKeyPrefix + w.label
		reasons := collector.LossReasons{}
		t.Put(key, collector.PushWindowLossSamples(s.sdkappid, w.label, res, reasons, j.labels.limit(s.limits.maxLabels)))
		j.labels.report(s.limits.metrics, s.limits.logger, catalog.SourceTencentPushLoss, s.sdkappid, s.limits.maxLabels)
		j.reasons[key] = reasons
		j.putReasons(t, s)
		for _, r := range res {
			if r.TaskID == "" {
				j.labels.countsRefused(s.limits.logger, catalog.SourceTencentPushLoss, s.sdkappid, key, r.Skipped)
			}
		}
		j.windowsNext[w.label] = s.clock.Now().Add(s.interval)
		return 0, nil
	}
	configured := func(k string) bool {
		if k == lossReasonsKey {
			return true
		}
		label, ok := strings.CutPrefix(k, windowKeyPrefix)
		return ok && slices.ContainsFunc(s.windows, func(w pushWindow) bool { return w.label == label })
	}
	batch, wait := j.q.next(t, s.ids, woken, now, s.policy, configured)
	j.pruneReasons(t, s, configured)
	if len(batch) == 0 {
		if !nextWindow.IsZero() {
			wait = min(wait, nextWindow.Sub(now))
		}
		return wait, nil
	}
	// A task's losses are found by its push time, which the exporter may not
	// know: ask over the longest window the API allows.
	res, err := s.client.PushLoss(ctx, now.Add(-tencentim.MaxLossWindow+time.Minute), now, batch)
	if err != nil {
		return 0, err
	}
	seen := map[string]bool{}
	lim := j.labels.limit(s.limits.maxLabels)
	for _, r := range res {
		if !seen[r.TaskID] && slices.Contains(batch, r.TaskID) {
			seen[r.TaskID] = true
			reasons := collector.LossReasons{}
			t.Put(r.TaskID, collector.PushTaskLossSamples(s.sdkappid, r, s.detail, reasons, lim))
			j.reasons[r.TaskID] = reasons
			j.labels.countsRefused(s.limits.logger, catalog.SourceTencentPushLoss, s.sdkappid, r.TaskID, r.Skipped)
		}
	}
	j.labels.report(s.limits.metrics, s.limits.logger, catalog.SourceTencentPushLoss, s.sdkappid, s.limits.maxLabels)
	j.putReasons(t, s)
	j.q.queue.Done(batch, s.clock.Now())
	return j.q.after(s.clock.Now(), s.policy, nextWindow), nil
}

// pruneReasons forgets the reason texts of the blocks no longer kept: tasks
// no longer tracked, windows a reload removed.
func (j *pushLoss) pruneReasons(t *refresh.Target, s *taskSettings, configured func(string) bool) {
	n := len(j.reasons)
	for k := range j.reasons {
		if _, tracked := j.q.since[k]; !tracked && !configured(k) {
			delete(j.reasons, k)
		}
	}
	if len(j.reasons) != n {
		j.putReasons(t, s)
	}
}

// putReasons publishes the reason text of every code the source's blocks
// export, a code keeping the text of the first block in key order, at most
// collector.MaxLossReasons codes.
func (j *pushLoss) putReasons(t *refresh.Target, s *taskSettings) {
	keys := make([]string, 0, len(j.reasons))
	for k := range j.reasons {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	all := collector.LossReasons{}
	for _, k := range keys {
		all.Merge(j.reasons[k])
	}
	t.Put(lossReasonsKey, collector.LossReasonSamples(s.sdkappid, all))
}

// newNormalPushLoss makes the tencent_normal_push_loss source: why the
// offline pushes of chat messages were lost, per error code and channel
// (Tencent Chat "Chat Service Push Loss Analysis", normal_push_loss,
// https://intl.cloud.tencent.com/document/product/1047/71898), over the
// push windows clamped to 7 days, one window a step on the API's own 1
// call/s budget. The reason texts are tencent_push_loss' (a family belongs
// to one source), which names the same codes.
func newNormalPushLoss() Job {
	return &windowJob{source: catalog.SourceTencentNormalPushLoss, windows: lossWindows,
		fetch: func(ctx context.Context, c *tencentim.Client, sdkappid string, w pushWindow, now time.Time, lim *collector.LabelLimit) ([]expo.Sample, int, error) {
			r, err := c.NormalPushLoss(ctx, now.Add(-w.duration), now)
			if err != nil {
				return nil, 0, err
			}
			return collector.NormalPushWindowLossSamples(sdkappid, w.label, r, nil, lim), r.Skipped, nil
		}}
}
