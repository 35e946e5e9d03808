package sources

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/jpush"
	"github.com/imstats/imstats_exporter/internal/simulator"
	"github.com/imstats/imstats_exporter/internal/tencentim"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

// TestTableRows checks that every source the configuration knows has a row,
// and that a row's job can be made.
func TestTableRows(t *testing.T) {
	t.Parallel()
	for _, name := range config.SourceNames {
		def, ok := Lookup(name)
		if !ok {
			t.Errorf("no row for source %s", name)
			continue
		}
		if def.Schema == nil || def.New() == nil {
			t.Errorf("%s: no schema or no job", name)
		}
		if info, _ := config.LookupSource(name); info.Queue != (def.IDKind != "") {
			t.Errorf("%s: the configuration says queue %v, the row polls IDs of kind %q", name, info.Queue, def.IDKind)
		}
	}
	if _, ok := Lookup("no_such_source"); ok {
		t.Error("Lookup found an unknown source")
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
		{config.SourceJPushReceived, tracking.KindJPushMessages, jpush.APIReceivedDetail, "jpush_received_detail.json", "1613113584"},
		{config.SourceJPushMessages, tracking.KindJPushMessages, jpush.APIMessagesDetail, "jpush_messages_detail.json", "123456789"},
		{config.SourceJPushGroupMessages, tracking.KindJPushGroupMessages, jpush.APIGroupMessagesDetail, "jpush_group_messages_detail.json", "bsp54sn8bpn8hc3etq40"},
		{config.SourceTencentPush, tracking.KindTencentPush, tencentim.APIPushStatistics, "push_statistics.json", "xxx-yyy-zzz"},
	} {
		t.Run(tc.source, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
			fs := serveFiles(t, map[string]string{tc.api: tc.file})
			cfg := e.config(jpushConfig(fs.url, "appkey", "groupkey", "", ""))
			if tc.kind == tracking.KindTencentPush {
				cfg = e.config(tencentConfig(fs.url, "    push:\n      windows: []\n", ""))
			}
			set := e.set(cfg, tc.kind)
			var u *unit
			switch tc.kind {
			case tracking.KindTencentPush:
				u = e.unit(tc.source, e.tencentApp(cfg, set))
			case tracking.KindJPushGroupMessages:
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
			e.mustStep(u, true)
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
		{config.SourceTencentPush, tracking.KindTencentPush, simulator.TencentPushStatistics, "    push:\n      windows: []\n"},
		{config.SourceJPushStatus, tracking.KindJPushMessages, simulator.JPushStatusMessage, "    canary_registration_ids: [reg0001, reg0002]\n"},
		{config.SourceJPushReceived, tracking.KindJPushMessages, simulator.JPushReceivedDetail, ""},
	} {
		t.Run(tc.source, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, "", nil)
			cfg := r.cfg
			var u *unit
			if tc.kind == tracking.KindTencentPush {
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
			vendor := VendorJPush
			if tc.kind == tracking.KindTencentPush {
				vendor = VendorTencentIM
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
		e.unit(config.SourceTencentOperations, e.tencentApp(e.config(operationsConfig(redirect.URL, simSDKAppID, "")), nil)),
		e.unit(config.SourceJPushUsers, e.jpushApp(e.config(jpushConfig(redirect.URL, simAppKey, simGroupKey, "", "")), nil)),
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
	set := e.set(cfg, tracking.KindJPushMessages)
	var wakes []<-chan struct{}
	for _, source := range []string{config.SourceJPushReceived, config.SourceJPushMessages, config.SourceJPushStatus} {
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
