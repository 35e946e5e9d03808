package collector

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-kit/log"

	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/jpush"
	"github.com/imstats/imstats_exporter/internal/ratelimit"
	"github.com/imstats/imstats_exporter/internal/tencentim"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

// Vendor names used in metric labels.
const (
	VendorTencentIM = "tencent_im"
	VendorJPush     = "jpush"
)

// Vendor call rates (SPEC §1). The push-statistics interval carries a 10 %
// margin over the documented 1 call/s so that network jitter can never put
// two calls in the vendor's same second.
var (
	getAppInfoRate     = ratelimit.Rate{Interval: time.Second / 200, Burst: 20}
	pushStatisticsRate = ratelimit.Rate{Interval: 1100 * time.Millisecond, Burst: 1}
)

// Limiters hands out the rate-limit buckets, one per credential and API. It
// lives as long as the process, so that a configuration reload never refills
// a bucket the vendor still counts as spent.
type Limiters struct {
	clock clock.Clock
	mu    sync.Mutex
	m     map[string]*ratelimit.Bucket
}

// NewLimiters returns an empty set of buckets on clock c.
func NewLimiters(c clock.Clock) *Limiters {
	return &Limiters{clock: c, m: map[string]*ratelimit.Bucket{}}
}

// Get returns the bucket for key, creating it with rate r the first time.
func (l *Limiters) Get(key string, r ratelimit.Rate) *ratelimit.Bucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[key]
	if !ok {
		b = ratelimit.New(l.clock, r)
		l.m[key] = b
	}
	return b
}

// tencentMaxMsgLifeTime is the longest MsgLifeTime a push can have
// (tencent-im-all-member-push.txt: at most 7 days); a task older than that
// is settled and asked for less often.
const tencentMaxMsgLifeTime = 7 * 24 * time.Hour

// Deps are the long-lived pieces every exporter built from a configuration
// shares.
type Deps struct {
	Clock      clock.Clock
	Logger     log.Logger
	Transport  http.RoundTripper // nil: http.DefaultTransport
	APIMetrics *APIMetrics
	Limiters   *Limiters
	Trackers   *Trackers
}

// Build returns an Exporter for cfg, one target per enabled source of every
// configured app, and the tracked-ID sets it uses (to Commit once the
// exporter is in force). An error means cfg cannot run (a tracked-ID state
// file that cannot be written, say).
func Build(cfg *config.Config, d Deps) (*Exporter, []TrackerSpec, error) {
	b := &builder{cfg: cfg, d: d}
	for _, app := range cfg.TencentIM {
		if err := b.tencentApp(app); err != nil {
			return nil, nil, err
		}
	}
	for _, app := range cfg.JPush {
		if err := b.jpushApp(app); err != nil {
			return nil, nil, err
		}
	}
	for _, g := range cfg.JPushGroups {
		if err := b.jpushGroup(g); err != nil {
			return nil, nil, err
		}
	}
	return NewExporter(b.targets, b.rateLimits, RefreshOptions{
		Clock:            d.Clock,
		Logger:           d.Logger,
		BackoffInitial:   time.Duration(cfg.Limits.BackoffInitial),
		BackoffMax:       time.Duration(cfg.Limits.BackoffMax),
		UnavailableRetry: time.Duration(cfg.Limits.UnavailableRetryInterval),
	}), b.specs, nil
}

// builder collects what Build makes of each configured app.
type builder struct {
	cfg        *config.Config
	d          Deps
	targets    []Target
	specs      []TrackerSpec
	rateLimits []RateLimit
}

// add makes s the target of (source, app) when the source is turned on.
func (b *builder) add(source, app string, s func() Source) {
	if b.cfg.Sources.Enabled(source) {
		b.targets = append(b.targets, Target{Source: source, App: app, Interval: b.cfg.RefreshIntervals.For(source), Fetcher: s()})
	}
}

// track returns the tracked-ID set of spec, with the configured limits.
func (b *builder) track(spec TrackerSpec) (*tracking.Set, error) {
	spec.StateDir, spec.MaxAge, spec.Cap = b.cfg.StateDirectory, time.Duration(b.cfg.Tracking.MaxAge), b.cfg.Tracking.MaxIDsPerApp
	set, err := b.d.Trackers.Get(spec)
	if err != nil {
		return nil, fmt.Errorf("%s %s: tracked IDs: %w", spec.Kind, spec.App, err)
	}
	b.specs = append(b.specs, spec)
	return set, nil
}

func (b *builder) tencentApp(app config.TencentApp) error {
	id := strconv.FormatUint(app.SDKAppID, 10)
	client := NewTencentClient(b.cfg, app, b.d)
	b.add(config.SourceTencentOperations, id, func() Source {
		return newTencentOperations(client, app.SDKAppID, b.cfg.Location, b.d.Logger)
	})
	if !b.cfg.Sources.Enabled(config.SourceTencentPush) {
		return nil
	}
	tasks, err := b.track(TrackerSpec{Kind: tracking.KindTencentPush, Sources: []string{config.SourceTencentPush}, App: id, File: app.Push.TaskIDsFile, Static: app.Push.TaskIDs})
	if err != nil {
		return err
	}
	windows := make([]PushWindow, len(app.Push.Windows))
	for i, w := range app.Push.Windows {
		windows[i] = PushWindow{Label: w.Text, Duration: time.Duration(w.Duration)}
	}
	b.add(config.SourceTencentPush, id, func() Source {
		return newTencentPush(tencentPushOptions{
			Client:          client,
			SDKAppID:        app.SDKAppID,
			Windows:         windows,
			Tasks:           tasks,
			Cap:             b.cfg.Tracking.MaxIDsPerApp,
			Clock:           b.d.Clock,
			Interval:        b.cfg.RefreshIntervals.For(config.SourceTencentPush),
			SettledInterval: time.Duration(b.cfg.Tracking.SettledRefreshInterval),
			SettledAfter:    tencentMaxMsgLifeTime,
		})
	})
	return nil
}

func (b *builder) jpushApp(app config.JPushApp) error {
	client, bucket := NewJPushClient(b.cfg, app, b.d)
	b.rateLimits = append(b.rateLimits, RateLimit{Vendor: VendorJPush, App: app.AppKey, Bucket: bucket})
	b.add(config.SourceJPushUsers, app.AppKey, func() Source {
		return &jpushUsers{fetch: client.Users, key: app.AppKey, loc: b.cfg.Location, clock: b.d.Clock}
	})
	// One set of messages serves every source that follows them.
	var polling []string
	for _, src := range []string{config.SourceJPushReceived, config.SourceJPushMessages, config.SourceJPushStatus} {
		if b.cfg.Sources.Enabled(src) && (src != config.SourceJPushStatus || len(app.CanaryRegistrationIDs) > 0) {
			polling = append(polling, src)
		}
	}
	if len(polling) == 0 {
		return nil
	}
	msgs, err := b.track(TrackerSpec{Kind: tracking.KindJPushMessages, Sources: polling, App: app.AppKey, File: app.MsgIDsFile, Static: app.MsgIDs})
	if err != nil {
		return err
	}
	b.add(config.SourceJPushReceived, app.AppKey, func() Source {
		return newJPushReceived(client, app.AppKey, b.messagePoller(msgs, config.SourceJPushReceived), b.d.Logger)
	})
	b.add(config.SourceJPushMessages, app.AppKey, func() Source {
		return newJPushMessages(client.MessagesDetail, jpush.MaxMsgIDsPerCall, jpushAppFamilies, app.AppKey, b.messagePoller(msgs, config.SourceJPushMessages))
	})
	if len(app.CanaryRegistrationIDs) > 0 {
		b.add(config.SourceJPushStatus, app.AppKey, func() Source {
			return newJPushStatus(client.StatusMessage, app.AppKey, app.CanaryRegistrationIDs, b.messagePoller(msgs, config.SourceJPushStatus))
		})
	}
	return nil
}

func (b *builder) jpushGroup(g config.JPushGroup) error {
	client, bucket := NewJPushGroupClient(b.cfg, g, b.d)
	b.rateLimits = append(b.rateLimits, RateLimit{Vendor: VendorJPush, App: g.GroupKey, Bucket: bucket})
	b.add(config.SourceJPushGroupUsers, g.GroupKey, func() Source {
		return &jpushUsers{fetch: client.GroupUsers, key: g.GroupKey, group: true, loc: b.cfg.Location, clock: b.d.Clock}
	})
	if !b.cfg.Sources.Enabled(config.SourceJPushGroupMessages) {
		return nil
	}
	src := config.SourceJPushGroupMessages
	msgs, err := b.track(TrackerSpec{Kind: tracking.KindJPushGroupMessages, Sources: []string{src}, App: g.GroupKey, File: g.GroupMsgIDsFile, Static: g.GroupMsgIDs})
	if err != nil {
		return err
	}
	b.add(src, g.GroupKey, func() Source {
		return newJPushMessages(client.GroupMessagesDetail, jpush.MaxGroupMsgIDsPerCall, jpushGroupFamilies, g.GroupKey, b.messagePoller(msgs, src))
	})
	return nil
}

// messagePoller returns the poller options of a source following messages.
func (b *builder) messagePoller(ids *tracking.Set, source string) pollerOptions {
	return pollerOptions{
		IDs:             ids,
		Cap:             b.cfg.Tracking.MaxIDsPerApp,
		Clock:           b.d.Clock,
		Interval:        b.cfg.RefreshIntervals.For(source),
		SettledInterval: time.Duration(b.cfg.Tracking.SettledRefreshInterval),
	}
}

// NewTencentClient returns the client of one Tencent IM app as Build makes
// it: the configured endpoint and limits, and the app's per-API buckets from
// d.Limiters.
func NewTencentClient(cfg *config.Config, app config.TencentApp, d Deps) *tencentim.Client {
	return tencentim.New(tencentim.Options{
		SDKAppID:         app.SDKAppID,
		Identifier:       app.Identifier,
		SecretKey:        string(app.SecretKey),
		BaseURL:          app.BaseURL(),
		HTTPClient:       httpClient(cfg, d),
		Clock:            d.Clock,
		MaxResponseBytes: cfg.Limits.MaxResponseBytes,
		UserSigExpire:    time.Duration(cfg.Limits.UserSigExpire),
		Limiter:          tencentLimiter(d.Limiters, strconv.FormatUint(app.SDKAppID, 10)),
		Observe:          d.APIMetrics.Observer(VendorTencentIM),
	})
}

// NewJPushClient returns the client of one JPush app as Build makes it, and
// the app's bucket from d.Limiters.
func NewJPushClient(cfg *config.Config, app config.JPushApp, d Deps) (*jpush.Client, *ratelimit.Bucket) {
	return jpushClient(cfg, d, app.AppKey, app.AppKey, string(app.MasterSecret), app.Endpoint, app.RequestsPerMinute)
}

// NewJPushGroupClient returns the client of one JPush group app as Build
// makes it, and the group's bucket from d.Limiters.
func NewJPushGroupClient(cfg *config.Config, g config.JPushGroup, d Deps) (*jpush.Client, *ratelimit.Bucket) {
	return jpushClient(cfg, d, "group/"+g.GroupKey, g.AuthPrefix+g.GroupKey, string(g.GroupSecret), g.Endpoint, g.RequestsPerMinute)
}

// httpClient returns the HTTP client of a vendor client: the configured
// request timeout over d.Transport.
func httpClient(cfg *config.Config, d Deps) *http.Client {
	return &http.Client{Timeout: time.Duration(cfg.Limits.RequestTimeout), Transport: d.Transport}
}

// jpushClient returns a JPush client for one credential and its bucket. JPush
// counts calls per AppKey (or group) per minute across the whole Report API
// (SPEC §1), so one bucket serves every source of the credential.
func jpushClient(cfg *config.Config, d Deps, bucketKey, user, secret, endpoint string, perMinute int) (*jpush.Client, *ratelimit.Bucket) {
	bucket := d.Limiters.Get("jpush/"+bucketKey, ratelimit.PerMinute(perMinute))
	return jpush.New(jpush.Options{
		Username:         user,
		Password:         secret,
		BaseURL:          endpoint,
		HTTPClient:       httpClient(cfg, d),
		Clock:            d.Clock,
		MaxResponseBytes: cfg.Limits.MaxResponseBytes,
		Bucket:           bucket,
		Observe:          d.APIMetrics.Observer(VendorJPush),
	}), bucket
}

// tencentLimiter returns the per-API buckets of one sdkappid.
func tencentLimiter(l *Limiters, sdkappid string) func(api string) *ratelimit.Bucket {
	return func(api string) *ratelimit.Bucket {
		switch api {
		case tencentim.APIGetAppInfo:
			return l.Get("tencent_im/"+sdkappid+"/"+api, getAppInfoRate)
		case tencentim.APIPushStatistics:
			return l.Get("tencent_im/"+sdkappid+"/"+api, pushStatisticsRate)
		default:
			return l.Get("tencent_im/"+sdkappid+"/"+api, ratelimit.Rate{Interval: time.Second, Burst: 1})
		}
	}
}
