package simulator

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/apierr"
	"github.com/imstats/imstats_exporter/internal/clock"
	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
	"github.com/imstats/imstats_exporter/internal/ratelimit"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// pushRate is the bucket rate of each push statistics API: 1 call/s, spaced
// from the end of the previous call so that arrivals are 1 s apart.
var pushRate = ratelimit.Rate{Interval: time.Second, Burst: 1, MinGap: time.Second}

func TestTencentAPINamesMatchClient(t *testing.T) {
	t.Parallel()
	for sim, client := range map[string]string{
		TencentGetAppInfo:           tencentim.APIGetAppInfo,
		TencentPushStatistics:       tencentim.APIPushStatistics,
		TencentNormalPushStatistics: tencentim.APINormalPushStatistics,
		TencentPushLoss:             tencentim.APIPushLoss,
		TencentNormalPushLoss:       tencentim.APINormalPushLoss,
	} {
		if sim != client {
			t.Errorf("simulator API %q, client API %q", sim, client)
		}
	}
}

// uplink delays every request on a fake clock before sending it: the time a
// request spends on its way to the vendor.
type uplink struct {
	clk   clock.Clock
	next  http.RoundTripper
	mu    sync.Mutex
	delay func(n int) time.Duration // of the nth request, from 0
	n     int
}

func (u *uplink) RoundTrip(r *http.Request) (*http.Response, error) {
	u.mu.Lock()
	d := u.delay(u.n)
	u.n++
	u.mu.Unlock()
	if d > 0 {
		select {
		case <-u.clk.After(d):
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return u.next.RoundTrip(r)
}

// drive advances the fake clock by step whenever something waits on it,
// until stop is closed: the clients' waits and latencies pass, and time
// stands still while requests are handled.
func drive(clk *clocktest.Fake, step time.Duration, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		if clk.Waiters() > 0 {
			clk.Advance(step)
		} else {
			time.Sleep(50 * time.Microsecond)
		}
	}
}

// pacedClient returns a client of the harness whose requests take delay on
// their way and whose buckets, one per API, have rate r.
func (h *harness) pacedClient(r ratelimit.Rate, delay func(int) time.Duration) *tencentim.Client {
	var mu sync.Mutex
	buckets := map[string]*ratelimit.Bucket{}
	return tencentim.New(tencentim.Options{
		SDKAppID: testApp, Identifier: "admin", SecretKey: testKey, BaseURL: h.srv.URL, Clock: h.clk,
		HTTPClient: &http.Client{Transport: &uplink{clk: h.clk, next: h.srv.Client().Transport, delay: delay}},
		Limiter: func(api string) *ratelimit.Bucket {
			mu.Lock()
			defer mu.Unlock()
			b, ok := buckets[api]
			if !ok {
				b = ratelimit.New(h.clk, r)
				buckets[api] = b
			}
			return b
		},
	})
}

// jitter is a latency between 0 and max that varies from request to request,
// determined by n.
func jitter(n int, max time.Duration) time.Duration {
	return time.Duration(unit(testSeed, uint64(n)) * float64(max))
}

// TestTencentPushPacing runs the push statistics and push loss APIs of one
// app at once,
// from several goroutines each, with a latency that varies from request to
// request. Buckets that space grants only let a call arrive right behind a
// slow one (the 64 ms gaps and the 60007 answers of the issue); buckets with
// a MinGap keep every arrival of either API 1 s or more after the previous
// one.
func TestTencentPushPacing(t *testing.T) {
	t.Parallel()
	const callsPerAPI = 24
	for _, tc := range []struct {
		name        string
		rate        ratelimit.Rate
		wantSpacing bool
	}{
		{"spaced from the end of the previous call", pushRate, true},
		{"grants spaced only", ratelimit.Rate{Interval: time.Second, Burst: 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHarness(t)
			// The answer also takes its time (the vendor's processing and
			// the way back).
			h.sim.SetFault(TencentNormalPushStatistics, &Fault{Delay: 120 * time.Millisecond})
			c := h.pacedClient(tc.rate, func(n int) time.Duration { return jitter(n, 900*time.Millisecond) })
			stop := make(chan struct{})
			go drive(h.clk, 10*time.Millisecond, stop)
			var wg sync.WaitGroup
			calls := map[string]func() error{
				TencentNormalPushStatistics: func() error {
					now := h.clk.Now()
					_, err := c.NormalPushStatistics(context.Background(), now.Add(-24*time.Hour), now)
					return err
				},
				TencentPushStatistics: func() error {
					now := h.clk.Now()
					_, err := c.PushStatistics(context.Background(), now.Add(-24*time.Hour), now, nil)
					return err
				},
				TencentPushLoss: func() error {
					now := h.clk.Now()
					_, err := c.PushLoss(context.Background(), now.Add(-24*time.Hour), now, nil)
					return err
				},
				TencentNormalPushLoss: func() error {
					now := h.clk.Now()
					_, err := c.NormalPushLoss(context.Background(), now.Add(-24*time.Hour), now)
					return err
				},
			}
			var mu sync.Mutex
			var errs []error
			for _, call := range calls {
				for range 3 { // three callers share each API's bucket
					wg.Go(func() {
						for range callsPerAPI / 3 {
							if err := call(); err != nil {
								mu.Lock()
								errs = append(errs, err)
								mu.Unlock()
							}
						}
					})
				}
			}
			wg.Wait()
			close(stop)
			for api := range calls {
				a := h.sim.Arrivals(api, testApp)
				if a.Count != callsPerAPI {
					t.Errorf("%s: %d calls arrived, want %d", api, a.Count, callsPerAPI)
				}
				spaced := a.MinGap >= time.Second && a.RateLimited == 0
				if spaced != tc.wantSpacing {
					t.Errorf("%s: arrivals at least %v apart, %d answered 60007; want spaced by 1 s: %v", api, a.MinGap, a.RateLimited, tc.wantSpacing)
				}
			}
			if tc.wantSpacing && len(errs) != 0 {
				t.Errorf("%d calls failed, the first with %v", len(errs), errs[0])
			}
		})
	}
}

// TestTencentPushPacingFloor checks that spacing calls from their end costs
// little: 600 calls with a latency of up to 100 ms take at most 1.1 times
// the vendor's floor of 600 s.
func TestTencentPushPacingFloor(t *testing.T) {
	t.Parallel()
	const calls = 600
	h := newTestHarness(t)
	c := h.pacedClient(pushRate, func(n int) time.Duration { return jitter(n, 100*time.Millisecond) })
	stop := make(chan struct{})
	defer close(stop)
	go drive(h.clk, 10*time.Millisecond, stop)
	start := h.clk.Now()
	for i := range calls {
		now := h.clk.Now()
		if _, err := c.NormalPushStatistics(context.Background(), now.Add(-time.Hour), now); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	took := h.clk.Now().Sub(start)
	t.Logf("%d calls took %v of fake time", calls, took)
	if limit := time.Duration(1.1 * calls * float64(time.Second)); took > limit {
		t.Errorf("%d calls took %v of fake time, want at most %v", calls, took, limit)
	}
	if a := h.sim.Arrivals(TencentNormalPushStatistics, testApp); a.Count != calls || a.MinGap < time.Second || a.RateLimited != 0 {
		t.Errorf("arrivals %+v, want %d at least 1 s apart and none refused", a, calls)
	}
}

// TestTencentNormalPushClientFaults is the fault matrix of
// normal_push_statistics as the client sees it.
func TestTencentNormalPushClientFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		fault     *Fault
		app       uint64
		wantClass apierr.Class
		wantCode  string
	}{
		{"push not enabled", nil, disabledApp, apierr.Unavailable, "90045"},
		{"not enabled, by fault", &Fault{ErrorCode: 90045}, testApp, apierr.Unavailable, "90045"},
		{"no admin permission", &Fault{ErrorCode: 90009}, testApp, apierr.Unavailable, "90009"},
		{"rate limited", &Fault{ErrorCode: 60007}, testApp, apierr.RateLimited, "60007"},
		{"UserSig locked", &Fault{ErrorCode: 70050}, testApp, apierr.RateLimited, "70050"},
		{"wrong region", &Fault{ErrorCode: 70020}, testApp, apierr.WrongRegion, "70020"},
		{"gateway error", &Fault{HTTPStatus: http.StatusBadGateway, Body: []byte("<html>502</html>")}, testApp, apierr.Transient, "502"},
		{"garbage", &Fault{Body: []byte(`{"ErrorCode":0,"PlatformStatistics":[{`)}, testApp, apierr.InvalidResponse, apierr.CodeInvalidResponse},
		{"truncated", &Fault{Truncate: true}, testApp, apierr.Transient, apierr.CodeNetwork},
		{"reset", &Fault{Reset: true}, testApp, apierr.Transient, apierr.CodeNetwork},
		{"oversize", &Fault{Oversize: 2 << 20}, testApp, apierr.InvalidResponse, apierr.CodeInvalidResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHarness(t)
			h.sim.SetFault(TencentNormalPushStatistics, tc.fault)
			c := tencentim.New(tencentim.Options{
				SDKAppID: tc.app, Identifier: "admin", SecretKey: testKey, BaseURL: h.srv.URL, Clock: h.clk,
				HTTPClient: h.srv.Client(), MaxResponseBytes: 1 << 20,
			})
			now := h.clk.Now()
			_, err := c.NormalPushStatistics(context.Background(), now.Add(-time.Hour), now)
			var e *apierr.Error
			if !errors.As(err, &e) || e.Class != tc.wantClass || e.Code != tc.wantCode {
				t.Errorf("error %v, want class %v, code %s", err, tc.wantClass, tc.wantCode)
			}
			if a := h.sim.Arrivals(TencentNormalPushStatistics, tc.app); a.Count != 1 {
				t.Errorf("%d calls arrived, want 1", a.Count)
			}
		})
	}

	// Without a fault the client reads what the simulator answers.
	h := newTestHarness(t)
	c := tencentim.New(tencentim.Options{SDKAppID: testApp, Identifier: "admin", SecretKey: testKey, BaseURL: h.srv.URL, Clock: h.clk, HTTPClient: h.srv.Client()})
	now := h.clk.Now()
	r, err := c.NormalPushStatistics(context.Background(), now.Add(-24*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	if r.TotalCount == nil || *r.TotalCount == 0 || len(r.Platforms) != len(offlineChannels) || r.Platforms[0].PushPlatform != 1 {
		t.Errorf("result %+v, want the offline channels' figures", r)
	}
}

// TestTencentPushLossClient reads the simulator's loss answers with the
// client: a task's losses add up to what its statistics miss, and requests
// the pages forbid (6 TaskIDs, 7 days and a second) never arrive.
func TestTencentPushLossClient(t *testing.T) {
	t.Parallel()
	h := newTestHarness(t)
	id := h.push(t, testApp, 24*time.Hour)
	h.clk.Advance(time.Hour)
	c := tencentim.New(tencentim.Options{SDKAppID: testApp, Identifier: "admin", SecretKey: testKey, BaseURL: h.srv.URL, Clock: h.clk, HTTPClient: h.srv.Client()})
	now := h.clk.Now()
	stats, err := c.PushStatistics(context.Background(), now.Add(-24*time.Hour), now, []string{id})
	if err != nil || len(stats) != 1 {
		t.Fatalf("statistics: %v, %v", stats, err)
	}
	loss, err := c.PushLoss(context.Background(), now.Add(-tencentim.MaxLossWindow), now, []string{id})
	if err != nil || len(loss) != 1 || loss[0].TaskID != id || loss[0].Skipped != 0 {
		t.Fatalf("loss: %+v, %v", loss, err)
	}
	var lost int64
	for _, es := range [][]tencentim.LossEntry{loss[0].NotSent, loss[0].NotDelivered} {
		for _, e := range es {
			lost += e.Count
		}
	}
	if want := *stats[0].TotalCount - *stats[0].DeliveredCount; lost != want {
		t.Errorf("lost %d, want target − delivered = %d", lost, want)
	}
	normal, err := c.NormalPushLoss(context.Background(), now.Add(-tencentim.MaxLossWindow), now)
	if err != nil || len(normal.NotSent) == 0 || len(normal.PlatformNotDelivered) == 0 || normal.Skipped != 0 {
		t.Errorf("normal_push_loss: %+v, %v", normal, err)
	}
	before := h.sim.Arrivals(TencentPushLoss, testApp).Count
	if _, err := c.PushLoss(context.Background(), now.Add(-time.Hour), now, []string{"a", "b", "c", "d", "e", "f"}); apierr.ClassOf(err) != apierr.Fatal {
		t.Errorf("6 TaskIDs: %v, want refused", err)
	}
	if _, err := c.PushLoss(context.Background(), now.Add(-tencentim.MaxLossWindow-time.Second), now, nil); apierr.ClassOf(err) != apierr.Fatal {
		t.Errorf("7 days and a second: %v, want refused", err)
	}
	if _, err := c.NormalPushLoss(context.Background(), now.Add(-tencentim.MaxLossWindow-time.Second), now); apierr.ClassOf(err) != apierr.Fatal {
		t.Errorf("chat pushes, 7 days and a second: %v, want refused", err)
	}
	if n := h.sim.Arrivals(TencentPushLoss, testApp).Count - before; n != 0 {
		t.Errorf("%d refused requests arrived", n)
	}
}
