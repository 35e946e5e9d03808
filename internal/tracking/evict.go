package tracking

import (
	"container/heap"
	"time"
)

// evictItem is an ID the cap may evict, as it was when queued.
type evictItem struct {
	added time.Time
	id    string
}

// evictQueue is a min-heap of evictItems, oldest first and, among IDs added
// at the same time, the greatest ID first: the order in which the cap
// evicts. It is lazy: an item whose ID has since been forgotten, retired,
// re-added or listed by the configuration is stale and skipped when popped,
// so changes never search it.
type evictQueue []evictItem

// Len, Less, Swap, Push and Pop implement heap.Interface.
func (q evictQueue) Len() int { return len(q) }

func (q evictQueue) Less(i, j int) bool {
	if c := q[i].added.Compare(q[j].added); c != 0 {
		return c < 0
	}
	return q[i].id > q[j].id
}

func (q evictQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }

func (q *evictQueue) Push(x any) { *q = append(*q, x.(evictItem)) }

func (q *evictQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

// evictable reports whether the cap may evict the entry e now.
func evictable(e *entry) bool {
	return !e.retired && e.from&fromConfig == 0
}

// queueLocked queues id for eviction if the cap may evict it. When stale
// items outnumber the IDs, the queue is rebuilt from the IDs, so that it
// stays within a constant factor of the set.
func (s *Set) queueLocked(id string, e *entry) {
	if !evictable(e) {
		return
	}
	if len(s.evictq) > 2*len(s.ids)+compactSlack {
		s.rebuildEvictQueueLocked()
		return
	}
	heap.Push(&s.evictq, evictItem{added: e.added, id: id})
}

// rebuildEvictQueueLocked queues every evictable ID afresh.
func (s *Set) rebuildEvictQueueLocked() {
	q := make(evictQueue, 0, len(s.ids))
	for id, e := range s.ids {
		if evictable(e) {
			q = append(q, evictItem{added: e.added, id: id})
		}
	}
	heap.Init(&q)
	s.evictq = q
}

// popEvictableLocked returns the ID the cap evicts next and its entry, or
// false if the configuration lists every tracked ID.
func (s *Set) popEvictableLocked() (string, *entry, bool) {
	for s.evictq.Len() > 0 {
		it := heap.Pop(&s.evictq).(evictItem)
		if e, ok := s.ids[it.id]; ok && evictable(e) && e.added.Equal(it.added) {
			return it.id, e, true
		}
	}
	return "", nil, false
}
