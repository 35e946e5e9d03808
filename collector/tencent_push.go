package collector

import (
	"context"
	"errors"
	"sort"
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
type pushFamily [4]*prometheus.Desc

func newPushFamily(prefix, scope string, labels ...string) pushFamily {
	var f pushFamily
	for i, st := range pushStages {
		f[i] = prometheus.NewDesc(prefix+st.name, scope+": "+st.help, labels, nil)
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
			out = append(out, prometheus.MustNewConstMetric(f[i], prometheus.GaugeValue, float64(*c), labels...))
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
		out = appendStats(out, platform, merged[k], append(labels, tencentim.EventTypeName(k.event), tencentim.PlatformName(k.platform))...)
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
	o        tencentPushOptions
	sdkappid string

	mu      sync.Mutex
	windows map[string][]prometheus.Metric // by window label
	tasks   map[string]*taskState          // by task ID
}

type taskState struct {
	fetched time.Time
	metrics []prometheus.Metric
}

func newTencentPush(o tencentPushOptions) *tencentPush {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	return &tencentPush{o: o, sdkappid: strconv.FormatUint(o.SDKAppID, 10), windows: map[string][]prometheus.Metric{}, tasks: map[string]*taskState{}}
}

// Tracked implements Tracker.
func (s *tencentPush) Tracked() (int, int, uint64) {
	return s.o.Tasks.Len(), s.o.Cap, s.o.Tasks.Evicted()
}

// Refresh implements Source. It asks for every window, then for the tracked
// tasks that are due, most urgent first, in batches of five, publishing after
// each batch, until none is due or the refresh's time is up (then the rest
// waits for the next refresh, and that is not a failure).
func (s *tencentPush) Refresh(ctx context.Context) ([]prometheus.Metric, error) {
	s.o.Tasks.Expire()
	s.forgetUntracked()
	for _, w := range s.o.Windows {
		now := s.o.Clock.Now()
		res, err := s.o.Client.PushStatistics(ctx, now.Add(-w.Duration), now, nil)
		if err != nil {
			return s.finish(ctx, err)
		}
		var out []prometheus.Metric
		for _, r := range res {
			if r.TaskID == "" {
				out = appendResult(out, pushWindowFamily, pushWindowPlatformFamily, r, s.sdkappid, w.Label)
				break
			}
		}
		s.mu.Lock()
		s.windows[w.Label] = out
		s.mu.Unlock()
	}
	asked := map[string]bool{}
	for {
		batch := s.nextBatch(asked)
		if len(batch) == 0 {
			return s.metrics(), nil
		}
		for _, id := range batch {
			asked[id] = true
		}
		// Ask for the longest window the API allows: a task's statistics
		// are found by its push time, which the exporter may not know.
		now := s.o.Clock.Now()
		res, err := s.o.Client.PushStatistics(ctx, now.Add(-tencentim.MaxStatisticsWindow+time.Minute), now, batch)
		if err != nil {
			return s.finish(ctx, err)
		}
		s.store(batch, res, s.o.Clock.Now())
		Publish(ctx, s.metrics())
	}
}

// finish ends a refresh on err: running out of time is the normal end of a
// long queue; anything else is a failure, with the values kept.
func (s *tencentPush) finish(ctx context.Context, err error) ([]prometheus.Metric, error) {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return s.metrics(), nil
	}
	return s.metrics(), err
}

// forgetUntracked drops the results of tasks no longer tracked.
func (s *tencentPush) forgetUntracked() {
	live := map[string]bool{}
	for _, id := range s.o.Tasks.IDs() {
		live[id.ID] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.tasks {
		if !live[id] {
			delete(s.tasks, id)
		}
	}
}

// nextBatch picks up to five due tasks not yet asked in this refresh: never
// asked first (newest first), then unsettled ones asked longest ago, then
// settled ones asked longest ago. It reads the tracked set afresh each time,
// so a task registered during a long refresh is in the next batch.
func (s *tencentPush) nextBatch(asked map[string]bool) []string {
	now := s.o.Clock.Now()
	type cand struct {
		id      string
		class   int
		fetched time.Time
	}
	var cands []cand
	s.mu.Lock()
	for _, id := range s.o.Tasks.IDs() {
		if asked[id.ID] {
			continue
		}
		st, ok := s.tasks[id.ID]
		switch {
		case !ok:
			cands = append(cands, cand{id.ID, 0, time.Time{}})
		case now.Sub(id.Added) < s.o.SettledAfter:
			if now.Sub(st.fetched) >= s.o.Interval {
				cands = append(cands, cand{id.ID, 1, st.fetched})
			}
		default:
			if now.Sub(st.fetched) >= s.o.SettledInterval {
				cands = append(cands, cand{id.ID, 2, st.fetched})
			}
		}
	}
	s.mu.Unlock()
	// Stable: within class 0 the set's newest-first order stands.
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].class != cands[j].class {
			return cands[i].class < cands[j].class
		}
		return cands[i].fetched.Before(cands[j].fetched)
	})
	batch := make([]string, 0, tencentim.MaxTaskIDsPerCall)
	for _, c := range cands[:min(len(cands), tencentim.MaxTaskIDsPerCall)] {
		batch = append(batch, c.id)
	}
	return batch
}

// store records the answer for a batch. A task the vendor did not answer for
// keeps its previous values and is not asked again before its interval.
func (s *tencentPush) store(batch []string, res []tencentim.PushResult, now time.Time) {
	byID := map[string]tencentim.PushResult{}
	for _, r := range res {
		if _, dup := byID[r.TaskID]; !dup {
			byID[r.TaskID] = r
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range batch {
		st := s.tasks[id]
		if st == nil {
			st = &taskState{}
			s.tasks[id] = st
		}
		st.fetched = now
		if r, ok := byID[id]; ok {
			st.metrics = appendResult(nil, pushTaskFamily, pushTaskPlatformFamily, r, s.sdkappid, id)
		}
	}
}

// metrics returns the current snapshot: every window and every task.
func (s *tencentPush) metrics() []prometheus.Metric {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []prometheus.Metric
	for _, w := range s.o.Windows {
		out = append(out, s.windows[w.Label]...)
	}
	ids := make([]string, 0, len(s.tasks))
	for id := range s.tasks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		out = append(out, s.tasks[id].metrics...)
	}
	return out
}
