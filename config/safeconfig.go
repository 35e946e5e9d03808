package config

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/imstats/imstats_exporter/internal/clock"
)

// SafeConfig holds the current configuration and the reload gauges. Its
// owner (the server) loads and plans a new configuration itself, then calls
// Set once it is committed and ReloadResult with the outcome.
type SafeConfig struct {
	mu sync.RWMutex
	c  *Config

	clock         clock.Clock
	reloadSuccess prometheus.Gauge
	reloadTime    prometheus.Gauge
}

// NewSafeConfig returns an empty SafeConfig whose reload gauges are
// registered with reg (not registered when reg is nil).
func NewSafeConfig(reg prometheus.Registerer) *SafeConfig {
	f := promauto.With(reg)
	return &SafeConfig{
		clock: clock.Real{},
		reloadSuccess: f.NewGauge(prometheus.GaugeOpts{
			Name: "imstats_exporter_config_last_reload_successful",
			Help: "Whether the last configuration reload succeeded (1) or failed (0).",
		}),
		reloadTime: f.NewGauge(prometheus.GaugeOpts{
			Name: "imstats_exporter_config_last_reload_success_timestamp_seconds",
			Help: "Timestamp of the last successful configuration reload.",
		}),
	}
}

// Set makes c the current configuration. It does not touch the reload
// gauges; see ReloadResult.
func (sc *SafeConfig) Set(c *Config) {
	sc.mu.Lock()
	sc.c = c
	sc.mu.Unlock()
}

// ReloadResult records the outcome of a reload in
// imstats_exporter_config_last_reload_successful, and on success the time
// in imstats_exporter_config_last_reload_success_timestamp_seconds. A
// rejected reload is recorded without changing the current configuration.
func (sc *SafeConfig) ReloadResult(ok bool) {
	if !ok {
		sc.reloadSuccess.Set(0)
		return
	}
	sc.reloadSuccess.Set(1)
	sc.reloadTime.Set(float64(sc.clock.Now().UnixNano()) / 1e9)
}

// Get returns the current configuration, nil before the first Set. The
// caller must not modify it.
func (sc *SafeConfig) Get() *Config {
	sc.mu.RLock()
	defer sc.mu.RUnlock()
	return sc.c
}
