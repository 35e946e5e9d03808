package collector

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/tencentim"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

// pushStage is one stage of the Tencent push funnel and the count it reads.
type pushStage struct {
	name  string
	help  string
	count func(tencentim.PushStats) tencentim.Count
}

var pushStages = []pushStage{
	{"target", "Devices the push could be sent to (all_member_push_statistics TotalCount).", func(s tencentim.PushStats) tencentim.Count { return s.TotalCount }},
	{"sent", "Pushes sent (all_member_push_statistics SentCount).", func(s tencentim.PushStats) tencentim.Count { return s.SentCount }},
	{"delivered", "Pushes delivered to devices (all_member_push_statistics DeliveredCount).", func(s tencentim.PushStats) tencentim.Count { return s.DeliveredCount }},
	{"clicked", "Pushes clicked (all_member_push_statistics ClickCount).", func(s tencentim.PushStats) tencentim.Count { return s.ClickCount }},
}

// pushFamily is one of the four families of push metrics: a stage's desc
// each, all with the same labels.
type pushFamily [4]*family

func newPushFamily(prefix, scope string, labels ...string) pushFamily {
	var f pushFamily
	for i, st := range pushStages {
		f[i] = newFamily(prefix+st.name, scope+": "+st.help, labels...)
	}
	return f
}

var (
	pushTaskFamily           = newPushFamily("tencent_im_push_task_", "Per push task", "sdkappid", "task_id")
	pushTaskPlatformFamily   = newPushFamily("tencent_im_push_task_platform_", "Per push task and vendor channel", "sdkappid", "task_id", "event_type", "platform")
	pushWindowFamily         = newPushFamily("tencent_im_push_window_", "All pushes in the rolling window", "sdkappid", "window")
	pushWindowPlatformFamily = newPushFamily("tencent_im_push_window_platform_", "All pushes in the rolling window, per vendor channel", "sdkappid", "window", "event_type", "platform")
)

// appendStats adds a series per stage whose count the vendor reported; a
// count it did not report gives no series (never a fake 0).
func appendStats(out []prometheus.Metric, f pushFamily, s tencentim.PushStats, labels ...string) []prometheus.Metric {
	for i, st := range pushStages {
		if c := st.count(s); c != nil {
			out = append(out, f[i].gauge(float64(*c), labels...))
		}
	}
	return out
}

// appendResult adds a result's totals and its per-channel statistics. Two
// entries for the same channel are summed: a duplicate series would fail the
// whole scrape.
func appendResult(out []prometheus.Metric, total, platform pushFamily, r tencentim.PushResult, labels ...string) []prometheus.Metric {
	out = appendStats(out, total, r.PushStats, labels...)
	type key struct{ event, platform int }
	merged := map[key]tencentim.PushStats{}
	var order []key
	for _, p := range r.Platforms {
		k := key{p.EventType, p.PushPlatform}
		prev, seen := merged[k]
		if !seen {
			order = append(order, k)
		}
		merged[k] = sumStats(prev, p.PushStats, seen)
	}
	for _, k := range order {
		out = appendStats(out, platform, merged[k], slices.Concat(labels, []string{tencentim.EventTypeName(k.event), tencentim.PlatformName(k.platform)})...)
	}
	return out
}

func sumStats(a, b tencentim.PushStats, both bool) tencentim.PushStats {
	if !both {
		return b
	}
	add := func(x, y tencentim.Count) tencentim.Count {
		if x == nil || y == nil {
			return nil
		}
		s := *x + *y
		return &s
	}
	return tencentim.PushStats{
		TotalCount:     add(a.TotalCount, b.TotalCount),
		SentCount:      add(a.SentCount, b.SentCount),
		DeliveredCount: add(a.DeliveredCount, b.DeliveredCount),
		ClickCount:     add(a.ClickCount, b.ClickCount),
	}
}

// pushStatsGetter is the part of the Tencent IM client the source uses.
type pushStatsGetter interface {
	PushStatistics(ctx context.Context, start, end time.Time, taskIDs []string) ([]tencentim.PushResult, error)
}

// PushWindow is a rolling window of overall push statistics.
type PushWindow struct {
	Label    string // the duration as configured, e.g. "24h"
	Duration time.Duration
}

// tencentPushOptions configure a tencent_push source.
type tencentPushOptions struct {
	Client          pushStatsGetter
	SDKAppID        uint64
	Windows         []PushWindow
	Tasks           *tracking.Set
	Cap             int           // the set's cap, for tracked_ids_limit
	Clock           clock.Clock   // nil: clock.Real{}
	Interval        time.Duration // how often an unsettled task is asked again
	SettledInterval time.Duration // how often a settled task is asked again
	SettledAfter    time.Duration // a task older than this is settled (longest MsgLifeTime)
}

// tencentPush is the tencent_push source: overall statistics per rolling
// window, and the funnel of every tracked task, asked five at a time under
// the API's 1 call/s limit (tencent-im-push-statistics.txt).
type tencentPush struct {
	*idPoller
	client   pushStatsGetter
	clock    clock.Clock
	windows  []PushWindow
	sdkappid string

	mu            sync.Mutex
	windowMetrics map[string][]prometheus.Metric // by window label
}

func newTencentPush(o tencentPushOptions) *tencentPush {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	s := &tencentPush{client: o.Client, clock: o.Clock, windows: o.Windows, sdkappid: strconv.FormatUint(o.SDKAppID, 10), windowMetrics: map[string][]prometheus.Metric{}}
	s.idPoller = newIDPoller(pollerOptions{
		IDs: o.Tasks, Cap: o.Cap, Clock: o.Clock, BatchSize: tencentim.MaxTaskIDsPerCall,
		Interval: o.Interval, SettledInterval: o.SettledInterval, SettledAfter: o.SettledAfter,
		Fetch: s.fetchTasks,
	})
	return s
}

// inheritFrom takes over the tasks' and windows' values of the source a
// configuration reload replaces.
func (s *tencentPush) inheritFrom(old Source) {
	s.idPoller.inheritFrom(old)
	o, ok := old.(*tencentPush)
	if !ok {
		return
	}
	o.mu.Lock()
	windows := maps.Clone(o.windowMetrics)
	o.mu.Unlock()
	s.mu.Lock()
	s.windowMetrics = windows
	s.mu.Unlock()
}

// Refresh implements Source: every window, then the due tasks.
func (s *tencentPush) Refresh(ctx context.Context) ([]prometheus.Metric, error) {
	for _, w := range s.windows {
		now := s.clock.Now()
		res, err := s.client.PushStatistics(ctx, now.Add(-w.Duration), now, nil)
		if err != nil {
			return s.snapshot(), quietAtDeadline(ctx, err)
		}
		var out []prometheus.Metric
		for _, r := range res {
			if r.TaskID == "" {
				out = appendResult(out, pushWindowFamily, pushWindowPlatformFamily, r, s.sdkappid, w.Label)
				break
			}
		}
		s.mu.Lock()
		s.windowMetrics[w.Label] = out
		s.mu.Unlock()
	}
	err := s.poll(ctx, s.snapshot)
	return s.snapshot(), err
}

// fetchTasks asks for a batch of tasks over the longest window the API
// allows: a task's statistics are found by its push time, which the exporter
// may not know.
func (s *tencentPush) fetchTasks(ctx context.Context, ids []string) (map[string][]prometheus.Metric, error) {
	now := s.clock.Now()
	res, err := s.client.PushStatistics(ctx, now.Add(-tencentim.MaxStatisticsWindow+time.Minute), now, ids)
	if err != nil {
		return nil, err
	}
	got := map[string][]prometheus.Metric{}
	for _, r := range res {
		if _, dup := got[r.TaskID]; !dup && slices.Contains(ids, r.TaskID) {
			got[r.TaskID] = appendResult(nil, pushTaskFamily, pushTaskPlatformFamily, r, s.sdkappid, r.TaskID)
		}
	}
	return got, nil
}

// snapshot returns every window's metrics and every task's.
func (s *tencentPush) snapshot() []prometheus.Metric {
	s.mu.Lock()
	var out []prometheus.Metric
	for _, w := range s.windows {
		out = append(out, s.windowMetrics[w.Label]...)
	}
	s.mu.Unlock()
	return append(out, s.metrics()...)
}
