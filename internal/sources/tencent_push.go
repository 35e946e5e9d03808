package sources

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"

	"github.com/imstats/imstats_exporter/collector"
	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/refresh"
	"github.com/imstats/imstats_exporter/internal/tencentim"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

// tencentMaxMsgLifeTime is the longest MsgLifeTime a push can have (Tencent
// Chat "全员/标签推送", im_push: at most 7 days); a task older than that is
// settled and asked for less often.
const tencentMaxMsgLifeTime = 7 * 24 * time.Hour

// windowKeyPrefix starts the block keys of the rolling windows, which are
// not tracked IDs (a TaskId has no '/').
const windowKeyPrefix = "window/"

// pushWindow is a rolling window of overall push statistics.
type pushWindow struct {
	label    string // the duration as configured, e.g. "24h"
	duration time.Duration
}

// windows returns the configured push windows of a Tencent app.
func windows(app *config.TencentApp) []pushWindow {
	out := make([]pushWindow, len(app.Push.Windows))
	for i, w := range app.Push.Windows {
		out[i] = pushWindow{label: w.Text, duration: time.Duration(w.Duration)}
	}
	return out
}

// init registers the builders of the sources whose jobs this file holds.
func init() {
	register(catalog.SourceTencentPush, Builder{Schema: collector.PushSchema, New: func() Job { return &tencentPush{} }})
	register(catalog.SourceTencentNormalPush, Builder{Schema: collector.NormalPushSchema, New: newNormalPush})
}

// tencentPush is the tencent_push source: overall statistics per rolling
// window, and the funnel of every tracked task, asked five at a time under
// the API's 1 call/s limit (Tencent Chat "All/Tagged Users Push Data
// Statistics", https://trtc.io/document/71894). Windows and tasks share
// the app's bucket for the API, so both together keep to 1 call/s.
type tencentPush struct {
	q           idQueue
	s           atomic.Pointer[taskSettings]
	windowsNext map[string]time.Time // when each window is due; loop only
	labels      labelGuard           // loop only
}

// taskSettings are the settings of a source that asks about the app's
// rolling windows and its tracked tasks on one bucket: tencent_push and
// tencent_push_loss.
type taskSettings struct {
	client   *tencentim.Client
	sdkappid string
	ids      *tracking.Set
	windows  []pushWindow
	interval time.Duration
	policy   refresh.QueuePolicy
	detail   bool
	clock    clock.Clock
	limits   labelSettings
}

// newTaskSettings returns the settings of source for app a, its windows
// as windowsOf gives them.
func newTaskSettings(a App, source string, windowsOf func(*config.TencentApp) []pushWindow) *taskSettings {
	interval := a.Config.RefreshIntervals.For(source)
	return &taskSettings{
		client:   NewTencentClient(a.Config, *a.Tencent, a.Deps),
		sdkappid: sdkappid(a),
		ids:      a.IDs,
		windows:  windowsOf(a.Tencent),
		interval: interval,
		detail:   a.Config.ChannelDetail(source),
		clock:    a.Deps.Clock,
		limits:   newLabelSettings(a),
		policy: refresh.QueuePolicy{
			BatchSize:       tencentim.MaxTaskIDsPerCall,
			Interval:        interval,
			SettledInterval: time.Duration(a.Config.Tracking.SettledRefreshInterval),
			SettledAfter:    tencentMaxMsgLifeTime,
		},
	}
}

// dueWindow returns the first of windows whose next ask (by label in next)
// is due at now, or, when none is, when the soonest one will be.
func dueWindow(windows []pushWindow, next map[string]time.Time, now time.Time) (w pushWindow, due bool, soonest time.Time) {
	for _, w := range windows {
		at := next[w.label]
		if !at.After(now) {
			return w, true, time.Time{}
		}
		if soonest.IsZero() || at.Before(soonest) {
			soonest = at
		}
	}
	return pushWindow{}, false, soonest
}

// labelSettings are what a job needs to bound and report label values.
type labelSettings struct {
	maxLabels int64
	metrics   *APIMetrics
	logger    log.Logger
}

func newLabelSettings(a App) labelSettings {
	return labelSettings{maxLabels: a.Config.Limits.MaxLabelValues, metrics: a.Deps.APIMetrics, logger: a.Deps.Logger}
}

// Configure implements Job.
func (j *tencentPush) Configure(a App) {
	j.s.Store(newTaskSettings(a, catalog.SourceTencentPush, windows))
}

// Wake implements refresh.Job.
func (j *tencentPush) Wake() <-chan struct{} { return j.q.wake() }

// Step implements refresh.Job: a due window first, else the due tasks.
func (j *tencentPush) Step(ctx context.Context, t *refresh.Target, woken bool) (time.Duration, error) {
	s := j.s.Load()
	now := s.clock.Now()
	if j.windowsNext == nil {
		j.windowsNext = map[string]time.Time{}
	}
	w, due, nextWindow := dueWindow(s.windows, j.windowsNext, now)
	if due {
		res, err := s.client.PushStatistics(ctx, now.Add(-w.duration), now, nil)
		if err != nil {
			return 0, err
		}
		t.Put(windowKeyPrefix+w.label, collector.PushWindowSamples(s.sdkappid, w.label, res, j.labels.limit(s.limits.maxLabels)))
		j.labels.report(s.limits.metrics, s.limits.logger, catalog.SourceTencentPush, s.sdkappid, s.limits.maxLabels)
		for _, r := range res {
			if r.TaskID == "" {
				j.labels.countsRefused(s.limits.logger, catalog.SourceTencentPush, s.sdkappid, windowKeyPrefix+w.label, r.Refused)
			}
		}
		j.windowsNext[w.label] = s.clock.Now().Add(s.interval)
		return 0, nil
	}
	configured := func(k string) bool {
		label, ok := strings.CutPrefix(k, windowKeyPrefix)
		return ok && slices.ContainsFunc(s.windows, func(w pushWindow) bool { return w.label == label })
	}
	batch, wait := j.q.next(t, s.ids, woken, now, s.policy, configured)
	if len(batch) == 0 {
		if !nextWindow.IsZero() {
			wait = min(wait, nextWindow.Sub(now))
		}
		return wait, nil
	}
	// A task's statistics are found by its push time, which the exporter
	// may not know: ask over the longest window the API allows.
	res, err := s.client.PushStatistics(ctx, now.Add(-tencentim.MaxStatisticsWindow+time.Minute), now, batch)
	if err != nil {
		return 0, err
	}
	seen := map[string]bool{}
	lim := j.labels.limit(s.limits.maxLabels)
	for _, r := range res {
		if !seen[r.TaskID] && slices.Contains(batch, r.TaskID) {
			seen[r.TaskID] = true
			t.Put(r.TaskID, collector.PushTaskSamples(s.sdkappid, r, s.detail, lim))
			j.labels.countsRefused(s.limits.logger, catalog.SourceTencentPush, s.sdkappid, r.TaskID, r.Refused)
		}
	}
	j.labels.report(s.limits.metrics, s.limits.logger, catalog.SourceTencentPush, s.sdkappid, s.limits.maxLabels)
	j.q.queue.Done(batch, s.clock.Now())
	return j.q.after(s.clock.Now(), s.policy, nextWindow), nil
}

// newNormalPush makes the tencent_normal_push source: the statistics of
// the offline pushes that one-to-one and group chat messages trigger, over
// the same rolling windows as tencent_push (Tencent Chat "普通推送数据统计",
// https://trtc.io/zh/document/71897), one window a step.
func newNormalPush() Job {
	return &windowJob{source: catalog.SourceTencentNormalPush, windows: windows,
		fetch: func(ctx context.Context, c *tencentim.Client, sdkappid string, w pushWindow, now time.Time, lim *collector.LabelLimit) ([]expo.Sample, int, error) {
			res, err := c.NormalPushStatistics(ctx, now.Add(-w.duration), now)
			if err != nil {
				return nil, 0, err
			}
			return collector.NormalPushWindowSamples(sdkappid, w.label, res, lim), res.Refused, nil
		}}
}
