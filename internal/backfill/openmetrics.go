package backfill

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/imstats/imstats_exporter/internal/expo"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// openMetrics collects timestamped samples and writes them in the order the
// OpenMetrics importer of promtool needs: all samples of a family together,
// the series of a family one after the other, and each series' samples in
// increasing time. promtool 2.42 drops a sample older than the one before it
// in the same series without an error, so the order is not a nicety.
type openMetrics struct {
	families map[string]*dto.MetricFamily
}

func newOpenMetrics() *openMetrics {
	return &openMetrics{families: map[string]*dto.MetricFamily{}}
}

// add records metrics as samples every step from from up to, not
// including, to, each with the extra labels added. The metrics must not
// repeat a series, nor carry one of the extra labels already.
func (o *openMetrics) add(from, to time.Time, step time.Duration, samples []expo.Sample, extra []*dto.LabelPair) error {
	metrics := constMetrics(samples)
	reg := prometheus.NewRegistry()
	if err := reg.Register(fixed(metrics)); err != nil {
		return err
	}
	families, err := reg.Gather()
	if err != nil {
		return err
	}
	for _, f := range families {
		samples := make([]*dto.Metric, 0, len(f.Metric)*int(to.Sub(from)/step+1))
		for _, m := range f.Metric {
			labels, err := withLabels(f.GetName(), m.GetLabel(), extra)
			if err != nil {
				return err
			}
			for t := from; t.Before(to); t = t.Add(step) {
				ms := t.UnixMilli()
				samples = append(samples, &dto.Metric{Label: labels, Gauge: m.Gauge, Counter: m.Counter, Untyped: m.Untyped, TimestampMs: &ms})
			}
		}
		if have, ok := o.families[f.GetName()]; ok {
			have.Metric = append(have.Metric, samples...)
		} else {
			f.Metric = samples
			o.families[f.GetName()] = f
		}
	}
	return nil
}

// withLabels returns labels and extra merged in name order, refusing a name
// both have.
func withLabels(metric string, labels, extra []*dto.LabelPair) ([]*dto.LabelPair, error) {
	if len(extra) == 0 {
		return labels, nil
	}
	out := slices.Concat(labels, extra)
	slices.SortFunc(out, func(a, b *dto.LabelPair) int { return cmp.Compare(a.GetName(), b.GetName()) })
	for i := 1; i < len(out); i++ {
		if out[i].GetName() == out[i-1].GetName() {
			return nil, fmt.Errorf("label %q is a label of %s already", out[i].GetName(), metric)
		}
	}
	return out, nil
}

// WriteTo writes every family in name order, then the "# EOF" line
// OpenMetrics ends with.
func (o *openMetrics) WriteTo(w io.Writer) (int64, error) {
	names := make([]string, 0, len(o.families))
	for name := range o.families {
		names = append(names, name)
	}
	slices.Sort(names)
	bw := bufio.NewWriter(w)
	var written int64
	for _, name := range names {
		f := o.families[name]
		slices.SortStableFunc(f.Metric, compareSamples)
		n, err := expfmt.MetricFamilyToOpenMetrics(bw, f)
		written += int64(n)
		if err != nil {
			return written, err
		}
	}
	n, err := expfmt.FinalizeOpenMetrics(bw)
	written += int64(n)
	if err != nil {
		return written, err
	}
	return written, bw.Flush()
}

// compareSamples orders the samples of one family by series, then by time.
// The metrics of a family carry the same label names, sorted by Gather, so
// the series compare by their label values.
func compareSamples(a, b *dto.Metric) int {
	if c := slices.CompareFunc(a.GetLabel(), b.GetLabel(), func(x, y *dto.LabelPair) int {
		return cmp.Or(cmp.Compare(x.GetName(), y.GetName()), cmp.Compare(x.GetValue(), y.GetValue()))
	}); c != 0 {
		return c
	}
	return cmp.Compare(a.GetTimestampMs(), b.GetTimestampMs())
}

// fixed is a collector of fixed metrics. It describes nothing, which makes
// it an unchecked collector: its metrics are gathered once, by a registry of
// their own.
type fixed []prometheus.Metric

// Describe implements prometheus.Collector.
func (fixed) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (f fixed) Collect(ch chan<- prometheus.Metric) {
	for _, m := range f {
		ch <- m
	}
}

// constMetrics turns mapped samples into client_golang metrics, which the
// backfill gathers through a registry to write OpenMetrics with timestamps.
func constMetrics(samples []expo.Sample) []prometheus.Metric {
	descs := map[*expo.Family]*prometheus.Desc{}
	out := make([]prometheus.Metric, 0, len(samples))
	for _, s := range samples {
		d, ok := descs[s.Family]
		if !ok {
			d = prometheus.NewDesc(s.Family.Name, s.Family.Help, s.Family.Labels, nil)
			descs[s.Family] = d
		}
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, s.Value, s.Labels...))
	}
	return out
}
