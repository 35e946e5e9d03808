package config

import (
	"time"

	"github.com/prometheus/common/model"

	"github.com/imstats/imstats_exporter/internal/catalog"
)

// RefreshIntervals maps a source name to how long its values stay fresh. A
// source left out, or set to 0, gets its DefaultInterval.
type RefreshIntervals map[string]model.Duration

// For returns the refresh interval of a source, and 0 for an unknown name.
func (r RefreshIntervals) For(source string) time.Duration {
	info, ok := catalog.Lookup(source)
	if !ok {
		return 0
	}
	if d := r[source]; d > 0 {
		return time.Duration(d)
	}
	return info.DefaultInterval
}

// Sources maps a source name to whether it is on; a source left out gets
// its DefaultEnabled.
type Sources map[string]bool

// Enabled reports whether a source is on; it is false for an unknown name.
func (s Sources) Enabled(source string) bool {
	info, ok := catalog.Lookup(source)
	if !ok {
		return false
	}
	if on, set := s[source]; set {
		return on
	}
	return info.DefaultEnabled
}

// ChannelDetails maps a source with ChannelDetail to whether its
// per-platform and per-channel series of each tracked ID are exported; a
// source left out exports them.
type ChannelDetails map[string]bool

// On reports whether a source exports the per-platform and per-channel
// series of each tracked ID: false for a source without such series.
func (d ChannelDetails) On(source string) bool {
	info, ok := catalog.Lookup(source)
	if !ok || !info.ChannelDetail {
		return false
	}
	if on, set := d[source]; set {
		return on
	}
	return true
}

// completeSources fills every source of the catalog into the three maps, so that the
// loaded configuration (and /config) shows every effective value.
func (c *Config) completeSources() {
	if c.RefreshIntervals == nil {
		c.RefreshIntervals = RefreshIntervals{}
	}
	if c.Sources == nil {
		c.Sources = Sources{}
	}
	if c.ChannelDetails == nil {
		c.ChannelDetails = ChannelDetails{}
	}
	for _, s := range catalog.Sources {
		c.RefreshIntervals[s.Name] = model.Duration(c.RefreshIntervals.For(s.Name))
		c.Sources[s.Name] = c.Sources.Enabled(s.Name)
		if s.ChannelDetail {
			c.ChannelDetails[s.Name] = c.ChannelDetails.On(s.Name)
		}
	}
}
