package catalog

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

var update = flag.Bool("update", false, "rewrite mixin/sources.libsonnet and the documentation's sources tables from the catalog")

// TestSources checks the table's own consistency.
func TestSources(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, s := range Sources {
		if seen[s.Name] {
			t.Errorf("%s: listed twice", s.Name)
		}
		seen[s.Name] = true
		switch s.Section {
		case SectionTencentIM:
			if s.Vendor != VendorTencentIM {
				t.Errorf("%s: section %s, vendor %s", s.Name, s.Section, s.Vendor)
			}
		case SectionJPush, SectionJPushGroups:
			if s.Vendor != VendorJPush {
				t.Errorf("%s: section %s, vendor %s", s.Name, s.Section, s.Vendor)
			}
		default:
			t.Errorf("%s: unknown section %q", s.Name, s.Section)
		}
		if s.DefaultInterval <= 0 || s.API == "" {
			t.Errorf("%s: interval %v, API %q", s.Name, s.DefaultInterval, s.API)
		}
		if s.ChannelDetail && !s.Queued() {
			t.Errorf("%s: per-ID channel detail without tracked IDs", s.Name)
		}
		if s.Queued() {
			k, ok := LookupIDKind(s.IDKind)
			if !ok || k.Section != s.Section {
				t.Errorf("%s: ID kind %q (%+v) does not serve section %s", s.Name, s.IDKind, k, s.Section)
			}
		}
		if got, ok := Lookup(s.Name); !ok || got.Name != s.Name {
			t.Errorf("Lookup(%q) = %+v, %v", s.Name, got, ok)
		}
	}
	normal, ok := Lookup(SourceTencentNormalPush)
	if !ok || normal.Vendor != VendorTencentIM || normal.DefaultInterval != time.Minute || !normal.DefaultEnabled || normal.Queued() {
		t.Errorf("tencent_normal_push = %+v, %v", normal, ok)
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("Lookup(nope) found a row")
	}
}

// TestIDKinds checks that every kind is polled by a source, has a route
// with its app wildcard, and that Path fills it in.
func TestIDKinds(t *testing.T) {
	t.Parallel()
	for _, k := range IDKinds {
		polled := false
		for _, s := range Sources {
			polled = polled || s.IDKind == k.Name
		}
		if !polled {
			t.Errorf("kind %s: no source polls it", k.Name)
		}
		if !strings.HasPrefix(k.Route, "/api/v1/"+string(k.Section)+"/{"+k.AppParam+"}/") || k.ListKey == "" {
			t.Errorf("kind %s: route %q, app %q, list key %q", k.Name, k.Route, k.AppParam, k.ListKey)
		}
	}
	k, _ := LookupIDKind(KindTencentPush)
	if got := k.Path("1400000001"); got != "/api/v1/tencent_im/1400000001/tasks" {
		t.Errorf("Path = %q", got)
	}
	if _, ok := LookupIDKind("nope"); ok {
		t.Error("LookupIDKind(nope) found a kind")
	}
}

// TestRegions checks the nine Tencent IM regions and their hosts.
func TestRegions(t *testing.T) {
	t.Parallel()
	if got := Regions(); len(got) != 9 {
		t.Errorf("Regions() = %v, want 9", got)
	}
	if u, ok := RegionBaseURL("singapore"); !ok || u != "https://adminapisgp.im.qcloud.com" {
		t.Errorf("RegionBaseURL(singapore) = %q, %v", u, ok)
	}
	if _, ok := RegionBaseURL("mars"); ok {
		t.Error("RegionBaseURL(mars) found a host")
	}
}

// mixinFile is the mixin's list of sources, generated from the catalog.
const mixinFile = "../../mixin/sources.libsonnet"

// libsonnet renders the catalog as the mixin's list of sources.
func libsonnet() string {
	q := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	var b strings.Builder
	b.WriteString("// The exporter's sources, generated from internal/catalog by\n")
	b.WriteString("// `go test ./internal/catalog -update`: do not edit.\n")
	b.WriteString("{\n  sources: [\n")
	for _, s := range Sources {
		idKind := "null"
		if s.Queued() {
			idKind = q(s.IDKind)
		}
		fmt.Fprintf(&b, "    { name: %s, section: %s, vendor: %s, api: %s, idKind: %s, onDemand: %t, channelDetail: %t },\n",
			q(s.Name), q(string(s.Section)), q(s.Vendor), q(s.API), idKind, s.OnDemand, s.ChannelDetail)
	}
	b.WriteString("  ],\n}\n")
	return b.String()
}

// TestMixinSources fails while mixin/sources.libsonnet is not what the
// catalog renders; -update rewrites it.
func TestMixinSources(t *testing.T) {
	want := libsonnet()
	if *update {
		if err := os.WriteFile(mixinFile, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(mixinFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is stale; run go test ./internal/catalog -update. Want:\n%s", mixinFile, want)
	}
}

// markdown renders the sources as the documentation's table.
func markdown() string {
	var b strings.Builder
	b.WriteString("| Source | Section | Vendor API | Default interval | Tracked IDs | Refreshed |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, s := range Sources {
		ids, refreshed := "—", "in the background"
		if s.Queued() {
			ids = "`" + s.IDKind + "`"
			if s.ChannelDetail {
				ids += ", with channel_detail"
			}
		}
		if s.OnDemand {
			refreshed = "when a scrape finds it stale"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s | %s | %s |\n",
			s.Name, s.Section, s.API, model.Duration(s.DefaultInterval), ids, refreshed)
	}
	return b.String()
}

// The markers around the generated sources table of a document.
const (
	beginMarker = "<!-- sources:begin -->\n"
	endMarker   = "<!-- sources:end -->"
)

// TestDocumentedSourcesTable checks the table between the markers of the
// configuration reference; -update rewrites it. The markers must be there:
// the documented table is the catalog's.
func TestDocumentedSourcesTable(t *testing.T) {
	want := markdown()
	for _, doc := range []string{"../../docs/configuration.md"} {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		begin := bytes.Index(text, []byte(beginMarker))
		end := bytes.Index(text, []byte(endMarker))
		if begin < 0 || end < begin {
			t.Errorf("%s: the markers %q and %q are missing or not in order", doc, beginMarker, endMarker)
			continue
		}
		got := string(text[begin+len(beginMarker) : end])
		if *update && got != want {
			out := append(append(append([]byte{}, text[:begin+len(beginMarker)]...), want...), text[end:]...)
			if err := os.WriteFile(doc, out, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got != want {
			t.Errorf("%s: the sources table is stale; run go test ./internal/catalog -update. Want:\n%s", doc, want)
		}
	}
}
