package main

import "testing"

func TestExpand(t *testing.T) {
	tests := []struct {
		name    string
		samples []sample
		want    string
	}{
		{"one value", []sample{{v: 3}}, "3"},
		{"a run", []sample{{v: 3}, {v: 3}, {v: 3}}, "3x2"},
		{"missing then values", []sample{{missing: true}, {missing: true}, {v: 1}, {v: 2}, {v: 2}}, "_x2 1 2x1"},
		{"one missing", []sample{{v: 1}, {missing: true}, {v: 1}}, "1 _ 1"},
		{"fractions", []sample{{v: 0.5}}, "0.5"},
	}
	for _, tt := range tests {
		if got := expand(tt.samples); got != tt.want {
			t.Errorf("%s: expand = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestDeliveredAt(t *testing.T) {
	ch := pushChannel{sent: 1000, rate: 0.8, settle: 60}
	half := pushChannel{sent: 1000, rate: 0.8, settle: 60, outages: []outage{{from: 30, to: 1000, factor: 0.5}}}
	tests := []struct {
		name string
		c    pushChannel
		t    float64
		want float64
	}{
		{"at the push", ch, 0, 0},
		{"before the push", ch, -5, 0},
		{"half way: ease-out is ahead", ch, 30, 600},
		{"settled", ch, 60, 800},
		{"after settling", ch, 600, 800},
		{"before the outage: as without it", half, 25, 527},
		{"the outage halves what comes from 30m on", half, 60, 663},
	}
	for _, tt := range tests {
		if got := tt.c.deliveredAt(0, tt.t, 5); got != tt.want {
			t.Errorf("%s: deliveredAt(%v) = %v, want %v", tt.name, tt.t, got, tt.want)
		}
	}
}

func TestWindowSeries(t *testing.T) {
	ch := pushChannel{sent: 10, rate: 1, settle: 5}
	// Pushes every 10 minutes in a 10-minute window, sampled every 5
	// minutes from 0 to 20: each push leaves the window when the next one
	// comes.
	sent, delivered := ch.windowSeries(0, 10, 10, 20, 5)
	if got, want := expand(sent), "10x4"; got != want {
		t.Errorf("sent = %q, want %q", got, want)
	}
	if got, want := expand(delivered), "0 10 0 10 0"; got != want {
		t.Errorf("delivered = %q, want %q", got, want)
	}
}
