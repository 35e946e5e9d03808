package tracking

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
)

func TestDecodeState(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		in      string
		want    []record
		wantErr string
	}{
		{name: "empty list", in: `{"version":1,"ids":[]}`},
		{name: "null list", in: `{"version":1,"ids":null}`},
		{
			name: "entries, times in UTC, unknown fields ignored",
			in:   `{"version":1,"future":true,"ids":[{"id":"a","added":"2025-03-01T08:00:00+08:00","origin":"api","x":1},{"id":"b","added":"2025-03-01T00:00:00.5Z","origin":"file"}]}`,
			want: []record{{ID: "a", Added: t0, Origin: OriginAPI}, {ID: "b", Added: t0.Add(500 * time.Millisecond), Origin: OriginFile}},
		},
		{
			name: "sent and retired",
			in:   `{"version":1,"ids":[{"id":"a","added":"2025-03-01T00:00:00Z","sent":"2025-03-01T07:00:00+08:00","origin":"config","retired":true}]}`,
			want: []record{{ID: "a", Added: t0, Sent: t0.Add(-time.Hour), Origin: OriginConfig, Retired: true}},
		},
		{name: "sent out of range", in: `{"version":1,"ids":[{"id":"a","added":"2025-03-01T00:00:00Z","sent":"0001-01-01T00:00:00+01:00","origin":"api"}]}`, wantErr: "ids[0]: sent time out of range"},
		{name: "retired API ID", in: `{"version":1,"ids":[{"id":"a","added":"2025-03-01T00:00:00Z","origin":"api","retired":true}]}`, wantErr: "ids[0]: retired ID of origin api"},
		{name: "not JSON", in: `{"version":1,"ids":[`, wantErr: "unexpected end of JSON input"},
		{name: "empty file", in: ``, wantErr: "unexpected end of JSON input"},
		{name: "trailing data", in: `{"version":1,"ids":[]}{}`, wantErr: "invalid character '{' after top-level value"},
		{name: "no version", in: `{"ids":[]}`, wantErr: "unsupported version 0"},
		{name: "another version", in: `{"version":2,"ids":[]}`, wantErr: "unsupported version 2"},
		{name: "empty id", in: `{"version":1,"ids":[{"id":"","added":"2025-03-01T00:00:00Z","origin":"api"}]}`, wantErr: "ids[0]: empty id"},
		{name: "duplicate id", in: `{"version":1,"ids":[{"id":"a","added":"2025-03-01T00:00:00Z","origin":"api"},{"id":"a","added":"2025-03-01T00:00:00Z","origin":"file"}]}`, wantErr: `ids[1]: duplicate id "a"`},
		{name: "unknown origin", in: `{"version":1,"ids":[{"id":"a","added":"2025-03-01T00:00:00Z","origin":"x"}]}`, wantErr: `ids[0]: unknown origin "x"`},
		{name: "no time", in: `{"version":1,"ids":[{"id":"a","origin":"api"}]}`, wantErr: "ids[0]: added time missing or out of range"},
		{name: "time before year 1 in UTC", in: `{"version":1,"ids":[{"id":"a","added":"0001-01-01T00:00:00+01:00","origin":"api"}]}`, wantErr: "ids[0]: added time missing or out of range"},
		{name: "bad time", in: `{"version":1,"ids":[{"id":"a","added":"yesterday","origin":"api"}]}`, wantErr: `parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"`},
		{name: "wrong type", in: `{"version":"1"}`, wantErr: "json: cannot unmarshal string into Go struct field stateFile.version of type int"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := decodeState([]byte(tc.in))
			if (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr) {
				t.Fatalf("decodeState error = %v, want %q", err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("decodeState = %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("decodeState[%d] = %#v, want %#v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestCorruptStateFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		content string
		wantLog string
	}{
		{name: "truncated", content: `{"version":1,"ids":[{"id":"a"`, wantLog: `err="corrupt state file: unexpected end of JSON input"`},
		{name: "empty", content: ``, wantLog: `err="corrupt state file: unexpected end of JSON input"`},
		{name: "garbage", content: "garbage", wantLog: `err="corrupt state file: invalid character 'g' looking for beginning of value"`},
		{name: "future version", content: `{"version":2,"ids":[]}`, wantLog: `err="corrupt state file: unsupported version 2"`},
		{name: "too large", content: strings.Repeat(" ", maxStateBytes+1), wantLog: `err="corrupt state file: larger than 33554432 bytes"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			s, err := Open(Options{StatePath: path, Clock: clocktest.NewFake(t0), Logger: log.NewLogfmtLogger(&logs)})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			// Open only reads: the corrupt file is still in place.
			if got, err := os.ReadFile(path); err != nil || string(got) != tc.content {
				t.Fatalf("Open changed the corrupt file: %v", err)
			}
			wantLog := `level=warn kind= app= msg="tracked-ID state file is corrupt; starting empty, it will be moved aside at the first save" path=` + path + ` ` + tc.wantLog
			if !strings.Contains(logs.String(), wantLog) {
				t.Errorf("logs = %q, want %q", logs.String(), wantLog)
			}
			mustCommit(t, s, Config{Static: []string{"s"}})
			checkIDs(t, s, []ID{id("s", t0, OriginConfig)})

			moved := fmt.Sprintf("%s.corrupt-%d", path, t0.Unix())
			if got, err := os.ReadFile(moved); err != nil || string(got) != tc.content {
				t.Errorf("moved-aside file: %v; content preserved: %v", err, string(got) == tc.content)
			}
			if got := stateIDs(t, path); !reflect.DeepEqual(got, []record{{ID: "s", Added: t0, Origin: OriginConfig}}) {
				t.Errorf("new state = %v", got)
			}
		})
	}
}

func TestInvalidIDInStateDropped(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	state := `{"version":1,"ids":[{"id":"123","added":"2025-03-01T00:00:00Z","origin":"api"},{"id":"abc","added":"2025-03-01T00:00:00Z","origin":"api"}]}`
	if err := os.WriteFile(path, []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s := mustOpen(t, Options{Kind: catalog.KindJPushMessages, App: "7d43", StatePath: path, Clock: clocktest.NewFake(t0), Logger: log.NewLogfmtLogger(&logs)}, Config{})
	checkIDs(t, s, []ID{id("123", t0, OriginAPI)})
	if want := `level=warn kind=jpush_messages app=7d43 msg="dropping invalid ID from the state file" path=` + path + ` id=abc err="a msg_id is a decimal integer from 1 to 18446744073709551615 without leading zeros"`; !strings.Contains(logs.String(), want) {
		t.Errorf("logs = %q, want %q", logs.String(), want)
	}
	if got := stateIDs(t, path); len(got) != 1 {
		t.Errorf("state after the first save = %v, want the invalid ID gone", got)
	}
}

// TestCrashLeftovers simulates a crash in the middle of a write: the state
// file itself is only ever replaced by a rename, so all a crash can leave is
// a stray temporary file, empty or partly written. Open leaves them; the
// first save removes them.
func TestCrashLeftovers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	fc := clocktest.NewFake(t0)
	s := mustOpen(t, Options{StatePath: path, Clock: fc}, Config{})
	mustAdd(t, s, OriginAPI, "a", "b")

	leftovers := map[string]string{
		"state.json.tmp-123456": "",
		"state.json.tmp-654321": `{"version":1,"ids":[{"id":"a","added":"2025-03-01T00:00:00Z","origin":"api"},{"id":"c"`,
	}
	for name, content := range leftovers {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	other := filepath.Join(dir, "other.json.tmp-1") // another state's temporary file
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	s, err := Open(Options{StatePath: path, Clock: fc})
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, s, []ID{id("a", t0, OriginAPI), id("b", t0, OriginAPI)})
	if matches, _ := filepath.Glob(path + tempInfix + "*"); len(matches) != 2 {
		t.Errorf("Open removed files: %v left", matches)
	}
	mustAdd(t, s, OriginAPI, "c")
	for name := range leftovers {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s not removed: %v", name, err)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another state's temporary file was touched: %v", err)
	}
	if matches, _ := filepath.Glob(path + ".corrupt-*"); len(matches) != 0 {
		t.Errorf("good state moved aside: %v", matches)
	}
}

// TestSaveFailure: after a failed save, a retried Add of the same IDs used
// to answer success with nothing on disk. Every Add and Remove, even one
// that changes nothing, must now fail with ErrNotSaved until a save
// succeeds; the failure is counted and logged once.
func TestSaveFailure(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "state.json")
	var logs syncBuffer
	s := mustOpen(t, Options{StatePath: path, Clock: clocktest.NewFake(t0), Logger: log.NewLogfmtLogger(&logs)}, Config{})
	mustAdd(t, s, OriginAPI, "before")
	// Replace the state directory by a file: every write now fails.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	n, err := s.Add(ctx, []string{"a"}, OriginAPI, time.Time{})
	if n != 1 || !errors.Is(err, ErrNotSaved) || !strings.Contains(err.Error(), "saving state file: ") {
		t.Fatalf("Add = %d, %v; want 1 and ErrNotSaved", n, err)
	}
	for i := range 3 {
		if n, err := s.Add(ctx, []string{"a"}, OriginAPI, time.Time{}); n != 0 || !errors.Is(err, ErrNotSaved) {
			t.Fatalf("retry %d: Add = %d, %v; want 0, ErrNotSaved", i, n, err)
		}
	}
	if _, err := s.Remove(ctx, []string{"nothing"}, OriginAPI); !errors.Is(err, ErrNotSaved) {
		t.Fatalf("Remove while not saved: %v, want ErrNotSaved", err)
	}
	if err := s.Maintain(); !errors.Is(err, ErrNotSaved) {
		t.Fatalf("Maintain while not saved: %v, want ErrNotSaved", err)
	}
	st := s.Stats()
	if st.Durable || st.SaveFailures != 6 || st.Tracked != 2 {
		t.Errorf("Stats() = %+v, want not durable, 6 failures, 2 tracked", st)
	}

	if err := os.Remove(dir); err != nil { // the disk is back
		t.Fatal(err)
	}
	if n, err := s.Add(ctx, []string{"a"}, OriginAPI, time.Time{}); n != 0 || err != nil {
		t.Fatalf("Add once writable = %d, %v; want 0, nil", n, err)
	}
	if got := stateIDs(t, path); len(got) != 2 {
		t.Errorf("state = %v, want before and a", got)
	}
	if !s.Stats().Durable {
		t.Error("not durable after a successful save")
	}
	if n := strings.Count(logs.String(), "cannot save the tracked-ID state"); n != 1 {
		t.Errorf("logged the failure %d times, want once:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "saved the tracked-ID state again"); n != 1 {
		t.Errorf("logged the recovery %d times, want once:\n%s", n, logs.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the flusher goroutine to log into.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// encodeState renders ids as a version 1 state file.
func encodeState(ids []record) ([]byte, error) {
	if ids == nil {
		ids = []record{}
	}
	b, err := json.MarshalIndent(stateFile{Version: stateVersion, IDs: ids}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func FuzzLoadState(f *testing.F) {
	f.Add([]byte(`{"version":1,"ids":[{"id":"a","added":"2025-03-01T00:00:00Z","origin":"api"}]}`))
	f.Add([]byte(`{"version":1,"ids":[]}`))
	f.Add([]byte(`{"version":1,"ids":[{"id":"a","added":"9999-12-31T23:59:59+01:00","origin":"file"}]}`))
	f.Add([]byte(`{"version":1,"ids":[{"id":"a","added":"2025-03-01T00:00:00Z","sent":"2025-02-28T00:00:00+08:00","origin":"config","retired":true}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ids, err := decodeState(data)
		if err != nil {
			return
		}
		// Whatever decodes must survive a save and a load unchanged.
		out, err := encodeState(ids)
		if err != nil {
			t.Fatalf("encodeState of decoded state: %v", err)
		}
		again, err := decodeState(out)
		if err != nil {
			t.Fatalf("decodeState of re-encoded state: %v\n%s", err, out)
		}
		if len(again) != len(ids) {
			t.Fatalf("round trip changed the length: %d, want %d", len(again), len(ids))
		}
		for i := range ids {
			if again[i] != ids[i] {
				t.Fatalf("round trip changed entry %d: %#v, want %#v", i, again[i], ids[i])
			}
		}
	})
}

// TestFutureTimesClamped: an added time in year 9999 never aged out, and a
// sent_at in the future kept an ID's window open. Times beyond now plus
// maxClockSkew are taken as now, on load and on registration; times within
// the skew are kept.
func TestFutureTimesClamped(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	state := `{"version":1,"ids":[` +
		`{"id":"far","added":"9999-12-31T23:59:59Z","sent":"9999-12-31T00:00:00Z","origin":"api"},` +
		`{"id":"near","added":"2025-03-01T00:01:00Z","origin":"api"}]}`
	if err := os.WriteFile(path, []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	fc := clocktest.NewFake(t0)
	var logs bytes.Buffer
	o := Options{StatePath: path, Clock: fc, Logger: log.NewLogfmtLogger(&logs)}
	s := mustOpen(t, o, Config{MaxAge: time.Hour})
	checkIDs(t, s, []ID{id("near", at(time.Minute), OriginAPI), {ID: "far", Added: t0, Sent: t0, Origin: OriginAPI}})
	if want := `msg="times in the future in the state file taken as now" path=` + path + ` ids=1`; !strings.Contains(logs.String(), want) {
		t.Errorf("logs = %q, want %q", logs.String(), want)
	}
	if _, err := s.Add(context.Background(), []string{"sent-later"}, OriginAPI, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if got := s.IDs(); got[len(got)-1].ID != "sent-later" || !got[len(got)-1].Sent.Equal(t0) {
		t.Errorf("IDs() = %v, want sent-later sent at %v", got, t0)
	}
	// Saved clamped: a restart keeps now, and the IDs age out.
	checkIDs(t, mustOpen(t, o, Config{}), []ID{id("near", at(time.Minute), OriginAPI), {ID: "far", Added: t0, Sent: t0, Origin: OriginAPI}, {ID: "sent-later", Added: t0, Sent: t0, Origin: OriginAPI}})
	fc.Advance(2 * time.Hour)
	if err := s.Maintain(); err != nil {
		t.Fatal(err)
	}
	checkIDs(t, s, nil)
}

// TestWaitOutlastsTheSaveACommitStarts: Commit schedules a save and returns;
// Wait returns only once no save is under way, so that a shutdown can
// remove the state directory after it. (The demo left its directory behind
// when its first save, a rewrite through a temporary file, ran while the
// directory was being removed.)
func TestWaitOutlastsTheSaveACommitStarts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	s, err := Open(Options{Kind: catalog.KindJPushMessages, App: "7d43", StatePath: path, Clock: clocktest.NewFake(t0)})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Prepare(Config{Static: []string{"123", "456"}})
	if err != nil {
		t.Fatal(err)
	}
	ch.Commit()
	s.Wait()
	s.mu.Lock()
	flushing, saved := s.flushing, s.savedGen == s.gen
	s.mu.Unlock()
	if flushing || !saved {
		t.Fatalf("after Wait: a save under way %v, the state file holds what memory holds %v", flushing, saved)
	}
	if got := stateIDs(t, path); len(got) != 2 {
		t.Fatalf("state file after Wait = %v, want both IDs", got)
	}
}
