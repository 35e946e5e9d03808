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
	badReported string // the unparsable fields last warned about; loop only
}

type operationsSettings struct {
	client   *tencentim.Client
	sdkappid string
	loc      *time.Location
	interval time.Duration
	clock    clock.Clock
	logger   log.Logger
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
	samples, bad := collector.OperationsDayMetrics(rows, row, day, s.sdkappid)
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
}

type usersSettings struct {
	fetch    func(ctx context.Context, start time.Time, days int) ([]jpush.UsersDay, error)
	key      string
	loc      *time.Location
	clock    clock.Clock
	interval time.Duration
}

// Configure implements Job.
func (j *users) Configure(a App) {
	s := &usersSettings{key: a.Name, loc: a.Config.Location, clock: a.Deps.Clock}
	if j.group {
		c, _ := NewJPushGroupClient(a.Config, *a.Group, a.Deps)
		s.fetch, s.interval = c.GroupUsers, a.Config.RefreshIntervals.For(catalog.SourceJPushGroupUsers)
	} else {
		c, _ := NewJPushClient(a.Config, *a.JPush, a.Deps)
		s.fetch, s.interval = c.Users, a.Config.RefreshIntervals.For(catalog.SourceJPushUsers)
	}
	j.s.Store(s)
}

// Step implements refresh.Job. It asks for yesterday, the latest complete
// day in the configured timezone.
func (j *users) Step(ctx context.Context, t *refresh.Target, _ bool) (time.Duration, error) {
	s := j.s.Load()
	today := collector.StartOfDay(s.clock.Now(), s.loc)
	days, err := s.fetch(ctx, today.AddDate(0, 0, -1), 1)
	if err != nil {
		return 0, err
	}
	var latest []expo.Sample
	var latestDay time.Time
	for _, d := range days {
		m, day, ok := collector.UsersDayMetrics(j.group, s.key, d, s.loc)
		if ok && day.Before(today) && day.After(latestDay) {
			latest, latestDay = m, day
		}
	}
	if latest != nil {
		t.Put(snapshotKey, latest)
	}
	return s.interval, nil
}
