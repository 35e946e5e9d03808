package collector

// LabelOther is the label value that sums the series of the values a
// LabelLimit refused, where a sum means something (channels, platforms,
// codes of one funnel stage).
const LabelOther = "other"

// The labels a LabelLimit bounds, as the label label of
// imstats_exporter_labels_dropped_total names them.
const (
	LimitChannel   = "channel"    // JPush platform and channel of a funnel
	LimitType      = "type"       // JPush details message types
	LimitPlatform  = "platform"   // Tencent PushPlatform codes, JPush /users platforms
	LimitEventType = "event_type" // Tencent EventType codes
	LimitStatus    = "status"     // JPush /status/message codes
	LimitField     = "field"      // getappinfo fields the table does not know
)

// LabelLimit bounds the label values a vendor's answers decide, for one
// source and app: a value the documents name is always admitted; of the
// others, the first Max distinct ones of each label are, and kept for the
// life of the limit, so that a series does not come and go; any further one
// is refused and counted. A nil LabelLimit admits everything.
//
// A LabelLimit belongs to one goroutine (a target's loop); it has no lock.
type LabelLimit struct {
	max      int
	admitted map[string]map[string]bool // label → unknown values admitted
	refused  map[string]int             // label → refusals since Take
}

// NewLabelLimit returns a limit of max unknown values a label.
func NewLabelLimit(max int) *LabelLimit {
	return &LabelLimit{max: max, admitted: map[string]map[string]bool{}, refused: map[string]int{}}
}

// SetMax changes the number of unknown values a label may have; values
// admitted already stay admitted.
func (l *LabelLimit) SetMax(max int) {
	if l != nil {
		l.max = max
	}
}

// admit reports whether value may be a value of label: known values always,
// unknown ones while the label has fewer than max of them.
func (l *LabelLimit) admit(label, value string, known bool) bool {
	if l == nil || known {
		return true
	}
	set := l.admitted[label]
	if set[value] {
		return true
	}
	if len(set) < l.max {
		if set == nil {
			set = map[string]bool{}
			l.admitted[label] = set
		}
		set[value] = true
		return true
	}
	l.refused[label]++
	return false
}

// Take returns how many values of each label were refused since the last
// Take, and starts counting again.
func (l *LabelLimit) Take() map[string]int {
	if l == nil || len(l.refused) == 0 {
		return nil
	}
	out := l.refused
	l.refused = map[string]int{}
	return out
}
