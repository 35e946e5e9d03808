package backfill

import (
	"strings"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/expo"
	dto "github.com/prometheus/client_model/go"
)

func TestOpenMetrics(t *testing.T) {
	t.Parallel()
	users := expo.NewFamily("b_users", "Users per app.", "app")
	info := expo.NewFamily("a_info", "Names; value 1.", "app", "name")
	gauge := func(f *expo.Family, v float64, labels ...string) expo.Sample {
		return f.Gauge(v, labels...)
	}
	// Each batch is written over a day every 12 hours: 1.7950176e+09,
	// 1.7950608e+09 for day1; expfmt writes the seconds in the shortest
	// float form.
	day1 := time.Date(2026, 11, 19, 0, 0, 0, 0, time.FixedZone("Asia/Shanghai", 8*60*60))
	day2 := day1.AddDate(0, 0, 1)
	type batch struct {
		from    time.Time
		metrics []expo.Sample
	}
	job := "job"
	imstats := "imstats"
	for _, tc := range []struct {
		name    string
		batches []batch
		extra   []*dto.LabelPair
		want    string
	}{
		{
			name: "families by name, series by labels, samples by time, timestamps in seconds",
			batches: []batch{
				{day2, []expo.Sample{gauge(users, 20, "y"), gauge(users, 2000, "x"), gauge(info, 1, "x", "X")}},
				{day1, []expo.Sample{gauge(users, 10, "y"), gauge(users, 1000, "x"), gauge(info, 1, "x", "X")}},
			},
			want: `# HELP a_info Names; value 1.
# TYPE a_info gauge
a_info{app="x",name="X"} 1.0 1.7950176e+09
a_info{app="x",name="X"} 1.0 1.7950608e+09
a_info{app="x",name="X"} 1.0 1.795104e+09
a_info{app="x",name="X"} 1.0 1.7951472e+09
# HELP b_users Users per app.
# TYPE b_users gauge
b_users{app="x"} 1000.0 1.7950176e+09
b_users{app="x"} 1000.0 1.7950608e+09
b_users{app="x"} 2000.0 1.795104e+09
b_users{app="x"} 2000.0 1.7951472e+09
b_users{app="y"} 10.0 1.7950176e+09
b_users{app="y"} 10.0 1.7950608e+09
b_users{app="y"} 20.0 1.795104e+09
b_users{app="y"} 20.0 1.7951472e+09
# EOF
`,
		},
		{
			name:    "extra labels merged in name order",
			batches: []batch{{day1, []expo.Sample{gauge(users, 10, "y")}}},
			extra:   []*dto.LabelPair{{Name: &job, Value: &imstats}},
			want: `# HELP b_users Users per app.
# TYPE b_users gauge
b_users{app="y",job="imstats"} 10.0 1.7950176e+09
b_users{app="y",job="imstats"} 10.0 1.7950608e+09
# EOF
`,
		},
		{
			name:    "label values escaped",
			batches: []batch{{day1, []expo.Sample{gauge(info, 1, "x", "say \"hi\"\\\nbye")}}},
			want: `# HELP a_info Names; value 1.
# TYPE a_info gauge
a_info{app="x",name="say \"hi\"\\\nbye"} 1.0 1.7950176e+09
a_info{app="x",name="say \"hi\"\\\nbye"} 1.0 1.7950608e+09
# EOF
`,
		},
		{
			name: "nothing added: only the end marker",
			want: "# EOF\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOpenMetrics()
			for _, b := range tc.batches {
				if err := o.add(b.from, b.from.AddDate(0, 0, 1), 12*time.Hour, b.metrics, tc.extra); err != nil {
					t.Fatal(err)
				}
			}
			var out strings.Builder
			n, err := o.WriteTo(&out)
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", out.String(), tc.want)
			}
			if n != int64(out.Len()) {
				t.Errorf("WriteTo reported %d bytes, wrote %d", n, out.Len())
			}
		})
	}
}

func TestOpenMetricsRefusesARepeatedSeries(t *testing.T) {
	t.Parallel()
	m := expo.NewFamily("a_users", "Users.", "app").Gauge(1, "x")
	at := time.Unix(1700000000, 0)
	if err := newOpenMetrics().add(at, at.Add(time.Hour), time.Hour, []expo.Sample{m, m}, nil); err == nil {
		t.Fatal("a series given twice for one time was accepted")
	}
	name, value := "app", "other"
	if err := newOpenMetrics().add(at, at.Add(time.Hour), time.Hour, []expo.Sample{m}, []*dto.LabelPair{{Name: &name, Value: &value}}); err == nil || !strings.Contains(err.Error(), `label "app" is a label of a_users already`) {
		t.Fatalf("an extra label clashing with the metric's: err = %v", err)
	}
}
