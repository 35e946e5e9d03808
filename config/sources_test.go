package config

import (
	"strings"
	"testing"
	"time"
)

// TestSourceTable checks the table's own consistency and the rows others
// rely on.
func TestSourceTable(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, s := range SourceTable {
		if seen[s.Name] {
			t.Errorf("%s: listed twice", s.Name)
		}
		seen[s.Name] = true
		switch s.Vendor {
		case VendorTencentIM, VendorJPush, VendorJPushGroups:
		default:
			t.Errorf("%s: unknown vendor %q", s.Name, s.Vendor)
		}
		if s.DefaultInterval <= 0 || s.API == "" {
			t.Errorf("%s: interval %v, API %q", s.Name, s.DefaultInterval, s.API)
		}
		if s.ChannelDetail && !s.Queue {
			t.Errorf("%s: per-ID channel detail without tracked IDs", s.Name)
		}
	}
	if len(SourceNames) != len(SourceTable) {
		t.Errorf("SourceNames has %d names, SourceTable %d rows", len(SourceNames), len(SourceTable))
	}
	normal, ok := LookupSource(SourceTencentNormalPush)
	if !ok || normal.Vendor != VendorTencentIM || normal.DefaultInterval != time.Minute || !normal.DefaultEnabled || normal.Queue {
		t.Errorf("tencent_normal_push = %+v, %v", normal, ok)
	}
	if _, ok := LookupSource("nope"); ok {
		t.Error("LookupSource(nope) found a row")
	}
}

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
		{SourceTencentPush, true},
		{SourceJPushReceived, true},
		{SourceJPushMessages, false},
		{SourceJPushGroupMessages, true},
		{SourceJPushUsers, false},
		{SourceTencentNormalPush, false},
		{"nope", false},
	}
	for _, tt := range tests {
		if got := c.ChannelDetail(tt.source); got != tt.want {
			t.Errorf("ChannelDetail(%q) = %v, want %v", tt.source, got, tt.want)
		}
	}
	if !ChannelDetails(nil).On(SourceJPushReceived) {
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
	for _, s := range SourceTable {
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
	if got := c.RefreshIntervals.For(SourceTencentNormalPush); got != 3*time.Minute {
		t.Errorf("tencent_normal_push interval = %v, want 3m", got)
	}
	if c.Sources.Enabled(SourceTencentNormalPush) {
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
		for _, s := range SourceTable {
			if !strings.Contains(text, "  "+s.Name+": ") && !strings.Contains(text, "`"+s.Name+"`") {
				t.Errorf("%s does not document the source %s", doc, s.Name)
			}
		}
	}
}
