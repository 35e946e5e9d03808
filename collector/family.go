package collector

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// family is a gauge family of the vendor metrics. Its samples keep only
// their value and label values: a snapshot holds hundreds of thousands of
// them (every tracked message times its channels), and client_golang's const
// metrics would each keep a protobuf label pair per label, several times the
// memory. The protobuf form is built when a scrape writes the sample.
type family struct {
	desc  *prometheus.Desc
	names []string // label names, in the order samples give their values
	order []int    // label indexes sorted by name, the order Write needs
}

func newFamily(name, help string, labels ...string) *family {
	f := &family{desc: prometheus.NewDesc(name, help, labels, nil), names: labels, order: make([]int, len(labels))}
	for i := range f.order {
		f.order[i] = i
	}
	sort.Slice(f.order, func(a, b int) bool { return labels[f.order[a]] < labels[f.order[b]] })
	return f
}

// gauge returns a sample of the family. labels must be as many as the
// family's label names; they are kept, not copied. A label value that is not
// valid UTF-8 (from a vendor's answer) is repaired: the registry would fail
// the whole scrape on it.
func (f *family) gauge(v float64, labels ...string) prometheus.Metric {
	if len(labels) != len(f.names) {
		panic("collector: " + f.desc.String() + ": wrong number of label values")
	}
	for i, l := range labels {
		if !utf8.ValidString(l) {
			labels[i] = strings.ToValidUTF8(l, "\uFFFD")
		}
	}
	return &sample{f: f, value: v, labels: labels}
}

// sample is one gauge series of a family and its value.
type sample struct {
	f      *family
	value  float64
	labels []string
}

// Desc implements prometheus.Metric.
func (s *sample) Desc() *prometheus.Desc { return s.f.desc }

// Write implements prometheus.Metric.
func (s *sample) Write(out *dto.Metric) error {
	out.Label = make([]*dto.LabelPair, len(s.labels))
	for i, idx := range s.f.order {
		out.Label[i] = &dto.LabelPair{Name: &s.f.names[idx], Value: &s.labels[idx]}
	}
	v := s.value
	out.Gauge = &dto.Gauge{Value: &v}
	return nil
}
