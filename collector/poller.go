package collector

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

// fetchFunc asks the vendor about a batch of tracked IDs and returns the
// metrics of each ID it answered for. An ID it did not answer for keeps its
// previous metrics.
type fetchFunc func(ctx context.Context, ids []string) (map[string][]prometheus.Metric, error)

// pollerOptions configure an idPoller.
type pollerOptions struct {
	IDs             *tracking.Set
	Cap             int // the set's cap, for tracked_ids_limit
	Clock           clock.Clock
	BatchSize       int           // most IDs per fetch (the vendor's limit)
	Interval        time.Duration // how often an unsettled ID is asked again
	SettledInterval time.Duration // how often a settled ID is asked again
	SettledAfter    time.Duration // an ID older than this is settled: its numbers no longer change
	Fetch           fetchFunc
}

// idPoller keeps the latest metrics of every tracked ID of one (source, app)
// and decides which IDs to ask for next: the queue behind every source that
// follows push tasks or messages.
type idPoller struct {
	o pollerOptions

	mu     sync.Mutex
	states map[string]*idState
}

type idState struct {
	fetched time.Time
	metrics []prometheus.Metric
}

func newIDPoller(o pollerOptions) *idPoller {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	return &idPoller{o: o, states: map[string]*idState{}}
}

// Tracked implements Tracker.
func (p *idPoller) Tracked() (int, int, uint64) {
	return p.o.IDs.Len(), p.o.Cap, p.o.IDs.Evicted()
}

// inheritFrom takes over the per-ID state of old, the source of the same
// (source, app) that a configuration reload replaces: without it the first
// refresh after a reload would ask the vendor for every ID again, and publish
// a snapshot missing the ones not yet asked.
func (p *idPoller) inheritFrom(old Source) {
	o, ok := old.(interface{ idStates() map[string]idState })
	if !ok {
		return
	}
	states := o.idStates()
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, st := range states {
		p.states[id] = &st
	}
}

// idStates returns a copy of the per-ID state.
func (p *idPoller) idStates() map[string]idState {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]idState, len(p.states))
	for id, st := range p.states {
		out[id] = *st
	}
	return out
}

// Refresh implements Source for the sources that are only a poller: the
// due IDs, then every ID's metrics.
func (p *idPoller) Refresh(ctx context.Context) ([]prometheus.Metric, error) {
	err := p.poll(ctx, p.metrics)
	return p.metrics(), err
}

// poll asks for the due IDs in batches, most urgent first, publishing
// snapshot() after each batch, until none is due. Running out of time ends
// the queue quietly (the rest waits for the next refresh); any other error
// ends it with that error, the values kept.
func (p *idPoller) poll(ctx context.Context, snapshot func() []prometheus.Metric) error {
	p.o.IDs.Expire()
	p.forgetUntracked()
	asked := map[string]bool{}
	for {
		batch := p.nextBatch(asked)
		if len(batch) == 0 {
			return nil
		}
		for _, id := range batch {
			asked[id] = true
		}
		got, err := p.o.Fetch(ctx, batch)
		if err != nil {
			return quietAtDeadline(ctx, err)
		}
		p.store(batch, got, p.o.Clock.Now())
		Publish(ctx, snapshot())
	}
}

// quietAtDeadline turns running out of the refresh's time into success: a
// long queue normally ends that way.
func quietAtDeadline(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// forgetUntracked drops the metrics of IDs no longer tracked.
func (p *idPoller) forgetUntracked() {
	live := map[string]bool{}
	for _, id := range p.o.IDs.IDs() {
		live[id.ID] = true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for id := range p.states {
		if !live[id] {
			delete(p.states, id)
		}
	}
}

// nextBatch picks up to BatchSize due IDs not yet asked in this refresh:
// never asked first (newest first), then unsettled ones asked longest ago,
// then settled ones asked longest ago. It reads the tracked set afresh each
// time, so an ID registered during a long refresh is in the next batch.
func (p *idPoller) nextBatch(asked map[string]bool) []string {
	now := p.o.Clock.Now()
	type cand struct {
		id      string
		class   int
		fetched time.Time
	}
	var cands []cand
	p.mu.Lock()
	for _, id := range p.o.IDs.IDs() {
		if asked[id.ID] {
			continue
		}
		st, ok := p.states[id.ID]
		switch {
		case !ok:
			cands = append(cands, cand{id.ID, 0, time.Time{}})
		case now.Sub(id.Added) < p.o.SettledAfter:
			if now.Sub(st.fetched) >= p.o.Interval {
				cands = append(cands, cand{id.ID, 1, st.fetched})
			}
		default:
			if now.Sub(st.fetched) >= p.o.SettledInterval {
				cands = append(cands, cand{id.ID, 2, st.fetched})
			}
		}
	}
	p.mu.Unlock()
	// Stable: within class 0 the set's newest-first order stands.
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].class != cands[j].class {
			return cands[i].class < cands[j].class
		}
		return cands[i].fetched.Before(cands[j].fetched)
	})
	batch := make([]string, 0, p.o.BatchSize)
	for _, c := range cands[:min(len(cands), p.o.BatchSize)] {
		batch = append(batch, c.id)
	}
	return batch
}

// store records the answer for a batch. An ID the vendor did not answer for
// keeps its previous values and is not asked again before its interval.
func (p *idPoller) store(batch []string, got map[string][]prometheus.Metric, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range batch {
		st := p.states[id]
		if st == nil {
			st = &idState{}
			p.states[id] = st
		}
		st.fetched = now
		if m, ok := got[id]; ok {
			st.metrics, _ = dedupe(m)
		}
	}
}

// metrics returns the metrics of every ID, in ID order.
func (p *idPoller) metrics() []prometheus.Metric {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := make([]string, 0, len(p.states))
	for id := range p.states {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []prometheus.Metric
	for _, id := range ids {
		out = append(out, p.states[id].metrics...)
	}
	return out
}
