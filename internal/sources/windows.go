package sources

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/imstats/imstats_exporter/collector"
	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/refresh"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// windowFetch asks the vendor about one rolling window ending at now and
// returns its samples and how many of the answer's entries were refused.
type windowFetch func(ctx context.Context, c *tencentim.Client, sdkappid string, w pushWindow, now time.Time, lim *collector.LabelLimit) ([]expo.Sample, int, error)

// windowJob is a source that asks about each rolling window of the app,
// one window a step so that its bucket paces the calls, refreshed on
// scrape: tencent_normal_push and tencent_normal_push_loss.
type windowJob struct {
	noWake
	source  string
	windows func(*config.TencentApp) []pushWindow
	fetch   windowFetch
	s       atomic.Pointer[windowSettings]
	next    int        // the window the next step asks for; loop only
	labels  labelGuard // loop only
}

type windowSettings struct {
	client   *tencentim.Client
	sdkappid string
	windows  []pushWindow
	interval time.Duration
	clock    clock.Clock
	limits   labelSettings
}

// Configure implements Job.
func (j *windowJob) Configure(a App) {
	j.s.Store(&windowSettings{
		client:   NewTencentClient(a.Config, *a.Tencent, a.Deps),
		sdkappid: sdkappid(a),
		windows:  j.windows(a.Tencent),
		interval: a.Config.RefreshIntervals.For(j.source),
		clock:    a.Deps.Clock,
		limits:   newLabelSettings(a),
	})
}

// Step implements refresh.Job: the next window, then the interval's wait
// once every window has been asked.
func (j *windowJob) Step(ctx context.Context, t *refresh.Target, _ bool) (time.Duration, error) {
	s := j.s.Load()
	// Windows a reload removed lose their series, also when none is left.
	t.Retain(func(k string) bool {
		label, _ := strings.CutPrefix(k, windowKeyPrefix)
		return slices.ContainsFunc(s.windows, func(w pushWindow) bool { return w.label == label })
	})
	if len(s.windows) == 0 {
		return s.interval, nil
	}
	j.next %= len(s.windows)
	w := s.windows[j.next]
	samples, refused, err := j.fetch(ctx, s.client, s.sdkappid, w, s.clock.Now(), j.labels.limit(s.limits.maxLabels))
	if err != nil {
		return 0, err
	}
	t.Put(windowKeyPrefix+w.label, samples)
	j.labels.report(s.limits.metrics, s.limits.logger, j.source, s.sdkappid, s.limits.maxLabels)
	j.labels.countsRefused(s.limits.logger, j.source, s.sdkappid, windowKeyPrefix+w.label, refused)
	j.next++
	if j.next < len(s.windows) {
		return 0, nil
	}
	j.next = 0
	return s.interval, nil
}
