package sources

import (
	"maps"
	"slices"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/imstats/imstats_exporter/collector"
	"github.com/imstats/imstats_exporter/config"
)

// labelGuard is a job's bound on the label values its vendor answers decide
// (collector.LabelLimit) and what it last logged about it. It belongs to the
// job's loop goroutine: the settings a reload stores carry the cap, and the
// step hands it over.
type labelGuard struct {
	lim      *collector.LabelLimit
	dropping map[string]bool // label → values were refused in the last step
}

// limit returns the job's limit with max unknown values a label, making it
// on first use. Values admitted under a larger max stay admitted.
func (g *labelGuard) limit(max int64) *collector.LabelLimit {
	if max <= 0 {
		max = config.DefaultLimits.MaxLabelValues
	}
	if g.lim == nil {
		g.lim = collector.NewLabelLimit(int(max))
		g.dropping = map[string]bool{}
	}
	g.lim.SetMax(int(max))
	return g.lim
}

// report counts the values refused since the last report in
// imstats_exporter_labels_dropped_total, and logs a label once when it starts
// refusing values (and again only after a step that refused none), not once
// per refresh.
func (g *labelGuard) report(m *APIMetrics, logger log.Logger, source, app string, max int64) {
	refused := g.lim.Take()
	for _, label := range slices.Sorted(maps.Keys(refused)) {
		m.labelsDropped(source, app, label, refused[label])
		if !g.dropping[label] {
			level.Warn(logger).Log("msg", "a vendor answer has more label values than limits.max_label_values; the rest are summed into other or dropped",
				"source", source, "app", app, "label", label, "max", max, "refused", refused[label])
		}
	}
	for label := range g.dropping {
		if refused[label] == 0 {
			delete(g.dropping, label)
		}
	}
	for label := range refused {
		g.dropping[label] = true
	}
}
