// Package backfill writes the history the vendors already hold as
// OpenMetrics, for promtool tsdb create-blocks-from openmetrics: every day
// getappinfo returns (the last 30), 60 days of JPush /users and 30 of
// /group/users, under the names and labels of the live metrics.
//
// The history looks as if the exporter had been running: the live exporter
// serves, all through a day, the figures of the day before (the latest
// complete day), so the backfill writes each day's figures every step from
// the start of the following day to its end. A series then has a sample
// within Prometheus' 5-minute lookback at any time, and `x offset 1d` finds
// yesterday's figure as the live series would have shown it. Extra labels
// (job, instance) make the backfilled series the same series as the scraped
// ones.
//
// Yesterday's figures are what the exporter serves live today, so the
// backfill ends at today's midnight and never overlaps live samples. It calls
// the vendors through the clients and rate limits the exporter uses, one call
// per app.
package backfill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"

	"github.com/imstats/imstats_exporter/collector"
	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/jpush"
	"github.com/imstats/imstats_exporter/internal/sources"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// Options configure Run.
type Options struct {
	Out      io.Writer  // the OpenMetrics output
	Progress io.Writer  // human progress lines, one per app; nil: none
	Logger   log.Logger // nil: no logging
	// Clock tells which day is today and paces the vendor calls; nil is
	// clock.Real.
	Clock clock.Clock
	// Step is the time between two samples of a series; 0 is DefaultStep.
	// It must be under Prometheus' lookback (5 minutes by default) for an
	// instant query to find a sample at any time.
	Step time.Duration
	// Labels are added to every series: the job and instance labels
	// Prometheus gives the exporter's scrapes, so that the history joins the
	// live series.
	Labels map[string]string
}

// DefaultStep is the default time between two backfilled samples: under
// Prometheus' default 5-minute lookback.
const DefaultStep = 4 * time.Minute

// Run writes the backfill of every app in cfg, for every source the backfill
// knows that cfg enables, to o.Out, and a line per app to o.Progress. An app
// that fails is reported there and the others are still written; Run then
// returns an error naming the failed apps. Nothing is written to o.Out before
// every app has been asked, nor at all when ctx ends first or when there is
// nothing to backfill.
func Run(ctx context.Context, cfg *config.Config, o Options) error {
	c := o.Clock
	if c == nil {
		c = clock.Real{}
	}
	step := o.Step
	if step == 0 {
		step = DefaultStep
	}
	if step < time.Second || step > 24*time.Hour {
		return fmt.Errorf("step %v: must be between 1s and 24h", step)
	}
	extra, err := extraLabels(o.Labels)
	if err != nil {
		return err
	}
	logger := o.Logger
	if logger == nil {
		logger = log.NewNopLogger()
	}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	jobs := plan(cfg, sources.Deps{
		Clock:  c,
		Logger: logger,
		// The clients report every call; nothing serves these metrics.
		APIMetrics: sources.NewAPIMetrics(prometheus.NewRegistry()),
		Limiters:   sources.NewLimiters(c),
	})
	if len(jobs) == 0 {
		return fmt.Errorf("nothing to backfill: no app with %s, %s or %s turned on", catalog.SourceTencentOperations, catalog.SourceJPushUsers, catalog.SourceJPushGroupUsers)
	}
	today := startOfDay(c.Now(), cfg.Location)
	out := newOpenMetrics()
	var failed []string
	for _, j := range jobs {
		days, err := j.fetch(ctx, today)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err != nil {
			fmt.Fprintf(progress, "%s: failed: %s\n", j, reason(err))
			failed = append(failed, j.String())
			continue
		}
		for _, d := range days {
			// Served all through the next day, as the live exporter does.
			from := d.start.AddDate(0, 0, 1)
			if err := out.add(from, from.AddDate(0, 0, 1), step, d.metrics, extra); err != nil {
				return fmt.Errorf("%s: %w", j, err)
			}
		}
		fmt.Fprintf(progress, "%s: done, %s\n", j, span(days))
	}
	if _, err := out.WriteTo(o.Out); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d backfills failed: %s", len(failed), len(jobs), strings.Join(failed, "; "))
	}
	return nil
}

// job is the backfill of one source for one app.
type job struct {
	source     string // a catalog.Source* name
	label, key string // how the metrics name the app: sdkappid, app_key or group_key, and its value
	// fetch returns the app's complete days before today, oldest first.
	fetch func(ctx context.Context, today time.Time) ([]day, error)
}

// String names the job as progress lines and errors do.
func (j job) String() string { return j.source + " for " + j.label + " " + j.key }

// day is the metrics of one day, to be stamped with its start.
type day struct {
	start   time.Time
	metrics []expo.Sample
}

// plan returns a job per app and enabled source, in configuration order.
func plan(cfg *config.Config, d sources.Deps) []job {
	var jobs []job
	if cfg.Sources.Enabled(catalog.SourceTencentOperations) {
		for _, app := range cfg.TencentIM {
			id := strconv.FormatUint(app.SDKAppID, 10)
			client := sources.NewTencentClient(cfg, app, d)
			jobs = append(jobs, job{catalog.SourceTencentOperations, "sdkappid", id, operationsDays(client, id, cfg.Location, d.Logger, cfg.Limits.MaxLabelValues)})
		}
	}
	if cfg.Sources.Enabled(catalog.SourceJPushUsers) {
		for _, app := range cfg.JPush {
			client, _ := sources.NewJPushClient(cfg, app, d)
			jobs = append(jobs, job{catalog.SourceJPushUsers, "app_key", app.AppKey, usersDays(client.Users, false, app.AppKey, jpush.MaxUsersDays, cfg.Location, cfg.Limits.MaxLabelValues)})
		}
	}
	if cfg.Sources.Enabled(catalog.SourceJPushGroupUsers) {
		for _, g := range cfg.JPushGroups {
			client, _ := sources.NewJPushGroupClient(cfg, g, d)
			jobs = append(jobs, job{catalog.SourceJPushGroupUsers, "group_key", g.GroupKey, usersDays(client.GroupUsers, true, g.GroupKey, jpush.MaxGroupUsersDays, cfg.Location, cfg.Limits.MaxLabelValues)})
		}
	}
	return jobs
}

// appInfoGetter is the part of the Tencent IM client the backfill uses.
type appInfoGetter interface {
	GetAppInfo(ctx context.Context) ([]tencentim.AppInfoRow, error)
}

// operationsDays fetches getappinfo, which returns the last 30 days, one row
// a day (Tencent Chat "Pulling Operations Data"), and turns every row into the metrics of
// the tencent_operations source. A row without a valid Date is left out, as
// the live source does.
func operationsDays(client appInfoGetter, sdkappid string, loc *time.Location, logger log.Logger, maxLabels int64) func(context.Context, time.Time) ([]day, error) {
	return func(ctx context.Context, today time.Time) ([]day, error) {
		rows, err := client.GetAppInfo(ctx)
		if err != nil {
			return nil, err
		}
		var days []day
		bad := map[string]bool{}
		lim := collector.NewLabelLimit(int(maxLabels))
		for _, row := range rows {
			start, ok := collector.OperationsDay(row, loc)
			if !ok {
				continue
			}
			metrics, fields := collector.OperationsDayMetrics(rows, row, start, sdkappid, lim)
			for _, f := range fields {
				bad[f] = true
			}
			days = append(days, day{start, metrics})
		}
		if len(bad) > 0 {
			fields := slices.Sorted(maps.Keys(bad))
			level.Warn(logger).Log("msg", "getappinfo fields with unparsable values are not written", "sdkappid", sdkappid, "fields", strings.Join(fields, ","))
		}
		return complete(days, time.Time{}, today), nil
	}
}

// usersFetcher is Users or GroupUsers of the JPush client.
type usersFetcher func(ctx context.Context, start time.Time, days int) ([]jpush.UsersDay, error)

// usersDays fetches the window days before today in one call, the longest
// the API allows: 60 days for /users, 30 for /group/users
// (JPush "REST API v3 Report", 只支持查询 60 天以内 / 30 天以内). A day the vendor
// has no counts for is left out rather than written as a day timestamp alone.
func usersDays(fetch usersFetcher, group bool, key string, window int, loc *time.Location, maxLabels int64) func(context.Context, time.Time) ([]day, error) {
	return func(ctx context.Context, today time.Time) ([]day, error) {
		from := today.AddDate(0, 0, -window)
		got, err := fetch(ctx, from, window)
		if err != nil {
			return nil, err
		}
		var days []day
		lim := collector.NewLabelLimit(int(maxLabels))
		for _, d := range got {
			if len(d.Platforms) == 0 {
				continue
			}
			if metrics, start, ok := collector.UsersDayMetrics(group, key, d, loc, lim); ok {
				days = append(days, day{start, metrics})
			}
		}
		return complete(days, from, today), nil
	}
}

// complete sorts days by start and keeps those from from whose figures the
// live exporter would have served before today: up to the day before
// yesterday, because yesterday's figures are what it serves today. The vendor
// may answer today's partial day, or days outside the window asked for. Of
// two answers for the same day the first is kept.
func complete(days []day, from, today time.Time) []day {
	days = slices.DeleteFunc(days, func(d day) bool { return d.start.Before(from) || !d.start.AddDate(0, 0, 1).Before(today) })
	slices.SortStableFunc(days, func(a, b day) int { return a.start.Compare(b.start) })
	return slices.CompactFunc(days, func(a, b day) bool { return a.start.Equal(b.start) })
}

// span describes the days written: "30 days (2026-10-22 to 2026-11-20)".
func span(days []day) string {
	switch len(days) {
	case 0:
		return "no days"
	case 1:
		return "1 day (" + days[0].start.Format(time.DateOnly) + ")"
	}
	return fmt.Sprintf("%d days (%s to %s)", len(days), days[0].start.Format(time.DateOnly), days[len(days)-1].start.Format(time.DateOnly))
}

// reason says why a job failed, in words for the classes a user can act on,
// with the vendor's code. The vendor clients' errors never hold a secret.
func reason(err error) string {
	var e *apierr.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	switch e.Class {
	case apierr.Unavailable:
		return fmt.Sprintf("not available to this account (%s)", e.Code)
	case apierr.Auth:
		return fmt.Sprintf("credentials rejected (%s)", e.Code)
	case apierr.WrongRegion:
		return fmt.Sprintf("the app lives in another region than the configured one (%s)", e.Code)
	case apierr.RateLimited:
		return fmt.Sprintf("rate limited by the vendor (%s); run the backfill again later", e.Code)
	}
	return err.Error()
}

// extraLabels checks the extra labels and returns them in name order.
func extraLabels(labels map[string]string) ([]*dto.LabelPair, error) {
	out := make([]*dto.LabelPair, 0, len(labels))
	for name, value := range labels {
		if !model.LegacyValidation.IsValidLabelName(name) || strings.HasPrefix(name, "__") {
			return nil, fmt.Errorf("label %q: not a valid label name", name)
		}
		out = append(out, &dto.LabelPair{Name: &name, Value: &value})
	}
	slices.SortFunc(out, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out, nil
}

func startOfDay(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}
