package tracking

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/imstats/imstats_exporter/internal/clock"
)

var t0 = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// mustNew calls New and fails the test on an error.
func mustNew(t *testing.T, o Options) *Set {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// mustAdd calls Add and fails the test on an error.
func mustAdd(t *testing.T, s *Set, origin Origin, ids ...string) int {
	t.Helper()
	n, err := s.Add(ids, origin)
	if err != nil {
		t.Fatalf("Add(%q): %v", ids, err)
	}
	return n
}

// checkIDs compares s.IDs() with want.
func checkIDs(t *testing.T, s *Set, want []ID) {
	t.Helper()
	got := s.IDs()
	if len(got) != len(want) {
		t.Fatalf("IDs() = %v, want %v", got, want)
	}
	for i := range got {
		if got[i].ID != want[i].ID || !got[i].Added.Equal(want[i].Added) || got[i].Origin != want[i].Origin {
			t.Fatalf("IDs() = %v, want %v", got, want)
		}
	}
	if s.Len() != len(want) {
		t.Errorf("Len() = %d, want %d", s.Len(), len(want))
	}
}

// at returns t0 + d.
func at(d time.Duration) time.Time { return t0.Add(d) }

func TestValidateID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		id      string
		wantErr string
	}{
		{id: "1613113584"},
		{id: "1400123456_144115212910570789_4155518400_15723514"},
		{id: "bsp54sn8bpn8hc3etq40"},
		{id: strings.Repeat("x", MaxIDBytes)},
		{id: "", wantErr: "empty"},
		{id: strings.Repeat("x", MaxIDBytes+1), wantErr: "longer than 128 bytes"},
		{id: "a,b", wantErr: "contains a comma"},
		{id: "a b", wantErr: "contains whitespace"},
		{id: "a\tb", wantErr: "contains whitespace"},
		{id: "a\nb", wantErr: "contains whitespace"},
		{id: "a\x00", wantErr: "contains the non-printable or non-ASCII byte 0x00"},
		{id: "a\x7f", wantErr: "contains the non-printable or non-ASCII byte 0x7f"},
		{id: "é", wantErr: "contains the non-printable or non-ASCII byte 0xc3"},
	} {
		err := ValidateID(tc.id)
		if got := fmt.Sprint(err); (err == nil) != (tc.wantErr == "") || (err != nil && got != tc.wantErr) {
			t.Errorf("ValidateID(%q) = %v, want %q", tc.id, err, tc.wantErr)
		}
	}
}

func TestAdd(t *testing.T) {
	t.Parallel()
	type call struct {
		advance   time.Duration
		ids       []string
		origin    Origin
		wantAdded int
		wantErr   string
	}
	for _, tc := range []struct {
		name     string
		validate func(string) error
		calls    []call
		want     []ID
	}{
		{
			name:  "new IDs",
			calls: []call{{ids: []string{"a", "b"}, origin: OriginAPI, wantAdded: 2}},
			want:  []ID{{"a", t0, OriginAPI}, {"b", t0, OriginAPI}},
		},
		{
			name:  "duplicates in one call count once",
			calls: []call{{ids: []string{"a", "a", "b", "a"}, origin: OriginAPI, wantAdded: 2}},
			want:  []ID{{"a", t0, OriginAPI}, {"b", t0, OriginAPI}},
		},
		{
			name: "re-adding keeps the Added time",
			calls: []call{
				{ids: []string{"a"}, origin: OriginAPI, wantAdded: 1},
				{advance: time.Hour, ids: []string{"a", "b"}, origin: OriginAPI, wantAdded: 1},
			},
			want: []ID{{"b", at(time.Hour), OriginAPI}, {"a", t0, OriginAPI}},
		},
		{
			name: "one invalid ID adds nothing and is named",
			calls: []call{
				{ids: []string{"a", "b c", "d"}, origin: OriginAPI, wantErr: `invalid ID "b c": contains whitespace`},
			},
		},
		{
			name: "a huge invalid ID is shortened in the error",
			calls: []call{{ids: []string{strings.Repeat("y", 200)}, origin: OriginAPI,
				wantErr: `invalid ID "` + strings.Repeat("y", 64) + `"… (200 bytes): longer than 128 bytes`}},
		},
		{
			name: "a custom validator replaces the default",
			validate: func(id string) error {
				if strings.Trim(id, "0123456789") != "" {
					return errors.New("not numeric")
				}
				return nil
			},
			calls: []call{
				{ids: []string{"123"}, origin: OriginAPI, wantAdded: 1},
				{ids: []string{"12a"}, origin: OriginAPI, wantErr: `invalid ID "12a": not numeric`},
			},
			want: []ID{{"123", t0, OriginAPI}},
		},
		{
			name:  "an unknown origin is refused",
			calls: []call{{ids: []string{"a"}, origin: "other", wantErr: `unknown origin "other"`}},
		},
		{
			name: "the API origin wins over the config origin",
			calls: []call{
				{ids: []string{"a"}, origin: OriginConfig, wantAdded: 1},
				{ids: []string{"a"}, origin: OriginAPI, wantAdded: 0},
			},
			want: []ID{{"a", t0, OriginAPI}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fc := clock.NewFake(t0)
			s := mustNew(t, Options{Clock: fc, Validate: tc.validate})
			for _, c := range tc.calls {
				fc.Advance(c.advance)
				n, err := s.Add(c.ids, c.origin)
				if c.wantErr != "" {
					if err == nil || err.Error() != c.wantErr {
						t.Fatalf("Add(%q) error = %v, want %q", c.ids, err, c.wantErr)
					}
					if c.origin.valid() && !errors.Is(err, ErrInvalidID) {
						t.Errorf("Add(%q) error does not wrap ErrInvalidID", c.ids)
					}
					continue
				}
				if err != nil || n != c.wantAdded {
					t.Fatalf("Add(%q) = %d, %v; want %d, nil", c.ids, n, err, c.wantAdded)
				}
			}
			checkIDs(t, s, tc.want)
		})
	}
}

func TestIDsNewestFirst(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(t0)
	s := mustNew(t, Options{Clock: fc})
	mustAdd(t, s, OriginAPI, "m")
	fc.Advance(time.Minute)
	mustAdd(t, s, OriginAPI, "z", "b", "k")
	fc.Advance(time.Minute)
	mustAdd(t, s, OriginAPI, "a")
	checkIDs(t, s, []ID{
		{"a", at(2 * time.Minute), OriginAPI},
		{"b", at(time.Minute), OriginAPI}, // ties by ID
		{"k", at(time.Minute), OriginAPI},
		{"z", at(time.Minute), OriginAPI},
		{"m", t0, OriginAPI},
	})
}

func TestCap(t *testing.T) {
	t.Parallel()
	type call struct {
		advance time.Duration
		ids     []string
	}
	for _, tc := range []struct {
		name        string
		cap         int
		calls       []call
		want        []ID
		wantEvicted uint64
	}{
		{
			name:  "under the cap nothing is evicted",
			cap:   3,
			calls: []call{{ids: []string{"a", "b", "c"}}},
			want:  []ID{{"a", t0, OriginAPI}, {"b", t0, OriginAPI}, {"c", t0, OriginAPI}},
		},
		{
			name: "the oldest go first",
			cap:  2,
			calls: []call{
				{ids: []string{"old"}},
				{advance: time.Minute, ids: []string{"mid"}},
				{advance: time.Minute, ids: []string{"new", "newer"}},
			},
			want:        []ID{{"new", at(2 * time.Minute), OriginAPI}, {"newer", at(2 * time.Minute), OriginAPI}},
			wantEvicted: 2,
		},
		{
			name:        "ties go in reverse ID order",
			cap:         2,
			calls:       []call{{ids: []string{"c", "a", "b"}}},
			want:        []ID{{"a", t0, OriginAPI}, {"b", t0, OriginAPI}},
			wantEvicted: 1,
		},
		{
			name: "an evicted ID added again is tracked afresh",
			cap:  1,
			calls: []call{
				{ids: []string{"a"}},
				{advance: time.Minute, ids: []string{"b"}},
				{advance: time.Minute, ids: []string{"a"}},
			},
			want:        []ID{{"a", at(2 * time.Minute), OriginAPI}},
			wantEvicted: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fc := clock.NewFake(t0)
			s := mustNew(t, Options{Clock: fc, Cap: tc.cap})
			for _, c := range tc.calls {
				fc.Advance(c.advance)
				mustAdd(t, s, OriginAPI, c.ids...)
			}
			checkIDs(t, s, tc.want)
			if got := s.Evicted(); got != tc.wantEvicted {
				t.Errorf("Evicted() = %d, want %d", got, tc.wantEvicted)
			}
		})
	}
}

func TestCapKeepsEvictedConfigIDsRetired(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(t0)
	o := Options{StatePath: filepath.Join(t.TempDir(), "state.json"), Static: []string{"cfg"}, Cap: 1, Clock: fc}
	s := mustNew(t, o)
	fc.Advance(time.Minute)
	mustAdd(t, s, OriginAPI, "api")
	checkIDs(t, s, []ID{{"api", at(time.Minute), OriginAPI}})

	// A reload must not bring the evicted config ID back as the newest.
	fc.Advance(time.Minute)
	s = mustNew(t, o)
	checkIDs(t, s, []ID{{"api", at(time.Minute), OriginAPI}})
	if got := s.Evicted(); got != 1 {
		t.Errorf("Evicted() after reload = %d, want 1", got)
	}

	// Registering it through the API tracks it afresh.
	fc.Advance(time.Minute)
	if n := mustAdd(t, s, OriginAPI, "cfg"); n != 1 {
		t.Errorf("Add(cfg) = %d, want 1", n)
	}
	checkIDs(t, s, []ID{{"cfg", at(3 * time.Minute), OriginAPI}})
}

func TestAging(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		maxAge      time.Duration
		advance     time.Duration
		wantExpired int
		want        []ID
	}{
		{name: "younger than MaxAge", maxAge: 24 * time.Hour, advance: time.Hour, want: []ID{{"b", at(time.Hour), OriginAPI}, {"a", t0, OriginAPI}}},
		{name: "exactly MaxAge old is kept", maxAge: 24 * time.Hour, advance: 24 * time.Hour, want: []ID{{"b", at(time.Hour), OriginAPI}, {"a", t0, OriginAPI}}},
		{name: "older than MaxAge is dropped", maxAge: 24 * time.Hour, advance: 24*time.Hour + time.Nanosecond, wantExpired: 1, want: []ID{{"b", at(time.Hour), OriginAPI}}},
		{name: "all aged", maxAge: 24 * time.Hour, advance: 30 * 24 * time.Hour, wantExpired: 2},
		{name: "no MaxAge keeps everything", advance: 365 * 24 * time.Hour, want: []ID{{"b", at(time.Hour), OriginAPI}, {"a", t0, OriginAPI}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fc := clock.NewFake(t0)
			s := mustNew(t, Options{Clock: fc, MaxAge: tc.maxAge})
			mustAdd(t, s, OriginAPI, "a")
			fc.Advance(time.Hour)
			mustAdd(t, s, OriginAPI, "b")
			fc.Advance(tc.advance - time.Hour)
			if got := s.Expire(); got != tc.wantExpired {
				t.Errorf("Expire() = %d, want %d", got, tc.wantExpired)
			}
			if got := s.Expire(); got != 0 {
				t.Errorf("second Expire() = %d, want 0", got)
			}
			checkIDs(t, s, tc.want)
		})
	}
}

func TestIDsDropsAgedWithoutExpire(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(t0)
	path := filepath.Join(t.TempDir(), "state.json")
	s := mustNew(t, Options{StatePath: path, Clock: fc, MaxAge: time.Hour})
	mustAdd(t, s, OriginAPI, "a")
	fc.Advance(2 * time.Hour)
	checkIDs(t, s, nil)
	if got := stateIDs(t, path); len(got) != 0 {
		t.Errorf("state after IDs() = %v, want empty", got)
	}
}

func TestAgedConfigIDNotResurrected(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(t0)
	o := Options{StatePath: filepath.Join(t.TempDir(), "state.json"), Static: []string{"s"}, MaxAge: 24 * time.Hour, Clock: fc}
	mustNew(t, o)
	fc.Advance(25 * time.Hour)

	s := mustNew(t, o) // reload with the ID still in the config
	checkIDs(t, s, nil)
	if got := stateIDs(t, o.StatePath); !reflect.DeepEqual(got, []ID{{"s", t0, OriginConfig}}) {
		t.Errorf("state = %v, want the aged config ID kept with its time", got)
	}

	o.Static = nil // removed from the config: forgotten
	mustNew(t, o)
	fc.Advance(time.Hour)
	o.Static = []string{"s"} // listed again: tracked afresh
	s = mustNew(t, o)
	checkIDs(t, s, []ID{{"s", at(26 * time.Hour), OriginConfig}})
}

// stateIDs decodes the state file at path.
func stateIDs(t *testing.T, path string) []ID {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := decodeState(data)
	if err != nil {
		t.Fatalf("state file does not decode: %v\n%s", err, data)
	}
	return ids
}

func TestPersistenceAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fc := clock.NewFake(t0)
	file := filepath.Join(dir, "ids.txt")
	if err := os.WriteFile(file, []byte("f1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := Options{StatePath: filepath.Join(dir, "missing", "dir", "state.json"), File: file, Static: []string{"s1"}, Clock: fc}
	s := mustNew(t, o)
	fc.Advance(time.Minute)
	mustAdd(t, s, OriginAPI, "a1", "a2")
	want := []ID{{"a1", at(time.Minute), OriginAPI}, {"a2", at(time.Minute), OriginAPI}, {"f1", t0, OriginFile}, {"s1", t0, OriginConfig}}
	checkIDs(t, s, want)

	fi, err := os.Stat(o.StatePath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode = %v, want 0600", fi.Mode().Perm())
	}
	if !reflect.DeepEqual(stateIDs(t, o.StatePath), want) {
		t.Errorf("state = %v, want %v", stateIDs(t, o.StatePath), want)
	}

	fc.Advance(time.Hour) // a restart keeps the Added times
	checkIDs(t, mustNew(t, o), want)
}

func TestStateFileFormat(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	s := mustNew(t, Options{StatePath: path, Clock: clock.NewFake(time.Date(2025, 3, 1, 8, 0, 0, 5, time.FixedZone("CST", 8*3600)))})
	mustAdd(t, s, OriginAPI, "1613113584")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "version": 1,
  "ids": [
    {
      "id": "1613113584",
      "added": "2025-03-01T00:00:00.000000005Z",
      "origin": "api"
    }
  ]
}
`
	if string(got) != want {
		t.Errorf("state file:\n%s\nwant:\n%s", got, want)
	}
}

func TestReload(t *testing.T) {
	t.Parallel()
	type step struct {
		static []string
		file   string // content of the watched file
		api    []string
		want   []ID
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{
			name: "config IDs removed from the config are dropped, kept ones keep their time",
			steps: []step{
				{static: []string{"a", "b"}, want: []ID{{"a", t0, OriginConfig}, {"b", t0, OriginConfig}}},
				{static: []string{"b", "c"}, want: []ID{{"c", at(time.Hour), OriginConfig}, {"b", t0, OriginConfig}}},
			},
		},
		{
			name: "an ID also registered through the API survives its removal from the config",
			steps: []step{
				{static: []string{"a"}, api: []string{"a"}, want: []ID{{"a", t0, OriginAPI}}},
				{want: []ID{{"a", t0, OriginAPI}}},
			},
		},
		{
			name: "an ID also in the watched file survives its removal from the config",
			steps: []step{
				{static: []string{"a"}, file: "a\n", want: []ID{{"a", t0, OriginConfig}}},
				{file: "a\n", want: []ID{{"a", t0, OriginFile}}},
			},
		},
		{
			name: "file IDs no longer in the file are dropped at start",
			steps: []step{
				{file: "a\nb\n", want: []ID{{"a", t0, OriginFile}, {"b", t0, OriginFile}}},
				{file: "b\n", want: []ID{{"b", t0, OriginFile}}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			fc := clock.NewFake(t0)
			for i, st := range tc.steps {
				if i > 0 {
					fc.Advance(time.Hour)
				}
				file := filepath.Join(dir, "ids.txt")
				if err := os.WriteFile(file, []byte(st.file), 0o644); err != nil {
					t.Fatal(err)
				}
				s := mustNew(t, Options{StatePath: filepath.Join(dir, "state.json"), File: file, Static: st.static, Clock: fc})
				if len(st.api) > 0 {
					mustAdd(t, s, OriginAPI, st.api...)
				}
				checkIDs(t, s, st.want)
			}
		})
	}
}

func TestNewRefusesInvalidStaticID(t *testing.T) {
	t.Parallel()
	_, err := New(Options{Static: []string{"ok", "not,ok"}})
	if err == nil || err.Error() != `invalid ID "not,ok": contains a comma` || !errors.Is(err, ErrInvalidID) {
		t.Errorf("New error = %v, want the invalid static ID named", err)
	}
}

func TestSync(t *testing.T) {
	t.Parallel()
	type step struct {
		write       *string // new content, nil = leave the file alone; "" with remove deletes it
		remove      bool
		api         []string
		wantChanged bool
		want        []ID
	}
	str := func(s string) *string { return &s }
	steps := []step{
		{want: nil}, // the file does not exist yet
		{
			write:       str("a\n# a comment\n\n  b  \r\nc # a trailing comment\nbad,id\n"),
			wantChanged: true,
			want:        []ID{{"a", at(2 * time.Minute), OriginFile}, {"b", at(2 * time.Minute), OriginFile}, {"c", at(2 * time.Minute), OriginFile}},
		},
		{want: []ID{{"a", at(2 * time.Minute), OriginFile}, {"b", at(2 * time.Minute), OriginFile}, {"c", at(2 * time.Minute), OriginFile}}},
		{
			write:       str("a\nd\n"),
			wantChanged: true,
			want:        []ID{{"d", at(4 * time.Minute), OriginFile}, {"a", at(2 * time.Minute), OriginFile}},
		},
		{
			api:  []string{"a"},
			want: []ID{{"d", at(4 * time.Minute), OriginFile}, {"a", at(2 * time.Minute), OriginAPI}},
		},
		{
			// a leaves the file but stays registered through the API.
			write:       str("d\n"),
			wantChanged: false,
			want:        []ID{{"d", at(4 * time.Minute), OriginFile}, {"a", at(2 * time.Minute), OriginAPI}},
		},
		{
			write:       str("d\n#\n"), // new content, same IDs
			wantChanged: false,
			want:        []ID{{"d", at(4 * time.Minute), OriginFile}, {"a", at(2 * time.Minute), OriginAPI}},
		},
		{
			remove:      true,
			wantChanged: true,
			want:        []ID{{"a", at(2 * time.Minute), OriginAPI}},
		},
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "ids.txt")
	fc := clock.NewFake(t0)
	var logs bytes.Buffer
	s := mustNew(t, Options{StatePath: filepath.Join(dir, "state.json"), File: file, Clock: fc, Logger: log.NewLogfmtLogger(&logs)})
	for i, st := range steps {
		fc.Advance(time.Minute)
		switch {
		case st.remove:
			if err := os.Remove(file); err != nil {
				t.Fatal(err)
			}
		case st.write != nil:
			if err := os.WriteFile(file, []byte(*st.write), 0o644); err != nil {
				t.Fatal(err)
			}
			// Distinct modification times, whatever the file system's granularity.
			mt := t0.Add(time.Duration(i) * time.Hour)
			if err := os.Chtimes(file, mt, mt); err != nil {
				t.Fatal(err)
			}
		}
		if len(st.api) > 0 {
			mustAdd(t, s, OriginAPI, st.api...)
		}
		changed, err := s.Sync()
		if err != nil || changed != st.wantChanged {
			t.Fatalf("step %d: Sync() = %v, %v; want %v, nil", i, changed, err, st.wantChanged)
		}
		checkIDs(t, s, st.want)
		if got := stateIDs(t, s.opts.StatePath); len(got) != len(st.want) {
			t.Fatalf("step %d: state = %v, want %v", i, got, st.want)
		}
	}
	if want := `level=warn msg="ignoring invalid ID in the watched file" path=` + file + ` line=6 id=bad,id err="contains a comma"`; !strings.Contains(logs.String(), want) {
		t.Errorf("logs = %q, want a line containing %q", logs.String(), want)
	}
}

func TestSyncWithoutFile(t *testing.T) {
	t.Parallel()
	s := mustNew(t, Options{})
	if changed, err := s.Sync(); changed || err != nil {
		t.Errorf("Sync() = %v, %v; want false, nil", changed, err)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s := mustNew(t, Options{StatePath: filepath.Join(t.TempDir(), "state.json"), Cap: 50, MaxAge: time.Hour, Clock: clock.NewFake(t0)})
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 25 {
				if _, err := s.Add([]string{fmt.Sprintf("g%d-%d", g, i)}, OriginAPI); err != nil {
					t.Error(err)
				}
				s.IDs()
				s.Expire()
			}
		}()
	}
	for range 4 {
		<-done
	}
	if s.Len() != 50 || s.Evicted() != 50 {
		t.Errorf("Len() = %d, Evicted() = %d; want 50, 50", s.Len(), s.Evicted())
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		setup      func(dir string) Options
		wantPrefix string
	}{
		{
			name: "watched file too large",
			setup: func(dir string) Options {
				f := filepath.Join(dir, "ids.txt")
				if err := os.WriteFile(f, bytes.Repeat([]byte("a\n"), maxFileBytes/2+1), 0o644); err != nil {
					t.Fatal(err)
				}
				return Options{File: f}
			},
			wantPrefix: "watched file: " + "%s/ids.txt is larger than 4194304 bytes",
		},
		{
			name:       "watched file is a directory",
			setup:      func(dir string) Options { return Options{File: dir} },
			wantPrefix: "watched file: read %s: is a directory",
		},
		{
			name:       "state file is a directory",
			setup:      func(dir string) Options { return Options{StatePath: dir} },
			wantPrefix: "reading state file: read %s: is a directory",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			_, err := New(tc.setup(dir))
			if want := fmt.Sprintf(tc.wantPrefix, dir); err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("New error = %v, want %q", err, want)
			}
		})
	}
}

func TestSetStaticAndOnAdd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "ids.txt")
	var adds atomic.Int32
	s, err := New(Options{StatePath: filepath.Join(dir, "state.json"), File: file, Static: []string{"a", "b"}, OnAdd: func() { adds.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatic([]string{"b", "c"}); err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, id := range s.IDs() {
		got = append(got, id.ID)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("after SetStatic: %v, want [b c]", got)
	}
	if err := s.SetStatic([]string{"bad id"}); !errors.Is(err, ErrInvalidID) {
		t.Fatalf("invalid static ID: err = %v", err)
	}
	if _, err := s.Add([]string{"b"}, OriginAPI); err != nil || adds.Load() != 0 {
		t.Fatalf("re-adding a tracked ID called OnAdd (%d) or failed: %v", adds.Load(), err)
	}
	if _, err := s.Add([]string{"d"}, OriginAPI); err != nil || adds.Load() != 1 {
		t.Fatalf("adding a new ID: OnAdd called %d times, err %v", adds.Load(), err)
	}
	if err := os.WriteFile(file, []byte("e\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sync(); err != nil || adds.Load() != 2 {
		t.Fatalf("a new ID in the watched file: OnAdd called %d times, err %v", adds.Load(), err)
	}
}
