package sources

import (
	"time"

	"github.com/imstats/imstats_exporter/internal/refresh"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

// resyncEvery is how often a queue re-reads its tracked set even when no
// change was signalled (a safety net; changes wake the loop at once).
const resyncEvery = time.Minute

// minSyncGap is the least time between two reads of the tracked set that
// changes ask for. A read copies and sorts the whole set: a storm of
// registrations against 100 000 tracked IDs would otherwise pay that for
// every one. The vendors are asked about a batch at most every second or so
// anyway, so a second's delay costs no answer.
const minSyncGap = time.Second

// idQueue is the part every source that polls tracked IDs shares: the
// queue of IDs and when it last followed the tracked set. It is used by the
// job's loop goroutine only.
type idQueue struct {
	queue    *refresh.Queue
	since    map[string]time.Time
	synced   time.Time
	watching <-chan struct{} // the set's change channel read with the IDs
	stale    bool            // a change arrived that the queue has not read yet
}

// next follows set (when woken, on the first step, or every resyncEvery),
// drops the blocks of IDs no longer tracked except those keep wants, and
// returns the due batch or how long until one is due.
func (q *idQueue) next(t *refresh.Target, set *tracking.Set, woken bool, now time.Time, p refresh.QueuePolicy, keep func(key string) bool) ([]string, time.Duration) {
	if q.queue == nil {
		q.queue = refresh.NewQueue()
	}
	if woken {
		q.stale = true
	}
	if q.synced.IsZero() || now.Sub(q.synced) >= resyncEvery || (q.stale && now.Sub(q.synced) >= minSyncGap) {
		q.watching = set.Changed()
		ids := set.IDs()
		qids := make([]refresh.QueueID, len(ids))
		q.since = make(map[string]time.Time, len(ids))
		for i, id := range ids {
			since := id.Added
			if !id.Sent.IsZero() {
				since = id.Sent
			}
			qids[i] = refresh.QueueID{ID: id.ID, Since: since}
			q.since[id.ID] = since
		}
		tracked := q.queue.Sync(qids)
		t.Retain(func(k string) bool { return tracked(k) || (keep != nil && keep(k)) })
		q.synced = now
		q.stale = false
	}
	batch, wait := q.queue.Next(now, p)
	return batch, q.capWait(now, wait)
}

// capWait shortens wait to the next read of the set that a pending change
// asks for.
func (q *idQueue) capWait(now time.Time, wait time.Duration) time.Duration {
	if q.stale {
		wait = min(wait, max(q.synced.Add(minSyncGap).Sub(now), 0))
	}
	return wait
}

// after returns the wait after a batch: none while IDs are due, else until
// the next one is, or until also (when set) if that is sooner. A job that
// says so saves the loop an idle step between rounds.
func (q *idQueue) after(now time.Time, p refresh.QueuePolicy, also time.Time) time.Duration {
	batch, wait := q.queue.Next(now, p)
	if len(batch) > 0 {
		return 0
	}
	if !also.IsZero() {
		wait = min(wait, max(also.Sub(now), 0))
	}
	return q.capWait(now, wait)
}

// wake is the Wake of a source polling tracked IDs: the change channel of
// the set as it was when the queue last read it, so that a change between
// that read and the loop's wait is never missed; nil while a change is
// pending, whose read the step's wait already leads to.
func (q *idQueue) wake() <-chan struct{} {
	if q.stale {
		return nil
	}
	return q.watching
}
