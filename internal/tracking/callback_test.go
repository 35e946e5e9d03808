package tracking

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
)

// TestCallbackOrigin: an ID seen in a callback is tracked with its sent
// time and origin callback, survives a restart, loses to api in the
// reported origin, is removable through the API and is retired with age.
func TestCallbackOrigin(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	fc := clocktest.NewFake(t0)
	sent := t0.Add(-time.Hour)
	s := mustOpen(t, Options{StatePath: path, Clock: fc}, Config{Static: []string{"cfg"}, MaxAge: 48 * time.Hour})
	if n, err := s.Add(context.Background(), []string{"cb", "cfg"}, OriginCallback, sent); err != nil || n != 1 {
		t.Fatalf("Add = %d, %v; want 1, nil", n, err)
	}
	want := []ID{{ID: "cb", Added: t0, Sent: sent, Origin: OriginCallback}, {ID: "cfg", Added: t0, Sent: sent, Origin: OriginCallback}}
	checkIDs(t, s, want)

	reopened := mustOpen(t, Options{StatePath: path, Clock: fc}, Config{Static: []string{"cfg"}, MaxAge: 48 * time.Hour})
	checkIDs(t, reopened, want)

	mustAdd(t, reopened, OriginAPI, "cb")
	checkIDs(t, reopened, []ID{{ID: "cb", Added: t0, Sent: sent, Origin: OriginAPI}, want[1]})

	if n, err := reopened.Remove(context.Background(), []string{"cb", "cfg"}, OriginAPI); n != 1 || !errors.Is(err, ErrStillListed) {
		t.Fatalf("Remove = %d, %v; want 1 and ErrStillListed for the configured ID", n, err)
	}
	checkIDs(t, reopened, []ID{{ID: "cfg", Added: t0, Sent: sent, Origin: OriginConfig}})

	if _, err := reopened.Add(context.Background(), []string{"old"}, OriginCallback, sent); err != nil {
		t.Fatal(err)
	}
	fc.Advance(49 * time.Hour)
	if err := reopened.Maintain(); err != nil {
		t.Fatal(err)
	}
	checkIDs(t, reopened, nil)
	if _, err := Open(Options{StatePath: path, Clock: fc}); err != nil {
		t.Fatalf("the state with a retired configured ID does not load: %v", err)
	}
}

// TestCallbackIDsAreNotRateLimited: register_per_minute bounds the API, not
// the vendor's callbacks, which only the cap bounds.
func TestCallbackIDsAreNotRateLimited(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, Options{Clock: clocktest.NewFake(t0)}, Config{RegisterPerMinute: 1, Cap: 3})
	if _, err := s.Add(context.Background(), []string{"a", "b", "c", "d"}, OriginCallback, time.Time{}); err != nil {
		t.Fatalf("Add from callbacks over the API's rate: %v", err)
	}
	if got := s.Len(); got != 3 {
		t.Fatalf("Len = %d, want the cap, 3", got)
	}
}

// TestKnownIDAddsWriteNothing: adding an ID already tracked with its sent
// time changes nothing, so no save is made.
func TestKnownIDAddsWriteNothing(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	s, err := Open(Options{StatePath: path, Clock: clocktest.NewFake(t0)})
	if err != nil {
		t.Fatal(err)
	}
	mustCommit(t, s, Config{})
	sent := t0.Add(-time.Minute)
	size := func() int64 {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if _, err := s.Add(context.Background(), []string{"task"}, OriginCallback, sent); err != nil {
		t.Fatal(err)
	}
	after := size()
	for range 4 {
		if _, err := s.Add(context.Background(), []string{"task"}, OriginCallback, sent); err != nil {
			t.Fatal(err)
		}
	}
	if got := size(); got != after {
		t.Fatalf("the state file grew from %d to %d bytes for an ID added again, want no write", after, got)
	}
}

// TestWatchedFileSentTimes: a line may give the sent time after the ID, as
// RFC 3339 or unix seconds; it fills in IDs without one, and a line whose
// time does not parse is logged and ignored.
func TestWatchedFileSentTimes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "ids.txt")
	content := strings.Join([]string{
		"a 2025-02-28T09:30:00+08:00",
		"b\t1740700800 # unix seconds",
		"c not-a-time",
		"d 1740700800 extra",
		"e",
		"api",
		"api 2025-02-27T00:00:00Z",
	}, "\n")
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	fc := clocktest.NewFake(t0)
	s, err := Open(Options{Clock: fc, Logger: log.NewLogfmtLogger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, s, OriginAPI, "api")
	mustCommit(t, s, Config{File: file})
	checkIDs(t, s, []ID{
		{ID: "a", Added: t0, Sent: time.Date(2025, 2, 28, 1, 30, 0, 0, time.UTC), Origin: OriginFile},
		{ID: "api", Added: t0, Sent: time.Date(2025, 2, 27, 0, 0, 0, 0, time.UTC), Origin: OriginAPI},
		{ID: "b", Added: t0, Sent: time.Unix(1740700800, 0).UTC(), Origin: OriginFile},
		{ID: "e", Added: t0, Origin: OriginFile},
	})
	for _, want := range []string{
		`line=3 id=c err="sent time \"not-a-time\" is neither RFC 3339 nor unix seconds"`,
		`line=4 id=d err="more than an ID and a sent time"`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs = %q, want a line containing %q", logs.String(), want)
		}
	}
}

func TestParseSent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    time.Time
		wantErr string
	}{
		{in: "0", want: time.Unix(0, 0).UTC()},
		{in: "2026-12-07T12:00:00Z", want: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)},
		{in: "-1", wantErr: "out of range"},
		{in: "999999999999", wantErr: "out of range"},
		{in: "2026-12-07", wantErr: "neither RFC 3339 nor unix seconds"},
	} {
		got, err := parseSent(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseSent(%q) = %v, %v; want an error containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseSent(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// TestCallbackOriginSurvivesRestart: an ID a callback reported is saved
// with its origin and sent time, and comes back as it was after a restart.
func TestCallbackOriginSurvivesRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	o := Options{StatePath: path, Clock: clocktest.NewFake(t0)}
	s := mustOpen(t, o, Config{})
	sent := t0.Add(-time.Minute)
	if _, err := s.Add(context.Background(), []string{"task"}, OriginCallback, sent); err != nil {
		t.Fatal(err)
	}
	want := ID{ID: "task", Added: t0, Sent: sent, Origin: OriginCallback}
	checkIDs(t, s, []ID{want})
	checkIDs(t, mustOpen(t, o, Config{}), []ID{want})
}
