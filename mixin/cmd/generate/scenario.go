package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/google/go-jsonnet"
	"github.com/google/go-jsonnet/ast"
)

// The scenario model behind mixin/cmd/generate/tests/scenario.libsonnet, as jsonnet
// native functions (jsonnet itself is too slow for days of 5-minute
// samples). Times are minutes from the start of a rule test.
//
// A push of `sent` through a channel delivers sent*rate in the end, along an
// ease-out curve that settles after `settle` minutes: offline devices come
// online over hours. An outage {from, to, factor} scales the deliveries made
// in the sampling steps in [from, to).

// outage is one period of lowered delivery.
type outage struct {
	from, to, factor float64
}

// pushChannel is one channel's share of every push.
type pushChannel struct {
	sent, rate, settle float64
	outages            []outage
}

// ease rises from 0 at age 0 to 1 at age d, fast at first, and stays at 1.
func ease(age, d float64) float64 {
	if age <= 0 {
		return 0
	}
	if age >= d {
		return 1
	}
	r := 1 - age/d
	return 1 - r*r
}

// deliveredAt is the delivered count at minute t of the push at minute
// push, with samples every step minutes.
func (c pushChannel) deliveredAt(push, t, step float64) float64 {
	e := func(x float64) float64 { return ease(x-push, c.settle) }
	lost := 0.0
	for _, o := range c.outages {
		last := math.Min(t, o.to-step)
		if last >= o.from {
			lost += (1 - o.factor) * (e(last) - e(o.from-step))
		}
	}
	return math.Floor(c.sent*c.rate*(e(t)-lost) + 1e-9)
}

// sample is a sample value, or missing.
type sample struct {
	v       float64
	missing bool
}

// trackedSeries returns the sent and delivered samples, at 0, step, … end,
// of one tracked push (a task or message ID) sent at minute push: missing
// before it.
func (c pushChannel) trackedSeries(push, end, step float64) (sent, delivered []sample) {
	for t := 0.0; t <= end; t += step {
		if t < push {
			sent = append(sent, sample{missing: true})
			delivered = append(delivered, sample{missing: true})
			continue
		}
		sent = append(sent, sample{v: c.sent})
		delivered = append(delivered, sample{v: c.deliveredAt(push, t, step)})
	}
	return sent, delivered
}

// windowSeries returns the sent and delivered samples of a rolling window of
// `window` minutes over pushes every `every` minutes from minute from:
// missing before from.
func (c pushChannel) windowSeries(from, every, window, end, step float64) (sent, delivered []sample) {
	for t := 0.0; t <= end; t += step {
		if t < from {
			sent = append(sent, sample{missing: true})
			delivered = append(delivered, sample{missing: true})
			continue
		}
		var s, d float64
		for p := from; p <= t; p += every {
			if t-p < window {
				s += c.sent
				d += c.deliveredAt(p, t, step)
			}
		}
		sent = append(sent, sample{v: s})
		delivered = append(delivered, sample{v: d})
	}
	return sent, delivered
}

// expand renders samples in promtool's expanding notation: a run of n equal
// values is `vx(n-1)`, n missing samples `_xn`.
func expand(samples []sample) string {
	var parts []string
	for i := 0; i < len(samples); {
		j := i
		for j < len(samples) && samples[j] == samples[i] {
			j++
		}
		n := j - i
		switch {
		case samples[i].missing && n == 1:
			parts = append(parts, "_")
		case samples[i].missing:
			parts = append(parts, fmt.Sprintf("_x%d", n))
		case n == 1:
			parts = append(parts, strconv.FormatFloat(samples[i].v, 'f', -1, 64))
		default:
			parts = append(parts, fmt.Sprintf("%sx%d", strconv.FormatFloat(samples[i].v, 'f', -1, 64), n-1))
		}
		i = j
	}
	return strings.Join(parts, " ")
}

// numberFields reads the number fields of a jsonnet object into dst; what
// names the object in an error.
func numberFields(what string, obj map[string]any, dst map[string]*float64) error {
	for name, p := range dst {
		v, ok := obj[name].(float64)
		if !ok {
			return fmt.Errorf("%s: %s is not a number", what, name)
		}
		*p = v
	}
	return nil
}

// channelArg reads a jsonnet {sent, rate, settle} and a list of outages.
func channelArg(ch, outages any) (pushChannel, error) {
	m, ok := ch.(map[string]any)
	if !ok {
		return pushChannel{}, fmt.Errorf("channel: want an object, got %T", ch)
	}
	var c pushChannel
	if err := numberFields("channel", m, map[string]*float64{"sent": &c.sent, "rate": &c.rate, "settle": &c.settle}); err != nil {
		return pushChannel{}, err
	}
	list, ok := outages.([]any)
	if !ok {
		return pushChannel{}, fmt.Errorf("outages: want an array, got %T", outages)
	}
	for _, o := range list {
		om, ok := o.(map[string]any)
		if !ok {
			return pushChannel{}, fmt.Errorf("outage: want an object, got %T", o)
		}
		var out outage
		if err := numberFields("outage", om, map[string]*float64{"from": &out.from, "to": &out.to, "factor": &out.factor}); err != nil {
			return pushChannel{}, err
		}
		c.outages = append(c.outages, out)
	}
	return c, nil
}

// numbers reads jsonnet numbers.
func numbers(args []any) ([]float64, error) {
	out := make([]float64, len(args))
	for i, a := range args {
		v, ok := a.(float64)
		if !ok {
			return nil, fmt.Errorf("argument %d: want a number, got %T", i+1, a)
		}
		out[i] = v
	}
	return out, nil
}

// pair is what both natives return: the sent and delivered values strings.
func pair(sent, delivered []sample) any {
	return []any{expand(sent), expand(delivered)}
}

// natives are the scenario model's functions, std.native(name) in jsonnet.
var natives = []*jsonnet.NativeFunction{
	{
		// trackedSeries(channel, outages, push, end, step) → [sent, delivered]
		Name:   "trackedSeries",
		Params: ast.Identifiers{"channel", "outages", "push", "end", "step"},
		Func: func(args []any) (any, error) {
			c, err := channelArg(args[0], args[1])
			if err != nil {
				return nil, err
			}
			n, err := numbers(args[2:])
			if err != nil {
				return nil, err
			}
			return pair(c.trackedSeries(n[0], n[1], n[2])), nil
		},
	},
	{
		// windowSeries(channel, outages, from, every, window, end, step) → [sent, delivered]
		Name:   "windowSeries",
		Params: ast.Identifiers{"channel", "outages", "from", "every", "window", "end", "step"},
		Func: func(args []any) (any, error) {
			c, err := channelArg(args[0], args[1])
			if err != nil {
				return nil, err
			}
			n, err := numbers(args[2:])
			if err != nil {
				return nil, err
			}
			return pair(c.windowSeries(n[0], n[1], n[2], n[3], n[4])), nil
		},
	},
}
