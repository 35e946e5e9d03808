package config

import (
	"time"

	"github.com/prometheus/common/model"
)

// Source names, the values of the `source` label and the keys of the
// refresh_intervals, sources and channel_detail sections.
const (
	SourceTencentOperations = "tencent_operations"
	SourceTencentPush       = "tencent_push"
	SourceTencentNormalPush = "tencent_normal_push"
	// SourceTencentPushLoss and SourceTencentNormalPushLoss read why pushes
	// were lost (all_member_push_loss, normal_push_loss).
	SourceTencentPushLoss       = "tencent_push_loss"
	SourceTencentNormalPushLoss = "tencent_normal_push_loss"
	SourceJPushReceived         = "jpush_received"
	SourceJPushMessages         = "jpush_messages"
	SourceJPushUsers            = "jpush_users"
	SourceJPushGroupMessages    = "jpush_group_messages"
	SourceJPushGroupUsers       = "jpush_group_users"
	SourceJPushStatus           = "jpush_status"
)

// The vendors' sections of the configuration, the Vendor of a SourceInfo.
const (
	VendorTencentIM   = "tencent_im"
	VendorJPush       = "jpush"
	VendorJPushGroups = "jpush_groups"
)

// SourceInfo describes one source: what the configuration knows of it.
type SourceInfo struct {
	// Name is the source's key in refresh_intervals, sources and
	// channel_detail, and the value of the `source` label.
	Name string
	// Vendor is the section whose apps the source serves: VendorTencentIM,
	// VendorJPush or VendorJPushGroups.
	Vendor string
	// API names the vendor API the source calls, for documentation.
	API string
	// DefaultInterval is how long the source's values stay fresh when
	// refresh_intervals does not say.
	DefaultInterval time.Duration
	// DefaultEnabled is whether the source is on when sources does not say.
	DefaultEnabled bool
	// Queue marks a source that works through tracked IDs (task, message)
	// rather than one request per app.
	Queue bool
	// ChannelDetail marks a source that exports per-platform or per-channel
	// series of each tracked ID, which channel_detail can turn off.
	ChannelDetail bool
}

// SourceTable lists every source. It drives the keys, defaults and
// validation of refresh_intervals, sources and channel_detail: adding a
// source to the configuration is adding a row here.
var SourceTable = []SourceInfo{
	{Name: SourceTencentOperations, Vendor: VendorTencentIM, API: "v4/openconfigsvr/getappinfo", DefaultInterval: 10 * time.Minute, DefaultEnabled: true},
	{Name: SourceTencentPush, Vendor: VendorTencentIM, API: "v4/timpush/all_member_push_statistics", DefaultInterval: time.Minute, DefaultEnabled: true, Queue: true, ChannelDetail: true},
	{Name: SourceTencentNormalPush, Vendor: VendorTencentIM, API: "v4/timpush/normal_push_statistics", DefaultInterval: time.Minute, DefaultEnabled: true},
	{Name: SourceTencentPushLoss, Vendor: VendorTencentIM, API: "v4/timpush/all_member_push_loss", DefaultInterval: 5 * time.Minute, DefaultEnabled: true, Queue: true, ChannelDetail: true},
	{Name: SourceTencentNormalPushLoss, Vendor: VendorTencentIM, API: "v4/timpush/normal_push_loss", DefaultInterval: 5 * time.Minute, DefaultEnabled: true},
	{Name: SourceJPushReceived, Vendor: VendorJPush, API: "/v3/received/detail", DefaultInterval: time.Minute, DefaultEnabled: true, Queue: true, ChannelDetail: true},
	{Name: SourceJPushMessages, Vendor: VendorJPush, API: "/v3/messages/detail (VIP)", DefaultInterval: 2 * time.Minute, DefaultEnabled: true, Queue: true, ChannelDetail: true},
	{Name: SourceJPushUsers, Vendor: VendorJPush, API: "/v3/users (VIP)", DefaultInterval: 30 * time.Minute, DefaultEnabled: true},
	{Name: SourceJPushGroupMessages, Vendor: VendorJPushGroups, API: "/v3/group/messages/detail", DefaultInterval: 2 * time.Minute, DefaultEnabled: true, Queue: true, ChannelDetail: true},
	{Name: SourceJPushGroupUsers, Vendor: VendorJPushGroups, API: "/v3/group/users", DefaultInterval: 30 * time.Minute, DefaultEnabled: true},
	{Name: SourceJPushStatus, Vendor: VendorJPush, API: "/v3/status/message for canary_registration_ids", DefaultInterval: 5 * time.Minute, DefaultEnabled: true, Queue: true},
}

// SourceNames lists every source, in the order of SourceTable.
var SourceNames = sourceNames()

func sourceNames() []string {
	names := make([]string, len(SourceTable))
	for i, s := range SourceTable {
		names[i] = s.Name
	}
	return names
}

// LookupSource returns the row of SourceTable named source.
func LookupSource(source string) (SourceInfo, bool) {
	for _, s := range SourceTable {
		if s.Name == source {
			return s, true
		}
	}
	return SourceInfo{}, false
}

// RefreshIntervals maps a source name to how long its values stay fresh. A
// source left out, or set to 0, gets its DefaultInterval.
type RefreshIntervals map[string]model.Duration

// For returns the refresh interval of a source, and 0 for an unknown name.
func (r RefreshIntervals) For(source string) time.Duration {
	info, ok := LookupSource(source)
	if !ok {
		return 0
	}
	if d := r[source]; d > 0 {
		return time.Duration(d)
	}
	return info.DefaultInterval
}

// Sources maps a source name to whether it is on; a source left out gets
// its DefaultEnabled.
type Sources map[string]bool

// Enabled reports whether a source is on; it is false for an unknown name.
func (s Sources) Enabled(source string) bool {
	info, ok := LookupSource(source)
	if !ok {
		return false
	}
	if on, set := s[source]; set {
		return on
	}
	return info.DefaultEnabled
}

// ChannelDetails maps a source with ChannelDetail to whether its
// per-platform and per-channel series of each tracked ID are exported; a
// source left out exports them.
type ChannelDetails map[string]bool

// On reports whether a source exports the per-platform and per-channel
// series of each tracked ID: false for a source without such series.
func (d ChannelDetails) On(source string) bool {
	info, ok := LookupSource(source)
	if !ok || !info.ChannelDetail {
		return false
	}
	if on, set := d[source]; set {
		return on
	}
	return true
}

// completeSources fills every source of the table into the three maps, so that the
// loaded configuration (and /config) shows every effective value.
func (c *Config) completeSources() {
	if c.RefreshIntervals == nil {
		c.RefreshIntervals = RefreshIntervals{}
	}
	if c.Sources == nil {
		c.Sources = Sources{}
	}
	if c.ChannelDetails == nil {
		c.ChannelDetails = ChannelDetails{}
	}
	for _, s := range SourceTable {
		c.RefreshIntervals[s.Name] = model.Duration(c.RefreshIntervals.For(s.Name))
		c.Sources[s.Name] = c.Sources.Enabled(s.Name)
		if s.ChannelDetail {
			c.ChannelDetails[s.Name] = c.ChannelDetails.On(s.Name)
		}
	}
}
