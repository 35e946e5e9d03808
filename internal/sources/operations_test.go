package sources

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/catalog"
)

// bodyServer answers every request with the body last set.
type bodyServer struct {
	url  string
	body atomic.Pointer[[]byte]
}

func serveBody(t testing.TB) *bodyServer {
	t.Helper()
	s := &bodyServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*s.body.Load())
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

// setFile serves a file of the samples.
func (s *bodyServer) setFile(t testing.TB, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samples, name))
	if err != nil {
		t.Fatal(err)
	}
	s.body.Store(&b)
}

func (s *bodyServer) set(body string) {
	b := []byte(body)
	s.body.Store(&b)
}

// operationsConfig is a configuration of one Tencent app at url.
func operationsConfig(url string, sdkappid uint64, top string) string {
	return fmt.Sprintf("tencent_im:\n  - sdkappid: %d\n    secret_key: %q\n    endpoint: %s\n%s", sdkappid, simKey, url, top)
}

const seedAppID = 1104620500 // the AppId of the getappinfo sample

func TestTencentOperationsSeedSample(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	s := serveBody(t)
	s.setFile(t, "getappinfo.json")
	cfg := e.config(operationsConfig(s.url, seedAppID, ""))
	u := e.unit(catalog.SourceTencentOperations, e.tencentApp(cfg, nil))
	if w := e.mustStep(u, false); w != 10*time.Minute {
		t.Errorf("wait %v after a step, want the 10m interval", w)
	}
	expectFile(t, u.target, "getappinfo.prom")
}

func TestTencentOperationsMessyValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	s := serveBody(t)
	s.setFile(t, "getappinfo_messy.json")
	cfg := e.config(operationsConfig(s.url, simSDKAppID, "timezone: UTC\n"))
	u := e.unit(catalog.SourceTencentOperations, e.tencentApp(cfg, nil))
	e.mustStep(u, false)
	// The latest valid Date wins; numbers sent as numbers and padded strings
	// are read; n/a, null and an out-of-range value give no series.
	want := `# HELP tencent_im_active_users Active users on the day (getappinfo ActiveUserNum).
# TYPE tencent_im_active_users gauge
tencent_im_active_users{sdkappid="1400000000"} 2014
# HELP tencent_im_downstream_messages Downstream one-to-one and group messages on the day (getappinfo DownMsgNum).
# TYPE tencent_im_downstream_messages gauge
tencent_im_downstream_messages{sdkappid="1400000000"} 42
# HELP tencent_im_operations_day_timestamp_seconds Start of the day (in the configured timezone) the tencent_im operations values are for (getappinfo Date).
# TYPE tencent_im_operations_day_timestamp_seconds gauge
tencent_im_operations_day_timestamp_seconds{sdkappid="1400000000"} 1.4652576e+09
`
	if got, want := normalize(t, render(t, u.target)), normalize(t, want); got != want {
		t.Fatalf("snapshot:\n%s\nwant:\n%s", got, want)
	}
	const warning = "fields=MaxOnlineNum,UpMsgNum"
	if n := e.logs.lines(warning); n != 1 {
		t.Fatalf("the unparsable fields were warned about %d times, want once:\n%s", n, e.logs)
	}
	// The same problem on the next step is not logged again; once it is
	// gone and back, it is.
	e.mustStep(u, false)
	if n := e.logs.lines(warning); n != 1 {
		t.Fatalf("a repeated problem was warned about again:\n%s", e.logs)
	}
	s.set(`{"ActionStatus":"OK","ErrorCode":0,"Result":[{"Date":"20160607","ActiveUserNum":"1"}]}`)
	e.mustStep(u, false)
	s.setFile(t, "getappinfo_messy.json")
	e.mustStep(u, false)
	if n := e.logs.lines(warning); n != 2 {
		t.Fatalf("a problem back after a clean answer was warned about %d times in all, want twice:\n%s", n, e.logs)
	}
}

func TestTencentOperationsEmptyResultKeepsTheSnapshot(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	s := serveBody(t)
	s.setFile(t, "getappinfo.json")
	cfg := e.config(operationsConfig(s.url, seedAppID, ""))
	u := e.unit(catalog.SourceTencentOperations, e.tencentApp(cfg, nil))
	e.mustStep(u, false)
	before := render(t, u.target)
	for _, body := range []string{
		`{"ErrorCode":0,"ErrorInfo":"OK","Result":[]}`,
		`{"ErrorCode":0,"ErrorInfo":"OK"}`,
		`{"ErrorCode":0,"ErrorInfo":"OK","Result":[{"Date":"20991231","ActiveUserNum":"1"}]}`, // no complete day
	} {
		s.set(body)
		if _, err := e.step(u, false); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if got := render(t, u.target); got != before {
			t.Fatalf("after %s the snapshot changed:\n%s", body, got)
		}
	}
}

func TestTencentOperationsAnotherApp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	s := serveBody(t)
	s.setFile(t, "getappinfo.json") // the rows of AppId 1104620500
	cfg := e.config(operationsConfig(s.url, simSDKAppID, ""))
	u := e.unit(catalog.SourceTencentOperations, e.tencentApp(cfg, nil))
	_, err := e.step(u, false)
	if apierr.ClassOf(err) != apierr.WrongApp {
		t.Fatalf("rows of another AppId: err %v, want class %v", err, apierr.WrongApp)
	}
	if got := render(t, u.target); strings.TrimSpace(got) != "" {
		t.Fatalf("rows of another app were exported:\n%s", got)
	}
}
