package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/simulator"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// updatePicture rewrites docs/images/push-funnel.svg instead of comparing it.
var updatePicture = flag.Bool("update-picture", false, "rewrite docs/images/push-funnel.svg from the simulator")

const picturePath = "docs/images/push-funnel.svg"

// fixedClock is a clock that stands still, so that the simulator's rolling
// window, and with it the picture, is the same on every run.
type fixedClock struct{ now time.Time }

func (c fixedClock) Now() time.Time { return c.now }

func (c fixedClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- c.now.Add(d)
	return ch
}

// funnelStage is one stage of the push funnel and its colour in the picture.
type funnelStage struct {
	name, colour string
	count        func(tencentim.PushStats) int64
}

func countOf(c tencentim.Count) int64 {
	if c == nil {
		return 0
	}
	return *c
}

var funnelStages = []funnelStage{
	{"target", "#9db4d6", func(s tencentim.PushStats) int64 { return countOf(s.TotalCount) }},
	{"sent", "#5b8cc9", func(s tencentim.PushStats) int64 { return countOf(s.SentCount) }},
	{"delivered", "#2f6db5", func(s tencentim.PushStats) int64 { return countOf(s.DeliveredCount) }},
	{"clicked", "#e07b39", func(s tencentim.PushStats) int64 { return countOf(s.ClickCount) }},
}

// thousands writes n with a comma between groups of three digits.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// funnelSVG draws the funnel of every channel of a normal_push_statistics
// answer: one bar per stage, as a share of the channel's target.
func funnelSVG(sdkappid uint64, window string, platforms []tencentim.NormalPlatformStats) []byte {
	const (
		width, left, barWidth, rowHeight, top = 880, 90, 500, 44, 80
	)
	height := top + rowHeight*len(platforms) + 40
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n", width, height, width, height)
	b.WriteString("<title>Push delivery funnel per channel (imstats_exporter demo)</title>\n")
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" font-weight="bold">Push delivery funnel per channel: target → sent → delivered → clicked</text>`+"\n", left)
	fmt.Fprintf(&b, `<text x="%d" y="44" fill="#555">From the simulator (the demo's data): tencent_im_normal_push_window_platform_*, sdkappid %d, window %s.</text>`+"\n", left, sdkappid, window)
	fmt.Fprintf(&b, `<text x="%d" y="60" fill="#555">Each bar is a share of the channel's target.</text>`+"\n", left)
	for i, s := range funnelStages {
		x := left + 100*i
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", x, height-28, s.colour, x+16, height-18, s.name)
	}
	for i, p := range platforms {
		y := top + i*rowHeight
		name := tencentim.PlatformName(p.PushPlatform)
		target := funnelStages[0].count(p.PushStats)
		if target <= 0 {
			continue
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-weight="bold">%s</text>`+"\n", left-10, y+22, name)
		for j, s := range funnelStages {
			n := s.count(p.PushStats)
			w := max(1, float64(barWidth)*float64(n)/float64(target))
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="8" fill="%s"><title>%s %s: %s</title></rect>`+"\n", left, y+j*9, w, s.colour, name, s.name, thousands(n))
		}
		delivered := 100 * float64(funnelStages[2].count(p.PushStats)) / float64(target)
		clicked := 100 * float64(funnelStages[3].count(p.PushStats)) / float64(target)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s targeted</text>`+"\n", left+barWidth+12, y+14, thousands(target))
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#2f6db5">%.0f%% delivered, %.1f%% clicked</text>`+"\n", left+barWidth+12, y+30, delivered, clicked)
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// TestFunnelPicture draws the README's picture from the simulator, the
// demo's first app and seed at a fixed time, and checks that the committed
// file is that drawing: go test -run TestFunnelPicture -update-picture .
// rewrites it.
func TestFunnelPicture(t *testing.T) {
	t.Parallel()
	const (
		sdkappid = 1400000001
		key      = "picture-secret-key-0123456789"
		seed     = 20261121 // the demo's
	)
	now := fixedClock{time.Date(2026, 11, 21, 20, 0, 0, 0, time.FixedZone("CST", 8*3600))}
	sim := simulator.NewTencent(simulator.TencentOptions{Apps: []simulator.TencentApp{{SDKAppID: sdkappid, Identifier: "admin", SecretKey: key}}, Seed: seed, Clock: now})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	client := tencentim.New(tencentim.Options{SDKAppID: sdkappid, Identifier: "admin", SecretKey: key, BaseURL: srv.URL, Clock: now})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := client.NormalPushStatistics(ctx, now.now.Add(-24*time.Hour), now.now)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Platforms) == 0 {
		t.Fatal("the simulator answered no channel")
	}
	got := funnelSVG(sdkappid, "24h", res.Platforms)
	if *updatePicture {
		if err := os.WriteFile(picturePath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(picturePath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not the simulator's funnel; rerun with -update-picture", picturePath)
	}
}
