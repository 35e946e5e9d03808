package collector

import (
	"path/filepath"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

// Trackers keeps one tracking.Set per (kind, app) for the life of the
// process. A reload reuses a Set whose files and limits did not change and
// only replaces its configured IDs, so that a state file is only ever written
// by one Set and no registration is lost across a reload.
type Trackers struct {
	clock  clock.Clock
	logger log.Logger
	kick   func(source, app string)

	mu       sync.Mutex
	sets     map[trackerKey]*trackerEntry
	current  map[trackerKey]bool   // the sets of the configuration in force
	syncErrs map[trackerKey]string // the last watched-file error logged per set
}

type trackerKey struct{ kind, app string }

type trackerEntry struct {
	set             *tracking.Set
	statePath, file string
	maxAge          time.Duration
	capacity        int
}

// NewTrackers returns an empty registry. kick is called with each source
// and the app whose set gained a new ID.
func NewTrackers(c clock.Clock, logger log.Logger, kick func(source, app string)) *Trackers {
	return &Trackers{clock: c, logger: logger, kick: kick, sets: map[trackerKey]*trackerEntry{}, current: map[trackerKey]bool{}, syncErrs: map[trackerKey]string{}}
}

// TrackerSpec describes the Set one app's source needs.
type TrackerSpec struct {
	Kind     string   // tracking.KindTencentPush, ...
	Sources  []string // the sources polling the set, asked to refresh when it gains an ID
	App      string
	StateDir string
	File     string
	Static   []string
	MaxAge   time.Duration
	Cap      int
}

// Get returns the Set for spec, reusing the live one when its files and
// limits are unchanged.
func (t *Trackers) Get(spec TrackerSpec) (*tracking.Set, error) {
	key := trackerKey{spec.Kind, spec.App}
	statePath := ""
	if spec.StateDir != "" {
		statePath = filepath.Join(spec.StateDir, spec.Kind+"_"+spec.App+".json")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.sets[key]; ok && e.statePath == statePath && e.file == spec.File && e.maxAge == spec.MaxAge && e.capacity == spec.Cap {
		if err := e.set.SetStatic(spec.Static); err != nil {
			return nil, err
		}
		return e.set, nil
	}
	set, err := tracking.New(tracking.Options{
		StatePath: statePath,
		File:      spec.File,
		Static:    spec.Static,
		MaxAge:    spec.MaxAge,
		Cap:       spec.Cap,
		Clock:     t.clock,
		Logger:    log.With(t.logger, "source", spec.Kind, "app", spec.App),
		OnAdd: func() {
			for _, source := range spec.Sources {
				t.kick(source, spec.App)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	t.sets[key] = &trackerEntry{set: set, statePath: statePath, file: spec.File, maxAge: spec.MaxAge, capacity: spec.Cap}
	return set, nil
}

// Commit makes the sets named by keys the ones the HTTP API serves, and
// forgets the others (their apps left the configuration).
func (t *Trackers) Commit(keys []TrackerSpec) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.current = map[trackerKey]bool{}
	for _, s := range keys {
		t.current[trackerKey{s.Kind, s.App}] = true
	}
	for k := range t.sets {
		if !t.current[k] {
			delete(t.sets, k)
		}
	}
}

// Lookup returns the Set of (kind, app) in the configuration in force; it is
// the tracking API's lookup.
func (t *Trackers) Lookup(kind, app string) (*tracking.Set, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.current[trackerKey{kind, app}] {
		return nil, false
	}
	e, ok := t.sets[trackerKey{kind, app}]
	if !ok {
		return nil, false
	}
	return e.set, true
}

// SyncFiles re-reads every watched ID file that changed. A failure is
// logged when it first happens or changes, and its end once.
func (t *Trackers) SyncFiles() {
	t.mu.Lock()
	sets := make(map[trackerKey]*tracking.Set, len(t.sets))
	for k, e := range t.sets {
		sets[k] = e.set
	}
	t.mu.Unlock()
	for k, s := range sets {
		_, err := s.Sync()
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		t.mu.Lock()
		prev := t.syncErrs[k]
		t.syncErrs[k] = msg
		t.mu.Unlock()
		switch {
		case msg == prev:
		case err != nil:
			level.Warn(t.logger).Log("msg", "reading the watched ID file failed; keeping the IDs read before", "source", k.kind, "app", k.app, "err", err)
		default:
			level.Info(t.logger).Log("msg", "the watched ID file is readable again", "source", k.kind, "app", k.app)
		}
	}
}
