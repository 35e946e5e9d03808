// Package sources holds the jobs of the exporter's sources: for each
// (source, app), a refresh.Job that asks a vendor client and puts the
// mapped samples (package collector) into its refresh.Target. Each job file
// registers, under a source name of internal/catalog, the builder of its
// jobs and its schema; Defs joins them to the catalog's rows for the server,
// and Check fails when a row has no builder or a builder no row.
//
// A Job is long-lived: it is made once when its (source, app) first appears
// in the configuration, and a reload hands it new settings with Configure
// (an atomic pointer swap), so what it knows of each tracked ID survives
// reloads without being copied. Only the target's loop goroutine calls Step.
package sources

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/catalog"
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
	// One of Tencent, JPush and Group is set, as the source's section says.
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

// Builder is what a job file registers for one source.
type Builder struct {
	// Schema declares the families the source's targets hold.
	Schema *expo.Schema
	// New makes the job of one app.
	New func() Job
	// Needs is nil when every app of the source's section needs the
	// source; else it says whether app a does.
	Needs func(a App) bool
}

// Def is a row of the catalog joined to the builder of its jobs.
type Def struct {
	catalog.Source
	Builder
}

// builders maps a source name to its builder. The job files fill it in
// their init functions, and nothing changes it afterwards.
var builders = map[string]Builder{}

// register records the builder of source name; registering a name twice is
// a programming error.
func register(name string, b Builder) {
	if _, dup := builders[name]; dup {
		panic("sources: builder of " + name + " registered twice")
	}
	builders[name] = b
}

// Defs returns every source of the catalog that has a builder, in the
// catalog's order. Check reports the rows Defs leaves out.
func Defs() []Def {
	defs := make([]Def, 0, len(catalog.Sources))
	for _, s := range catalog.Sources {
		if b, ok := builders[s.Name]; ok {
			defs = append(defs, Def{Source: s, Builder: b})
		}
	}
	return defs
}

// Check reports every source of the catalog without a builder, and every
// builder without a row in the catalog. The server refuses to start on
// such an error.
func Check() error { return check(catalog.Sources, builders) }

// check is Check on given rows and builders.
func check(rows []catalog.Source, b map[string]Builder) error {
	var errs []error
	named := map[string]bool{}
	for _, s := range rows {
		named[s.Name] = true
		if bl, ok := b[s.Name]; !ok || bl.New == nil || bl.Schema == nil {
			errs = append(errs, fmt.Errorf("source %s of the catalog has no job builder and schema in internal/sources", s.Name))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(b)) {
		if !named[name] {
			errs = append(errs, fmt.Errorf("job builder %s has no row in the catalog", name))
		}
	}
	return errors.Join(errs...)
}

// sdkappid is the label value of a Tencent app.
func sdkappid(a App) string { return strconv.FormatUint(a.Tencent.SDKAppID, 10) }
