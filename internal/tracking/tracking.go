// Package tracking keeps the IDs whose statistics the exporter polls (Tencent
// push TaskIDs, JPush msg_ids and group_msgids), one Set per (kind, app) for
// the life of the process. IDs come from the configuration, from a watched
// file and from the HTTP API (api.go), survive restarts in a state file
// that is an append-only journal (journal.go), age out and are capped so
// that cardinality stays bounded. The package knows nothing of vendors
// beyond their ID syntax.
//
// # Life of a Set
//
// Open reads the state file and nothing else. A configuration (the first one
// and every reload) is applied in two steps: Prepare validates it and reads
// the watched file without changing anything, and Change.Commit applies it in
// one step and cannot fail, so that a rejected reload changes nothing. The
// owner calls Maintain periodically to expire aged IDs, follow the watched
// file and retry a failed save; nothing else runs in the background, apart
// from a short-lived flusher goroutine while a save is pending.
//
// # Durability
//
// Add and Remove return nil only once a state file holding their change has
// been written and fsync'd (group commit: the Adds and Removes waiting at the
// same time share one write, which appends a record per changed ID to the
// journal, so that its cost follows the change and not the set). While the
// file on disk lags memory after a failed save, every Add and Remove retries
// the save and returns an error wrapping ErrNotSaved until one succeeds.
// Reads (IDs, Len, Stats) never write.
//
// # Locks
//
// A Set has one mutex, Set.mu, which guards all its state. It is a leaf: no
// other lock is taken and no code outside this package is called while it is
// held, and it is never held across I/O (file reads, writes, fsyncs) or while
// waiting. The only writer of the state file is the flusher goroutine, of
// which at most one runs per Set (Set.flushing, under mu). Changed is
// signalled with a non-blocking send after mu is released. Callers may
// therefore call any method of a Set while holding their own locks, provided
// they do not wait on Add, Remove or Maintain (which wait for disk I/O) while
// holding a lock a scrape needs.
package tracking

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"golang.org/x/time/rate"

	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/clock"
)

// ErrNotSaved is wrapped by the errors of Add, Remove and Maintain while the
// state file lags memory: the change is tracked but not yet durable.
var ErrNotSaved = errors.New("not saved to the state file")

// ErrRateLimited is wrapped by the error of an Add over Config.RegisterPerMinute;
// the error is a *RateLimitError that says when to retry.
var ErrRateLimited = errors.New("too many new IDs registered")

// ErrStillListed is wrapped by the error of a Remove of an ID that the
// configuration or the watched file still lists: it stays tracked.
var ErrStillListed = errors.New("still listed")

// RateLimitError is the error of an Add refused by Config.RegisterPerMinute.
type RateLimitError struct {
	// Limit is Config.RegisterPerMinute.
	Limit int
	// New is how many new IDs the refused Add carried.
	New int
	// RetryAfter is how long until the refused IDs would be accepted; if New
	// is above Limit they never will, and it is how long until Limit will.
	RetryAfter time.Duration
}

// Error says what was refused and when to retry.
func (e *RateLimitError) Error() string {
	if e.New > e.Limit {
		return fmt.Sprintf("%v: %d new IDs at once, at most %d a minute are accepted; send fewer", ErrRateLimited, e.New, e.Limit)
	}
	return fmt.Sprintf("%v: at most %d new IDs a minute; retry in %s", ErrRateLimited, e.Limit, e.RetryAfter.Round(time.Second))
}

// Unwrap returns ErrRateLimited.
func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// Options are what a Set keeps for its whole life.
type Options struct {
	// Kind is the kind of IDs (KindTencentPush, ...); it chooses the ID rule
	// (catalog.ValidatorFor).
	Kind string
	// App names the app in log lines.
	App string
	// StatePath is the state file (a journal; a version 1 JSON file of an
	// earlier release is read too); "" keeps the set in memory only.
	StatePath string
	// Clock tells the time; nil means clock.Real{}.
	Clock clock.Clock
	// Logger receives warnings; nil means log.NewNopLogger().
	Logger log.Logger
}

// Config is the part of a Set a configuration reload may change.
type Config struct {
	// Static are the IDs listed by the configuration.
	Static []string
	// File is a watched file listing one ID a line, optionally followed by
	// the time it was sent (RFC 3339 or unix seconds); '#' starts a
	// comment, blank lines are ignored. "" means none; a missing file lists
	// no IDs.
	File string
	// MaxAge retires IDs older than this (since Added); 0 or less keeps them
	// forever.
	MaxAge time.Duration
	// Cap bounds how many IDs are tracked; beyond it the oldest IDs the
	// configuration does not list are evicted. IDs the configuration lists
	// are never evicted. 0 or less means no bound.
	Cap int
	// RegisterPerMinute is the most new IDs Add accepts from OriginAPI per
	// minute (a token bucket of that size refilled over a minute); 0 or less
	// means no limit.
	RegisterPerMinute int
}

// Stats are a Set's figures for metrics.
type Stats struct {
	// Tracked is how many IDs are tracked.
	Tracked int
	// Limit is Config.Cap.
	Limit int
	// Evicted counts the IDs the cap has evicted since Open.
	Evicted uint64
	// SaveFailures counts the failed writes of the state file since Open.
	SaveFailures uint64
	// Durable is whether the state file holds what memory holds.
	Durable bool
}

// sources is the set of origins that currently list an ID.
type sources uint8

const (
	fromConfig sources = 1 << iota
	fromFile
	fromAPI
	fromCallback

	// registered are the origins that claim an ID until it is removed
	// through the API, ages out or is evicted.
	registered = fromAPI | fromCallback
)

// sourceOf maps an origin to its bit.
func sourceOf(o Origin) sources {
	switch o {
	case OriginConfig:
		return fromConfig
	case OriginFile:
		return fromFile
	case OriginCallback:
		return fromCallback
	default:
		return fromAPI
	}
}

// entry is the state of one known ID.
type entry struct {
	added time.Time
	sent  time.Time
	from  sources
	// retired marks an ID that aged out or was evicted while the config or
	// the file still lists it; it is not tracked, but remembered with its
	// Added time so that it is not tracked afresh on the next reload.
	retired bool
}

// origin is the origin reported for e: api wins, then callback, then
// config, then file.
func (e *entry) origin() Origin {
	switch {
	case e.from&fromAPI != 0:
		return OriginAPI
	case e.from&fromCallback != 0:
		return OriginCallback
	case e.from&fromConfig != 0:
		return OriginConfig
	default:
		return OriginFile
	}
}

// Set is the tracked IDs of one (kind, app). It is safe for concurrent use.
//
// An ID may be listed by several origins at once and stays tracked while any
// of them lists it: removing it from the configuration or the watched file
// drops it only when no other origin lists it, and an ID registered through
// the API (OriginAPI) or seen in a callback (OriginCallback) stays until it
// is removed through the API, ages out or is evicted. Its reported Origin is
// api if it was registered through the API, else callback if a callback
// reported it, else config if the configuration lists it, else file.
//
// An ID that ages out or is evicted while the configuration or the file still
// lists it keeps its Added time in the state, so that a reload or a file
// change does not track it afresh; registering it again with Add does.
//
// Exactly one Set may use a StatePath for the life of the process.
type Set struct {
	kind      string
	statePath string
	validate  func(string) error
	clock     clock.Clock
	logger    log.Logger
	// changedMu guards changed, a leaf lock: it is taken with or without mu
	// and nothing is called while it is held.
	changedMu sync.Mutex
	changed   chan struct{}
	// jrnl is the state file, owned by the flusher.
	jrnl journal
	// persist saves data to the state file: all of it after a rewrite,
	// appended otherwise. Called by the flusher only; tests replace it
	// before first use.
	persist func(data []byte, rewrite bool) error

	mu      sync.Mutex
	cfg     Config
	cfgGen  uint64 // counts commits, so that Maintain sees a Commit racing it
	ids     map[string]*entry
	file    fileStat // the watched file as last read
	fileErr string   // the last error reading the watched file, for logging once
	view    []ID     // tracked IDs newest first; nil when stale
	live    int      // how many IDs are tracked (not retired)
	evictq  evictQueue
	evicted uint64
	limiter *rate.Limiter // Config.RegisterPerMinute; nil for no limit

	gen          uint64              // counts changes to what the state file holds
	dirty        map[string]struct{} // IDs changed since the last save
	records      int                 // records in the journal
	savedGen     uint64              // the gen the state file holds
	attemptGen   uint64              // the gen of the last completed save attempt
	attemptErr   error               // its error
	saveFailures uint64
	flushing     bool          // a flusher goroutine runs
	saveFailing  bool          // the last save attempt failed
	flushed      chan struct{} // closed when a save attempt completes
	corrupt      bool          // the state file is corrupt: move it aside first
	cleaned      bool          // stale temporary files were removed
}

// Open returns the Set of o, loaded from its state file: it reads the file
// and does nothing else (no write, no goroutine). A corrupt state file is
// logged and treated as empty; it is moved aside to
// <StatePath>.corrupt-<unix seconds> by the first save. IDs in the state
// that the kind's rule refuses are logged and dropped. The Set tracks the
// IDs of the state until the first Change is committed.
func Open(o Options) (*Set, error) {
	s := &Set{
		kind:      o.Kind,
		statePath: o.StatePath,
		validate:  catalog.ValidatorFor(o.Kind),
		clock:     o.Clock,
		logger:    o.Logger,
		changed:   make(chan struct{}),
		jrnl:      journal{path: o.StatePath},
		ids:       make(map[string]*entry),
		dirty:     make(map[string]struct{}),
		flushed:   make(chan struct{}),
	}
	s.persist = s.persistJournal
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.logger == nil {
		s.logger = log.NewNopLogger()
	}
	s.logger = log.With(s.logger, "kind", o.Kind, "app", o.App)
	if o.StatePath != "" {
		if err := s.load(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// load reads the state file into s. Whenever memory ends up holding other
// than the file (a corrupt or earlier-format file, a torn last record,
// dropped IDs, clamped times), a save is due at once.
func (s *Set) load() error {
	st, err := readState(s.statePath)
	if errors.Is(err, errCorrupt) {
		level.Warn(s.logger).Log("msg", "tracked-ID state file is corrupt; starting empty, it will be moved aside at the first save", "path", s.statePath, "err", err)
		s.corrupt = true
		s.markStaleLocked()
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading state file: %w", err)
	}
	s.ids, s.records = st.ids, st.records
	switch {
	case st.legacy:
		level.Info(s.logger).Log("msg", "read a version 1 JSON state file; the first save rewrites it as a journal", "path", s.statePath, "ids", len(st.ids))
		s.markStaleLocked()
	case st.tail > recordHeaderBytes+maxRecordBytes && !st.zeros:
		// More than one record's worth: damage, not a torn last write.
		level.Warn(s.logger).Log("msg", "tracked-ID state file is damaged; keeping the IDs before the damage, it will be moved aside at the first save", "path", s.statePath, "ids", len(st.ids), "bytes_ignored", st.tail)
		s.corrupt = true
		s.markStaleLocked()
	case st.tail > 0:
		level.Info(s.logger).Log("msg", "ignoring an incomplete last record of the state file, never acknowledged", "path", s.statePath, "bytes_ignored", st.tail)
		s.markStaleLocked()
	}
	now := s.clock.Now().UTC()
	future := 0
	for id, e := range s.ids {
		if err := s.validate(id); err != nil {
			level.Warn(s.logger).Log("msg", "dropping invalid ID from the state file", "path", s.statePath, "id", shorten(id), "err", err)
			delete(s.ids, id)
			s.markStaleLocked()
			continue
		}
		a, b := clampFuture(&e.added, now), clampFuture(&e.sent, now)
		if a || b {
			future++
		}
	}
	if future > 0 {
		level.Warn(s.logger).Log("msg", "times in the future in the state file taken as now", "path", s.statePath, "ids", future)
		s.markStaleLocked()
	}
	for _, e := range s.ids {
		if !e.retired {
			s.live++
		}
	}
	s.rebuildEvictQueueLocked()
	return nil
}

// markStaleLocked records that the state file holds what memory does not,
// so that a save is due; the first save of a Set rewrites the file whole.
func (s *Set) markStaleLocked() {
	s.gen++
}

// maxClockSkew is how far in the future a time may lie and still be taken
// as it is: beyond it, an added time would never age out.
const maxClockSkew = 5 * time.Minute

// clampFuture sets *t to now if it lies more than maxClockSkew after now,
// and reports whether it did.
func clampFuture(t *time.Time, now time.Time) bool {
	if t.Sub(now) <= maxClockSkew {
		return false
	}
	*t = now
	return true
}

// Change is a configuration prepared by Set.Prepare, to be committed or
// dropped.
type Change struct {
	set      *Set
	cfg      Config
	fileIDs  []string
	fileSent map[string]time.Time
	file     fileStat
}

// Prepare checks c and reads its watched file, changing nothing: an invalid
// static ID is an error wrapping ErrInvalidID that names it, an unreadable
// watched file an error. Invalid lines of the watched file are logged and
// skipped. Dropping the Change leaves the Set as it was.
func (s *Set) Prepare(c Config) (*Change, error) {
	if err := s.validateAll(c.Static); err != nil {
		return nil, err
	}
	ch := &Change{set: s, cfg: c}
	ch.cfg.Static = slices.Clone(c.Static)
	if c.File != "" {
		st, ids, sent, err := s.readFile(c.File)
		if err != nil {
			return nil, err
		}
		ch.file, ch.fileIDs, ch.fileSent = st, ids, sent
	}
	return ch, nil
}

// Commit applies the prepared configuration in one step (Changes are meant
// to be committed in the order they were prepared): IDs new in it are
// tracked, IDs it no longer lists stop being listed by it (see Set for when
// that drops them), aged IDs are retired and the cap enforced. It schedules
// a save and does not wait for it (Maintain reports a failure).
func (c *Change) Commit() {
	s := c.set
	s.mu.Lock()
	now := s.clock.Now().UTC()
	s.cfg = c.cfg
	s.cfgGen++
	changed := s.relist(fromConfig, c.cfg.Static, now)
	changed = s.relist(fromFile, c.fileIDs, now) || changed
	changed = s.fillSentLocked(c.fileSent) || changed
	s.file = c.file
	changed = s.expireLocked(now) > 0 || changed
	changed = s.enforceCapLocked() > 0 || changed
	s.limitRegisterLocked(c.cfg.RegisterPerMinute, now)
	if changed {
		s.touchLocked()
	}
	s.startFlushLocked()
	s.mu.Unlock()
	if changed {
		s.signal()
	}
}

// Add tracks ids as coming from origin and returns how many were not tracked
// before. It validates all of them first: if one is invalid, nothing is added
// and the error (wrapping ErrInvalidID) names it. An ID already tracked keeps
// its Added time; sent (zero if unknown) is recorded for IDs that have none.
// New IDs from OriginAPI beyond Config.RegisterPerMinute are refused, all of
// them, with a *RateLimitError.
//
// Add returns nil only once the state file holding ids is fsync'd. If saving
// fails, the IDs stay tracked in memory and the error wraps ErrNotSaved; so
// does the error of every later Add or Remove until a save succeeds. If ctx
// ends first, Add returns its error; the save goes on.
func (s *Set) Add(ctx context.Context, ids []string, origin Origin, sent time.Time) (added int, err error) {
	if !origin.valid() {
		return 0, fmt.Errorf("unknown origin %s", quoteShort(string(origin)))
	}
	if err := s.validateAll(ids); err != nil {
		return 0, err
	}
	if !sent.IsZero() {
		sent = sent.UTC()
	}
	src := sourceOf(origin)
	s.mu.Lock()
	now := s.clock.Now().UTC()
	clampFuture(&sent, now)
	if origin == OriginAPI && s.cfg.RegisterPerMinute > 0 {
		n := s.countNewLocked(ids)
		if wait, ok := s.takeRegisterLocked(n, now); !ok {
			s.mu.Unlock()
			return 0, &RateLimitError{Limit: s.cfg.RegisterPerMinute, New: n, RetryAfter: wait}
		}
	}
	changed := false
	for _, id := range ids {
		e, ok := s.ids[id]
		switch {
		case !ok:
			e = &entry{added: now, sent: sent, from: src}
			s.ids[id] = e
			s.live++
			s.queueLocked(id, e)
			s.markLocked(id)
			added++
			changed = true
			continue
		case e.retired:
			e.added, e.retired = now, false
			s.live++
			s.queueLocked(id, e)
			s.markLocked(id)
			added++
			changed = true
		}
		if e.from&src == 0 {
			e.from |= src
			s.markLocked(id)
			changed = true
		}
		if e.sent.IsZero() && !sent.IsZero() {
			e.sent = sent
			s.markLocked(id)
			changed = true
		}
	}
	if changed {
		s.enforceCapLocked()
		s.touchLocked()
	}
	target := s.gen
	s.mu.Unlock()
	if added > 0 {
		s.signal()
	}
	return added, s.waitSaved(ctx, target)
}

// Remove stops tracking the ids registered through the API or seen in a
// callback and returns how many are no longer tracked. Only OriginAPI can
// remove: the configuration and the watched file drop an ID by no longer
// listing it. An ID that the configuration or
// the watched file still lists stays tracked; the error then wraps
// ErrStillListed and names one. IDs not tracked are ignored. Remove is
// durable as Add is.
func (s *Set) Remove(ctx context.Context, ids []string, origin Origin) (removed int, err error) {
	if origin != OriginAPI {
		return 0, fmt.Errorf("IDs of origin %s cannot be removed, only no longer listed", quoteShort(string(origin)))
	}
	var still []string
	s.mu.Lock()
	changed := false
	for _, id := range ids {
		e, ok := s.ids[id]
		if !ok {
			continue
		}
		if e.from&registered != 0 {
			e.from &^= registered
			s.markLocked(id)
			changed = true
		}
		switch {
		case e.from == 0:
			delete(s.ids, id)
			if !e.retired {
				s.live--
				removed++
			}
		case !e.retired:
			still = append(still, id)
		}
	}
	if changed {
		s.touchLocked()
	}
	target := s.gen
	s.mu.Unlock()
	if removed > 0 {
		s.signal()
	}
	if err := s.waitSaved(ctx, target); err != nil {
		return removed, err
	}
	if len(still) > 0 {
		return removed, fmt.Errorf("ID %s is %w by the configuration or the watched file and stays tracked", quoteShort(still[0]), ErrStillListed)
	}
	return removed, nil
}

// Tracked reports whether id is tracked.
func (s *Set) Tracked(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.ids[id]
	return ok && !e.retired
}

// IDs returns the tracked IDs, newest first (ties by ID). It only reads: an
// ID past MaxAge stays until Maintain retires it.
func (s *Set) IDs() []ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.viewLocked())
}

// Len returns how many IDs are tracked.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live
}

// Stats returns the Set's figures.
func (s *Set) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		Tracked:      s.live,
		Limit:        s.cfg.Cap,
		Evicted:      s.evicted,
		SaveFailures: s.saveFailures,
		Durable:      s.savedGen == s.gen,
	}
}

// Changed returns a channel that is closed the next time IDs become tracked
// or stop being tracked, so that every poller of the set can ask for new IDs
// at once. A poller takes the channel before it reads IDs, so that a change
// between the read and its wait is never missed.
func (s *Set) Changed() <-chan struct{} {
	s.changedMu.Lock()
	defer s.changedMu.Unlock()
	return s.changed
}

// Maintain is the Set's periodic upkeep, for the owner's background loop:
// it retires the IDs older than MaxAge, re-reads the watched file if its
// size or modification time changed, and saves the state if memory is ahead
// of the file, waiting for the save. Errors are logged once per change of
// state and returned (a failed save wraps ErrNotSaved).
func (s *Set) Maintain() error {
	var errs []error
	if err := s.syncFile(); err != nil {
		errs = append(errs, err)
	}
	s.mu.Lock()
	changed := s.expireLocked(s.clock.Now().UTC()) > 0
	if changed {
		s.touchLocked()
	}
	target := s.gen
	s.mu.Unlock()
	if changed {
		s.signal()
	}
	if err := s.waitSaved(context.Background(), target); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// syncFile re-reads the watched file if it changed since it was last read,
// applying what it lists.
func (s *Set) syncFile() error {
	s.mu.Lock()
	path, gen, last := s.cfg.File, s.cfgGen, s.file
	s.mu.Unlock()
	if path == "" {
		return nil
	}
	st, err := statFile(path)
	if err == nil && st.equal(last) {
		return s.noteFileErr(path, nil)
	}
	var ids []string
	var sent map[string]time.Time
	if err == nil {
		st, ids, sent, err = s.readFile(path)
	}
	if err != nil {
		return s.noteFileErr(path, err)
	}
	s.mu.Lock()
	if s.cfgGen != gen { // a Commit read the file meanwhile
		s.mu.Unlock()
		return nil
	}
	now := s.clock.Now().UTC()
	changed := s.relist(fromFile, ids, now)
	changed = s.fillSentLocked(sent) || changed
	changed = s.enforceCapLocked() > 0 || changed
	s.file = st
	if changed {
		s.touchLocked()
	}
	s.mu.Unlock()
	if changed {
		s.signal()
	}
	return s.noteFileErr(path, nil)
}

// noteFileErr logs err (an error reading the watched file, or nil) if it
// differs from the last one, and returns it.
func (s *Set) noteFileErr(path string, err error) error {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	s.mu.Lock()
	last := s.fileErr
	s.fileErr = msg
	s.mu.Unlock()
	switch {
	case msg == last:
	case err != nil:
		level.Warn(s.logger).Log("msg", "cannot read the watched ID file; keeping the IDs it listed", "path", path, "err", err)
	default:
		level.Info(s.logger).Log("msg", "the watched ID file is readable again", "path", path)
	}
	return err
}

// readFile stats and reads the watched file at path, returning its valid IDs
// and the sent times its lines give (nil if none does), and logging the
// unusable lines.
func (s *Set) readFile(path string) (fileStat, []string, map[string]time.Time, error) {
	st, err := statFile(path)
	if err != nil {
		return fileStat{}, nil, nil, fmt.Errorf("watched file: %w", err)
	}
	lines, err := readIDFile(path)
	if err != nil {
		return fileStat{}, nil, nil, fmt.Errorf("watched file: %w", err)
	}
	ids := make([]string, 0, len(lines))
	var sent map[string]time.Time
	for _, l := range lines {
		err := s.validate(l.id)
		if err == nil && l.bad != "" {
			err = errors.New(l.bad)
		}
		if err != nil {
			level.Warn(s.logger).Log("msg", "ignoring invalid line in the watched file", "path", path, "line", l.line, "id", shorten(l.id), "err", err)
			continue
		}
		ids = append(ids, l.id)
		if !l.sent.IsZero() {
			if sent == nil {
				sent = make(map[string]time.Time)
			}
			if _, dup := sent[l.id]; !dup { // the first line of an ID gives its time
				sent[l.id] = l.sent
			}
		}
	}
	return st, ids, sent, nil
}

// fillSentLocked records the sent times of sent for the known IDs that have
// none (as Add does) and reports whether one was recorded.
func (s *Set) fillSentLocked(sent map[string]time.Time) bool {
	changed := false
	for id, t := range sent {
		if e, ok := s.ids[id]; ok && e.sent.IsZero() {
			e.sent = t
			s.markLocked(id)
			changed = true
		}
	}
	if changed {
		s.view = nil
	}
	return changed
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

// countNewLocked returns how many distinct IDs of ids Add would track afresh.
func (s *Set) countNewLocked(ids []string) int {
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if e, ok := s.ids[id]; (!ok || e.retired) && !seen[id] {
			seen[id] = true
		}
	}
	return len(seen)
}

// relist makes src list exactly ids: new IDs are tracked with Added = now,
// IDs src no longer lists lose it (and are forgotten if nothing lists them).
// It reports whether the tracked IDs or their origins changed.
func (s *Set) relist(src sources, ids []string, now time.Time) bool {
	listed := make(map[string]bool, len(ids))
	changed := false
	for _, id := range ids {
		listed[id] = true
		e, ok := s.ids[id]
		if !ok {
			e = &entry{added: now, from: src}
			s.ids[id] = e
			s.live++
			s.queueLocked(id, e)
			s.markLocked(id)
			changed = true
			continue
		}
		if e.from&src == 0 {
			e.from |= src
			s.markLocked(id)
			changed = true
		}
	}
	for id, e := range s.ids {
		if listed[id] || e.from&src == 0 {
			continue
		}
		e.from &^= src
		s.markLocked(id)
		changed = true
		switch {
		case e.from == 0:
			delete(s.ids, id)
			if !e.retired {
				s.live--
			}
		case src == fromConfig:
			s.queueLocked(id, e) // the cap may evict it now
		}
	}
	return changed
}

// retire stops tracking id. An entry the configuration or the file still
// lists is kept as retired; any other is deleted.
func (s *Set) retire(id string, e *entry) {
	s.markLocked(id)
	if !e.retired {
		s.live--
	}
	e.from &^= registered
	if e.from == 0 {
		delete(s.ids, id)
		return
	}
	e.retired = true
}

// expireLocked retires the IDs older than MaxAge at now and returns how many.
func (s *Set) expireLocked(now time.Time) int {
	if s.cfg.MaxAge <= 0 {
		return 0
	}
	n := 0
	for id, e := range s.ids {
		if !e.retired && now.Sub(e.added) > s.cfg.MaxAge {
			s.retire(id, e)
			n++
		}
	}
	return n
}

// enforceCapLocked evicts the oldest tracked IDs the configuration does not
// list until at most Cap are tracked (or only configuration IDs are left),
// and returns how many it evicted.
func (s *Set) enforceCapLocked() int {
	if s.cfg.Cap <= 0 {
		return 0
	}
	n := 0
	for s.live > s.cfg.Cap {
		id, e, ok := s.popEvictableLocked()
		if !ok {
			break
		}
		s.retire(id, e)
		n++
	}
	s.evicted += uint64(n)
	return n
}

// markLocked records that id's entry changed (or was deleted), for the next
// save to append.
func (s *Set) markLocked(id string) {
	if s.statePath != "" {
		s.dirty[id] = struct{}{}
	}
}

// touchLocked records a change to what the state file must hold.
func (s *Set) touchLocked() {
	s.gen++
	s.view = nil
}

// viewLocked returns the tracked IDs newest first, cached until a change.
func (s *Set) viewLocked() []ID {
	if s.view == nil {
		s.view = s.liveLocked()
	}
	return s.view
}

// liveLocked returns the tracked (not retired) IDs, newest first.
func (s *Set) liveLocked() []ID {
	out := make([]ID, 0, len(s.ids))
	for id, e := range s.ids {
		if !e.retired {
			out = append(out, ID{ID: id, Added: e.added, Sent: e.sent, Origin: e.origin()})
		}
	}
	sortNewestFirst(out)
	return out
}

// signal closes the channel Changed handed out, telling every poller, and
// makes the next one.
func (s *Set) signal() {
	s.changedMu.Lock()
	defer s.changedMu.Unlock()
	close(s.changed)
	s.changed = make(chan struct{})
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

// waitSaved waits until the state file holds generation target: nil once a
// save of target or later succeeded, an error wrapping ErrNotSaved once an
// attempt to save target or later failed, ctx's error if ctx ends first. It
// starts the flusher as needed.
func (s *Set) waitSaved(ctx context.Context, target uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.statePath == "" {
		s.savedGen = s.gen
		return nil
	}
	for {
		if s.savedGen >= target {
			return nil
		}
		// After a failed save, this starts a new attempt: the caller asks
		// for durability and the disk may be back.
		s.startFlushLocked()
		done := s.flushed
		s.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			s.mu.Lock()
			return fmt.Errorf("waiting for the state file to be saved: %w", ctx.Err())
		}
		s.mu.Lock()
		if s.savedGen < target && s.attemptGen >= target && s.attemptErr != nil {
			return fmt.Errorf("%w: %w", ErrNotSaved, s.attemptErr)
		}
	}
}

// Wait returns once no save of the state file is under way. A change made
// after it starts a save again: it is for shutting down, once nothing
// changes the set any more.
func (s *Set) Wait() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.flushing {
		done := s.flushed
		s.mu.Unlock()
		<-done
		s.mu.Lock()
	}
}

// startFlushLocked starts the flusher if memory is ahead of the state file
// and none runs.
func (s *Set) startFlushLocked() {
	if s.statePath == "" {
		s.savedGen = s.gen
		return
	}
	if s.flushing || s.savedGen == s.gen {
		return
	}
	s.flushing = true
	go s.flush()
}

// flush saves the state until the file holds what memory holds or a save
// fails, then exits. Each attempt encodes, under mu, the IDs changed since
// the last save (or every ID, when the journal is to be rewritten), so the
// changes made while one write is under way share the next.
func (s *Set) flush() {
	s.mu.Lock()
	for s.savedGen != s.gen {
		gen := s.gen
		// The first save of the process, and the one after a failure,
		// rewrite the journal: it has no open file to append to.
		rewrite := s.jrnl.f == nil || s.records+len(s.dirty) > compactFactor*len(s.ids)+compactSlack
		var data []byte
		var n int
		if rewrite {
			data, n = s.encodeAllLocked(), len(s.ids)
		} else {
			data, n = s.encodeDirtyLocked(), len(s.dirty)
		}
		pending := s.dirty
		s.dirty = make(map[string]struct{})
		clean, corrupt := !s.cleaned, s.corrupt
		s.mu.Unlock()

		err := s.save(data, rewrite, clean, corrupt)

		s.mu.Lock()
		report := (err != nil) != s.saveFailing
		s.saveFailing = err != nil
		if report {
			// Logged before the waiters are woken and before flushing is
			// cleared, so that no other attempt starts (or logs) meanwhile.
			s.mu.Unlock()
			if err != nil {
				level.Error(s.logger).Log("msg", "cannot save the tracked-ID state; registrations fail until it is saved", "path", s.statePath, "err", err)
			} else {
				level.Info(s.logger).Log("msg", "saved the tracked-ID state again", "path", s.statePath)
			}
			s.mu.Lock()
		}
		s.attemptGen, s.attemptErr = gen, err
		if err != nil {
			s.saveFailures++
			for id := range pending {
				s.dirty[id] = struct{}{}
			}
		} else {
			s.savedGen = gen
			s.corrupt, s.cleaned = false, true
			if rewrite {
				s.records = n
			} else {
				s.records += n
			}
		}
		close(s.flushed)
		s.flushed = make(chan struct{})
		if err != nil {
			break
		}
	}
	s.flushing = false
	s.mu.Unlock()
}

// encodeAllLocked returns a put record of every known ID, retired ones
// included: the journal's content after a rewrite.
func (s *Set) encodeAllLocked() []byte {
	b := make([]byte, 0, len(s.ids)*64)
	for id, e := range s.ids {
		b = appendPut(b, id, e)
	}
	return b
}

// encodeDirtyLocked returns a record of each ID changed since the last
// save: its entry, or its deletion.
func (s *Set) encodeDirtyLocked() []byte {
	b := make([]byte, 0, len(s.dirty)*64)
	for id := range s.dirty {
		if e, ok := s.ids[id]; ok {
			b = appendPut(b, id, e)
		} else {
			b = appendDelete(b, id)
		}
	}
	return b
}

// save writes data to the state file, rewriting it or appending. With
// clean, it first removes the temporary files a crash may have left; with
// corrupt, it moves the corrupt state file aside.
func (s *Set) save(data []byte, rewrite, clean, corrupt bool) error {
	if clean || corrupt {
		if err := s.prepareDir(corrupt); err != nil {
			return fmt.Errorf("saving state file: %w", err)
		}
	}
	if err := s.persist(data, rewrite); err != nil {
		return fmt.Errorf("saving state file: %w", err)
	}
	return nil
}

// persistJournal is the default persist: the journal, appended or
// rewritten.
func (s *Set) persistJournal(data []byte, rewrite bool) error {
	if rewrite {
		return s.jrnl.rewrite(data)
	}
	return s.jrnl.appendRecords(data)
}

// prepareDir removes stale temporary files and moves a corrupt state file
// aside.
func (s *Set) prepareDir(corrupt bool) error {
	if err := removeStaleTemps(s.statePath); err != nil {
		return fmt.Errorf("removing stale temporary state files: %w", err)
	}
	if !corrupt {
		return nil
	}
	dst := fmt.Sprintf("%s.corrupt-%d", s.statePath, s.clock.Now().Unix())
	if err := os.Rename(s.statePath, dst); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("moving corrupt state file aside: %w", err)
	}
	level.Warn(s.logger).Log("msg", "moved the corrupt tracked-ID state file aside", "path", s.statePath, "moved_to", dst)
	return nil
}

// limitRegisterLocked sets the size of the bucket of new IDs from
// OriginAPI: size tokens refilled evenly over a minute. A new bucket starts
// full; a resized one keeps the tokens spent, so that a reload that changes
// the limit does not refill it; 0 or less removes the limit.
func (s *Set) limitRegisterLocked(size int, now time.Time) {
	switch {
	case size <= 0:
		s.limiter = nil
	case s.limiter == nil:
		s.limiter = rate.NewLimiter(rate.Every(time.Minute/time.Duration(size)), size)
	case s.limiter.Burst() != size:
		spent := int(math.Round(float64(s.limiter.Burst()) - s.limiter.TokensAt(now)))
		s.limiter = rate.NewLimiter(rate.Every(time.Minute/time.Duration(size)), size)
		for ; spent > 0; spent -= size {
			s.limiter.ReserveN(now, min(spent, size))
		}
	}
}

// takeRegisterLocked takes n tokens if there are that many, or else reports
// how long until there will be (for n above the size, how long until the
// bucket is full).
func (s *Set) takeRegisterLocked(n int, now time.Time) (wait time.Duration, ok bool) {
	if s.limiter == nil || n <= 0 {
		return 0, true
	}
	r := s.limiter.ReserveN(now, n)
	if !r.OK() {
		size := s.limiter.Burst()
		return time.Duration((float64(size) - s.limiter.TokensAt(now)) / float64(size) * float64(time.Minute)), false
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// Origin says where a tracked ID came from.
type Origin string

// The origins of tracked IDs.
const (
	// OriginConfig is an ID listed in the configuration file.
	OriginConfig Origin = "config"
	// OriginFile is an ID listed in the watched file.
	OriginFile Origin = "file"
	// OriginAPI is an ID registered through the HTTP API.
	OriginAPI Origin = "api"
	// OriginCallback is an ID seen in a vendor's push callback (Tencent's
	// Push.AllMemberPush TaskIds). It lives as an API registration does:
	// until removed through the API, aged out or evicted.
	OriginCallback Origin = "callback"
)

// valid reports whether o is one of the known origins.
func (o Origin) valid() bool {
	return o == OriginConfig || o == OriginFile || o == OriginAPI || o == OriginCallback
}

// ID is one tracked ID, as Set.IDs returns it and the HTTP API lists it.
type ID struct {
	// ID is the vendor's identifier (TaskID, msg_id or group_msgid).
	ID string `json:"id"`
	// Added is when the ID was first seen; its age is measured from here.
	Added time.Time `json:"added"`
	// Sent is when the push or message was sent, if the client that
	// registered the ID said so (the API's sent_at); zero if unknown.
	Sent time.Time `json:"sent,omitzero"`
	// Origin is where the ID came from; see Set for how origins combine.
	Origin Origin `json:"origin"`
}

// ErrInvalidID is wrapped by every error Set.Add returns for an ID that the
// validator refuses, so that callers can tell bad input from a failed write.
var ErrInvalidID = errors.New("invalid ID")

// shownIDBytes is how much of an ID (or any client-supplied string) an error
// or log message shows, so that a huge input cannot flood a response or a log
// line.
const shownIDBytes = 64

// quoteShort quotes s, shortened, for an error message.
func quoteShort(s string) string {
	if len(s) <= shownIDBytes {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:shownIDBytes]) + fmt.Sprintf("… (%d bytes)", len(s))
}

// shorten shortens s for a log value, which the logger quotes itself.
func shorten(s string) string {
	if len(s) <= shownIDBytes {
		return s
	}
	return s[:shownIDBytes] + fmt.Sprintf("… (%d bytes)", len(s))
}
