// Package refresh is the vendor-neutral refresh machinery: a Target holds
// the snapshot of one (source, app) as pre-rendered exposition blocks, and
// its loop runs the source's Job in the background, one step at a time,
// backing off after failures and logging once per change of outcome.
//
// Ownership and locks: a Target's loop goroutine is the only caller of its
// Job, so a Job keeps its own state without locks. Target.mu guards the
// snapshot and the health record only; it is never held while calling a Job,
// a vendor, a channel send that can block, or anything outside the Target.
// Scrapes borrow the block list under Target.mu (Lend) and write it out
// after releasing it, so a slow client never holds a lock. Target.dmu serialises
// gzip deflations and is taken before Target.mu; the compression itself
// holds dmu only.
package refresh

import (
	"slices"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/imstats/imstats_exporter/internal/expo"
)

// Health is what the target's steps left behind, for the exporter's own
// metrics.
type Health struct {
	Attempted    bool          // a step has finished at least once
	OK           bool          // the last step succeeded
	Available    bool          // false after an Unavailable error
	LastSuccess  time.Time     // zero until the first success
	LastDuration time.Duration // how long the last step took
	Failures     int           // consecutive failures
	Series       int           // series in the snapshot
}

// Target is the snapshot and health of one (source, app). It lives as long
// as its (source, app) is configured; a reload reconfigures it in place.
type Target struct {
	Source string
	App    string
	schema *expo.Schema
	logger log.Logger

	demand chan struct{} // a scrape found the snapshot stale
	ready  chan struct{} // closed when the first step has finished

	mu        sync.Mutex
	index     map[string]int // key → position in blocks
	keys      []string
	blocks    []*expo.Block // lent to scrapes when lent: copied before a change in place
	lent      bool
	counts    []int // series per family of the schema, over every block
	health    Health
	gen       uint64     // counts changes of the snapshot
	verdict   string     // the last outcome, for logging changes only
	readyOnce bool       // ready is closed
	runs      *expo.Runs // the blocks' lines as deflate segments

	dmu         sync.Mutex // serialises Deflated; taken before mu
	deflated    []expo.Deflated
	deflatedGen uint64
	lastPlan    *expo.Plan
}

// NewTarget returns an empty target of (source, app) whose blocks follow
// schema.
func NewTarget(source, app string, schema *expo.Schema, logger log.Logger) *Target {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	return &Target{
		Source: source, App: app, schema: schema,
		logger: log.With(logger, "source", source, "app", app),
		demand: make(chan struct{}, 1),
		ready:  make(chan struct{}),
		index:  map[string]int{},
		counts: make([]int, len(schema.Families())),
		runs:   expo.NewRuns(schema),
		health: Health{Available: true},
	}
}

// Schema returns the families the target's blocks follow.
func (t *Target) Schema() *expo.Schema { return t.schema }

// Put replaces the series of key with samples. The block is built before
// the lock is taken (and is the old one when nothing changed); the update
// itself is O(1).
func (t *Target) Put(key string, samples []expo.Sample) {
	t.mu.Lock()
	var old *expo.Block
	if i, ok := t.index[key]; ok {
		old = t.blocks[i]
	}
	t.mu.Unlock()
	b, dropped := t.schema.Update(old, samples)
	if dropped > 0 {
		level.Debug(t.logger).Log("msg", "dropped duplicate series from a vendor answer", "key", key, "dropped", dropped)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	i, ok := t.index[key]
	if ok && t.blocks[i] == b {
		return
	}
	t.gen++
	t.count(b, 1)
	if ok {
		t.count(t.blocks[i], -1)
		t.runs.Set(i, t.blocks[i], b)
		t.own()
		t.blocks[i] = b
		return
	}
	t.runs.Append(b)
	t.index[key] = len(t.blocks)
	t.keys = append(t.keys, key)
	t.blocks = append(t.blocks, b)
}

// count adds (sign 1) or takes away (sign -1) b's series from the counts.
func (t *Target) count(b *expo.Block, sign int) {
	for i := range t.counts {
		n := sign * b.Count(i)
		t.counts[i] += n
		t.health.Series += n
	}
}

// Retain drops the series of every key for which keep is false. keep must
// not call back into the target.
func (t *Target) Retain(keep func(key string) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.keys) - 1; i >= 0; i-- {
		if k := t.keys[i]; !keep(k) {
			t.deleteLocked(k)
		}
	}
}

func (t *Target) deleteLocked(key string) {
	i, ok := t.index[key]
	if !ok {
		return
	}
	t.gen++
	t.count(t.blocks[i], -1)
	last := len(t.blocks) - 1
	t.runs.Remove(i, t.blocks[i], t.blocks[last])
	t.own()
	t.blocks[i], t.keys[i] = t.blocks[last], t.keys[last]
	t.index[t.keys[i]] = i
	t.blocks[last], t.keys = nil, t.keys[:last]
	t.blocks = t.blocks[:last]
	delete(t.index, key)
}

// Lend sets g to the target's schema, blocks and series per family. The
// block list is lent, not copied: the target copies it before it next
// changes a position in place (own), so a scrape takes it in O(1) and
// reads it without a lock; appends go past the lent length and need no
// copy.
func (t *Target) Lend(g *expo.Group) {
	t.mu.Lock()
	defer t.mu.Unlock()
	g.Schema, g.Blocks = t.schema, t.blocks
	g.Counts = append(g.Counts[:0], t.counts...)
	t.lent = true
}

// own makes the block list the target's alone before a change in place.
func (t *Target) own() {
	if t.lent {
		t.blocks = slices.Clone(t.blocks)
		t.lent = false
	}
}

// Gen returns the snapshot's generation: a number that changes with every
// change of the snapshot.
func (t *Target) Gen() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.gen
}

// Deflated returns the target's lines, family by family of its schema, as
// deflate segments (expo.Runs), compressing only the runs that changed
// since the last call. Calls are serialised, and the compression runs
// without the target's lock, so refreshes and text scrapes go on.
func (t *Target) Deflated() []expo.Deflated {
	t.dmu.Lock()
	defer t.dmu.Unlock()
	t.mu.Lock()
	if t.deflated != nil && t.deflatedGen == t.gen {
		t.mu.Unlock()
		return t.deflated
	}
	gen, plan := t.gen, t.runs.Plan(t.blocks)
	t.mu.Unlock()
	plan.Compress()
	t.mu.Lock()
	t.runs.Store(plan)
	t.mu.Unlock()
	t.deflated, t.deflatedGen = plan.Deflated(t.lastPlan), gen
	t.lastPlan = plan
	return t.deflated
}

// Compressed returns how many bytes of lines Deflated has compressed.
func (t *Target) Compressed() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.runs.Compressed()
}

// Health returns the target's health record.
func (t *Target) Health() Health {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.health
}

// Demand tells an on-demand target's loop that a scrape wants fresh data.
// It never blocks.
func (t *Target) Demand() {
	select {
	case t.demand <- struct{}{}:
	default:
	}
}

// Ready is closed once the target's first step has finished, successfully
// or not, or its loop has stopped: a scrape waits for it only while the
// target has no snapshot yet.
func (t *Target) Ready() <-chan struct{} { return t.ready }

// release closes the ready channel unless it is closed already.
func (t *Target) release() {
	t.mu.Lock()
	first := !t.readyOnce
	t.readyOnce = true
	t.mu.Unlock()
	if first {
		close(t.ready)
	}
}
