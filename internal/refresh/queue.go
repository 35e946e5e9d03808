package refresh

import (
	"cmp"
	"slices"
	"time"
)

// QueueID is one tracked ID as a queue sees it.
type QueueID struct {
	ID string
	// Since is when the push was sent if known, else when the ID was first
	// tracked: an ID is settled SettledAfter past it.
	Since time.Time
}

// QueuePolicy says how often a queue asks for an ID again.
type QueuePolicy struct {
	BatchSize       int           // most IDs per call (the vendor's limit)
	Interval        time.Duration // how often an unsettled ID is asked again
	SettledInterval time.Duration // how often a settled ID is asked again
	SettledAfter    time.Duration // an ID this old no longer changes
}

// Queue decides which tracked IDs to ask the vendor about next. It belongs
// to one Job and is used by its loop goroutine only: it has no lock.
type Queue struct {
	ids   map[string]*queued
	cands []queueCand // Next's scratch: kept, since Next runs every call
}

// queueCand is an ID due for a call, with what orders it.
type queueCand struct {
	id      string
	class   int
	fetched time.Time
	order   int
}

type queued struct {
	since   time.Time
	fetched time.Time // zero: never asked
	order   int       // position in the tracked list, newest first
}

// NewQueue returns an empty queue.
func NewQueue() *Queue { return &Queue{ids: map[string]*queued{}} }

// Sync makes the queue follow ids (newest first), keeping what it knew of
// the IDs still listed, and returns whether an ID is still tracked.
func (q *Queue) Sync(ids []QueueID) (tracked func(id string) bool) {
	live := make(map[string]*queued, len(ids))
	for i, id := range ids {
		st, ok := q.ids[id.ID]
		if !ok {
			st = &queued{}
		}
		st.since, st.order = id.Since, i
		live[id.ID] = st
	}
	q.ids = live
	return func(id string) bool { _, ok := live[id]; return ok }
}

// Len returns how many IDs the queue follows.
func (q *Queue) Len() int { return len(q.ids) }

// Next returns up to p.BatchSize IDs that are due at now, most urgent
// first: never asked (newest first), then unsettled ones asked longest ago,
// then settled ones asked longest ago. With none due, it returns how long
// until the next one is (an Interval, at least a second, when the queue is
// empty: new IDs wake the loop anyway).
func (q *Queue) Next(now time.Time, p QueuePolicy) (batch []string, wait time.Duration) {
	cands := q.cands[:0]
	defer func() { clear(cands); q.cands = cands[:0] }()
	var nextDue time.Time
	for id, st := range q.ids {
		var due time.Time
		class := 0
		switch {
		case st.fetched.IsZero():
		case now.Sub(st.since) < p.SettledAfter:
			class, due = 1, st.fetched.Add(p.Interval)
		default:
			class, due = 2, st.fetched.Add(p.SettledInterval)
		}
		if due.After(now) {
			if nextDue.IsZero() || due.Before(nextDue) {
				nextDue = due
			}
			continue
		}
		cands = append(cands, queueCand{id, class, st.fetched, st.order})
	}
	if len(cands) == 0 {
		if nextDue.IsZero() {
			return nil, max(p.Interval, time.Second)
		}
		return nil, nextDue.Sub(now)
	}
	slices.SortFunc(cands, func(a, b queueCand) int {
		if c := cmp.Compare(a.class, b.class); c != 0 {
			return c
		}
		if c := a.fetched.Compare(b.fetched); c != 0 {
			return c
		}
		return cmp.Compare(a.order, b.order)
	})
	n := min(len(cands), max(p.BatchSize, 1))
	batch = make([]string, n)
	for i := range n {
		batch[i] = cands[i].id
	}
	return batch, 0
}

// Done records that batch was asked at now.
func (q *Queue) Done(batch []string, now time.Time) {
	for _, id := range batch {
		if st, ok := q.ids[id]; ok {
			st.fetched = now
		}
	}
}
