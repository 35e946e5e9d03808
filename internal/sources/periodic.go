package sources

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/imstats/imstats_exporter/collector"
	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/jpush"
	"github.com/imstats/imstats_exporter/internal/refresh"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// snapshotKey is the key of a source's only block when it has one.
const snapshotKey = ""

// noWake is the Wake of jobs that no event wakes.
type noWake struct{}

// Wake implements refresh.Job.
func (noWake) Wake() <-chan struct{} { return nil }

// init registers the builders of the sources whose jobs this file holds.
func init() {
	register(catalog.SourceTencentOperations, Builder{Schema: collector.OperationsSchema, New: func() Job { return &operations{} }})
	register(catalog.SourceJPushUsers, Builder{Schema: collector.UsersSchema, New: func() Job { return &users{} }})
	register(catalog.SourceJPushGroupUsers, Builder{Schema: collector.GroupUsersSchema, New: func() Job { return &users{group: true} }})
}

// operations is the tencent_operations source: the latest day of
// getappinfo's daily operations data.
type operations struct {
	noWake
	s           atomic.Pointer[operationsSettings]
	badReported string     // the unparsable fields last warned about; loop only
	labels      labelGuard // loop only
}

type operationsSettings struct {
	client   *tencentim.Client
	sdkappid string
	loc      *time.Location
	interval time.Duration
	clock    clock.Clock
	logger   log.Logger
	limits   labelSettings
}

// Configure implements Job.
func (j *operations) Configure(a App) {
	j.s.Store(&operationsSettings{
		client:   NewTencentClient(a.Config, *a.Tencent, a.Deps),
		sdkappid: sdkappid(a),
		loc:      a.Config.Location,
		interval: a.Config.RefreshIntervals.For(catalog.SourceTencentOperations),
		clock:    a.Deps.Clock,
		logger:   a.Deps.Logger,
		limits:   newLabelSettings(a),
	})
}

// Step implements refresh.Job.
func (j *operations) Step(ctx context.Context, t *refresh.Target, _ bool) (time.Duration, error) {
	s := j.s.Load()
	rows, err := s.client.GetAppInfo(ctx)
	if err != nil {
		return 0, err
	}
	row, day, ok := collector.LatestOperationsDay(rows, s.clock.Now(), s.loc)
	if !ok {
		return s.interval, nil
	}
	samples, bad := collector.OperationsDayMetrics(rows, row, day, s.sdkappid, j.labels.limit(s.limits.maxLabels))
	j.labels.report(s.limits.metrics, s.logger, catalog.SourceTencentOperations, s.sdkappid, s.limits.maxLabels)
	j.reportBad(s, bad)
	t.Put(snapshotKey, samples)
	return s.interval, nil
}

// reportBad warns about unparsable values once per change of the set of
// fields affected, not once per refresh.
func (j *operations) reportBad(s *operationsSettings, bad []string) {
	key := strings.Join(bad, ",")
	changed := key != j.badReported
	j.badReported = key
	if changed && key != "" {
		level.Warn(s.logger).Log("msg", "getappinfo fields with unparsable values are not exported", "sdkappid", s.sdkappid, "fields", key)
	}
}

// users is the jpush_users source (/users, VIP) or jpush_group_users
// (/group/users): the latest complete day.
type users struct {
	noWake
	group bool
	s     atomic.Pointer[usersSettings]
	// wrongDay is whether the last answer lacked the day asked for; loop
	// only.
	wrongDay bool
	labels   labelGuard // loop only
}

type usersSettings struct {
	fetch    func(ctx context.Context, start time.Time, days int) ([]jpush.UsersDay, error)
	key      string
	loc      *time.Location
	clock    clock.Clock
	logger   log.Logger
	interval time.Duration
	limits   labelSettings
	source   string
}

// Configure implements Job.
func (j *users) Configure(a App) {
	s := &usersSettings{key: a.Name, loc: a.Config.Location, clock: a.Deps.Clock, logger: a.Deps.Logger, limits: newLabelSettings(a), source: catalog.SourceJPushUsers}
	if j.group {
		c, _ := NewJPushGroupClient(a.Config, *a.Group, a.Deps)
		s.fetch, s.interval = c.GroupUsers, a.Config.RefreshIntervals.For(catalog.SourceJPushGroupUsers)
		s.source = catalog.SourceJPushGroupUsers
	} else {
		c, _ := NewJPushClient(a.Config, *a.JPush, a.Deps)
		s.fetch, s.interval = c.Users, a.Config.RefreshIntervals.For(catalog.SourceJPushUsers)
	}
	j.s.Store(s)
}

// Step implements refresh.Job. It asks for yesterday, the latest complete
// day in the configured timezone, and exports the answer's item of that day
// only: an answer without it (another day, a different timezone at the
// vendor) gives no new values, logged once until the day is there again.
func (j *users) Step(ctx context.Context, t *refresh.Target, _ bool) (time.Duration, error) {
	s := j.s.Load()
	asked := collector.StartOfDay(s.clock.Now(), s.loc).AddDate(0, 0, -1)
	days, err := s.fetch(ctx, asked, 1)
	if err != nil {
		return 0, err
	}
	var got []expo.Sample
	var answered []string
	for _, d := range days {
		if day, ok := collector.UsersDay(d, s.loc); ok && day.Equal(asked) {
			got, _, _ = collector.UsersDayMetrics(j.group, s.key, d, s.loc, j.labels.limit(s.limits.maxLabels))
			j.labels.report(s.limits.metrics, s.logger, s.source, s.key, s.limits.maxLabels)
			j.labels.countsRefused(s.logger, s.source, s.key, "day", d.Refused)
			break
		}
		answered = append(answered, d.Day)
	}
	if wrong := got == nil; wrong != j.wrongDay {
		j.wrongDay = wrong
		if wrong {
			level.Warn(s.logger).Log("msg", "users answer lacks the day asked for; not exported", "key", s.key,
				"day", asked.Format(time.DateOnly), "answered", strings.Join(answered, ","))
		}
	}
	if got != nil {
		t.Put(snapshotKey, got)
	}
	return s.interval, nil
}
