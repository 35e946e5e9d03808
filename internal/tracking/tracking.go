// Package tracking keeps the IDs whose statistics the exporter polls (Tencent
// push TaskIDs, JPush msg_ids and group_msgids), one Set per (source, app), as
// SPEC §4 "Tracked IDs" describes: IDs come from the configuration, from a
// watched file and from the HTTP API (api.go), survive restarts in an
// atomically written state file, age out and are capped so that cardinality
// stays bounded. The package knows nothing of vendors beyond the ID syntax
// they share.
package tracking

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/imstats/imstats_exporter/internal/clock"
)

// Options configure a Set.
type Options struct {
	// StatePath is the JSON state file; "" keeps the set in memory only.
	StatePath string
	// File is a watched file listing one ID a line; '#' starts a comment,
	// blank lines are ignored. "" means none; a missing file lists no IDs.
	File string
	// Static are the IDs from the configuration.
	Static []string
	// MaxAge drops IDs older than this (since Added); 0 or less keeps them
	// forever.
	MaxAge time.Duration
	// Cap bounds how many IDs are tracked; adding more evicts the oldest
	// first. 0 or less means no bound.
	Cap int
	// Validate checks every ID, whatever its origin; nil means ValidateID.
	Validate func(id string) error
	// Clock tells the time; nil means clock.Real{}.
	Clock clock.Clock
	// Logger receives warnings; nil means log.NewNopLogger().
	Logger log.Logger
	// OnAdd, if set, is called (outside the set's lock) after Add or Sync
	// tracked at least one new ID, so that the poller can ask for it at once.
	OnAdd func()
}

// sources is the set of origins that currently list an ID.
type sources uint8

const (
	fromConfig sources = 1 << iota
	fromFile
	fromAPI
)

// sourceOf maps an origin to its bit.
func sourceOf(o Origin) sources {
	switch o {
	case OriginConfig:
		return fromConfig
	case OriginFile:
		return fromFile
	default:
		return fromAPI
	}
}

// entry is the state of one known ID.
type entry struct {
	added time.Time
	from  sources
	// retired marks an ID that aged out or was evicted while the config or
	// the file still lists it; it is not tracked, but remembered with its
	// Added time so that it is not tracked afresh on the next reload.
	retired bool
}

// origin is the origin reported for e: api wins, then config, then file.
func (e *entry) origin() Origin {
	switch {
	case e.from&fromAPI != 0:
		return OriginAPI
	case e.from&fromConfig != 0:
		return OriginConfig
	default:
		return OriginFile
	}
}

// Set is the tracked IDs of one (source, app). It is safe for concurrent use.
//
// An ID may be listed by several origins at once and stays tracked while any
// of them lists it: removing it from the configuration or the watched file
// drops it only when no other origin lists it, and an ID registered through
// the API (OriginAPI) stays until it ages out or is evicted. Its reported
// Origin is api if it was registered through the API, else config if the
// configuration lists it, else file.
//
// An ID that ages out or is evicted while the configuration or the file still
// lists it keeps its Added time in the state, so that a reload or a file
// change does not track it afresh; registering it again with Add does.
//
// At most one Set may use a StatePath at a time: on a configuration reload,
// the new Set replaces the old one, which must no longer be written to.
type Set struct {
	opts     Options
	validate func(string) error
	clock    clock.Clock
	logger   log.Logger

	mu      sync.Mutex
	ids     map[string]*entry
	evicted uint64
	file    fileStat // the watched file as last read
}

// New loads the state file (if any), merges the static IDs (Added is the time
// an ID is first seen and is kept from the state afterwards), drops the IDs
// the state attributes to the configuration or the file that neither lists
// any more, reads the watched file and saves the result. A corrupt state file
// is logged, renamed to <StatePath>.corrupt-<unix seconds> and replaced by an
// empty state; an invalid static ID is an error wrapping ErrInvalidID.
func New(o Options) (*Set, error) {
	s := &Set{opts: o, validate: o.Validate, clock: o.Clock, logger: o.Logger, ids: make(map[string]*entry)}
	if s.validate == nil {
		s.validate = ValidateID
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.logger == nil {
		s.logger = log.NewNopLogger()
	}
	if err := s.validateAll(o.Static); err != nil {
		return nil, err
	}
	if o.StatePath != "" {
		if err := s.load(); err != nil {
			return nil, err
		}
	}
	now := s.clock.Now().UTC()
	for _, id := range o.Static {
		s.include(id, fromConfig, now)
	}
	if o.File != "" {
		st, err := statFile(o.File)
		if err != nil {
			return nil, fmt.Errorf("watched file: %w", err)
		}
		ids, err := s.readFile()
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			s.include(id, fromFile, now)
		}
		s.file = st
	}
	for id, e := range s.ids {
		if e.from == 0 {
			delete(s.ids, id)
		}
	}
	s.expireLocked(now)
	s.enforceCapLocked()
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return s, nil
}

// load reads the state file into s, moving a corrupt one aside. Entries
// attributed to the configuration or the file are loaded without an origin:
// New gives them back the origins that still list them.
func (s *Set) load() error {
	path := s.opts.StatePath
	if err := removeStaleTemps(path); err != nil {
		return fmt.Errorf("removing stale temporary state files: %w", err)
	}
	recs, err := readState(path)
	if errors.Is(err, errCorrupt) {
		dst := fmt.Sprintf("%s.corrupt-%d", path, s.clock.Now().Unix())
		if rerr := os.Rename(path, dst); rerr != nil {
			return fmt.Errorf("moving corrupt state file aside: %w", rerr)
		}
		level.Warn(s.logger).Log("msg", "tracked-ID state file is corrupt; moved aside, starting empty", "path", path, "moved_to", dst, "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading state file: %w", err)
	}
	for _, r := range recs {
		if err := s.validate(r.ID); err != nil {
			level.Warn(s.logger).Log("msg", "dropping invalid ID from the state file", "path", path, "id", shorten(r.ID), "err", err)
			continue
		}
		e := &entry{added: r.Added}
		if r.Origin == OriginAPI {
			e.from = fromAPI
		}
		s.ids[r.ID] = e
	}
	return nil
}

// readFile returns the valid IDs of the watched file, logging the others.
func (s *Set) readFile() ([]string, error) {
	lines, err := readIDFile(s.opts.File)
	if err != nil {
		return nil, fmt.Errorf("watched file: %w", err)
	}
	ids := make([]string, 0, len(lines))
	for _, l := range lines {
		if err := s.validate(l.id); err != nil {
			level.Warn(s.logger).Log("msg", "ignoring invalid ID in the watched file", "path", s.opts.File, "line", l.line, "id", shorten(l.id), "err", err)
			continue
		}
		ids = append(ids, l.id)
	}
	return ids, nil
}

// validateAll checks every ID, returning an error that names the first bad one.
func (s *Set) validateAll(ids []string) error {
	for _, id := range ids {
		if err := s.validate(id); err != nil {
			return fmt.Errorf("%w %s: %w", ErrInvalidID, quoteShort(id), err)
		}
	}
	return nil
}

// Add tracks ids as coming from origin and returns how many were not tracked
// before. It validates all of them first: if one is invalid, nothing is added
// and the error (wrapping ErrInvalidID) names it. An ID already tracked keeps
// its Added time. The state is saved before Add returns; if saving fails the
// IDs are tracked in memory and the error says so.
func (s *Set) Add(ids []string, origin Origin) (added int, err error) {
	if !origin.valid() {
		return 0, fmt.Errorf("unknown origin %s", quoteShort(string(origin)))
	}
	if err := s.validateAll(ids); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now().UTC()
	changed := s.expireLocked(now) > 0
	for _, id := range ids {
		if e, ok := s.ids[id]; ok && e.retired {
			e.added, e.retired = now, false
			added++
			changed = true
		}
		created, ch := s.include(id, sourceOf(origin), now)
		if created {
			added++
		}
		changed = changed || ch
	}
	if s.enforceCapLocked() > 0 {
		changed = true
	}
	if !changed {
		return added, nil
	}
	err = s.saveLocked()
	if added > 0 && s.opts.OnAdd != nil {
		defer s.opts.OnAdd()
	}
	return added, err
}

// SetStatic replaces the IDs from the configuration, as a reload does: new
// ones are tracked, the ones no longer listed stop being listed by the
// configuration (see Set for when that drops them). The state is saved. An
// invalid ID is an error wrapping ErrInvalidID, and nothing changes.
func (s *Set) SetStatic(ids []string) error {
	if err := s.validateAll(ids); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now().UTC()
	listed := make(map[string]bool, len(ids))
	for _, id := range ids {
		listed[id] = true
		s.include(id, fromConfig, now)
	}
	for id := range s.ids {
		if !listed[id] {
			s.exclude(id, fromConfig)
		}
	}
	s.opts.Static = ids
	s.expireLocked(now)
	s.enforceCapLocked()
	return s.saveLocked()
}

// IDs returns the tracked IDs, newest first (ties by ID), after dropping the
// ones that aged out.
func (s *Set) IDs() []ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireAndSaveLocked()
	return s.liveLocked()
}

// Len returns how many IDs are tracked, after dropping the ones that aged out.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireAndSaveLocked()
	n := 0
	for _, e := range s.ids {
		if !e.retired {
			n++
		}
	}
	return n
}

// Evicted returns how many IDs the cap has evicted since New.
func (s *Set) Evicted() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.evicted
}

// Expire drops the IDs older than MaxAge now, saving the state if any were,
// and returns how many it dropped.
func (s *Set) Expire() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expireAndSaveLocked()
}

// Sync re-reads the watched file if its modification time or size changed
// since it was last read: IDs new in the file are added with OriginFile, and
// IDs no longer in it stop being listed by the file (see Set for when that
// drops them). It reports whether the tracked IDs or their origins changed.
func (s *Set) Sync() (bool, error) {
	if s.opts.File == "" {
		return false, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := statFile(s.opts.File)
	if err != nil {
		return false, fmt.Errorf("watched file: %w", err)
	}
	if st.equal(s.file) {
		return false, nil
	}
	ids, err := s.readFile()
	if err != nil {
		return false, err
	}
	now := s.clock.Now().UTC()
	changed := s.expireLocked(now) > 0
	listed := make(map[string]bool, len(ids))
	for _, id := range ids {
		listed[id] = true
	}
	for id := range s.ids {
		if !listed[id] && s.exclude(id, fromFile) {
			changed = true
		}
	}
	anyNew := false
	for _, id := range ids {
		created, ch := s.include(id, fromFile, now)
		changed = changed || ch
		anyNew = anyNew || created
	}
	if s.enforceCapLocked() > 0 {
		changed = true
	}
	s.file = st
	if !changed {
		return false, nil
	}
	if anyNew && s.opts.OnAdd != nil {
		defer s.opts.OnAdd()
	}
	return true, s.saveLocked()
}

// include records that src lists id, creating the entry with Added = now if
// id is unknown. It reports whether the entry was created and whether the
// entry's reported origin changed.
func (s *Set) include(id string, src sources, now time.Time) (created, changed bool) {
	e, ok := s.ids[id]
	if !ok {
		s.ids[id] = &entry{added: now, from: src}
		return true, true
	}
	before := e.origin()
	e.from |= src
	return false, e.origin() != before
}

// exclude records that src no longer lists id, deleting the entry when no
// origin lists it any more. It reports whether anything changed.
func (s *Set) exclude(id string, src sources) bool {
	e, ok := s.ids[id]
	if !ok || e.from&src == 0 {
		return false
	}
	before := e.origin()
	e.from &^= src
	if e.from == 0 {
		delete(s.ids, id)
		return true
	}
	return e.origin() != before
}

// retire stops tracking id. An entry the configuration or the file still
// lists is kept as retired; any other is deleted.
func (s *Set) retire(id string, e *entry) {
	e.from &^= fromAPI
	if e.from == 0 {
		delete(s.ids, id)
		return
	}
	e.retired = true
}

// expireLocked retires the IDs older than MaxAge at now and returns how many.
func (s *Set) expireLocked(now time.Time) int {
	if s.opts.MaxAge <= 0 {
		return 0
	}
	n := 0
	for id, e := range s.ids {
		if !e.retired && now.Sub(e.added) > s.opts.MaxAge {
			s.retire(id, e)
			n++
		}
	}
	return n
}

// expireAndSaveLocked expires aged IDs and saves the state if there were
// any; a failed save is logged, as the callers have no error to return.
func (s *Set) expireAndSaveLocked() int {
	n := s.expireLocked(s.clock.Now().UTC())
	if n > 0 {
		if err := s.saveLocked(); err != nil {
			level.Warn(s.logger).Log("msg", "cannot save the tracked-ID state", "path", s.opts.StatePath, "err", err)
		}
	}
	return n
}

// enforceCapLocked evicts the oldest tracked IDs beyond Cap and returns how
// many it evicted.
func (s *Set) enforceCapLocked() int {
	if s.opts.Cap <= 0 {
		return 0
	}
	live := s.liveLocked()
	if len(live) <= s.opts.Cap {
		return 0
	}
	// live is newest first, so its tail holds the oldest.
	for _, r := range live[s.opts.Cap:] {
		s.retire(r.ID, s.ids[r.ID])
	}
	n := len(live) - s.opts.Cap
	s.evicted += uint64(n)
	return n
}

// liveLocked returns the tracked (not retired) IDs, newest first.
func (s *Set) liveLocked() []ID {
	out := make([]ID, 0, len(s.ids))
	for id, e := range s.ids {
		if !e.retired {
			out = append(out, ID{ID: id, Added: e.added, Origin: e.origin()})
		}
	}
	sortNewestFirst(out)
	return out
}

// saveLocked writes every known ID, retired ones included, to the state file.
func (s *Set) saveLocked() error {
	if s.opts.StatePath == "" {
		return nil
	}
	recs := make([]ID, 0, len(s.ids))
	for id, e := range s.ids {
		recs = append(recs, ID{ID: id, Added: e.added, Origin: e.origin()})
	}
	sortNewestFirst(recs)
	data, err := encodeState(recs)
	if err == nil {
		err = writeFileAtomic(s.opts.StatePath, data)
	}
	if err != nil {
		return fmt.Errorf("saving state file: %w", err)
	}
	return nil
}

// sortNewestFirst orders ids by Added, newest first, and then by ID.
func sortNewestFirst(ids []ID) {
	slices.SortFunc(ids, func(a, b ID) int {
		if c := b.Added.Compare(a.Added); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}
