// Package memlimit is the daemon's memory policy and its report.
//
// The live heap is the exposition (internal/expo): it grows with the series
// and stays, and every re-poll that brings new values replaces some of it.
// A soft memory limit below what that live heap needs makes the collector
// run again and again (at 1.8M series, a 200 MiB limit cost 732
// collections and 14 s of CPU a minute); a limit is therefore only a
// ceiling here, never the way the heap is sized. The heap is sized by the
// collector's growth target instead (GOGC, default 50 for the daemon: a
// collection when the heap has grown by half its live size), which keeps
// the resident size at about 1.6 to 1.8 times the live heap whatever the
// series, for a collection per half a live heap of allocation.
//
// The ceiling is the --runtime.memory-limit flag; by default (0) none, or,
// in a container with a memory limit (cgroup v2 memory.max), 90 % of it, so
// that the collector works harder before the kernel kills the process. A
// Monitor exports the ceiling and the live heap and logs a warning once
// when the live heap passes 80 % of the ceiling, and once when it is back
// under 75 %.
package memlimit

import (
	"context"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultGCPercent is the daemon's GOGC.
const DefaultGCPercent = 50

// Warning thresholds: the share of the ceiling the live heap passes for the
// warning, and falls under for the all-clear.
const (
	WarnRatio  = 0.8
	clearRatio = 0.75
)

// Apply sets the collector's growth target and the ceiling, unless the
// GOGC and GOMEMLIMIT environment variables set them (they win). limit 0
// means none, or 90 % of the container's memory limit when there is one.
// It returns the ceiling in force (math.MaxInt64 for none).
func Apply(logger log.Logger, gcPercent int, limit int64) int64 {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		if limit <= 0 {
			if c := cgroupLimit("/sys/fs/cgroup/memory.max"); c > 0 {
				limit = c / 10 * 9
			}
		}
		if limit > 0 {
			debug.SetMemoryLimit(limit)
		}
	}
	ceiling := debug.SetMemoryLimit(-1)
	level.Info(logger).Log("msg", "memory policy", "gogc", gcPercentInForce(), "memory_limit_bytes", ceiling)
	return ceiling
}

// gcPercentInForce reads the growth target without changing it.
func gcPercentInForce() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// cgroupLimit reads a cgroup v2 memory.max: 0 when absent or "max".
func cgroupLimit(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// Monitor reports the live heap against the ceiling: as metrics, and as a
// log line on each change of state.
type Monitor struct {
	logger log.Logger
	read   func() (live, limit uint64) // the runtime's figures; tests replace it

	mu   sync.Mutex
	high bool // the live heap is past WarnRatio of the ceiling
}

// NewMonitor returns a Monitor of the Go runtime's heap.
func NewMonitor(logger log.Logger) *Monitor {
	return &Monitor{logger: logger, read: readRuntime}
}

var (
	limitDesc = prometheus.NewDesc("imstats_exporter_memory_limit_bytes",
		"The Go runtime's soft memory limit (a ceiling; see --runtime.memory-limit); 9.22e18 when there is none.", nil, nil)
	liveDesc = prometheus.NewDesc("imstats_exporter_heap_live_bytes",
		"Heap bytes the last garbage collection found in use: the exporter's working set.", nil, nil)
)

// Describe implements prometheus.Collector.
func (m *Monitor) Describe(ch chan<- *prometheus.Desc) {
	ch <- limitDesc
	ch <- liveDesc
}

// Collect implements prometheus.Collector.
func (m *Monitor) Collect(ch chan<- prometheus.Metric) {
	live, limit := m.read()
	ch <- prometheus.MustNewConstMetric(limitDesc, prometheus.GaugeValue, float64(limit))
	ch <- prometheus.MustNewConstMetric(liveDesc, prometheus.GaugeValue, float64(live))
}

// Check logs a warning when the live heap has passed WarnRatio of the
// ceiling since the last Check, and an all-clear when it is back under
// clearRatio.
func (m *Monitor) Check() {
	live, limit := m.read()
	if limit == 0 || limit >= math.MaxInt64 {
		return
	}
	ratio := float64(live) / float64(limit)
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case !m.high && ratio > WarnRatio:
		m.high = true
		level.Warn(m.logger).Log("msg", "the live heap is past 80% of the memory limit: the garbage collector will run more and more often; raise --runtime.memory-limit or track fewer IDs",
			"heap_live_bytes", live, "memory_limit_bytes", limit)
	case m.high && ratio < clearRatio:
		m.high = false
		level.Info(m.logger).Log("msg", "the live heap is back under 75% of the memory limit", "heap_live_bytes", live, "memory_limit_bytes", limit)
	}
}

// Run calls Check every interval until ctx ends.
func (m *Monitor) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.Check()
		}
	}
}

// readRuntime returns the live heap of the last collection and the soft
// memory limit.
func readRuntime() (live, limit uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/gomemlimit:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		live = s[0].Value.Uint64()
	}
	if s[1].Value.Kind() == metrics.KindUint64 {
		limit = s[1].Value.Uint64()
	}
	return live, limit
}
