// Package config is the schema of exporter.yml: the Go types, their defaults,
// the per-source sections, whose keys and defaults come from internal/catalog,
// strict decoding and validation that report every problem at once as
// Errors ("line N: key.path: problem", sorted by line), Redacted output that
// loads back, and SafeConfig, which holds the current configuration and the
// reload gauges.
//
// A *Config returned by Load or Parse is complete and valid: defaults are
// filled in, relative paths are resolved against the configuration file's
// directory, secrets given as files have been read, and Location is set. It
// is shared between goroutines and must not be modified.
package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	// Timezones load even on machines without a zoneinfo database.
	_ "time/tzdata"

	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

const (
	// DefaultTencentRegion is the region of an app that sets neither region
	// nor endpoint.
	DefaultTencentRegion = "china"
	// DefaultJPushEndpoint is the host of the JPush Report API v3 (JPush
	// docs "REST API v3 Report", 调用地址 https://report.jpush.cn/v3).
	DefaultJPushEndpoint = "https://report.jpush.cn"
)

// The defaults, applied before decoding so that a key left out keeps them.
var (
	// DefaultConfig holds the top-level defaults: an empty file loads as
	// DefaultConfig, completed (Location set, state_directory resolved).
	DefaultConfig = Config{
		Timezone:       "Asia/Shanghai",
		StateDirectory: "data",
		Tracking:       DefaultTracking,
		Limits:         DefaultLimits,
	}

	// DefaultTencentApp holds the defaults of a tencent_im entry.
	DefaultTencentApp = TencentApp{
		Identifier: "admin",
		Push:       DefaultTencentPush,
	}

	// DefaultTencentPush holds the defaults of a tencent_im entry's push
	// section.
	// The 1h window lets the delivery alerts see a channel's drop of a few
	// hours without any tracked task (the 24h one dilutes it); each window
	// costs one all_member_push_statistics and one normal_push_statistics
	// call per refresh, of the 1 call/s each API allows (Tencent Chat
	// "All/Tagged Users Push Data Statistics", "Maximum Calling Frequency").
	DefaultTencentPush = TencentPush{
		Windows: []Window{
			{Duration: model.Duration(time.Hour), Text: "1h"},
			{Duration: model.Duration(24 * time.Hour), Text: "24h"},
		},
	}

	// DefaultJPushApp holds the defaults of a jpush entry.
	DefaultJPushApp = JPushApp{
		Endpoint: DefaultJPushEndpoint,
		// The Report API's free-tier quota per AppKey (JPush docs "REST API v3 Report", 频率限制).
		RequestsPerMinute: 2400,
	}

	// DefaultJPushGroup holds the defaults of a jpush_groups entry.
	DefaultJPushGroup = JPushGroup{
		// JPush docs "REST API v3 Report": the group APIs' Basic auth user name is
		// "group-" followed by the group key.
		AuthPrefix:        "group-",
		Endpoint:          DefaultJPushEndpoint,
		RequestsPerMinute: 2400,
	}

	// DefaultTracking holds the defaults of the tracked-ID machinery.
	DefaultTracking = Tracking{
		MaxAge:                 model.Duration(7 * 24 * time.Hour),
		MaxIDsPerApp:           5000,
		RegisterPerMinute:      600,
		SettledRefreshInterval: model.Duration(30 * time.Minute),
		FileCheckInterval:      model.Duration(10 * time.Second),
	}

	// DefaultLimits holds the defaults of the request, scrape and backoff
	// limits.
	DefaultLimits = Limits{
		RequestTimeout:           model.Duration(30 * time.Second),
		MaxResponseBytes:         16 << 20,
		ScrapeTimeoutMargin:      model.Duration(500 * time.Millisecond),
		MaxScrapeWait:            model.Duration(10 * time.Second),
		BackoffInitial:           model.Duration(10 * time.Second),
		BackoffMax:               model.Duration(15 * time.Minute),
		UnavailableRetryInterval: model.Duration(6 * time.Hour),
		UserSigExpire:            model.Duration(24 * time.Hour),
		// 64 unknown values a label: JPush documents 13 channels and 4
		// platforms, Tencent 9 PushPlatform codes and 5 status codes, so 64
		// leaves room for several years of new ones, while 64 values of a
		// label times 5 stages stays a few hundred series per message at
		// worst (a vendor answer with 60 000 channel keys made 600 010).
		MaxLabelValues: 64,
	}
)

// Secret is a credential. It renders as "<secret>" (an empty one stays empty)
// in YAML, JSON and fmt output; code that needs the value converts it with
// string(s).
type Secret string

const redacted = "<secret>"

// String returns "<secret>", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString hides the value from the %#v verb too.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// MarshalYAML renders the secret as "<secret>".
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalJSON renders the secret as "<secret>".
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Config is the whole of exporter.yml.
type Config struct {
	// TencentIM lists the Tencent Cloud IM applications.
	TencentIM []TencentApp `yaml:"tencent_im"`
	// JPush lists the JPush applications.
	JPush []JPushApp `yaml:"jpush"`
	// JPushGroups lists the JPush application groups.
	JPushGroups []JPushGroup `yaml:"jpush_groups"`
	// RefreshIntervals is how long each source's snapshot stays fresh; once
	// loaded it holds every source of catalog.Sources.
	RefreshIntervals RefreshIntervals `yaml:"refresh_intervals"`
	// Sources turns sources on and off; once loaded it holds every source.
	Sources Sources `yaml:"sources"`
	// ChannelDetails turns off the per-platform and per-channel series of
	// each tracked ID of a source (the channel_detail section); once loaded
	// it holds every source whose catalog.Source.ChannelDetail is set.
	ChannelDetails ChannelDetails `yaml:"channel_detail"`
	// Timezone names the zone of the vendors' days; the default is
	// Asia/Shanghai because Tencent's Date rows are Beijing days
	// (Tencent Chat REST API "Pulling Operations Data", getappinfo).
	Timezone string `yaml:"timezone"`
	// Location is Timezone, loaded.
	Location *time.Location `yaml:"-"`
	// StateDirectory holds the registered IDs that survive restarts.
	StateDirectory string `yaml:"state_directory"`
	// Tracking bounds the tracked task and message IDs.
	Tracking Tracking `yaml:"tracking"`
	// Limits bounds requests, scrapes and backoff.
	Limits Limits `yaml:"limits"`

	// durationText holds each duration as the file wrote it, by key path,
	// so that Redacted prints 7d as 7d.
	durationText map[string]string
}

// ChannelDetail reports whether source exports the per-platform and
// per-channel series of each tracked ID; see ChannelDetails.On.
func (c *Config) ChannelDetail(source string) bool { return c.ChannelDetails.On(source) }

// TencentApp is one Tencent Cloud IM application.
type TencentApp struct {
	// SDKAppID identifies the application; required.
	SDKAppID uint64 `yaml:"sdkappid"`
	// Identifier is the administrator account the UserSig is made for.
	Identifier string `yaml:"identifier"`
	// SecretKey signs the UserSig. After loading it holds the key even when
	// it was given with secret_key_file.
	SecretKey Secret `yaml:"secret_key,omitempty"`
	// SecretKeyFile names a file holding the key; surrounding whitespace is
	// trimmed.
	SecretKeyFile string `yaml:"secret_key_file,omitempty"`
	// Region is one of catalog.Regions().
	Region string `yaml:"region"`
	// Endpoint overrides the region with a base URL, without a trailing
	// slash once loaded. Its path, if any, is a prefix: the client appends
	// /v4/<service>/<command> to it (https://proxy.example.com/tim gives
	// https://proxy.example.com/tim/v4/openconfigsvr/getappinfo).
	Endpoint string `yaml:"endpoint"`
	// Push configures the push statistics.
	Push TencentPush `yaml:"push"`
	// CallbackToken is the app's webhook authentication token: when set,
	// the push callback receiver accepts only requests that carry Tencent's
	// signature made with it. After loading it holds the token even when it
	// was given with callback_token_file. Optional.
	CallbackToken Secret `yaml:"callback_token,omitempty"`
	// CallbackTokenFile names a file holding the token; surrounding
	// whitespace is trimmed.
	CallbackTokenFile string `yaml:"callback_token_file,omitempty"`
}

// BaseURL returns Endpoint, or the base URL of Region: the prefix to which
// the client appends /v4/<service>/<command>.
func (a TencentApp) BaseURL() string {
	if a.Endpoint != "" {
		return a.Endpoint
	}
	u, _ := catalog.RegionBaseURL(a.Region)
	return u
}

// UnmarshalYAML applies DefaultTencentApp before decoding, and the default
// region after.
func (a *TencentApp) UnmarshalYAML(unmarshal func(any) error) error {
	*a = DefaultTencentApp
	// A copy, so that no two apps share the default's backing array.
	a.Push.Windows = slices.Clone(DefaultTencentPush.Windows)
	type plain TencentApp
	if err := unmarshal((*plain)(a)); err != nil {
		return err
	}
	if a.Region == "" && a.Endpoint == "" {
		a.Region = DefaultTencentRegion
	}
	return nil
}

// Window is a rolling window that remembers how it was written: the window
// label shows the duration as configured ("24h", where
// model.Duration would print "1d").
type Window struct {
	Duration model.Duration
	Text     string
}

// UnmarshalYAML reads a duration such as 24h or 7d.
func (w *Window) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		return err
	}
	*w = Window{Duration: d, Text: s}
	return nil
}

// MarshalYAML writes the window as it was configured.
func (w Window) MarshalYAML() (any, error) { return w.Text, nil }

// TencentPush configures the all_member_push_statistics queries of an app.
type TencentPush struct {
	// Windows are the rolling windows of the overall statistics; an empty
	// list turns them off.
	Windows []Window `yaml:"windows"`
	// TaskIDs are push tasks to track.
	TaskIDs []string `yaml:"task_ids"`
	// TaskIDsFile names a watched file of task IDs, one a line; it need not
	// exist yet.
	TaskIDsFile string `yaml:"task_ids_file"`
}

// JPushApp is one JPush application.
type JPushApp struct {
	// AppKey identifies the application; required.
	AppKey string `yaml:"app_key"`
	// MasterSecret is the Basic auth password. After loading it holds the
	// secret even when it was given with master_secret_file.
	MasterSecret Secret `yaml:"master_secret,omitempty"`
	// MasterSecretFile names a file holding the master secret.
	MasterSecretFile string `yaml:"master_secret_file,omitempty"`
	// Endpoint is the Report API base URL, without a trailing slash once
	// loaded; the JPush client appends /v3 to one without a path (internal/jpush).
	Endpoint string `yaml:"endpoint"`
	// MsgIDs are messages to track.
	MsgIDs []string `yaml:"msg_ids"`
	// MsgIDsFile names a watched file of message IDs, one a line.
	MsgIDsFile string `yaml:"msg_ids_file"`
	// CanaryRegistrationIDs are devices whose delivery status the
	// jpush_status source reports for every tracked message.
	CanaryRegistrationIDs []string `yaml:"canary_registration_ids"`
	// RequestsPerMinute is the AppKey's Report API quota.
	RequestsPerMinute int `yaml:"requests_per_minute"`
}

// UnmarshalYAML applies DefaultJPushApp before decoding.
func (a *JPushApp) UnmarshalYAML(unmarshal func(any) error) error {
	*a = DefaultJPushApp
	type plain JPushApp
	return unmarshal((*plain)(a))
}

// JPushGroup is one JPush application group.
type JPushGroup struct {
	// GroupKey identifies the group; required.
	GroupKey string `yaml:"group_key"`
	// GroupSecret is the Basic auth password. After loading it holds the
	// secret even when it was given with group_secret_file.
	GroupSecret Secret `yaml:"group_secret,omitempty"`
	// GroupSecretFile names a file holding the group secret.
	GroupSecretFile string `yaml:"group_secret_file,omitempty"`
	// AuthPrefix is put before GroupKey to make the Basic auth user name.
	AuthPrefix string `yaml:"auth_prefix"`
	// Endpoint is the Report API base URL, without a trailing slash once
	// loaded; the JPush client appends /v3 to one without a path (internal/jpush).
	Endpoint string `yaml:"endpoint"`
	// GroupMsgIDs are group messages to track.
	GroupMsgIDs []string `yaml:"group_msg_ids"`
	// GroupMsgIDsFile names a watched file of group message IDs, one a line.
	GroupMsgIDsFile string `yaml:"group_msg_ids_file"`
	// RequestsPerMinute is the group's Report API quota.
	RequestsPerMinute int `yaml:"requests_per_minute"`
}

// UnmarshalYAML applies DefaultJPushGroup before decoding.
func (g *JPushGroup) UnmarshalYAML(unmarshal func(any) error) error {
	*g = DefaultJPushGroup
	type plain JPushGroup
	return unmarshal((*plain)(g))
}

// Tracking bounds the tracked task and message IDs.
type Tracking struct {
	// MaxAge is how long an ID is tracked after it was added.
	MaxAge model.Duration `yaml:"max_age"`
	// MaxIDsPerApp caps the tracked IDs of one app. It is at least the
	// number of IDs any app lists in the configuration, which are never
	// evicted.
	MaxIDsPerApp int `yaml:"max_ids_per_app"`
	// RegisterPerMinute is the most new IDs the HTTP API registers per app
	// per minute; 0 is no limit.
	RegisterPerMinute int `yaml:"register_per_minute"`
	// SettledRefreshInterval is how often an ID whose statistics are final
	// is refreshed.
	SettledRefreshInterval model.Duration `yaml:"settled_refresh_interval"`
	// FileCheckInterval is how often watched ID files are re-read.
	FileCheckInterval model.Duration `yaml:"file_check_interval"`
}

// Limits bounds requests, scrapes and backoff.
type Limits struct {
	// RequestTimeout bounds one vendor request.
	RequestTimeout model.Duration `yaml:"request_timeout"`
	// MaxResponseBytes bounds one vendor response body.
	MaxResponseBytes int64 `yaml:"max_response_bytes"`
	// ScrapeTimeoutMargin is taken off Prometheus' scrape timeout.
	ScrapeTimeoutMargin model.Duration `yaml:"scrape_timeout_margin"`
	// MaxScrapeWait is the longest a scrape waits for a source that has no
	// values yet.
	MaxScrapeWait model.Duration `yaml:"max_scrape_wait"`
	// BackoffInitial is the first wait after a failed refresh.
	BackoffInitial model.Duration `yaml:"backoff_initial"`
	// BackoffMax caps the wait after repeated failures.
	BackoffMax model.Duration `yaml:"backoff_max"`
	// UnavailableRetryInterval is how often a source the account cannot use
	// is polled.
	UnavailableRetryInterval model.Duration `yaml:"unavailable_retry_interval"`
	// UserSigExpire is the lifetime of a generated UserSig.
	UserSigExpire model.Duration `yaml:"usersig_expire"`
	// MaxLabelValues bounds, per family and app, the distinct values a
	// vendor answer may give a label the exporter does not know in advance
	// (a channel, platform or type key, a PushPlatform or status code);
	// the rest are summed into "other" or dropped and counted.
	MaxLabelValues int64 `yaml:"max_label_values"`
}

// Load reads and parses a configuration file; relative paths in it are
// relative to the file's directory, and come out absolute. It has no side effect besides reading
// the file and the secret files it names. Its error is Errors when the file
// was read but refused.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// An absolute base, so that the resolved paths (and /config's output)
	// do not depend on the working directory.
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	return Parse(data, dir)
}

// Redacted returns the configuration as YAML for the /config page: every
// effective value, that loads back as the same configuration. Durations
// read as the file wrote them (defaults as 7d, 24h); a secret given inline
// shows as "<secret>", and one given as a file only as its *_file key.
func (c *Config) Redacted() ([]byte, error) {
	out := *c
	out.TencentIM = slices.Clone(c.TencentIM)
	for i := range out.TencentIM {
		if out.TencentIM[i].SecretKeyFile != "" {
			out.TencentIM[i].SecretKey = ""
		}
		if out.TencentIM[i].CallbackTokenFile != "" {
			out.TencentIM[i].CallbackToken = ""
		}
	}
	out.JPush = slices.Clone(c.JPush)
	for i := range out.JPush {
		if out.JPush[i].MasterSecretFile != "" {
			out.JPush[i].MasterSecret = ""
		}
	}
	out.JPushGroups = slices.Clone(c.JPushGroups)
	for i := range out.JPushGroups {
		if out.JPushGroups[i].GroupSecretFile != "" {
			out.JPushGroups[i].GroupSecret = ""
		}
	}
	var n yaml.Node
	if err := n.Encode(&out); err != nil {
		return nil, err
	}
	w := walker{lines: map[string]int{}, seen: map[visit]bool{}, cut: map[string]bool{}, rewrite: func(n *yaml.Node, path string) {
		d, _ := model.ParseDuration(n.Value)
		if text, ok := c.durationText[path]; ok {
			if written, err := model.ParseDuration(text); err == nil && written == d {
				n.Value = text
				return
			}
		}
		n.Value = formatDuration(d)
	}}
	w.walk(&n, configType, "")
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// formatDuration writes a duration the file did not give: in days from two
// days up, else in hours when whole, so that the defaults read 7d and 24h
// rather than model.Duration's 1w and 1d.
func formatDuration(d model.Duration) string {
	const day = 24 * time.Hour
	switch t := time.Duration(d); {
	case t >= 2*day && t%day == 0:
		return fmt.Sprintf("%dd", t/day)
	case t > 0 && t%time.Hour == 0:
		return fmt.Sprintf("%dh", t/time.Hour)
	}
	return d.String()
}
