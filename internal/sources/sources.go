// Package sources holds the exporter's sources: for each (source, app), a
// refresh.Job that asks a vendor client and puts the mapped samples
// (package collector) into its refresh.Target. The Table lists every source
// with its schema and constructor; the server reads it to build a target per
// configured app.
//
// A Job is long-lived: it is made once when its (source, app) first appears
// in the configuration, and a reload hands it new settings with Configure
// (an atomic pointer swap), so what it knows of each tracked ID survives
// reloads without being copied. Only the target's loop goroutine calls Step.
package sources

import (
	"strconv"

	"github.com/imstats/imstats_exporter/collector"
	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/imstats/imstats_exporter/internal/refresh"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

// App is what a source needs to know of one configured app.
type App struct {
	// Name is the app's label value: the sdkappid, app_key or group_key.
	Name string
	// Config is the whole configuration in force.
	Config *config.Config
	// One of Tencent, JPush and Group is set.
	Tencent *config.TencentApp
	JPush   *config.JPushApp
	Group   *config.JPushGroup
	// IDs is the app's tracked-ID set, for the sources that poll one.
	IDs *tracking.Set
	// Deps are the process-wide pieces.
	Deps Deps
}

// Job is a source's refresh.Job that a reload can reconfigure.
type Job interface {
	refresh.Job
	// Configure hands the job the settings of a newly committed
	// configuration; the next step uses them.
	Configure(a App)
}

// Vendor kinds of apps.
const (
	AppTencent = "tencent_im"
	AppJPush   = "jpush"
	AppGroup   = "jpush_group"
)

// Def is one row of the source table.
type Def struct {
	Name     string           // a source name of config.SourceNames
	AppKind  string           // AppTencent, AppJPush or AppGroup
	Schema   *expo.Schema     // the families its targets hold
	OnDemand bool             // refreshed when a scrape finds it stale, not in the background
	IDKind   string           // the tracked-ID kind it polls (tracking.Kind*), or ""
	New      func() Job       // makes the job of one app
	Needs    func(a App) bool // nil: always; else whether the app needs this source
}

// Table lists every source.
var Table = []Def{
	{Name: config.SourceTencentOperations, AppKind: AppTencent, Schema: collector.OperationsSchema, OnDemand: true, New: func() Job { return &operations{} }},
	{Name: config.SourceTencentPush, AppKind: AppTencent, Schema: collector.PushSchema, IDKind: tracking.KindTencentPush, New: func() Job { return &tencentPush{} }},
	{Name: config.SourceTencentNormalPush, AppKind: AppTencent, Schema: collector.NormalPushSchema, OnDemand: true, New: func() Job { return &normalPush{} }},
	{Name: config.SourceTencentPushLoss, AppKind: AppTencent, Schema: collector.PushLossSchema, IDKind: tracking.KindTencentPush, New: func() Job { return &pushLoss{} }},
	{Name: config.SourceTencentNormalPushLoss, AppKind: AppTencent, Schema: collector.NormalPushLossSchema, OnDemand: true, New: func() Job { return &normalPushLoss{} }},
	{Name: config.SourceJPushReceived, AppKind: AppJPush, Schema: collector.ReceivedSchema, IDKind: tracking.KindJPushMessages, New: func() Job { return &received{} }},
	{Name: config.SourceJPushMessages, AppKind: AppJPush, Schema: collector.MessagesSchema, IDKind: tracking.KindJPushMessages, New: func() Job { return &messages{} }},
	{Name: config.SourceJPushUsers, AppKind: AppJPush, Schema: collector.UsersSchema, OnDemand: true, New: func() Job { return &users{} }},
	{Name: config.SourceJPushStatus, AppKind: AppJPush, Schema: collector.StatusSchema, IDKind: tracking.KindJPushMessages, New: func() Job { return &status{} },
		Needs: func(a App) bool { return len(a.JPush.CanaryRegistrationIDs) > 0 }},
	{Name: config.SourceJPushGroupMessages, AppKind: AppGroup, Schema: collector.GroupMessagesSchema, IDKind: tracking.KindJPushGroupMessages, New: func() Job { return &messages{group: true} }},
	{Name: config.SourceJPushGroupUsers, AppKind: AppGroup, Schema: collector.GroupUsersSchema, OnDemand: true, New: func() Job { return &users{group: true} }},
}

// Lookup returns the row of source name.
func Lookup(name string) (Def, bool) {
	for _, d := range Table {
		if d.Name == name {
			return d, true
		}
	}
	return Def{}, false
}

// sdkappid is the label value of a Tencent app.
func sdkappid(a App) string { return strconv.FormatUint(a.Tencent.SDKAppID, 10) }
