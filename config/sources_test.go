package config

import (
	"strings"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/catalog"
)

// TestChannelDetail checks the default, the switch, and sources that have
// no per-ID detail.
func TestChannelDetail(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte("jpush: [{app_key: k, master_secret: s}]\nchannel_detail:\n  jpush_messages: false\n  tencent_push: true\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		source string
		want   bool
	}{
		{catalog.SourceTencentPush, true},
		{catalog.SourceJPushReceived, true},
		{catalog.SourceJPushMessages, false},
		{catalog.SourceJPushGroupMessages, true},
		{catalog.SourceJPushUsers, false},
		{catalog.SourceTencentNormalPush, false},
		{"nope", false},
	}
	for _, tt := range tests {
		if got := c.ChannelDetail(tt.source); got != tt.want {
			t.Errorf("ChannelDetail(%q) = %v, want %v", tt.source, got, tt.want)
		}
	}
	if !ChannelDetails(nil).On(catalog.SourceJPushReceived) {
		t.Error("an empty channel_detail turns jpush_received's detail off")
	}
}

// TestNewSourceDefaults checks that a source added as a row of the table
// gets its keys, defaults and documentation without more code.
func TestNewSourceDefaults(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte("tencent_im: [{sdkappid: 1, secret_key: s}]\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range catalog.Sources {
		if got := c.RefreshIntervals.For(s.Name); got != s.DefaultInterval {
			t.Errorf("For(%q) = %v, want %v", s.Name, got, s.DefaultInterval)
		}
		if got := c.Sources.Enabled(s.Name); got != s.DefaultEnabled {
			t.Errorf("Enabled(%q) = %v, want %v", s.Name, got, s.DefaultEnabled)
		}
		if _, ok := c.ChannelDetails[s.Name]; ok != s.ChannelDetail {
			t.Errorf("channel_detail has %q: %v, want %v", s.Name, ok, s.ChannelDetail)
		}
	}
	c, err = Parse([]byte("tencent_im: [{sdkappid: 1, secret_key: s}]\nrefresh_intervals: {tencent_normal_push: 3m}\nsources: {tencent_normal_push: false}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.RefreshIntervals.For(catalog.SourceTencentNormalPush); got != 3*time.Minute {
		t.Errorf("tencent_normal_push interval = %v, want 3m", got)
	}
	if c.Sources.Enabled(catalog.SourceTencentNormalPush) {
		t.Error("tencent_normal_push is on, want off")
	}
}

// TestDocumentedSources checks that exporter.yml and the configuration
// reference (docs/configuration.md, where the README's source table moved)
// name every source of the table.
func TestDocumentedSources(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{"../exporter.yml", "../docs/configuration.md"} {
		text := readFile(t, doc)
		for _, s := range catalog.Sources {
			if !strings.Contains(text, "  "+s.Name+": ") && !strings.Contains(text, "`"+s.Name+"`") {
				t.Errorf("%s does not document the source %s", doc, s.Name)
			}
		}
	}
}
