package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/imstats/imstats_exporter/internal/expo"
)

// sampleCollector is an unchecked collector over mapped samples, so that the
// tests compare them with expected exposition text through
// testutil.CollectAndCompare.
type sampleCollector []expo.Sample

// Describe sends nothing: the collector is unchecked.
func (sampleCollector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c sampleCollector) Collect(ch chan<- prometheus.Metric) {
	descs := map[*expo.Family]*prometheus.Desc{}
	for _, s := range c {
		d, ok := descs[s.Family]
		if !ok {
			d = prometheus.NewDesc(s.Family.Name, s.Family.Help, s.Family.Labels, nil)
			descs[s.Family] = d
		}
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, s.Value, s.Labels...)
	}
}
