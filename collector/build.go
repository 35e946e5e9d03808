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
const (
	getAppInfoInterval     = time.Second / 200
	getAppInfoBurst        = 20
	pushStatisticsInterval = 1100 * time.Millisecond
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

// Get returns the bucket for key, creating it with interval and burst the
// first time.
func (l *Limiters) Get(key string, interval time.Duration, burst int) *ratelimit.Bucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[key]
	if !ok {
		b = ratelimit.New(l.clock, interval, burst)
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
	var (
		targets []Target
		specs   []TrackerSpec
	)
	add := func(source, app string, s Source) {
		targets = append(targets, Target{Source: source, App: app, Interval: cfg.RefreshIntervals.For(source), Fetcher: s})
	}
	track := func(spec TrackerSpec) (*tracking.Set, error) {
		spec.StateDir, spec.MaxAge, spec.Cap = cfg.StateDirectory, time.Duration(cfg.Tracking.MaxAge), cfg.Tracking.MaxIDsPerApp
		set, err := d.Trackers.Get(spec)
		if err != nil {
			return nil, fmt.Errorf("%s %s: tracked IDs: %w", spec.Kind, spec.App, err)
		}
		specs = append(specs, spec)
		return set, nil
	}
	for _, app := range cfg.TencentIM {
		id := strconv.FormatUint(app.SDKAppID, 10)
		client := NewTencentClient(cfg, app, d)
		if cfg.Sources.Enabled(config.SourceTencentOperations) {
			add(config.SourceTencentOperations, id, newTencentOperations(client, app.SDKAppID, cfg.Location, d.Logger))
		}
		if cfg.Sources.Enabled(config.SourceTencentPush) {
			tasks, err := track(TrackerSpec{Kind: tracking.KindTencentPush, Sources: []string{config.SourceTencentPush}, App: id, File: app.Push.TaskIDsFile, Static: app.Push.TaskIDs})
			if err != nil {
				return nil, nil, err
			}
			windows := make([]PushWindow, len(app.Push.Windows))
			for i, w := range app.Push.Windows {
				windows[i] = PushWindow{Label: w.Text, Duration: time.Duration(w.Duration)}
			}
			add(config.SourceTencentPush, id, newTencentPush(tencentPushOptions{
				Client:          client,
				SDKAppID:        app.SDKAppID,
				Windows:         windows,
				Tasks:           tasks,
				Cap:             cfg.Tracking.MaxIDsPerApp,
				Clock:           d.Clock,
				Interval:        cfg.RefreshIntervals.For(config.SourceTencentPush),
				SettledInterval: time.Duration(cfg.Tracking.SettledRefreshInterval),
				SettledAfter:    tencentMaxMsgLifeTime,
			}))
		}
	}
	var rateLimits []RateLimit
	for _, app := range cfg.JPush {
		client, bucket := NewJPushClient(cfg, app, d)
		rateLimits = append(rateLimits, RateLimit{Vendor: VendorJPush, App: app.AppKey, Bucket: bucket})
		var polling []string
		for _, src := range []string{config.SourceJPushReceived, config.SourceJPushMessages, config.SourceJPushStatus} {
			if cfg.Sources.Enabled(src) && (src != config.SourceJPushStatus || len(app.CanaryRegistrationIDs) > 0) {
				polling = append(polling, src)
			}
		}
		if len(polling) > 0 {
			msgs, err := track(TrackerSpec{Kind: tracking.KindJPushMessages, Sources: polling, App: app.AppKey, File: app.MsgIDsFile, Static: app.MsgIDs})
			if err != nil {
				return nil, nil, err
			}
			for _, src := range polling {
				po := messagePoller(cfg, d, msgs, src)
				switch src {
				case config.SourceJPushReceived:
					add(src, app.AppKey, newJPushReceived(client, app.AppKey, po, d.Logger))
				case config.SourceJPushMessages:
					add(src, app.AppKey, newJPushMessages(client.MessagesDetail, jpush.MaxMsgIDsPerCall, jpushAppFamilies, app.AppKey, po))
				case config.SourceJPushStatus:
					add(src, app.AppKey, newJPushStatus(client.StatusMessage, app.AppKey, app.CanaryRegistrationIDs, po))
				}
			}
		}
		if cfg.Sources.Enabled(config.SourceJPushUsers) {
			add(config.SourceJPushUsers, app.AppKey, &jpushUsers{fetch: client.Users, key: app.AppKey, loc: cfg.Location, clock: d.Clock})
		}
	}
	for _, g := range cfg.JPushGroups {
		client, bucket := NewJPushGroupClient(cfg, g, d)
		rateLimits = append(rateLimits, RateLimit{Vendor: VendorJPush, App: g.GroupKey, Bucket: bucket})
		if cfg.Sources.Enabled(config.SourceJPushGroupMessages) {
			src := config.SourceJPushGroupMessages
			msgs, err := track(TrackerSpec{Kind: tracking.KindJPushGroupMessages, Sources: []string{src}, App: g.GroupKey, File: g.GroupMsgIDsFile, Static: g.GroupMsgIDs})
			if err != nil {
				return nil, nil, err
			}
			add(src, g.GroupKey, newJPushMessages(client.GroupMessagesDetail, jpush.MaxGroupMsgIDsPerCall, jpushGroupFamilies, g.GroupKey, messagePoller(cfg, d, msgs, src)))
		}
		if cfg.Sources.Enabled(config.SourceJPushGroupUsers) {
			add(config.SourceJPushGroupUsers, g.GroupKey, &jpushUsers{fetch: client.GroupUsers, key: g.GroupKey, group: true, loc: cfg.Location, clock: d.Clock})
		}
	}
	return NewExporter(targets, rateLimits, RefreshOptions{
		Clock:            d.Clock,
		Logger:           d.Logger,
		BackoffInitial:   time.Duration(cfg.Limits.BackoffInitial),
		BackoffMax:       time.Duration(cfg.Limits.BackoffMax),
		UnavailableRetry: time.Duration(cfg.Limits.UnavailableRetryInterval),
	}), specs, nil
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
	bucket := d.Limiters.Get("jpush/"+bucketKey, time.Minute/time.Duration(perMinute), max(1, perMinute/60))
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

// messagePoller returns the poller options of a source following messages.
func messagePoller(cfg *config.Config, d Deps, ids *tracking.Set, source string) pollerOptions {
	return pollerOptions{
		IDs:             ids,
		Cap:             cfg.Tracking.MaxIDsPerApp,
		Clock:           d.Clock,
		Interval:        cfg.RefreshIntervals.For(source),
		SettledInterval: time.Duration(cfg.Tracking.SettledRefreshInterval),
	}
}

// tencentLimiter returns the per-API buckets of one sdkappid.
func tencentLimiter(l *Limiters, sdkappid string) func(api string) *ratelimit.Bucket {
	return func(api string) *ratelimit.Bucket {
		switch api {
		case tencentim.APIGetAppInfo:
			return l.Get("tencent_im/"+sdkappid+"/"+api, getAppInfoInterval, getAppInfoBurst)
		case tencentim.APIPushStatistics:
			return l.Get("tencent_im/"+sdkappid+"/"+api, pushStatisticsInterval, 1)
		default:
			return l.Get("tencent_im/"+sdkappid+"/"+api, time.Second, 1)
		}
	}
}
