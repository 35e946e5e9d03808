package callbacks

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// Bounds on the label values a callback can create.
const (
	// DefaultMaxCodes is how many distinct non-zero ErrCode values each
	// (app, platform) gets a code label of its own; later ones count as
	// "other". Code 0 (success) always has its own.
	DefaultMaxCodes = 20
	// DefaultMaxSeries bounds the series of an app; past it new label sets
	// count in one series per command whose other labels are all "other".
	DefaultMaxSeries = 2000
	// maxPlatformCode: PushPlatform codes below it get a label (their name,
	// or code_N), the others "other".
	maxPlatformCode = 32
	// maxStage: PushStage values below it get their number as label, the
	// others "other". Tencent's pages name no values (the samples send 1).
	maxStage = 16
	// other stands for a label value past a bound.
	other = -1
)

// otherLabel is the label value of everything past a bound.
const otherLabel = "other"

// seriesKey is the label set of one series of an app, as small integers:
// the labels are built once, when the series is created.
type seriesKey struct {
	cmd       Command
	eventType int8  // 1 or 2, else other
	stage     int8  // 0 to maxStage-1, else other
	platform  int16 // 0 to maxPlatformCode-1, else other
	code      int64 // ErrCode, when codeOther is false
	codeOther bool
}

// keyOf returns the label set of an event of command cmd, before the cap
// on codes.
func keyOf(cmd Command, e *event) seriesKey {
	k := seriesKey{cmd: cmd, eventType: other, stage: other, platform: other, code: e.errCode}
	if e.eventType == 1 || e.eventType == 2 {
		k.eventType = int8(e.eventType)
	}
	if 0 <= e.stage && e.stage < maxStage {
		k.stage = int8(e.stage)
	}
	if 0 <= e.platform && e.platform < maxPlatformCode {
		k.platform = int16(e.platform)
	}
	return k
}

// eventTypeLabels are the event_type values by command and EventType:
// Push.AllMemberPush 1 offline push, 2 online push (Tencent Chat "All
// Users / Tags / UserID Push Callback"); Push.OfflinePush 1 one-to-one
// chat, 2 group chat (Tencent Chat "Other Push Callbacks").
var eventTypeLabels = [numCommands][3]string{
	AllMemberPush: {1: "offline", 2: "online"},
	OfflinePush:   {1: "c2c", 2: "group"},
}

// labels returns the label values of k after sdkappid: command,
// event_type, platform, stage, code.
func (k seriesKey) labels() [5]string {
	l := [5]string{commandLabels[k.cmd], otherLabel, otherLabel, otherLabel, otherLabel}
	if k.eventType != other {
		l[1] = eventTypeLabels[k.cmd][k.eventType]
	}
	if k.platform != other {
		// The platform names of the push statistics: apns, xiaomi, …,
		// code_N for a code without one.
		l[2] = tencentim.PlatformName(int(k.platform))
	}
	if k.stage != other {
		l[3] = strconv.Itoa(int(k.stage))
	}
	if !k.codeOther {
		l[4] = strconv.FormatInt(k.code, 10)
	}
	return l
}

// series is one counter.
type series struct {
	n      atomic.Uint64
	labels [5]string
}

// counters are the event counters of one app. mu is a leaf lock: nothing is
// called while it is held.
type counters struct {
	maxCodes, maxSeries int

	mu     sync.RWMutex
	series map[seriesKey]*series
	codes  map[int16]map[int64]struct{} // the non-zero codes with a label, by platform
}

func newCounters(maxCodes, maxSeries int) *counters {
	return &counters{
		maxCodes:  maxCodes,
		maxSeries: maxSeries,
		series:    make(map[seriesKey]*series),
		codes:     make(map[int16]map[int64]struct{}),
	}
}

// add counts n events of label set k.
func (c *counters) add(k seriesKey, n uint64) {
	c.mu.RLock()
	s, ok := c.series[k]
	c.mu.RUnlock()
	if !ok {
		s = c.create(k)
	}
	s.n.Add(n)
}

// create returns the series events of k count in, creating it within the
// bounds: a code past the cap counts as other, a label set past the
// series cap in the command's overflow series.
func (c *counters) create(k seriesKey) *series {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.series[k]; ok {
		return s
	}
	codes := c.codes[k.platform]
	if codes == nil {
		codes = make(map[int64]struct{})
		c.codes[k.platform] = codes
	}
	if _, ok := codes[k.code]; !ok && k.code != 0 {
		if len(codes) < c.maxCodes {
			codes[k.code] = struct{}{}
		} else {
			k.code, k.codeOther = 0, true
		}
	}
	if s, ok := c.series[k]; ok {
		return s
	}
	if len(c.series) >= c.maxSeries {
		k = seriesKey{cmd: k.cmd, eventType: other, stage: other, platform: other, codeOther: true}
		if s, ok := c.series[k]; ok {
			return s
		}
	}
	s := &series{labels: k.labels()}
	c.series[k] = s
	return s
}

// sample is one series' value, copied out for Collect.
type sample struct {
	labels [5]string
	value  uint64
}

// snapshot returns every series' value.
func (c *counters) snapshot() []sample {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]sample, 0, len(c.series))
	for _, s := range c.series {
		out = append(out, sample{labels: s.labels, value: s.n.Load()})
	}
	return out
}

// total returns the events counted.
func (c *counters) total() uint64 {
	var n uint64
	for _, s := range c.snapshot() {
		n += s.value
	}
	return n
}
