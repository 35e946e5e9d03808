package memlimit

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMonitorLogsOncePerChangeOfState(t *testing.T) {
	var logs bytes.Buffer
	m := NewMonitor(log.NewLogfmtLogger(&logs))
	live := uint64(0)
	m.read = func() (uint64, uint64) { return live, 1000 }
	for _, l := range []uint64{500, 810, 900, 790, 760, 740, 700, 850} {
		live = l
		m.Check()
	}
	got := logs.String()
	if n := strings.Count(got, "past 80%"); n != 2 {
		t.Fatalf("%d warnings, want 2 (810 and again 850 after 740):\n%s", n, got)
	}
	if n := strings.Count(got, "back under 75%"); n != 1 {
		t.Fatalf("%d all-clears, want 1:\n%s", n, got)
	}
}

func TestMonitorIsQuietWithoutACeiling(t *testing.T) {
	var logs bytes.Buffer
	m := NewMonitor(log.NewLogfmtLogger(&logs))
	m.read = func() (uint64, uint64) { return 1 << 40, 1<<63 - 1 }
	m.Check()
	if logs.Len() != 0 {
		t.Fatalf("logged without a ceiling: %s", logs.String())
	}
}

func TestMonitorExportsTheLimitAndTheLiveHeap(t *testing.T) {
	m := NewMonitor(log.NewNopLogger())
	m.read = func() (uint64, uint64) { return 123, 456 }
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)
	want := `# HELP imstats_exporter_heap_live_bytes Heap bytes the last garbage collection found in use: the exporter's working set.
# TYPE imstats_exporter_heap_live_bytes gauge
imstats_exporter_heap_live_bytes 123
# HELP imstats_exporter_memory_limit_bytes The Go runtime's soft memory limit (a ceiling; see --runtime.memory-limit); 9.22e18 when there is none.
# TYPE imstats_exporter_memory_limit_bytes gauge
imstats_exporter_memory_limit_bytes 456
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

func TestCgroupLimit(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]int64{"max\n": 0, "536870912\n": 536870912, "junk": 0} {
		p := filepath.Join(dir, "memory.max")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := cgroupLimit(p); got != want {
			t.Errorf("%q: %d, want %d", content, got, want)
		}
	}
	if got := cgroupLimit(filepath.Join(dir, "absent")); got != 0 {
		t.Errorf("absent file: %d", got)
	}
}
