package tracking

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/imstats/imstats_exporter/internal/clock"
)

func TestDecodeState(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		in      string
		want    []ID
		wantErr string
	}{
		{name: "empty list", in: `{"version":1,"ids":[]}`},
		{name: "null list", in: `{"version":1,"ids":null}`},
		{
			name: "entries, times in UTC, unknown fields ignored",
			in:   `{"version":1,"future":true,"ids":[{"id":"a","added":"2025-03-01T08:00:00+08:00","origin":"api","x":1},{"id":"b","added":"2025-03-01T00:00:00.5Z","origin":"file"}]}`,
			want: []ID{{"a", t0, OriginAPI}, {"b", t0.Add(500 * time.Millisecond), OriginFile}},
		},
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

func TestCorruptStateMovedAside(t *testing.T) {
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
			s, err := New(Options{StatePath: path, Static: []string{"s"}, Clock: clock.NewFake(t0), Logger: log.NewLogfmtLogger(&logs)})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			checkIDs(t, s, []ID{{"s", t0, OriginConfig}})

			moved := fmt.Sprintf("%s.corrupt-%d", path, t0.Unix())
			if got, err := os.ReadFile(moved); err != nil || string(got) != tc.content {
				t.Errorf("moved-aside file: %v; content preserved: %v", err, string(got) == tc.content)
			}
			if got := stateIDs(t, path); !reflect.DeepEqual(got, []ID{{"s", t0, OriginConfig}}) {
				t.Errorf("new state = %v", got)
			}
			wantLog := `level=warn msg="tracked-ID state file is corrupt; moved aside, starting empty" path=` + path + ` moved_to=` + moved + ` ` + tc.wantLog
			if !strings.Contains(logs.String(), wantLog) {
				t.Errorf("logs = %q, want %q", logs.String(), wantLog)
			}
		})
	}
}

func TestInvalidIDInStateDropped(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	state := `{"version":1,"ids":[{"id":"good","added":"2025-03-01T00:00:00Z","origin":"api"},{"id":"has space","added":"2025-03-01T00:00:00Z","origin":"api"}]}`
	if err := os.WriteFile(path, []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s := mustNew(t, Options{StatePath: path, Clock: clock.NewFake(t0), Logger: log.NewLogfmtLogger(&logs)})
	checkIDs(t, s, []ID{{"good", t0, OriginAPI}})
	if want := `msg="dropping invalid ID from the state file" path=` + path + ` id="has space" err="contains whitespace"`; !strings.Contains(logs.String(), want) {
		t.Errorf("logs = %q, want %q", logs.String(), want)
	}
}

// TestCrashLeftovers simulates a crash in the middle of a write: the state
// file itself is only ever replaced by a rename, so all a crash can leave is
// a stray temporary file, empty or partly written.
func TestCrashLeftovers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	fc := clock.NewFake(t0)
	s := mustNew(t, Options{StatePath: path, Clock: fc})
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

	s = mustNew(t, Options{StatePath: path, Clock: fc})
	checkIDs(t, s, []ID{{"a", t0, OriginAPI}, {"b", t0, OriginAPI}})
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

func TestSaveFailure(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "state.json")
	s := mustNew(t, Options{StatePath: path, Clock: clock.NewFake(t0)})
	// Replace the state directory by a file: every write now fails.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := s.Add([]string{"a"}, OriginAPI)
	if n != 1 || err == nil || !strings.HasPrefix(err.Error(), "saving state file: ") {
		t.Errorf("Add = %d, %v; want 1 and a save error", n, err)
	}
	checkIDs(t, s, []ID{{"a", t0, OriginAPI}})
}

func FuzzLoadState(f *testing.F) {
	f.Add([]byte(`{"version":1,"ids":[{"id":"a","added":"2025-03-01T00:00:00Z","origin":"api"}]}`))
	f.Add([]byte(`{"version":1,"ids":[]}`))
	f.Add([]byte(`{"version":1,"ids":[{"id":"a","added":"9999-12-31T23:59:59+01:00","origin":"file"}]}`))
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
