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
	// refusing holds the keys (message, task, window, day) whose last
	// answer had counts refused by the count rule (package count).
	refusing map[string]bool
}

// maxRefusingKeys bounds labelGuard.refusing; past it the set starts again
// (and the next refusal is logged again).
const maxRefusingKeys = 1000

// countsRefused records that the answer for key had n counts refused (a
// negative, fractional or non-digit value; they give no series). It logs
// when the app starts having such answers, not once per refresh or key: a
// key stays refusing until an answer for it has none.
func (g *labelGuard) countsRefused(logger log.Logger, source, app, key string, n int) {
	if n == 0 {
		delete(g.refusing, key)
		return
	}
	if g.refusing[key] {
		return
	}
	if len(g.refusing) == 0 {
		level.Warn(logger).Log("msg", "vendor counts that are not non-negative integers are not exported",
			"source", source, "app", app, "key", key, "refused", n)
	}
	if g.refusing == nil || len(g.refusing) >= maxRefusingKeys {
		g.refusing = map[string]bool{}
	}
	g.refusing[key] = true
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
