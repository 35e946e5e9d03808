package config

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/imstats/imstats_exporter/internal/clock"
)

// SafeConfig holds the current configuration and replaces it only with one
// that loads and validates.
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

// Reload loads the file at path and makes it the current configuration. On
// error the current configuration stays, and the error is returned.
func (sc *SafeConfig) Reload(path string) error {
	return sc.ReloadWith(path, nil)
}

// ReloadWith is Reload with a last check: apply, when not nil, is called
// with the loaded configuration before it becomes current (it builds what
// runs on it), and an error from it fails the reload like a bad file.
func (sc *SafeConfig) ReloadWith(path string, apply func(*Config) error) error {
	c, err := Load(path)
	if err == nil && apply != nil {
		err = apply(c)
	}
	if err != nil {
		sc.ReloadResult(false)
		return err
	}
	sc.Set(c)
	sc.ReloadResult(true)
	return nil
}

// Set makes c the current configuration. It does not touch the reload
// gauges: a caller that loads with Load, plans and commits calls Set on
// commit and then ReloadResult.
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

// Get returns the current configuration, nil before the first Set or
// successful Reload. The caller must not modify it.
func (sc *SafeConfig) Get() *Config {
	sc.mu.RLock()
	defer sc.mu.RUnlock()
	return sc.c
}
