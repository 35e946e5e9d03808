package callbacks

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/simulator"
	"github.com/imstats/imstats_exporter/internal/tracking"
)

// TestSimulatorCallbacks: the simulator's push callbacks, signed with the
// app's token, are accepted: its task is tracked and its events counted.
func TestSimulatorCallbacks(t *testing.T) {
	t.Parallel()
	const sdkappid = 1400000001
	sim := simulator.NewTencent(simulator.TencentOptions{Apps: []simulator.TencentApp{{SDKAppID: sdkappid, Identifier: "admin", SecretKey: "k"}}, Seed: 1})
	taskID, err := sim.Push(sdkappid, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	set, err := tracking.Open(tracking.Options{Kind: catalog.KindTencentPush, App: testApp, StatePath: filepath.Join(t.TempDir(), "s.json")})
	if err != nil {
		t.Fatal(err)
	}
	r := New(Options{Apps: func(id string) (App, bool) { return App{Token: testToken, Tasks: set}, id == testApp }})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var errs []error
	done := make(chan struct{})
	go func() {
		defer close(done)
		sim.SendCallbacks(ctx, srv.Client(), map[uint64]simulator.CallbackTarget{sdkappid: {URL: srv.URL + Path, Token: testToken}}, time.Millisecond,
			func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() })
	}()
	// Bounded by the test's own timeout if the batches never come.
	for r.Counted(testApp) < taskEventsWanted {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	for _, err := range errs {
		t.Error(err)
	}
	if !set.Tracked(taskID) {
		t.Errorf("the simulator's task %s is not tracked: %v", taskID, set.IDs())
	}
}

// taskEventsWanted is a task's batch and a chat batch.
const taskEventsWanted = 120
