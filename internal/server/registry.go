package server

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/go-kit/log"

	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/refresh"
	"github.com/imstats/imstats_exporter/internal/sources"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

// unitKey names a target: (source, app).
type unitKey struct{ source, app string }

// setKey names a tracked-ID set: (kind, app).
type setKey struct{ kind, app string }

// unit is everything one (source, app) owns for as long as it is
// configured: its snapshot (the target), its job and the loop running it.
type unit struct {
	def    sources.Def
	target *refresh.Target
	job    sources.Job
	loop   *refresh.Loop
	set    *tracking.Set // nil for sources that poll no IDs
	cancel context.CancelFunc
}

// unitList is the committed units, in plan order, and the number of the
// commit that made it.
type unitList struct {
	units []*unit
	gen   uint64
}

// state is what the reload goroutine owns between reloads: every unit and
// every tracked-ID set ever opened. A set is never closed while the process
// runs, so that one state file only ever has one writer; a set whose app
// left the configuration is only no longer served.
type state struct {
	units    map[unitKey]*unit
	sets     map[setKey]*tracking.Set
	stateDir string // fixed by the first configuration
}

// plannedUnit is one (source, app) of a plan.
type plannedUnit struct {
	key unitKey
	def sources.Def
	app sources.App
}

// plan is a configuration turned into what will run, with no side effect:
// nothing saved, nothing swapped, no goroutine started. The sets it opened
// have only been read.
type plan struct {
	cfg     *config.Config
	units   []plannedUnit
	newSets map[setKey]*tracking.Set
	changes []*tracking.Change
	served  map[setKey]*tracking.Set
}

// errStateDirChanged refuses a reload that moves the state directory: the
// open sets keep writing where they read from.
var errStateDirChanged = errors.New("state_directory cannot change on a reload; restart the exporter to move it")

// makePlan turns cfg into a plan. An error leaves everything as it was.
func (s *Server) makePlan(cfg *config.Config) (*plan, error) {
	st := &s.state
	if st.stateDir != "" && cfg.StateDirectory != st.stateDir {
		return nil, fmt.Errorf("%w (was %s, now %s)", errStateDirChanged, st.stateDir, cfg.StateDirectory)
	}
	p := &plan{cfg: cfg, newSets: map[setKey]*tracking.Set{}, served: map[setKey]*tracking.Set{}}
	for _, a := range appsOf(cfg, s.deps) {
		for _, def := range sources.Defs() {
			if def.Section != a.section || !cfg.Sources.Enabled(def.Name) || (def.Needs != nil && !def.Needs(a.app)) {
				continue
			}
			app := a.app
			if def.Queued() {
				set, err := s.planSet(p, setKey{def.IDKind, app.Name}, a.ids)
				if err != nil {
					return nil, err
				}
				app.IDs = set
			}
			p.units = append(p.units, plannedUnit{key: unitKey{def.Name, app.Name}, def: def, app: app})
		}
	}
	return p, nil
}

// planSet returns the set of k, opening it (reading only) if the process
// has none yet, and prepares its new configuration once per plan.
func (s *Server) planSet(p *plan, k setKey, ids idConfig) (*tracking.Set, error) {
	if set, ok := p.served[k]; ok {
		return set, nil
	}
	set, ok := s.state.sets[k]
	if !ok {
		var err error
		set, err = tracking.Open(tracking.Options{
			Kind:      k.kind,
			App:       k.app,
			StatePath: filepath.Join(p.cfg.StateDirectory, k.kind+"_"+k.app+".json"),
			Clock:     s.deps.Clock,
			Logger:    log.With(s.logger, "source", k.kind, "app", k.app),
		})
		if err != nil {
			return nil, fmt.Errorf("%s %s: tracked IDs: %w", k.kind, k.app, err)
		}
		p.newSets[k] = set
	}
	change, err := set.Prepare(tracking.Config{
		Static:            ids.static,
		File:              ids.file,
		MaxAge:            time.Duration(p.cfg.Tracking.MaxAge),
		Cap:               p.cfg.Tracking.MaxIDsPerApp,
		RegisterPerMinute: p.cfg.Tracking.RegisterPerMinute,
	})
	if err != nil {
		return nil, fmt.Errorf("%s %s: tracked IDs: %w", k.kind, k.app, err)
	}
	p.changes = append(p.changes, change)
	p.served[k] = set
	return set, nil
}

// commit puts a plan in force in one step. It cannot fail: every check was
// made by makePlan. Units whose (source, app) stays keep their target and
// job and get the new settings; new ones start; the others stop and their
// series go.
func (s *Server) commit(p *plan) {
	st := &s.state
	st.stateDir = p.cfg.StateDirectory
	for k, set := range p.newSets {
		st.sets[k] = set
	}
	for _, c := range p.changes {
		c.Commit()
	}
	next := make(map[unitKey]*unit, len(p.units))
	list := make([]*unit, 0, len(p.units))
	for _, pu := range p.units {
		opts := s.loopOptions(p.cfg, pu.def)
		u, ok := st.units[pu.key]
		if ok {
			u.job.Configure(pu.app)
			u.loop.Configure(opts)
		} else {
			u = &unit{def: pu.def, set: pu.app.IDs, job: pu.def.New()}
			u.target = refresh.NewTarget(pu.key.source, pu.key.app, pu.def.Schema, s.logger)
			u.job.Configure(pu.app)
			u.loop = refresh.NewLoop(u.target, u.job, opts)
			ctx, cancel := context.WithCancel(s.ctx)
			u.cancel = cancel
			s.loops.Go(func() { u.loop.Run(ctx) })
		}
		next[pu.key] = u
		list = append(list, u)
	}
	for k, u := range st.units {
		if _, ok := next[k]; !ok {
			u.cancel()
		}
	}
	st.units = next
	s.units.Store(&unitList{units: list, gen: s.units.Load().gen + 1})
	s.served.Store(&p.served)
}

// loopOptions returns the loop options of a source under cfg.
func (s *Server) loopOptions(cfg *config.Config, def sources.Def) refresh.Options {
	return refresh.Options{
		Clock:            s.deps.Clock,
		BackoffInitial:   time.Duration(cfg.Limits.BackoffInitial),
		BackoffMax:       time.Duration(cfg.Limits.BackoffMax),
		UnavailableRetry: time.Duration(cfg.Limits.UnavailableRetryInterval),
		OnDemand:         def.OnDemand,
	}
}

// idConfig is where an app's tracked IDs come from in the configuration.
type idConfig struct {
	static []string
	file   string
}

// configuredApp is one app of a configuration.
type configuredApp struct {
	section catalog.Section
	app     sources.App
	ids     idConfig
}

// appsOf lists the apps of cfg.
func appsOf(cfg *config.Config, d sources.Deps) []configuredApp {
	var out []configuredApp
	for i := range cfg.TencentIM {
		a := &cfg.TencentIM[i]
		out = append(out, configuredApp{section: catalog.SectionTencentIM,
			app: sources.App{Name: strconv.FormatUint(a.SDKAppID, 10), Config: cfg, Tencent: a, Deps: d},
			ids: idConfig{static: a.Push.TaskIDs, file: a.Push.TaskIDsFile}})
	}
	for i := range cfg.JPush {
		a := &cfg.JPush[i]
		out = append(out, configuredApp{section: catalog.SectionJPush,
			app: sources.App{Name: a.AppKey, Config: cfg, JPush: a, Deps: d},
			ids: idConfig{static: a.MsgIDs, file: a.MsgIDsFile}})
	}
	for i := range cfg.JPushGroups {
		g := &cfg.JPushGroups[i]
		out = append(out, configuredApp{section: catalog.SectionJPushGroups,
			app: sources.App{Name: g.GroupKey, Config: cfg, Group: g, Deps: d},
			ids: idConfig{static: g.GroupMsgIDs, file: g.GroupMsgIDsFile}})
	}
	return out
}
