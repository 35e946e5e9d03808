// Package catalog is the one table of the exporter's sources, at the bottom
// of the import graph: every other package (config, sources, server,
// tracking, the generated mixin list and the documentation's table) reads
// it. With it live the vendors, the Tencent IM regions and the kinds of
// tracked IDs with their rules and tracking API routes.
//
// Adding a source touches, besides the vendor client (internal/tencentim or
// internal/jpush) and the simulator:
//
//  1. internal/catalog/catalog.go: a Source* name constant and a row of
//     Sources (its section, vendor, API, defaults, ID kind, on-demand and
//     channel-detail flags);
//  2. collector/: the file that maps the vendor's answer to samples and
//     declares the source's schema;
//  3. internal/sources/: the job file, whose init registers the job's
//     builder under the source's name (sources.Check, run when the server is
//     built, and TestCatalogJobs fail when a row has no builder or a builder
//     no row);
//  4. only for a Tencent API whose call rate is not 1 call/s, or which must
//     share another API's bucket: tencentLimiter in
//     internal/sources/clients.go.
//
// Documentation names the source in exporter.yml and the README (a config
// test checks). Then `go test ./internal/catalog -update` rewrites mixin/sources.libsonnet
// and the sources table between the <!-- sources:begin --> and
// <!-- sources:end --> markers of the documentation; without -update the
// test fails while either is stale.
package catalog

import (
	"slices"
	"strings"
	"time"
)

// Source names: the values of the `source` label and the keys of the
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

// Section is a vendor section of the configuration file: the apps a source
// serves are the entries of its section.
type Section string

// The sections of apps.
const (
	SectionTencentIM   Section = "tencent_im"
	SectionJPush       Section = "jpush"
	SectionJPushGroups Section = "jpush_groups"
)

// Vendor names, the values of the `vendor` label of the API metrics.
const (
	VendorTencentIM = "tencent_im"
	VendorJPush     = "jpush"
)

// Source is one row of the catalog.
type Source struct {
	// Name is the source's key in refresh_intervals, sources and
	// channel_detail, the value of the `source` label, and the key under
	// which internal/sources registers the builder of its job.
	Name string
	// Section is the configuration section whose apps the source serves.
	Section Section
	// Vendor is the vendor the source calls: VendorTencentIM or VendorJPush.
	Vendor string
	// API names the vendor API the source calls, for documentation.
	API string
	// DefaultInterval is how long the source's values stay fresh when
	// refresh_intervals does not say.
	DefaultInterval time.Duration
	// DefaultEnabled is whether the source is on when sources does not say.
	DefaultEnabled bool
	// IDKind is the kind of tracked IDs (Kind*) the source polls through a
	// queue, or "" for a source that makes one request per app.
	IDKind string
	// OnDemand marks a source refreshed when a scrape finds it stale rather
	// than in the background.
	OnDemand bool
	// ChannelDetail marks a source that exports per-platform or per-channel
	// series of each tracked ID, which channel_detail can turn off.
	ChannelDetail bool
}

// Queued reports whether the source works through tracked IDs rather than
// one request per app.
func (s Source) Queued() bool { return s.IDKind != "" }

// Sources lists every source. Its order is that of error messages and
// documentation, and, within one app, the order the server plans them in.
var Sources = []Source{
	{Name: SourceTencentOperations, Section: SectionTencentIM, Vendor: VendorTencentIM, API: "v4/openconfigsvr/getappinfo",
		DefaultInterval: 10 * time.Minute, DefaultEnabled: true, OnDemand: true},
	{Name: SourceTencentPush, Section: SectionTencentIM, Vendor: VendorTencentIM, API: "v4/timpush/all_member_push_statistics",
		DefaultInterval: time.Minute, DefaultEnabled: true, IDKind: KindTencentPush, ChannelDetail: true},
	{Name: SourceTencentNormalPush, Section: SectionTencentIM, Vendor: VendorTencentIM, API: "v4/timpush/normal_push_statistics",
		DefaultInterval: time.Minute, DefaultEnabled: true, OnDemand: true},
	// The loss APIs take windows of at most 7 days: a longer push window is
	// asked over its last 7 days (internal/sources).
	{Name: SourceTencentPushLoss, Section: SectionTencentIM, Vendor: VendorTencentIM, API: "v4/timpush/all_member_push_loss",
		DefaultInterval: 5 * time.Minute, DefaultEnabled: true, IDKind: KindTencentPush, ChannelDetail: true},
	{Name: SourceTencentNormalPushLoss, Section: SectionTencentIM, Vendor: VendorTencentIM, API: "v4/timpush/normal_push_loss",
		DefaultInterval: 5 * time.Minute, DefaultEnabled: true, OnDemand: true},
	{Name: SourceJPushReceived, Section: SectionJPush, Vendor: VendorJPush, API: "/v3/received/detail",
		DefaultInterval: time.Minute, DefaultEnabled: true, IDKind: KindJPushMessages, ChannelDetail: true},
	{Name: SourceJPushMessages, Section: SectionJPush, Vendor: VendorJPush, API: "/v3/messages/detail (VIP)",
		DefaultInterval: 2 * time.Minute, DefaultEnabled: true, IDKind: KindJPushMessages, ChannelDetail: true},
	{Name: SourceJPushUsers, Section: SectionJPush, Vendor: VendorJPush, API: "/v3/users (VIP)",
		DefaultInterval: 30 * time.Minute, DefaultEnabled: true, OnDemand: true},
	{Name: SourceJPushGroupMessages, Section: SectionJPushGroups, Vendor: VendorJPush, API: "/v3/group/messages/detail",
		DefaultInterval: 2 * time.Minute, DefaultEnabled: true, IDKind: KindJPushGroupMessages, ChannelDetail: true},
	{Name: SourceJPushGroupUsers, Section: SectionJPushGroups, Vendor: VendorJPush, API: "/v3/group/users",
		DefaultInterval: 30 * time.Minute, DefaultEnabled: true, OnDemand: true},
	{Name: SourceJPushStatus, Section: SectionJPush, Vendor: VendorJPush, API: "/v3/status/message for canary_registration_ids",
		DefaultInterval: 5 * time.Minute, DefaultEnabled: true, IDKind: KindJPushMessages},
}

// Lookup returns the row of the source named name.
func Lookup(name string) (Source, bool) {
	i := slices.IndexFunc(Sources, func(s Source) bool { return s.Name == name })
	if i < 0 {
		return Source{}, false
	}
	return Sources[i], true
}

// The kinds of tracked IDs, the names of the tracked-ID sets.
const (
	// KindTencentPush is Tencent IM push TaskIDs.
	KindTencentPush = "tencent_push"
	// KindJPushMessages is JPush msg_ids.
	KindJPushMessages = "jpush_messages"
	// KindJPushGroupMessages is JPush group_msgids.
	KindJPushGroupMessages = "jpush_group_messages"
)

// IDKind is one kind of tracked IDs: the rule its IDs follow and the route
// of its tracking API endpoints.
type IDKind struct {
	// Name is one of the Kind* constants.
	Name string
	// Section is the configuration section of the apps that track it.
	Section Section
	// Route is the tracking API's list endpoint, with the app as the path
	// wildcard AppParam; one ID is Route + "/{id}".
	Route string
	// AppParam is the path wildcard of Route naming the app.
	AppParam string
	// ListKey is the JSON field of a POST holding the IDs.
	ListKey string
	// Numbers is whether a POST may give IDs as JSON numbers.
	Numbers bool
}

// IDKinds lists every kind of tracked IDs.
var IDKinds = []IDKind{
	{Name: KindTencentPush, Section: SectionTencentIM, Route: "/api/v1/tencent_im/{sdkappid}/tasks", AppParam: "sdkappid", ListKey: "task_ids"},
	// msg_id is a number in some JPush answers and requests (JPush "REST API
	// v3 Report": /messages/detail, /status/message).
	{Name: KindJPushMessages, Section: SectionJPush, Route: "/api/v1/jpush/{app_key}/messages", AppParam: "app_key", ListKey: "msg_ids", Numbers: true},
	{Name: KindJPushGroupMessages, Section: SectionJPushGroups, Route: "/api/v1/jpush_groups/{group_key}/messages", AppParam: "group_key", ListKey: "group_msg_ids"},
}

// LookupIDKind returns the kind named name.
func LookupIDKind(name string) (IDKind, bool) {
	i := slices.IndexFunc(IDKinds, func(k IDKind) bool { return k.Name == name })
	if i < 0 {
		return IDKind{}, false
	}
	return IDKinds[i], true
}

// Path returns the kind's list endpoint for app.
func (k IDKind) Path(app string) string {
	return strings.Replace(k.Route, "{"+k.AppParam+"}", app, 1)
}
