package server

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/exporter-toolkit/web"

	"github.com/imstats/imstats_exporter/internal/catalog"
)

// feedingDocs is the page that shows how to register push IDs.
const feedingDocs = "https://github.com/imstats/imstats_exporter/blob/main/docs/feeding.md"

// appStatus is what the landing and status pages say about one app.
type appStatus struct {
	Section catalog.Section
	App     string
	Sources []sourceStatus
	// Polls is whether a source of the app polls tracked IDs; Tracked is
	// how many it tracks.
	Polls   bool
	Tracked int
}

// NotWatched reports whether the app's pushes have no funnel to watch: a
// source polls tracked IDs for it and none is tracked. (Whether its users
// are active is the alert ImstatsPushNotWatched's to tell, from a day of
// history; the pages say what is true now.)
func (a appStatus) NotWatched() bool { return a.Polls && a.Tracked == 0 }

// sourceStatus is the refresh state of one source of an app.
type sourceStatus struct {
	Name        string
	Attempted   bool
	OK          bool
	Available   bool
	LastSuccess string // RFC 3339 UTC, "" before the first success
}

// appStatuses returns every app in force, in plan order, with its sources.
func (s *Server) appStatuses() []appStatus {
	var out []appStatus
	for _, u := range s.units.Load().units {
		i := slices.IndexFunc(out, func(a appStatus) bool { return a.Section == u.def.Section && a.App == u.target.App })
		if i < 0 {
			out = append(out, appStatus{Section: u.def.Section, App: u.target.App})
			i = len(out) - 1
		}
		a := &out[i]
		h := u.target.Health()
		src := sourceStatus{Name: u.target.Source, Attempted: h.Attempted, OK: h.OK, Available: h.Available}
		if !h.LastSuccess.IsZero() {
			src.LastSuccess = h.LastSuccess.UTC().Format(time.RFC3339)
		}
		a.Sources = append(a.Sources, src)
		if u.set != nil && !a.Polls {
			a.Polls, a.Tracked = true, u.set.Stats().Tracked
		}
	}
	return out
}

// landingApps is the landing page's dynamic section: one line per app whose
// delivery is not watched. Its placeholder sits in the toolkit's page,
// built once; each request writes the section there.
var landingApps = template.Must(template.New("apps").Parse(`{{ range .Apps }}{{ if .NotWatched }}
<p class="not-watched">{{ .Section }} app <code>{{ .App }}</code>: this app's delivery is not watched: <a href="{{ $.Docs }}">feed it IDs</a></p>
{{- end }}{{ end }}
`))

// landingPlaceholder marks where the dynamic section goes in the toolkit's
// landing page.
const landingPlaceholder = "<!-- imstats:apps -->"

// landingPage serves the toolkit's landing page, rendered once, with the
// dynamic section written at its placeholder on every request.
type landingPage struct {
	s          *Server
	head, tail []byte
}

// newLandingPage renders the toolkit's page of c, with ExtraHTML set to
// the placeholder.
func newLandingPage(s *Server, c web.LandingConfig) (*landingPage, error) {
	c.ExtraHTML = landingPlaceholder
	toolkit, err := web.NewLandingPage(c)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodGet, "/", nil)
	if err != nil {
		return nil, err
	}
	page := &pageWriter{header: http.Header{}}
	toolkit.ServeHTTP(page, req)
	head, tail, ok := bytes.Cut(page.body.Bytes(), []byte(landingPlaceholder))
	if !ok {
		return nil, errors.New("the landing page lost its ExtraHTML")
	}
	return &landingPage{s: s, head: head, tail: tail}, nil
}

// ServeHTTP answers "/" with the page, and 404 for any other path.
func (p *landingPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	var section bytes.Buffer
	if err := landingApps.Execute(&section, struct {
		Apps []appStatus
		Docs string
	}{p.s.appStatuses(), feedingDocs}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	_, _ = w.Write(p.head)
	_, _ = w.Write(section.Bytes())
	_, _ = w.Write(p.tail)
}

// pageWriter keeps what a handler writes.
type pageWriter struct {
	header http.Header
	body   bytes.Buffer
}

func (p *pageWriter) Header() http.Header         { return p.header }
func (p *pageWriter) Write(b []byte) (int, error) { return p.body.Write(b) }
func (p *pageWriter) WriteHeader(int)             {}

// statusPage is GET /status: a table of every app in force.
var statusPage = template.Must(template.New("status").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>imstats_exporter status</title>
<style>
body { font-family: sans-serif; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
.bad { color: #b00; }
</style>
</head>
<body>
<h1>imstats_exporter status</h1>
<p><a href="./">Home</a>. Each configured app: its sources and their last refresh, and the push IDs it tracks.
An app with no tracked ID has no push funnel, so no delivery alert can fire for its pushes.</p>
<table>
<tr><th>Section</th><th>App</th><th>Sources (last success)</th><th>Tracked IDs</th><th>Delivery</th></tr>
{{- range .Apps }}
<tr>
<td>{{ .Section }}</td>
<td><code>{{ .App }}</code></td>
<td>{{ range .Sources }}{{ .Name }}: {{ if not .Attempted }}not refreshed yet{{ else if not .Available }}<span class="bad">unavailable to the account</span>{{ else if .OK }}ok{{ else }}<span class="bad">failing</span>{{ end }}{{ with .LastSuccess }} ({{ . }}){{ end }}<br>{{ end }}</td>
<td>{{ if .Polls }}{{ .Tracked }}{{ else }}none polled{{ end }}</td>
<td>{{ if .NotWatched }}<span class="bad">not watched: <a href="{{ $.Docs }}">feed it IDs</a></span>{{ else if .Polls }}watched{{ else }}no tracked-ID source on{{ end }}</td>
</tr>
{{- end }}
</table>
</body>
</html>
`))

// handleStatus serves GET /status.
func (s *Server) handleStatus(w http.ResponseWriter, _ *http.Request) {
	var page bytes.Buffer
	if err := statusPage.Execute(&page, struct {
		Apps []appStatus
		Docs string
	}{s.appStatuses(), feedingDocs}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	_, _ = w.Write(page.Bytes())
}
