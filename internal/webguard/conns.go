package webguard

import (
	"container/list"
	"net"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons the connection cap closes a connection, the values of the reason
// label.
const (
	reasonIdleEvicted = "idle_evicted" // the longest idle one, to make room
	reasonConnLimit   = "limit"        // a new one, when none was idle
)

var (
	openConnsDesc = prometheus.NewDesc("imstats_exporter_http_open_connections",
		"HTTP connections open now, under --web.max-connections.", nil, nil)
	connsClosedDesc = prometheus.NewDesc("imstats_exporter_http_connections_closed_total",
		"HTTP connections the exporter closed to stay under --web.max-connections, by reason: idle_evicted (the longest idle, for a new one), limit (a new one, when none was idle).", []string{"reason"}, nil)
)

// connLimit caps the open connections through http.Server's ConnState
// hook, which the server calls on each new connection before it reads
// from it. Past the cap, a new connection closes the one that has been
// idle (a kept-alive connection between requests, or a new one before its
// first request) the longest; only when every connection is busy with a
// request is the new one closed instead. So thousands of idle connections
// cannot exhaust the process's open files, nor keep a scrape from getting
// in: the scrape's connection takes the place of an idle one. (Prometheus'
// own kept-alive connection, if evicted, is redialled by its client, which
// retries an idempotent request on a reused connection that the server
// closed.) An idle connection is closed as it may be about to carry a
// request; the client sees the connection drop, as with an idle timeout.
type connLimit struct {
	max int

	mu      sync.Mutex
	open    map[net.Conn]*list.Element // its place in idle; nil while busy
	idle    *list.List                 // of net.Conn, longest idle first
	evicted uint64
	refused uint64
}

func newConnLimit(maxConns int) *connLimit {
	return &connLimit{max: maxConns, open: map[net.Conn]*list.Element{}, idle: list.New()}
}

// track is the server's ConnState hook. It closes connections only after
// letting go of its lock.
func (l *connLimit) track(c net.Conn, state http.ConnState) {
	var victim net.Conn
	l.mu.Lock()
	switch state {
	case http.StateNew:
		if len(l.open) >= l.max {
			if e := l.idle.Front(); e != nil {
				victim = l.idle.Remove(e).(net.Conn)
				delete(l.open, victim)
				l.evicted++
			} else {
				victim = c
				l.refused++
				break
			}
		}
		l.open[c] = l.idle.PushBack(c)
	case http.StateActive:
		if e, ok := l.open[c]; ok && e != nil {
			l.idle.Remove(e)
			l.open[c] = nil
		}
	case http.StateIdle:
		if e, ok := l.open[c]; ok {
			if e != nil {
				l.idle.Remove(e)
			}
			l.open[c] = l.idle.PushBack(c)
		}
	case http.StateHijacked, http.StateClosed:
		if e, ok := l.open[c]; ok {
			if e != nil {
				l.idle.Remove(e)
			}
			delete(l.open, c)
		}
	}
	l.mu.Unlock()
	if victim != nil {
		_ = victim.Close()
	}
}

// Describe implements prometheus.Collector.
func (l *connLimit) Describe(ch chan<- *prometheus.Desc) {
	ch <- openConnsDesc
	ch <- connsClosedDesc
}

// Collect implements prometheus.Collector.
func (l *connLimit) Collect(ch chan<- prometheus.Metric) {
	l.mu.Lock()
	open, evicted, refused := len(l.open), l.evicted, l.refused
	l.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(openConnsDesc, prometheus.GaugeValue, float64(open))
	ch <- prometheus.MustNewConstMetric(connsClosedDesc, prometheus.CounterValue, float64(evicted), reasonIdleEvicted)
	ch <- prometheus.MustNewConstMetric(connsClosedDesc, prometheus.CounterValue, float64(refused), reasonConnLimit)
}
