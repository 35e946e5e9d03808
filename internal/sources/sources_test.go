package sources

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/jpush"
	"github.com/imstats/imstats_exporter/internal/simulator"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// TestCatalogJobs checks that every source of the catalog has a builder
// and every builder a row, and that each row's job can be made.
func TestCatalogJobs(t *testing.T) {
	t.Parallel()
	if err := Check(); err != nil {
		t.Fatal(err)
	}
	if len(Defs()) != len(catalog.Sources) {
		t.Fatalf("%d sources have a job, the catalog has %d", len(Defs()), len(catalog.Sources))
	}
	for _, d := range Defs() {
		if d.New() == nil {
			t.Errorf("%s: the builder makes no job", d.Name)
		}
		if d.Needs != nil && d.Section != catalog.SectionJPush {
			t.Errorf("%s: Needs looks at a JPush app, the source serves %s", d.Name, d.Section)
		}
	}
}

// TestCheckBothWays checks that Check's rule fails on a catalog row without
// a builder and on a builder without a row.
func TestCheckBothWays(t *testing.T) {
	t.Parallel()
	b := Builder{Schema: builders[catalog.SourceJPushUsers].Schema, New: func() Job { return &users{} }}
	rows := []catalog.Source{{Name: "a"}, {Name: "b"}}
	if err := check(rows, map[string]Builder{"a": b, "b": b}); err != nil {
		t.Errorf("matching rows and builders: %v", err)
	}
	if err := check(rows, map[string]Builder{"a": b}); err == nil || !strings.Contains(err.Error(), "source b of the catalog has no job builder") {
		t.Errorf("a row without a builder: %v", err)
	}
	if err := check(rows[:1], map[string]Builder{"a": b, "b": b}); err == nil || !strings.Contains(err.Error(), "job builder b has no row") {
		t.Errorf("a builder without a row: %v", err)
	}
	if err := check(rows[:1], map[string]Builder{"a": {New: b.New}}); err == nil {
		t.Error("a builder without a schema passed")
	}
}

// TestQueueSourcesIdleUntilSomethingIsTracked steps the message and task
// sources with nothing tracked: no call, a wait, and a wake once an ID is
// registered, after which it is asked at once.
func TestQueueSourcesIdleUntilSomethingIsTracked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		source, kind, api, file, id string
	}{
		{catalog.SourceJPushReceived, catalog.KindJPushMessages, jpush.APIReceivedDetail, "jpush_received_detail.json", "1613113584"},
		{catalog.SourceJPushMessages, catalog.KindJPushMessages, jpush.APIMessagesDetail, "jpush_messages_detail.json", "123456789"},
		{catalog.SourceJPushGroupMessages, catalog.KindJPushGroupMessages, jpush.APIGroupMessagesDetail, "jpush_group_messages_detail.json", "bsp54sn8bpn8hc3etq40"},
		{catalog.SourceTencentPush, catalog.KindTencentPush, tencentim.APIPushStatistics, "push_statistics.json", "xxx-yyy-zzz"},
	} {
		t.Run(tc.source, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
			fs := serveFiles(t, map[string]string{tc.api: tc.file})
			cfg := e.config(jpushConfig(fs.url, "appkey", "groupkey", "", ""))
			if tc.kind == catalog.KindTencentPush {
				cfg = e.config(tencentConfig(fs.url, "    push:\n      windows: []\n", ""))
			}
			set := e.set(cfg, tc.kind)
			var u *unit
			switch tc.kind {
			case catalog.KindTencentPush:
				u = e.unit(tc.source, e.tencentApp(cfg, set))
			case catalog.KindJPushGroupMessages:
				u = e.unit(tc.source, e.groupApp(cfg, set))
			default:
				u = e.unit(tc.source, e.jpushApp(cfg, set))
			}
			if w := e.mustStep(u, false); w <= 0 || len(fs.requests()) != 0 {
				t.Fatalf("with nothing tracked: %d requests, wait %v; want none and a wait", len(fs.requests()), w)
			}
			wake := u.job.Wake()
			e.add(set, time.Time{}, tc.id)
			select {
			case <-wake:
			default:
				t.Fatal("registering an ID did not wake the job")
			}
			// The change came within minSyncGap of the last read of the set:
			// the step waits for the next read instead of sorting the set
			// again at once, and no wake channel fires meanwhile.
			if w := e.mustStep(u, true); w > minSyncGap || len(fs.requests()) != 0 {
				t.Fatalf("woken right after a read: %d requests, wait %v; want none and a wait of at most %v", len(fs.requests()), w, minSyncGap)
			}
			if u.job.Wake() != nil {
				t.Fatal("a pending change left a wake channel to spin on")
			}
			e.fc.Advance(minSyncGap)
			e.mustStep(u, false)
			if len(fs.requests()) != 1 || len(series(t, render(t, u.target))) == 0 {
				t.Fatalf("after registering %s: %d requests, snapshot:\n%s", tc.id, len(fs.requests()), render(t, u.target))
			}
		})
	}
}

// TestFailedBatchKeepsValues fails a batch of tracked IDs: the step reports
// the error, the IDs keep their values and are asked again at the next step.
func TestFailedBatchKeepsValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		source, kind, api, app string
	}{
		{catalog.SourceTencentPush, catalog.KindTencentPush, simulator.TencentPushStatistics, "    push:\n      windows: []\n"},
		{catalog.SourceJPushStatus, catalog.KindJPushMessages, simulator.JPushStatusMessage, "    canary_registration_ids: [reg0001, reg0002]\n"},
		{catalog.SourceJPushReceived, catalog.KindJPushMessages, simulator.JPushReceivedDetail, ""},
	} {
		t.Run(tc.source, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, "", nil)
			cfg := r.cfg
			var u *unit
			if tc.kind == catalog.KindTencentPush {
				cfg = r.config(tencentConfig(cfg.TencentIM[0].Endpoint, tc.app, ""))
				u = r.unit(tc.source, r.tencentApp(cfg, r.sets[tc.kind]))
			} else {
				cfg = r.config(jpushConfig(cfg.JPush[0].Endpoint, simAppKey, simGroupKey, tc.app, ""))
				u = r.unit(tc.source, r.jpushApp(cfg, r.sets[tc.kind]))
			}
			r.round(u)
			good := series(t, render(t, u.target))
			if len(good) == 0 {
				t.Fatal("no series after the first round")
			}
			vendor := catalog.VendorJPush
			if tc.kind == catalog.KindTencentPush {
				vendor = catalog.VendorTencentIM
			}
			r.setFault(vendor, tc.api, &simulator.Fault{HTTPStatus: http.StatusServiceUnavailable})
			r.fc.Advance(time.Hour)
			if _, err := r.step(u, false); apierr.ClassOf(err) != apierr.Transient {
				t.Fatalf("a 503: err %v, want a transient error", err)
			}
			if got := series(t, render(t, u.target)); !maps.Equal(got, good) {
				t.Fatalf("the failed batch changed the series:\n got %v\nwant %v", got, good)
			}
			calls := r.calls(tc.api)
			r.setFault(vendor, tc.api, nil)
			r.mustStep(u, false)
			if r.calls(tc.api) != calls+1 {
				t.Fatalf("the failed batch was not asked again at once")
			}
		})
	}
}

// TestNoRedirects points an app at a server that redirects to another: the
// client does not follow, so that the credentials never reach the other
// host.
func TestNoRedirects(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirect.Close)
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	for _, u := range []*unit{
		e.unit(catalog.SourceTencentOperations, e.tencentApp(e.config(operationsConfig(redirect.URL, simSDKAppID, "")), nil)),
		e.unit(catalog.SourceJPushUsers, e.jpushApp(e.config(jpushConfig(redirect.URL, simAppKey, simGroupKey, "", "")), nil)),
	} {
		if _, err := e.step(u, false); err == nil {
			t.Errorf("%s: a redirect was taken for an answer", u.def.Name)
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("%d requests followed the redirect to another host", n)
	}
}

// TestOneRegistrationWakesEverySource registers a message that three
// sources of one app poll: each of them is woken.
func TestOneRegistrationWakesEverySource(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	fs := serveFiles(t, nil)
	cfg := e.config(jpushConfig(fs.url, "appkey", "groupkey", "    canary_registration_ids: [reg0001]\n", ""))
	set := e.set(cfg, catalog.KindJPushMessages)
	var wakes []<-chan struct{}
	for _, source := range []string{catalog.SourceJPushReceived, catalog.SourceJPushMessages, catalog.SourceJPushStatus} {
		u := e.unit(source, e.jpushApp(cfg, set))
		e.mustStep(u, false)
		wakes = append(wakes, u.job.Wake())
	}
	e.add(set, time.Time{}, "1613113584")
	for i, w := range wakes {
		select {
		case <-w:
		default:
			t.Errorf("source %d was not woken", i)
		}
	}
}
