package sources

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-kit/log"

	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/jpush"
	"github.com/imstats/imstats_exporter/internal/ratelimit"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// Vendor call rates (Tencent Chat REST API "Pulling Operations Data":
// getappinfo allows 200 calls/s; "All/Tagged Users Push Data Statistics",
// https://trtc.io/document/71894, "普通推送数据统计",
// https://trtc.io/zh/document/71897, "All/Tagged Users Push Loss Analysis",
// https://intl.cloud.tencent.com/document/product/1047/71895, and "Chat
// Service Push Loss Analysis", …/71898: 1 call/s each). The push-statistics
// buckets space calls by a second from the end of the previous call (MinGap):
// the vendor counts arrivals, and a call arrives before it ends, so arrivals
// are never closer than a second whatever the network does.
var (
	getAppInfoRate     = ratelimit.Rate{Interval: time.Second / 200, Burst: 20}
	pushStatisticsRate = ratelimit.Rate{Interval: time.Second, Burst: 1, MinGap: time.Second}
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

// Get returns the bucket for key, creating it with rate r the first time,
// and giving the existing one rate r (a reload may change a configured
// rate) without refilling it.
func (l *Limiters) Get(key string, r ratelimit.Rate) *ratelimit.Bucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[key]
	if !ok {
		b = ratelimit.New(l.clock, r)
		l.m[key] = b
	} else {
		b.SetRate(r)
	}
	return b
}

// JPushRemaining returns a function reporting the quota JPush last reported
// for an app (or, with group, a group app); false while there is none.
func (l *Limiters) JPushRemaining(key string, group bool) func() (int, bool) {
	k := jpushBucketKey(key, group)
	return func() (int, bool) {
		l.mu.Lock()
		b, ok := l.m[k]
		l.mu.Unlock()
		if !ok {
			return 0, false
		}
		return b.Remaining()
	}
}

// jpushBucketKey is the Limiters key of a JPush credential's bucket.
func jpushBucketKey(key string, group bool) string {
	if group {
		return "jpush/group/" + key
	}
	return "jpush/" + key
}

// Deps are the long-lived pieces every source of the process shares.
type Deps struct {
	Clock      clock.Clock
	Logger     log.Logger
	Transport  http.RoundTripper // nil: http.DefaultTransport
	APIMetrics *APIMetrics
	Limiters   *Limiters
}

// NewTencentClient returns the client of one Tencent IM app: the configured
// endpoint and limits, and the app's per-API buckets from d.Limiters.
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
		Observe:          d.APIMetrics.Observer(catalog.VendorTencentIM),
	})
}

// NewJPushClient returns the client of one JPush app and the app's bucket.
func NewJPushClient(cfg *config.Config, app config.JPushApp, d Deps) (*jpush.Client, *ratelimit.Bucket) {
	return jpushClient(cfg, d, jpushBucketKey(app.AppKey, false), app.AppKey, string(app.MasterSecret), app.Endpoint, app.RequestsPerMinute)
}

// NewJPushGroupClient returns the client of one JPush group app and the
// group's bucket.
func NewJPushGroupClient(cfg *config.Config, g config.JPushGroup, d Deps) (*jpush.Client, *ratelimit.Bucket) {
	return jpushClient(cfg, d, jpushBucketKey(g.GroupKey, true), g.AuthPrefix+g.GroupKey, string(g.GroupSecret), g.Endpoint, g.RequestsPerMinute)
}

// httpClient returns the HTTP client of a vendor client: the configured
// request timeout over d.Transport. It does not follow redirects: a
// redirect would carry the vendor credentials to another host.
func httpClient(cfg *config.Config, d Deps) *http.Client {
	return &http.Client{
		Timeout:   time.Duration(cfg.Limits.RequestTimeout),
		Transport: d.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// jpushClient returns a JPush client for one credential and its bucket. JPush
// counts calls per AppKey (or group) per minute across the whole Report API
// (JPush "REST API v3 Report", rate limits), so one bucket serves every
// source of the credential.
func jpushClient(cfg *config.Config, d Deps, bucketKey, user, secret, endpoint string, perMinute int) (*jpush.Client, *ratelimit.Bucket) {
	bucket := d.Limiters.Get(bucketKey, ratelimit.PerMinute(perMinute))
	return jpush.New(jpush.Options{
		Username:         user,
		Password:         secret,
		BaseURL:          endpoint,
		HTTPClient:       httpClient(cfg, d),
		Clock:            d.Clock,
		MaxResponseBytes: cfg.Limits.MaxResponseBytes,
		Bucket:           bucket,
		Observe:          d.APIMetrics.Observer(catalog.VendorJPush),
	}), bucket
}

// tencentLimiter returns the per-API buckets of one sdkappid: each API has
// its own, so that each push statistics and push loss API keeps its own 1
// call/s. Every Tencent API the exporter calls but getappinfo allows 1
// call/s, so that is the rate of an API this does not name: a new one of
// those needs no line here.
func tencentLimiter(l *Limiters, sdkappid string) func(api string) *ratelimit.Bucket {
	return func(api string) *ratelimit.Bucket {
		r := pushStatisticsRate
		if api == tencentim.APIGetAppInfo {
			r = getAppInfoRate
		}
		return l.Get("tencent_im/"+sdkappid+"/"+api, r)
	}
}
