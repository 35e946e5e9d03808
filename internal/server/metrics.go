package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"hash/fnv"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/imstats/imstats_exporter/internal/expo"
)

// ScrapeTimeoutHeader is the header in which Prometheus tells its scrape timeout.
const ScrapeTimeoutHeader = "X-Prometheus-Scrape-Timeout-Seconds"

// ScrapeWait returns how long a scrape may wait for targets without a
// snapshot: the timeout Prometheus announced minus margin, capped by
// maxWait; maxWait when the header is absent or unparsable; never negative.
func ScrapeWait(r *http.Request, margin, maxWait time.Duration) time.Duration {
	wait := maxWait
	if v := r.Header.Get(ScrapeTimeoutHeader); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 && secs < 1e6 {
			wait = min(time.Duration(secs*float64(time.Second))-margin, maxWait)
		}
	}
	return max(wait, 0)
}

// servedFormats are the exposition formats /metrics negotiates: the
// pre-rendered blocks are text, which both formats share; there is no
// protobuf (a scrape that asks for it first gets the text format).
var servedFormats = []expfmt.Format{expfmt.FmtOpenMetrics_1_0_0, expfmt.FmtOpenMetrics_0_0_1, expfmt.FmtText}

// scrapeCache lets concurrent gzip scrapes of the same snapshot generation
// share one compressed body, remembers how long a render takes, and keeps
// the group lists of past text scrapes for the next ones: a scrape then
// allocates nothing in proportion to the series (the targets lend their
// block lists), and the garbage collector has no reason to run per scrape.
type scrapeCache struct {
	groups sync.Pool // of *[]expo.Group

	mu      sync.Mutex
	entries map[gzKey]*gzEntry // at most one generation per format
	render  time.Duration      // how long the last render took
}

type gzKey struct {
	gen    uint64
	format expo.Format
}

type gzEntry struct {
	done chan struct{}
	body *deflated
}

func newScrapeCache() *scrapeCache {
	c := &scrapeCache{entries: map[gzKey]*gzEntry{}}
	c.groups.New = func() any { return new([]expo.Group) }
	return c
}

// putGroups returns a scrape's groups to the pool, without the block
// lists, which would keep replaced blocks alive.
func (c *scrapeCache) putGroups(groups *[]expo.Group) {
	for i := range *groups {
		(*groups)[i].Blocks = nil
	}
	c.groups.Put(groups)
}

// serveMetrics serves /metrics: the vendor series as their pre-rendered
// blocks, then the exporter's own metrics from the registry. It waits only
// for targets that have no snapshot yet, within the scrape's budget.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	limits := s.safe.Get().Limits
	budget := ScrapeWait(r, time.Duration(limits.ScrapeTimeoutMargin), time.Duration(limits.MaxScrapeWait))
	ctx, cancel := context.WithTimeout(r.Context(), budget)
	defer cancel()

	units := s.units.Load()
	// What is left of the budget after the last render's time goes to
	// waiting for targets without a snapshot.
	s.scrapes.mu.Lock()
	renderEstimate := s.scrapes.render
	s.scrapes.mu.Unlock()
	waitCtx, cancelWait := context.WithTimeout(ctx, max(budget-renderEstimate-time.Since(start), 0))
	for _, u := range units.units {
		if u.def.OnDemand {
			u.target.Demand()
		}
	}
	for _, u := range units.units {
		select {
		case <-u.target.Ready():
		case <-waitCtx.Done():
		}
	}
	cancelWait()

	renderStart := time.Now()
	format := expo.Text
	contentType := expfmt.NegotiateAccept(r.Header, servedFormats...)
	if contentType.FormatType() == expfmt.TypeOpenMetrics {
		format = expo.OpenMetrics
	} else {
		contentType = expfmt.NewFormat(expfmt.TypeTextPlain)
	}
	own, err := s.registry.Gather()
	if err != nil {
		level.Error(s.logger).Log("msg", "gathering the exporter's own metrics failed", "err", err)
	}
	w.Header().Set("Content-Type", string(contentType))
	gz := acceptsGzip(r)
	if gz {
		w.Header().Set("Content-Encoding", "gzip")
	}
	if gz {
		body := s.scrapes.gzipped(r.Context(), gzKey{unitsGen(units), format}, units)
		if body == nil {
			return // the client is gone
		}
		var rest bytes.Buffer
		writeOwn(&rest, contentType, format, own)
		_ = writeGzip(w, body, rest.Bytes())
	} else {
		pooled := s.scrapes.groups.Get().(*[]expo.Group)
		defer s.scrapes.putGroups(pooled)
		groups := collectGroups((*pooled)[:0], units)
		*pooled = groups
		bw := bufio.NewWriterSize(w, 64<<10)
		_ = expo.Write(bw, format, groups)
		writeOwn(bw, contentType, format, own)
		_ = bw.Flush()
	}
	s.scrapes.mu.Lock()
	s.scrapes.render = time.Since(renderStart)
	s.scrapes.mu.Unlock()
}

// writeOwn writes the registry's families, and the end of an OpenMetrics
// exposition.
func writeOwn(w io.Writer, ct expfmt.Format, format expo.Format, own []*dto.MetricFamily) {
	enc := expfmt.NewEncoder(w, ct)
	for _, mf := range own {
		_ = enc.Encode(mf)
	}
	if format == expo.OpenMetrics {
		_, _ = w.Write([]byte("# EOF\n"))
	}
}

// collectGroups appends to groups (reusing their counts) the blocks of
// every unit, lent by its target, in the order of the units; Write writes
// the groups of one source together.
func collectGroups(groups []expo.Group, units *unitList) []expo.Group {
	for _, u := range units.units {
		if len(groups) < cap(groups) {
			groups = groups[:len(groups)+1]
		} else {
			groups = append(groups, expo.Group{})
		}
		u.target.Lend(&groups[len(groups)-1])
	}
	return groups
}

// unitsGen returns a hash of the generations of the unit list and of every
// target's snapshot: it changes whenever what a scrape would write does.
func unitsGen(units *unitList) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], units.gen)
	h.Write(b[:])
	for _, u := range units.units {
		binary.LittleEndian.PutUint64(b[:], u.target.Gen())
		h.Write(b[:])
	}
	return h.Sum64()
}

// acceptsGzip reports whether the request accepts a gzip body.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}

var _ prometheus.Collector = healthCollector{}
