// Package config is the schema of exporter.yml: the Go types, their defaults,
// strict decoding that names the key and line of every problem, validation
// that reports every problem at once, and SafeConfig, which swaps in a new
// configuration only when it is valid.
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

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// Source names, the values of the `source` label and the keys of the
// refresh_intervals and sources sections.
const (
	SourceTencentOperations  = "tencent_operations"
	SourceTencentPush        = "tencent_push"
	SourceJPushReceived      = "jpush_received"
	SourceJPushMessages      = "jpush_messages"
	SourceJPushUsers         = "jpush_users"
	SourceJPushGroupMessages = "jpush_group_messages"
	SourceJPushGroupUsers    = "jpush_group_users"
	SourceJPushStatus        = "jpush_status"
)

// SourceNames lists every source, in the order of the Source constants.
var SourceNames = []string{
	SourceTencentOperations,
	SourceTencentPush,
	SourceJPushReceived,
	SourceJPushMessages,
	SourceJPushUsers,
	SourceJPushGroupMessages,
	SourceJPushGroupUsers,
	SourceJPushStatus,
}

const (
	// DefaultTencentRegion is the region of an app that sets neither region
	// nor endpoint.
	DefaultTencentRegion = "china"
	// DefaultJPushEndpoint is the base URL of the JPush Report API v3
	// (jpush-report-api-v3.txt).
	DefaultJPushEndpoint = "https://report.jpush.cn"
)

// The defaults, applied before decoding so that a key left out keeps them.
var (
	// DefaultConfig holds the top-level defaults: an empty file loads as
	// DefaultConfig, completed (Location set, state_directory resolved).
	DefaultConfig = Config{
		RefreshIntervals: DefaultRefreshIntervals,
		Sources:          DefaultSources,
		Timezone:         "Asia/Shanghai",
		StateDirectory:   "data",
		Tracking:         DefaultTracking,
		Limits:           DefaultLimits,
	}

	// DefaultTencentApp holds the defaults of a tencent_im entry.
	DefaultTencentApp = TencentApp{
		Identifier: "admin",
		Push:       DefaultTencentPush,
	}

	// DefaultTencentPush holds the defaults of a tencent_im entry's push
	// section.
	DefaultTencentPush = TencentPush{
		Windows: []Window{{Duration: model.Duration(24 * time.Hour), Text: "24h"}},
	}

	// DefaultJPushApp holds the defaults of a jpush entry.
	DefaultJPushApp = JPushApp{
		Endpoint: DefaultJPushEndpoint,
		// The Report API's free-tier quota per AppKey (SPEC §1).
		RequestsPerMinute: 2400,
	}

	// DefaultJPushGroup holds the defaults of a jpush_groups entry.
	DefaultJPushGroup = JPushGroup{
		// jpush-report-api-v3.txt: the group APIs' Basic auth user name is
		// "group-" followed by the group key.
		AuthPrefix:        "group-",
		Endpoint:          DefaultJPushEndpoint,
		RequestsPerMinute: 2400,
	}

	// DefaultRefreshIntervals holds how long each source's snapshot stays
	// fresh.
	DefaultRefreshIntervals = RefreshIntervals{
		TencentOperations:  model.Duration(10 * time.Minute),
		TencentPush:        model.Duration(time.Minute),
		JPushReceived:      model.Duration(time.Minute),
		JPushMessages:      model.Duration(2 * time.Minute),
		JPushUsers:         model.Duration(30 * time.Minute),
		JPushGroupMessages: model.Duration(2 * time.Minute),
		JPushGroupUsers:    model.Duration(30 * time.Minute),
		JPushStatus:        model.Duration(5 * time.Minute),
	}

	// DefaultSources turns every source on.
	DefaultSources = Sources{
		TencentOperations:  true,
		TencentPush:        true,
		JPushReceived:      true,
		JPushMessages:      true,
		JPushUsers:         true,
		JPushGroupMessages: true,
		JPushGroupUsers:    true,
		JPushStatus:        true,
	}

	// DefaultTracking holds the defaults of the tracked-ID machinery.
	DefaultTracking = Tracking{
		MaxAge:                 model.Duration(7 * 24 * time.Hour),
		MaxIDsPerApp:           5000,
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
	// RefreshIntervals is how long each source's snapshot stays fresh.
	RefreshIntervals RefreshIntervals `yaml:"refresh_intervals"`
	// Sources turns sources on and off.
	Sources Sources `yaml:"sources"`
	// Timezone names the zone of the vendors' days; the default is
	// Asia/Shanghai because Tencent's Date rows are Beijing days
	// (tencent-im-getappinfo.txt).
	Timezone string `yaml:"timezone"`
	// Location is Timezone, loaded.
	Location *time.Location `yaml:"-"`
	// StateDirectory holds the registered IDs that survive restarts.
	StateDirectory string `yaml:"state_directory"`
	// Tracking bounds the tracked task and message IDs.
	Tracking Tracking `yaml:"tracking"`
	// Limits bounds requests, scrapes and backoff.
	Limits Limits `yaml:"limits"`
}

// TencentApp is one Tencent Cloud IM application.
type TencentApp struct {
	// SDKAppID identifies the application; required.
	SDKAppID uint64 `yaml:"sdkappid"`
	// Identifier is the administrator account the UserSig is made for.
	Identifier string `yaml:"identifier"`
	// SecretKey signs the UserSig. After loading it holds the key even when
	// it was given with secret_key_file.
	SecretKey Secret `yaml:"secret_key"`
	// SecretKeyFile names a file holding the key; surrounding whitespace is
	// trimmed.
	SecretKeyFile string `yaml:"secret_key_file"`
	// Region is one of tencentim.Regions().
	Region string `yaml:"region"`
	// Endpoint overrides the region with a base URL, without a trailing
	// slash once loaded.
	Endpoint string `yaml:"endpoint"`
	// Push configures the push statistics.
	Push TencentPush `yaml:"push"`
}

// BaseURL returns Endpoint, or the base URL of Region.
func (a TencentApp) BaseURL() string {
	if a.Endpoint != "" {
		return a.Endpoint
	}
	u, _ := tencentim.RegionBaseURL(a.Region)
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
// label shows the duration as configured (SPEC §2: "24h", where
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
	MasterSecret Secret `yaml:"master_secret"`
	// MasterSecretFile names a file holding the master secret.
	MasterSecretFile string `yaml:"master_secret_file"`
	// Endpoint is the Report API base URL, without a trailing slash once
	// loaded.
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
	GroupSecret Secret `yaml:"group_secret"`
	// GroupSecretFile names a file holding the group secret.
	GroupSecretFile string `yaml:"group_secret_file"`
	// AuthPrefix is put before GroupKey to make the Basic auth user name.
	AuthPrefix string `yaml:"auth_prefix"`
	// Endpoint is the Report API base URL, without a trailing slash once
	// loaded.
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

// RefreshIntervals holds how long each source's snapshot stays fresh. A zero
// field is set to its default when the configuration is loaded.
type RefreshIntervals struct {
	// TencentOperations is the interval of the getappinfo source.
	TencentOperations model.Duration `yaml:"tencent_operations"`
	// TencentPush is the interval of the push statistics source.
	TencentPush model.Duration `yaml:"tencent_push"`
	// JPushReceived is the interval of the received/detail source.
	JPushReceived model.Duration `yaml:"jpush_received"`
	// JPushMessages is the interval of the messages/detail source.
	JPushMessages model.Duration `yaml:"jpush_messages"`
	// JPushUsers is the interval of the users source.
	JPushUsers model.Duration `yaml:"jpush_users"`
	// JPushGroupMessages is the interval of the group/messages/detail source.
	JPushGroupMessages model.Duration `yaml:"jpush_group_messages"`
	// JPushGroupUsers is the interval of the group/users source.
	JPushGroupUsers model.Duration `yaml:"jpush_group_users"`
	// JPushStatus is the interval of the status/message source.
	JPushStatus model.Duration `yaml:"jpush_status"`
}

// For returns the refresh interval of a source, and 0 for an unknown name.
func (r RefreshIntervals) For(source string) time.Duration {
	if d := r.field(source); d != nil {
		return time.Duration(*d)
	}
	return 0
}

func (r *RefreshIntervals) field(source string) *model.Duration {
	switch source {
	case SourceTencentOperations:
		return &r.TencentOperations
	case SourceTencentPush:
		return &r.TencentPush
	case SourceJPushReceived:
		return &r.JPushReceived
	case SourceJPushMessages:
		return &r.JPushMessages
	case SourceJPushUsers:
		return &r.JPushUsers
	case SourceJPushGroupMessages:
		return &r.JPushGroupMessages
	case SourceJPushGroupUsers:
		return &r.JPushGroupUsers
	case SourceJPushStatus:
		return &r.JPushStatus
	}
	return nil
}

// Sources turns each source on or off; all are on by default.
type Sources struct {
	// TencentOperations turns the getappinfo source on.
	TencentOperations bool `yaml:"tencent_operations"`
	// TencentPush turns the push statistics source on.
	TencentPush bool `yaml:"tencent_push"`
	// JPushReceived turns the received/detail source on.
	JPushReceived bool `yaml:"jpush_received"`
	// JPushMessages turns the messages/detail source on.
	JPushMessages bool `yaml:"jpush_messages"`
	// JPushUsers turns the users source on.
	JPushUsers bool `yaml:"jpush_users"`
	// JPushGroupMessages turns the group/messages/detail source on.
	JPushGroupMessages bool `yaml:"jpush_group_messages"`
	// JPushGroupUsers turns the group/users source on.
	JPushGroupUsers bool `yaml:"jpush_group_users"`
	// JPushStatus turns the status/message source on.
	JPushStatus bool `yaml:"jpush_status"`
}

// Enabled reports whether a source is on; it is false for an unknown name.
func (s Sources) Enabled(source string) bool {
	switch source {
	case SourceTencentOperations:
		return s.TencentOperations
	case SourceTencentPush:
		return s.TencentPush
	case SourceJPushReceived:
		return s.JPushReceived
	case SourceJPushMessages:
		return s.JPushMessages
	case SourceJPushUsers:
		return s.JPushUsers
	case SourceJPushGroupMessages:
		return s.JPushGroupMessages
	case SourceJPushGroupUsers:
		return s.JPushGroupUsers
	case SourceJPushStatus:
		return s.JPushStatus
	}
	return false
}

// Tracking bounds the tracked task and message IDs.
type Tracking struct {
	// MaxAge is how long an ID is tracked after it was added.
	MaxAge model.Duration `yaml:"max_age"`
	// MaxIDsPerApp caps the tracked IDs of one app.
	MaxIDsPerApp int `yaml:"max_ids_per_app"`
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
	// MaxScrapeWait is the longest a scrape waits for a refresh.
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
}

// Load reads and parses a configuration file; relative paths in it are
// relative to the file's directory.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, filepath.Dir(path))
}

// Redacted returns the configuration as YAML for the /config page: every
// effective value, with secrets shown as "<secret>".
func (c *Config) Redacted() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
