package sources

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imstats/imstats_exporter/config"
	"github.com/imstats/imstats_exporter/internal/clock"
)

// TestVendorRedirectsAreNotFollowed: a vendor (or a proxy in its place) that
// redirects does not get the credentials sent on to the redirect's target.
func TestVendorRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var followed []string
	elsewhere := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		followed = append(followed, r.Header.Get("Authorization"))
	}))
	defer elsewhere.Close()
	vendor := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/steal", http.StatusFound))
	defer vendor.Close()

	cfg := config.DefaultConfig
	d := Deps{Clock: clock.Real{}, APIMetrics: NewAPIMetrics(prometheus.NewRegistry()), Limiters: NewLimiters(clock.Real{})}
	client, _ := NewJPushClient(&cfg, config.JPushApp{AppKey: "7d431e42dfa6a6d693ac2d04", MasterSecret: "master-secret", Endpoint: vendor.URL, RequestsPerMinute: 60}, d)
	if _, err := client.ReceivedDetail(context.Background(), []string{"1613113584"}); err == nil {
		t.Error("a redirect was taken for an answer")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(followed) != 0 {
		t.Errorf("the redirect was followed, with credentials %q", followed)
	}
}
