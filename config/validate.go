package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/prometheus/common/model"
)

const (
	// maxPushWindow: all_member_push_statistics queries at most 30 days
	// (Tencent Chat "All/Tagged Users Push Data Statistics", https://trtc.io/document/71894).
	maxPushWindow = model.Duration(30 * 24 * time.Hour)
	// maxTrackingAge: Tencent answers push statistics for 30 days
	// (Tencent Chat "All/Tagged Users Push Data Statistics"); JPush keeps
	// delivery statistics about a month and group message statistics 30
	// days (JPush docs "REST API v3 Report").
	maxTrackingAge = model.Duration(30 * 24 * time.Hour)
	// maxCanaryIDs: one status/message call takes at most 1000 registration
	// IDs (JPush docs "REST API v3 Report"); more would multiply the calls made for
	// every tracked message.
	maxCanaryIDs = 1000
	// maxSecretFileBytes bounds a credential file, so that a wrong path (a
	// log, a device) cannot exhaust memory.
	maxSecretFileBytes = 64 << 10
)

// msgNoApps is the problem of a file that lists no application.
const msgNoApps = "no application: list at least one under tencent_im, jpush or jpush_groups"

// validator collects every problem of a decoded configuration, and completes
// it: relative paths are resolved, secret files read, defaults of zero
// refresh intervals applied and Location set.
type validator struct {
	dir   string
	lines map[string]int
	errs  []Problem
}

func (c *Config) validate(dir string, lines map[string]int) []Problem {
	v := &validator{dir: dir, lines: lines}

	if len(c.TencentIM)+len(c.JPush)+len(c.JPushGroups) == 0 {
		v.errorf("", msgNoApps)
	}

	sdkappids := map[uint64]string{}
	for i := range c.TencentIM {
		v.tencentApp(fmt.Sprintf("tencent_im[%d]", i), &c.TencentIM[i], sdkappids)
	}
	appKeys := map[string]string{}
	for i := range c.JPush {
		v.jpushApp(fmt.Sprintf("jpush[%d]", i), &c.JPush[i], appKeys)
	}
	groupKeys := map[string]string{}
	for i := range c.JPushGroups {
		v.jpushGroup(fmt.Sprintf("jpush_groups[%d]", i), &c.JPushGroups[i], groupKeys)
	}

	sourceKeys(v, "refresh_intervals", c.RefreshIntervals, false)
	sourceKeys(v, "sources", c.Sources, false)
	sourceKeys(v, "channel_detail", c.ChannelDetails, true)
	c.completeSources()

	if loc, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "" {
		v.errorf("timezone", "unknown time zone %q", c.Timezone)
	} else {
		c.Location = loc
	}
	if c.StateDirectory == "" {
		v.errorf("state_directory", "must not be empty")
	}
	c.StateDirectory = v.resolve(c.StateDirectory)

	t := c.Tracking
	v.duration("tracking.max_age", t.MaxAge, 0, maxTrackingAge)
	v.intRange("tracking.max_ids_per_app", int64(t.MaxIDsPerApp), 1, 100000)
	v.intRange("tracking.register_per_minute", int64(t.RegisterPerMinute), 0, 1000000)
	if t.MaxIDsPerApp >= 1 {
		for i, a := range c.TencentIM {
			v.idCap(fmt.Sprintf("tencent_im[%d].push.task_ids", i), len(a.Push.TaskIDs), t.MaxIDsPerApp)
		}
		for i, a := range c.JPush {
			v.idCap(fmt.Sprintf("jpush[%d].msg_ids", i), len(a.MsgIDs), t.MaxIDsPerApp)
		}
		for i, g := range c.JPushGroups {
			v.idCap(fmt.Sprintf("jpush_groups[%d].group_msg_ids", i), len(g.GroupMsgIDs), t.MaxIDsPerApp)
		}
	}
	v.duration("tracking.settled_refresh_interval", t.SettledRefreshInterval, 0, 0)
	v.duration("tracking.file_check_interval", t.FileCheckInterval, 0, 0)

	l := c.Limits
	v.duration("limits.request_timeout", l.RequestTimeout, 0, 0)
	v.intRange("limits.max_response_bytes", l.MaxResponseBytes, 1<<10, 1<<30)
	v.duration("limits.scrape_timeout_margin", l.ScrapeTimeoutMargin, 0, 0)
	v.duration("limits.max_scrape_wait", l.MaxScrapeWait, 0, 0)
	v.duration("limits.backoff_initial", l.BackoffInitial, 0, 0)
	v.duration("limits.backoff_max", l.BackoffMax, 0, 0)
	if l.BackoffMax > 0 && l.BackoffMax < l.BackoffInitial {
		v.errorf("limits.backoff_max", "must not be less than limits.backoff_initial (%s), got %s", l.BackoffInitial, l.BackoffMax)
	}
	v.duration("limits.unavailable_retry_interval", l.UnavailableRetryInterval, 0, 0)
	v.duration("limits.usersig_expire", l.UserSigExpire, model.Duration(10*time.Minute), model.Duration(180*24*time.Hour))
	v.intRange("limits.max_label_values", l.MaxLabelValues, 1, 1000)

	return v.errs
}

func (v *validator) tencentApp(path string, a *TencentApp, seen map[uint64]string) {
	switch first, dup := seen[a.SDKAppID]; {
	case a.SDKAppID == 0:
		v.errorf(path+".sdkappid", "is required")
	case dup:
		v.errorf(path+".sdkappid", "%d is also used by %s", a.SDKAppID, first)
	default:
		seen[a.SDKAppID] = path
	}
	if a.Identifier == "" {
		v.errorf(path+".identifier", "must not be empty")
	}
	a.SecretKey = v.secret(path, "secret_key", a.SecretKey, &a.SecretKeyFile)
	if a.CallbackToken != "" || a.CallbackTokenFile != "" {
		a.CallbackToken = v.secret(path, "callback_token", a.CallbackToken, &a.CallbackTokenFile)
	}
	switch {
	case a.Region != "" && a.Endpoint != "":
		v.errorf(path+".endpoint", "only one of region or endpoint may be set")
	case a.Endpoint != "":
		a.Endpoint = v.endpoint(path+".endpoint", a.Endpoint)
	default:
		if _, ok := catalog.RegionBaseURL(a.Region); !ok {
			v.errorf(path+".region", "unknown region %q; valid regions: %s", a.Region, strings.Join(catalog.Regions(), ", "))
		}
	}
	v.windows(path+".push.windows", a.Push.Windows)
	a.Push.TaskIDs = orNil(a.Push.TaskIDs)
	v.ids(path+".push.task_ids", a.Push.TaskIDs, catalog.ValidatorFor(catalog.KindTencentPush))
	a.Push.TaskIDsFile = v.resolve(a.Push.TaskIDsFile)
}

func (v *validator) jpushApp(path string, a *JPushApp, seen map[string]string) {
	v.key(path, "app_key", a.AppKey, seen)
	a.MasterSecret = v.secret(path, "master_secret", a.MasterSecret, &a.MasterSecretFile)
	a.Endpoint = v.endpoint(path+".endpoint", a.Endpoint)
	a.MsgIDs, a.CanaryRegistrationIDs = orNil(a.MsgIDs), orNil(a.CanaryRegistrationIDs)
	v.ids(path+".msg_ids", a.MsgIDs, catalog.ValidatorFor(catalog.KindJPushMessages))
	a.MsgIDsFile = v.resolve(a.MsgIDsFile)
	if n := len(a.CanaryRegistrationIDs); n > maxCanaryIDs {
		v.errorf(path+".canary_registration_ids", "must list at most %d IDs, got %d", maxCanaryIDs, n)
	}
	v.ids(path+".canary_registration_ids", a.CanaryRegistrationIDs, catalog.ValidateID)
	v.intRange(path+".requests_per_minute", int64(a.RequestsPerMinute), 1, 100000)
}

func (v *validator) jpushGroup(path string, g *JPushGroup, seen map[string]string) {
	v.key(path, "group_key", g.GroupKey, seen)
	g.GroupSecret = v.secret(path, "group_secret", g.GroupSecret, &g.GroupSecretFile)
	if strings.ContainsFunc(g.AuthPrefix, isSpaceOrColon) {
		v.errorf(path+".auth_prefix", "must not contain ':' or whitespace")
	}
	g.Endpoint = v.endpoint(path+".endpoint", g.Endpoint)
	g.GroupMsgIDs = orNil(g.GroupMsgIDs)
	v.ids(path+".group_msg_ids", g.GroupMsgIDs, catalog.ValidatorFor(catalog.KindJPushGroupMessages))
	g.GroupMsgIDsFile = v.resolve(g.GroupMsgIDsFile)
	v.intRange(path+".requests_per_minute", int64(g.RequestsPerMinute), 1, 100000)
}

// errorf records a problem at a key path, with the line of the key or, when
// the key is absent, of its nearest ancestor.
func (v *validator) errorf(path, format string, args ...any) {
	v.errs = append(v.errs, Problem{Line: v.line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// sourceKeys refuses a key of a per-source section that names no source of
// catalog.Sources, or, with detail, none whose ChannelDetail is set.
func sourceKeys[V any](v *validator, section string, m map[string]V, detail bool) {
	for _, name := range slices.Sorted(maps.Keys(m)) {
		info, ok := catalog.Lookup(name)
		switch {
		case !ok:
			v.errorf(section+"."+name, "unknown source; valid sources: %s", strings.Join(sourcesWhere(detail), ", "))
		case detail && !info.ChannelDetail:
			v.errorf(section+"."+name, "has no per-channel detail to turn off; valid sources: %s", strings.Join(sourcesWhere(true), ", "))
		}
	}
}

// sourcesWhere lists the sources of the catalog, or with detail only those
// whose ChannelDetail is set.
func sourcesWhere(detail bool) []string {
	var names []string
	for _, s := range catalog.Sources {
		if !detail || s.ChannelDetail {
			names = append(names, s.Name)
		}
	}
	return names
}

// idCap refuses an app that lists more IDs than tracking.max_ids_per_app:
// IDs from the configuration are never evicted, so they must all fit.
func (v *validator) idCap(path string, n, limit int) {
	if n > limit {
		v.errorf(path, "lists %d IDs, more than tracking.max_ids_per_app (%d); IDs from the configuration are never evicted", n, limit)
	}
}

func (v *validator) line(path string) int {
	for path != "" {
		if line, ok := v.lines[path]; ok {
			return line
		}
		path = path[:max(strings.LastIndexAny(path, ".["), 0)]
	}
	return v.lines[""]
}

// resolve makes a relative path relative to the configuration's directory.
func (v *validator) resolve(path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(v.dir, path)
}

// key checks an app_key or group_key: required, usable as the user name of
// HTTP Basic auth, and not used by another entry of the list.
func (v *validator) key(path, name, key string, seen map[string]string) {
	switch first, dup := seen[key]; {
	case key == "":
		v.errorf(path+"."+name, "is required")
	case strings.ContainsFunc(key, isSpaceOrColon):
		v.errorf(path+"."+name, "must not contain ':' or whitespace")
	case dup:
		v.errorf(path+"."+name, "%q is also used by %s", key, first)
	default:
		seen[key] = path
	}
}

func isSpaceOrColon(r rune) bool { return r == ':' || unicode.IsSpace(r) }

// secret returns the credential given inline as key or in the file named by
// key+"_file" (resolved in place); exactly one of them must be set.
func (v *validator) secret(path, key string, inline Secret, file *string) Secret {
	fileKey := key + "_file"
	switch {
	case inline == "" && *file == "":
		v.errorf(path+"."+key, "one of %s or %s is required", key, fileKey)
	case inline != "" && *file != "":
		v.errorf(path+"."+key, "only one of %s or %s may be set", key, fileKey)
	case *file != "":
		*file = v.resolve(*file)
		s, err := readSecretFile(*file)
		if err != nil {
			v.errorf(path+"."+fileKey, "%v", err)
		}
		return Secret(s)
	}
	return inline
}

// readSecretFile reads a credential file through a size limit and trims the
// surrounding whitespace. Its errors name the file, never its content.
func readSecretFile(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", fmt.Errorf("cannot read %q: %v", name, pathErrCause(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFileBytes+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("cannot read %q: %v", name, pathErrCause(err))
	case len(b) > maxSecretFileBytes:
		return "", fmt.Errorf("%q is larger than %d bytes", name, maxSecretFileBytes)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%q is empty", name)
	}
	return s, nil
}

// pathErrCause drops the operation and path that a *fs.PathError repeats.
func pathErrCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// endpoint checks a base URL and returns it without trailing slashes. The
// value is never echoed: a URL may carry credentials.
func (v *validator) endpoint(path, s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		v.errorf(path, "must be an absolute http or https URL")
	case u.User != nil:
		v.errorf(path, "must not contain a user name or password")
	case strings.ContainsAny(s, "?#"):
		v.errorf(path, "must not have a query or fragment")
	}
	return strings.TrimRight(s, "/")
}

// windows checks the rolling windows of the push statistics.
func (v *validator) windows(path string, windows []Window) {
	first := map[model.Duration]string{}
	for i, w := range windows {
		p := fmt.Sprintf("%s[%d]", path, i)
		if f, dup := first[w.Duration]; dup {
			v.errorf(p, "duplicate of %s", f)
			continue
		}
		first[w.Duration] = p
		v.duration(p, w.Duration, 0, maxPushWindow)
	}
}

// ids checks a list of task, message or registration IDs with the rule the
// tracked-ID sets, the watched files and the HTTP API apply to the same kind
// (catalog.ValidatorFor), so that a configuration that loads also runs.
func (v *validator) ids(path string, ids []string, valid func(string) error) {
	first := make(map[string]string, len(ids))
	for i, id := range ids {
		p := fmt.Sprintf("%s[%d]", path, i)
		if err := valid(id); err != nil {
			v.errorf(p, "invalid ID %q: %v", shorten(id), err)
			continue
		}
		if f, dup := first[id]; dup {
			v.errorf(p, "duplicate of %s", f)
			continue
		}
		first[id] = p
	}
}

// orNil makes an empty ID list nil, so that "[]" and a key left out load
// the same (and /config's output loads back equal).
func orNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// shorten cuts a value shown in a message to 40 bytes.
func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// duration checks that d is greater than 0 and within [lo, hi]; a zero
// bound is no bound.
func (v *validator) duration(path string, d, lo, hi model.Duration) {
	switch {
	case d <= 0:
		v.errorf(path, "must be greater than 0")
	case lo > 0 && d < lo:
		v.errorf(path, "must be at least %s, got %s", lo, d)
	case hi > 0 && d > hi:
		v.errorf(path, "must be at most %s, got %s", hi, d)
	}
}

func (v *validator) intRange(path string, n, lo, hi int64) {
	if n < lo || n > hi {
		v.errorf(path, "must be between %d and %d, got %d", lo, hi, n)
	}
}
