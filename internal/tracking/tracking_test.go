package tracking

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
)

var t0 = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// mustOpen opens a Set and commits c to it, failing the test on an error.
func mustOpen(t testing.TB, o Options, c Config) *Set {
	t.Helper()
	s, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	mustCommit(t, s, c)
	return s
}

// mustCommit prepares and commits c, then waits for the save it schedules.
func mustCommit(t testing.TB, s *Set, c Config) {
	t.Helper()
	ch, err := s.Prepare(c)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	ch.Commit()
	settle(t, s)
}

// settle waits until the state file holds what memory holds.
func settle(t testing.TB, s *Set) {
	t.Helper()
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	if err := s.waitSaved(context.Background(), gen); err != nil {
		t.Fatalf("saving: %v", err)
	}
}

// mustAdd calls Add and fails the test on an error.
func mustAdd(t testing.TB, s *Set, origin Origin, ids ...string) int {
	t.Helper()
	n, err := s.Add(context.Background(), ids, origin, time.Time{})
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
		if got[i].ID != want[i].ID || !got[i].Added.Equal(want[i].Added) || !got[i].Sent.Equal(want[i].Sent) || got[i].Origin != want[i].Origin {
			t.Fatalf("IDs() = %v, want %v", got, want)
		}
	}
	if s.Len() != len(want) {
		t.Errorf("Len() = %d, want %d", s.Len(), len(want))
	}
}

// id is an ID with no Sent time.
func id(s string, added time.Time, o Origin) ID { return ID{ID: s, Added: added, Origin: o} }

// at returns t0 + d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// countWrites replaces s's state writer by one that counts the writes.
func countWrites(s *Set) *atomic.Int64 {
	var n atomic.Int64
	s.persist = func(data []byte, rewrite bool) error {
		n.Add(1)
		return s.persistJournal(data, rewrite)
	}
	return &n
}

func TestAdd(t *testing.T) {
	t.Parallel()
	sent := time.Date(2025, 2, 28, 23, 0, 0, 0, time.FixedZone("CST", 8*3600))
	type call struct {
		advance   time.Duration
		ids       []string
		origin    Origin
		sent      time.Time
		wantAdded int
		wantErr   string
	}
	for _, tc := range []struct {
		name  string
		kind  string
		calls []call
		want  []ID
	}{
		{
			name:  "new IDs",
			calls: []call{{ids: []string{"a", "b"}, origin: OriginAPI, wantAdded: 2}},
			want:  []ID{id("a", t0, OriginAPI), id("b", t0, OriginAPI)},
		},
		{
			name:  "duplicates in one call count once",
			calls: []call{{ids: []string{"a", "a", "b", "a"}, origin: OriginAPI, wantAdded: 2}},
			want:  []ID{id("a", t0, OriginAPI), id("b", t0, OriginAPI)},
		},
		{
			name: "re-adding keeps the Added time",
			calls: []call{
				{ids: []string{"a"}, origin: OriginAPI, wantAdded: 1},
				{advance: time.Hour, ids: []string{"a", "b"}, origin: OriginAPI, wantAdded: 1},
			},
			want: []ID{id("b", at(time.Hour), OriginAPI), id("a", t0, OriginAPI)},
		},
		{
			name: "sent is kept in UTC, and given later to an ID that had none",
			calls: []call{
				{ids: []string{"a"}, origin: OriginAPI, sent: sent, wantAdded: 1},
				{ids: []string{"b"}, origin: OriginAPI, wantAdded: 1},
				{ids: []string{"a", "b"}, origin: OriginAPI, sent: sent.Add(time.Minute)},
			},
			want: []ID{
				{ID: "a", Added: t0, Sent: sent.UTC(), Origin: OriginAPI},
				{ID: "b", Added: t0, Sent: sent.Add(time.Minute).UTC(), Origin: OriginAPI},
			},
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
			name: "the kind's rule applies",
			kind: catalog.KindJPushMessages,
			calls: []call{
				{ids: []string{"123"}, origin: OriginAPI, wantAdded: 1},
				{ids: []string{"12a"}, origin: OriginAPI, wantErr: `invalid ID "12a": a msg_id is a decimal integer from 1 to 18446744073709551615 without leading zeros`},
			},
			want: []ID{id("123", t0, OriginAPI)},
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
			want: []ID{id("a", t0, OriginAPI)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fc := clocktest.NewFake(t0)
			s := mustOpen(t, Options{Kind: tc.kind, Clock: fc}, Config{})
			for _, c := range tc.calls {
				fc.Advance(c.advance)
				n, err := s.Add(context.Background(), c.ids, c.origin, c.sent)
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
	fc := clocktest.NewFake(t0)
	s := mustOpen(t, Options{Clock: fc}, Config{})
	mustAdd(t, s, OriginAPI, "m")
	fc.Advance(time.Minute)
	mustAdd(t, s, OriginAPI, "z", "b", "k")
	fc.Advance(time.Minute)
	mustAdd(t, s, OriginAPI, "a")
	checkIDs(t, s, []ID{
		id("a", at(2*time.Minute), OriginAPI),
		id("b", at(time.Minute), OriginAPI), // ties by ID
		id("k", at(time.Minute), OriginAPI),
		id("z", at(time.Minute), OriginAPI),
		id("m", t0, OriginAPI),
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
		static      []string
		calls       []call
		want        []ID
		wantEvicted uint64
	}{
		{
			name:  "under the cap nothing is evicted",
			cap:   3,
			calls: []call{{ids: []string{"a", "b", "c"}}},
			want:  []ID{id("a", t0, OriginAPI), id("b", t0, OriginAPI), id("c", t0, OriginAPI)},
		},
		{
			name: "the oldest go first",
			cap:  2,
			calls: []call{
				{ids: []string{"old"}},
				{advance: time.Minute, ids: []string{"mid"}},
				{advance: time.Minute, ids: []string{"new", "newer"}},
			},
			want:        []ID{id("new", at(2*time.Minute), OriginAPI), id("newer", at(2*time.Minute), OriginAPI)},
			wantEvicted: 2,
		},
		{
			name:        "ties go in reverse ID order",
			cap:         2,
			calls:       []call{{ids: []string{"c", "a", "b"}}},
			want:        []ID{id("a", t0, OriginAPI), id("b", t0, OriginAPI)},
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
			want:        []ID{id("a", at(2*time.Minute), OriginAPI)},
			wantEvicted: 2,
		},
		{
			name:   "configuration IDs are never evicted, however old",
			cap:    2,
			static: []string{"cfg"},
			calls: []call{
				{advance: time.Minute, ids: []string{"a"}},
				{advance: time.Minute, ids: []string{"b", "c"}},
			},
			want:        []ID{id("b", at(2*time.Minute), OriginAPI), id("cfg", t0, OriginConfig)},
			wantEvicted: 2,
		},
		{
			name:   "configuration IDs alone may exceed the cap",
			cap:    1,
			static: []string{"c1", "c2"},
			calls:  []call{{advance: time.Minute, ids: []string{"a"}}},
			want:   []ID{id("c1", t0, OriginConfig), id("c2", t0, OriginConfig)},
			// a is tracked and evicted at once.
			wantEvicted: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fc := clocktest.NewFake(t0)
			s := mustOpen(t, Options{Clock: fc}, Config{Cap: tc.cap, Static: tc.static})
			for _, c := range tc.calls {
				fc.Advance(c.advance)
				mustAdd(t, s, OriginAPI, c.ids...)
			}
			checkIDs(t, s, tc.want)
			if got := s.Stats(); got.Evicted != tc.wantEvicted || got.Limit != tc.cap {
				t.Errorf("Stats() = %+v, want Evicted %d, Limit %d", got, tc.wantEvicted, tc.cap)
			}
		})
	}
}

func TestCapKeepsEvictedFileIDsRetired(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "ids.txt")
	if err := os.WriteFile(file, []byte("f\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fc := clocktest.NewFake(t0)
	o := Options{StatePath: filepath.Join(dir, "state.json"), Clock: fc}
	c := Config{File: file, Cap: 1}
	s := mustOpen(t, o, c)
	fc.Advance(time.Minute)
	mustAdd(t, s, OriginAPI, "api")
	checkIDs(t, s, []ID{id("api", at(time.Minute), OriginAPI)})

	// Neither a reload nor a restart brings the evicted file ID back.
	fc.Advance(time.Minute)
	mustCommit(t, s, c)
	checkIDs(t, s, []ID{id("api", at(time.Minute), OriginAPI)})
	s = mustOpen(t, o, c)
	checkIDs(t, s, []ID{id("api", at(time.Minute), OriginAPI)})

	// Registering it through the API tracks it afresh.
	fc.Advance(time.Minute)
	if n := mustAdd(t, s, OriginAPI, "f"); n != 1 {
		t.Errorf("Add(f) = %d, want 1", n)
	}
	checkIDs(t, s, []ID{id("f", at(3*time.Minute), OriginAPI)})
}

func TestAging(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		maxAge  time.Duration
		advance time.Duration
		want    []ID
	}{
		{name: "younger than MaxAge", maxAge: 24 * time.Hour, advance: time.Hour, want: []ID{id("b", at(time.Hour), OriginAPI), id("a", t0, OriginAPI)}},
		{name: "exactly MaxAge old is kept", maxAge: 24 * time.Hour, advance: 24 * time.Hour, want: []ID{id("b", at(time.Hour), OriginAPI), id("a", t0, OriginAPI)}},
		{name: "older than MaxAge is dropped", maxAge: 24 * time.Hour, advance: 24*time.Hour + time.Nanosecond, want: []ID{id("b", at(time.Hour), OriginAPI)}},
		{name: "all aged", maxAge: 24 * time.Hour, advance: 30 * 24 * time.Hour},
		{name: "no MaxAge keeps everything", advance: 365 * 24 * time.Hour, want: []ID{id("b", at(time.Hour), OriginAPI), id("a", t0, OriginAPI)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fc := clocktest.NewFake(t0)
			path := filepath.Join(t.TempDir(), "state.json")
			s := mustOpen(t, Options{StatePath: path, Clock: fc}, Config{MaxAge: tc.maxAge})
			mustAdd(t, s, OriginAPI, "a")
			fc.Advance(time.Hour)
			mustAdd(t, s, OriginAPI, "b")
			fc.Advance(tc.advance - time.Hour)
			if err := s.Maintain(); err != nil {
				t.Fatalf("Maintain: %v", err)
			}
			checkIDs(t, s, tc.want)
			if got := stateIDs(t, path); len(got) != len(tc.want) {
				t.Errorf("state after Maintain = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestReadsNeverWrite: IDs, Len and Stats used to expire aged IDs and save
// the state file, an fsync on the scrape path.
func TestReadsNeverWrite(t *testing.T) {
	t.Parallel()
	fc := clocktest.NewFake(t0)
	path := filepath.Join(t.TempDir(), "state.json")
	s := mustOpen(t, Options{StatePath: path, Clock: fc}, Config{MaxAge: time.Hour})
	mustAdd(t, s, OriginAPI, "a")
	writes := countWrites(s)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fc.Advance(2 * time.Hour)
	s.IDs()
	s.Len()
	s.Stats()
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := writes.Load(); n != 0 || !bytes.Equal(before, after) {
		t.Errorf("reads wrote the state file %d times", n)
	}
	checkIDs(t, s, []ID{id("a", t0, OriginAPI)}) // until Maintain retires it
}

func TestAgedConfigIDNotResurrected(t *testing.T) {
	t.Parallel()
	fc := clocktest.NewFake(t0)
	o := Options{StatePath: filepath.Join(t.TempDir(), "state.json"), Clock: fc}
	c := Config{Static: []string{"s"}, MaxAge: 24 * time.Hour}
	s := mustOpen(t, o, c)
	fc.Advance(25 * time.Hour)
	if err := s.Maintain(); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, s, c) // reload with the ID still in the config
	checkIDs(t, s, nil)
	if got := stateIDs(t, o.StatePath); !reflect.DeepEqual(got, []record{{ID: "s", Added: t0, Origin: OriginConfig, Retired: true}}) {
		t.Errorf("state = %v, want the aged config ID kept with its time", got)
	}
	checkIDs(t, mustOpen(t, o, c), nil) // and a restart

	c.Static = nil // removed from the config: forgotten
	mustCommit(t, s, c)
	fc.Advance(time.Hour)
	c.Static = []string{"s"} // listed again: tracked afresh
	mustCommit(t, s, c)
	checkIDs(t, s, []ID{id("s", at(26*time.Hour), OriginConfig)})
}

// stateIDs reads the state file at path, as records newest first.
func stateIDs(t *testing.T, path string) []record {
	t.Helper()
	st, err := readState(path)
	if err != nil {
		t.Fatalf("state file does not decode: %v", err)
	}
	if st.tail != 0 {
		t.Errorf("state file has %d bytes after its last good record", st.tail)
	}
	var recs []record
	for id, e := range st.ids {
		recs = append(recs, record{ID: id, Added: e.added, Sent: e.sent, Origin: e.origin(), Retired: e.retired})
	}
	slices.SortFunc(recs, func(a, b record) int {
		if c := b.Added.Compare(a.Added); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return recs
}

func TestPersistenceAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fc := clocktest.NewFake(t0)
	file := filepath.Join(dir, "ids.txt")
	if err := os.WriteFile(file, []byte("f1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := Options{StatePath: filepath.Join(dir, "missing", "dir", "state.json"), Clock: fc}
	c := Config{File: file, Static: []string{"s1"}}
	s := mustOpen(t, o, c)
	fc.Advance(time.Minute)
	sent := at(-time.Hour)
	if _, err := s.Add(context.Background(), []string{"a1", "a2"}, OriginAPI, sent); err != nil {
		t.Fatal(err)
	}
	want := []ID{
		{ID: "a1", Added: at(time.Minute), Sent: sent, Origin: OriginAPI},
		{ID: "a2", Added: at(time.Minute), Sent: sent, Origin: OriginAPI},
		id("f1", t0, OriginFile),
		id("s1", t0, OriginConfig),
	}
	checkIDs(t, s, want)

	fi, err := os.Stat(o.StatePath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode = %v, want 0600", fi.Mode().Perm())
	}

	fc.Advance(time.Hour) // a restart keeps the Added and Sent times
	restarted, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, restarted, want) // before any Commit: as saved
	mustCommit(t, restarted, c)
	checkIDs(t, restarted, want)
}

// TestStateFileFormat pins the journal's bytes: its header, then a
// length, a CRC-32C and a payload per record; the first save of a process
// rewrites the file, later ones append.
func TestStateFileFormat(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	cst := time.FixedZone("CST", 8*3600)
	s := mustOpen(t, Options{StatePath: path, Clock: clocktest.NewFake(time.Date(2025, 3, 1, 8, 0, 0, 5, cst))}, Config{})
	mustAdd(t, s, OriginAPI, "1613113584")
	if _, err := s.Add(context.Background(), []string{"bsp54sn8bpn8hc3etq40"}, OriginAPI, time.Date(2025, 3, 1, 7, 0, 0, 0, cst)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(context.Background(), []string{"1613113584"}, OriginAPI); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	frame := func(payload string) string {
		var h [8]byte
		binary.LittleEndian.PutUint32(h[:], uint32(len(payload)))
		binary.LittleEndian.PutUint32(h[4:], crc32.Checksum([]byte(payload), crc32.MakeTable(crc32.Castagnoli)))
		return string(h[:]) + payload
	}
	// Unix seconds as zig-zag varints: 1740787200 (2025-03-01T00:00:00Z) is
	// 80 b8 92 fc 0c, 1740783600 (an hour earlier, the sent time) e0 ff 91 fc 0c.
	added := "\x80\xb8\x92\xfc\x0c\x05"
	want := "imstats tracked IDs journal v2\n" +
		frame("P\x0a1613113584"+added+"\x04") +
		frame("P\x14bsp54sn8bpn8hc3etq40"+added+"\x44"+"\xe0\xff\x91\xfc\x0c\x00") +
		frame("D\x0a1613113584")
	if string(got) != want {
		t.Errorf("state file:\n%q\nwant:\n%q", got, want)
	}
}

// TestReadsVersion1WithoutNewFields loads a state file written before sent
// and retired existed.
func TestReadsVersion1WithoutNewFields(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	old := `{"version":1,"ids":[{"id":"a","added":"2025-03-01T00:00:00Z","origin":"api"},{"id":"c","added":"2025-02-28T00:00:00Z","origin":"config"}]}`
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, Options{StatePath: path, Clock: clocktest.NewFake(t0)}, Config{Static: []string{"c"}})
	checkIDs(t, s, []ID{id("a", t0, OriginAPI), id("c", at(-24*time.Hour), OriginConfig)})
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
				{static: []string{"a", "b"}, want: []ID{id("a", t0, OriginConfig), id("b", t0, OriginConfig)}},
				{static: []string{"b", "c"}, want: []ID{id("c", at(time.Hour), OriginConfig), id("b", t0, OriginConfig)}},
			},
		},
		{
			name: "an ID also registered through the API survives its removal from the config",
			steps: []step{
				{static: []string{"a"}, api: []string{"a"}, want: []ID{id("a", t0, OriginAPI)}},
				{want: []ID{id("a", t0, OriginAPI)}},
			},
		},
		{
			name: "an ID also in the watched file survives its removal from the config",
			steps: []step{
				{static: []string{"a"}, file: "a\n", want: []ID{id("a", t0, OriginConfig)}},
				{file: "a\n", want: []ID{id("a", t0, OriginFile)}},
			},
		},
		{
			name: "file IDs no longer in the file are dropped",
			steps: []step{
				{file: "a\nb\n", want: []ID{id("a", t0, OriginFile), id("b", t0, OriginFile)}},
				{file: "b\n", want: []ID{id("b", t0, OriginFile)}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			fc := clocktest.NewFake(t0)
			o := Options{StatePath: filepath.Join(dir, "state.json"), Clock: fc}
			file := filepath.Join(dir, "ids.txt")
			// The same Set across reloads, and a restarted one, agree.
			live, err := Open(o)
			if err != nil {
				t.Fatal(err)
			}
			for i, st := range tc.steps {
				if i > 0 {
					fc.Advance(time.Hour)
				}
				if err := os.WriteFile(file, []byte(st.file), 0o644); err != nil {
					t.Fatal(err)
				}
				c := Config{File: file, Static: st.static}
				mustCommit(t, live, c)
				if len(st.api) > 0 {
					mustAdd(t, live, OriginAPI, st.api...)
				}
				checkIDs(t, live, st.want)
				checkIDs(t, mustOpen(t, o, c), st.want)
			}
		})
	}
}

func TestPrepareRefusesInvalidStaticID(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, Options{Kind: catalog.KindJPushMessages}, Config{})
	_, err := s.Prepare(Config{Static: []string{"1", "12x"}})
	if err == nil || err.Error() != `invalid ID "12x": a msg_id is a decimal integer from 1 to 18446744073709551615 without leading zeros` || !errors.Is(err, ErrInvalidID) {
		t.Errorf("Prepare error = %v, want the invalid static ID named", err)
	}
}

// TestPrepareChangesNothing: a reload that is rejected after Prepare (or
// whose Change is dropped) must leave the IDs and the state file as they were.
func TestPrepareChangesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	file := filepath.Join(dir, "ids.txt")
	if err := os.WriteFile(file, []byte("f1\nf2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fc := clocktest.NewFake(t0)
	s := mustOpen(t, Options{StatePath: path, Clock: fc}, Config{Static: []string{"s1"}, File: file, Cap: 10})
	mustAdd(t, s, OriginAPI, "a1")
	beforeIDs, beforeStats := s.IDs(), s.Stats()
	beforeFile, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writes := countWrites(s)

	other := filepath.Join(dir, "other.txt")
	if err := os.WriteFile(other, []byte("o1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fc.Advance(48 * time.Hour)
	for _, c := range []Config{
		{Static: []string{"s2"}, File: other, Cap: 1, MaxAge: time.Hour, RegisterPerMinute: 1},
		{},
		{Static: []string{"bad id"}},
		{File: dir}, // a directory: Prepare fails
	} {
		_, _ = s.Prepare(c) // dropped
	}
	if got := s.IDs(); !reflect.DeepEqual(got, beforeIDs) {
		t.Errorf("IDs after dropped Changes = %v, want %v", got, beforeIDs)
	}
	if got := s.Stats(); got != beforeStats {
		t.Errorf("Stats after dropped Changes = %+v, want %+v", got, beforeStats)
	}
	// The Config in force is unchanged too: the limit of 1 a minute is not.
	mustAdd(t, s, OriginAPI, "a2", "a3")
	if after, _ := os.ReadFile(path); bytes.Equal(after, beforeFile) {
		t.Errorf("the Add after dropped Changes did not save")
	}
	if n := writes.Load(); n != 1 {
		t.Errorf("%d writes, want only the Add's", n)
	}
}

func TestPrepareErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		setup      func(dir string) Config
		wantPrefix string
	}{
		{
			name: "watched file too large",
			setup: func(dir string) Config {
				f := filepath.Join(dir, "ids.txt")
				if err := os.WriteFile(f, bytes.Repeat([]byte("a\n"), maxFileBytes/2+1), 0o644); err != nil {
					t.Fatal(err)
				}
				return Config{File: f}
			},
			wantPrefix: "watched file: %s/ids.txt is larger than 4194304 bytes",
		},
		{
			name:       "watched file is a directory",
			setup:      func(dir string) Config { return Config{File: dir} },
			wantPrefix: "watched file: %s is a directory, not a regular file",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := mustOpen(t, Options{}, Config{})
			_, err := s.Prepare(tc.setup(dir))
			if want := fmt.Sprintf(tc.wantPrefix, dir); err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Prepare error = %v, want %q", err, want)
			}
		})
	}
}

func TestMaintainFollowsFile(t *testing.T) {
	t.Parallel()
	type step struct {
		write  *string // new content, nil = leave the file alone
		remove bool
		api    []string
		want   []ID
	}
	str := func(s string) *string { return &s }
	steps := []step{
		{want: nil}, // the file does not exist yet
		{
			write: str("a\n# a comment\n\n  b  \r\nc # a trailing comment\nbad,id\n"),
			want:  []ID{id("a", at(2*time.Minute), OriginFile), id("b", at(2*time.Minute), OriginFile), id("c", at(2*time.Minute), OriginFile)},
		},
		{want: []ID{id("a", at(2*time.Minute), OriginFile), id("b", at(2*time.Minute), OriginFile), id("c", at(2*time.Minute), OriginFile)}},
		{
			write: str("a\nd\n"),
			want:  []ID{id("d", at(4*time.Minute), OriginFile), id("a", at(2*time.Minute), OriginFile)},
		},
		{
			api:  []string{"a"},
			want: []ID{id("d", at(4*time.Minute), OriginFile), id("a", at(2*time.Minute), OriginAPI)},
		},
		{
			// a leaves the file but stays registered through the API.
			write: str("d\n"),
			want:  []ID{id("d", at(4*time.Minute), OriginFile), id("a", at(2*time.Minute), OriginAPI)},
		},
		{
			remove: true,
			want:   []ID{id("a", at(2*time.Minute), OriginAPI)},
		},
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "ids.txt")
	fc := clocktest.NewFake(t0)
	var logs bytes.Buffer
	path := filepath.Join(dir, "state.json")
	s := mustOpen(t, Options{StatePath: path, Clock: fc, Logger: log.NewLogfmtLogger(&logs)}, Config{File: file})
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
		if err := s.Maintain(); err != nil {
			t.Fatalf("step %d: Maintain: %v", i, err)
		}
		checkIDs(t, s, st.want)
		if _, err := os.Stat(path); os.IsNotExist(err) && len(st.want) == 0 {
			continue // nothing was ever tracked, so nothing saved
		}
		if got := stateIDs(t, path); len(got) != len(st.want) {
			t.Fatalf("step %d: state = %v, want %v", i, got, st.want)
		}
	}
	if want := `level=warn kind= app= msg="ignoring invalid line in the watched file" path=` + file + ` line=6 id=bad,id err="contains a comma"`; !strings.Contains(logs.String(), want) {
		t.Errorf("logs = %q, want a line containing %q", logs.String(), want)
	}
}

func TestMaintainLogsFileErrorsOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "ids.txt")
	if err := os.WriteFile(file, []byte("a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s := mustOpen(t, Options{Logger: log.NewLogfmtLogger(&logs)}, Config{File: file})
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(file, 0o700); err != nil { // now unreadable as a file
		t.Fatal(err)
	}
	for range 3 {
		if err := s.Maintain(); err == nil {
			t.Fatal("Maintain over an unreadable file: nil error")
		}
	}
	checkIDs(t, s, []ID{{ID: "a", Added: s.IDs()[0].Added, Origin: OriginFile}}) // kept
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if err := s.Maintain(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "cannot read the watched ID file"); n != 1 {
		t.Errorf("logged the failure %d times, want once:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "readable again"); n != 1 {
		t.Errorf("logged the recovery %d times, want once:\n%s", n, logs.String())
	}
}

func TestRemove(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "ids.txt")
	if err := os.WriteFile(file, []byte("f\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "state.json")
	s := mustOpen(t, Options{StatePath: path, Clock: clocktest.NewFake(t0)}, Config{Static: []string{"c"}, File: file})
	mustAdd(t, s, OriginAPI, "a", "b", "c", "f")
	ctx := context.Background()

	if n, err := s.Remove(ctx, []string{"a", "unknown"}, OriginAPI); n != 1 || err != nil {
		t.Errorf("Remove(a, unknown) = %d, %v; want 1, nil", n, err)
	}
	n, err := s.Remove(ctx, []string{"c"}, OriginAPI)
	if n != 0 || !errors.Is(err, ErrStillListed) || err.Error() != `ID "c" is still listed by the configuration or the watched file and stays tracked` {
		t.Errorf("Remove(c) = %d, %v; want 0 and ErrStillListed", n, err)
	}
	if _, err := s.Remove(ctx, []string{"f"}, OriginFile); err == nil {
		t.Errorf("Remove with OriginFile: nil error")
	}
	// c and f lost the API's claim: they are reported by their other origin.
	if _, err := s.Remove(ctx, []string{"f"}, OriginAPI); !errors.Is(err, ErrStillListed) {
		t.Errorf("Remove(f) = %v, want ErrStillListed", err)
	}
	want := []ID{id("b", t0, OriginAPI), id("c", t0, OriginConfig), id("f", t0, OriginFile)}
	checkIDs(t, s, want)
	if got := stateIDs(t, path); len(got) != len(want) {
		t.Errorf("state = %v, want %v", got, want)
	}
}

func TestChanged(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, Options{}, Config{})
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	// Two pollers of the same set are both told.
	first, second := s.Changed(), s.Changed()
	mustAdd(t, s, OriginAPI, "a")
	if !closed(first) || !closed(second) {
		t.Fatal("an Add did not tell every poller")
	}
	ch := s.Changed()
	if closed(ch) {
		t.Fatal("the channel after a signal is already closed")
	}
	mustAdd(t, s, OriginAPI, "a") // nothing new
	if closed(ch) {
		t.Fatal("signal after an Add that tracked nothing new")
	}
	if _, err := s.Remove(context.Background(), []string{"a"}, OriginAPI); err != nil {
		t.Fatal(err)
	}
	if !closed(ch) {
		t.Fatal("no signal after Remove")
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	fc := clocktest.NewFake(t0)
	s := mustOpen(t, Options{Clock: fc}, Config{Static: []string{"cfg"}, RegisterPerMinute: 3})
	ctx := context.Background()
	add := func(ids ...string) (int, error) { return s.Add(ctx, ids, OriginAPI, time.Time{}) }

	if n, err := add("a", "b", "a"); n != 2 || err != nil {
		t.Fatalf("add(a, b) = %d, %v", n, err)
	}
	if n, err := add("a", "cfg"); n != 0 || err != nil { // nothing new: free
		t.Fatalf("re-adding tracked IDs = %d, %v", n, err)
	}
	n, err := add("c", "d")
	var rl *RateLimitError
	if n != 0 || !errors.Is(err, ErrRateLimited) || !errors.As(err, &rl) || rl.RetryAfter != 20*time.Second {
		t.Fatalf("add(c, d) over the limit = %d, %v; want ErrRateLimited, retry in 20s", n, err)
	}
	if err.Error() != "too many new IDs registered: at most 3 new IDs a minute; retry in 20s" {
		t.Errorf("error = %q", err)
	}
	if s.Tracked("c") {
		t.Error("a refused Add tracked c")
	}
	fc.Advance(20 * time.Second)
	if n, err := add("c", "d"); n != 2 || err != nil {
		t.Fatalf("add(c, d) after 20s = %d, %v", n, err)
	}
	// Other origins are not limited, and a reload keeps the bucket.
	mustAdd(t, s, OriginConfig, "x", "y", "z")
	mustCommit(t, s, Config{Static: []string{"cfg"}, RegisterPerMinute: 3})
	if _, err := add("e"); !errors.Is(err, ErrRateLimited) {
		t.Errorf("add(e) after a reload: %v, want ErrRateLimited", err)
	}
	mustCommit(t, s, Config{Static: []string{"cfg"}})
	if _, err := add("e", "f", "g", "h"); err != nil {
		t.Errorf("add without a limit: %v", err)
	}
}

func TestAddContextEndsTheWaitNotTheSave(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	s := mustOpen(t, Options{StatePath: path}, Config{})
	release := make(chan struct{})
	s.persist = func(data []byte, rewrite bool) error {
		<-release
		return s.persistJournal(data, rewrite)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Add(ctx, []string{"a"}, OriginAPI, time.Time{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Add with an ended context: %v", err)
	}
	close(release)
	settle(t, s)
	if got := stateIDs(t, path); len(got) != 1 {
		t.Errorf("state = %v, want a saved anyway", got)
	}
}

// TestGroupCommit: Adds waiting while a save is under way share the next
// one, instead of one write and fsync each.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	const clients = 50
	path := filepath.Join(t.TempDir(), "state.json")
	s := mustOpen(t, Options{StatePath: path}, Config{})
	var writes atomic.Int64
	started, release := make(chan struct{}, 1), make(chan struct{})
	s.persist = func(data []byte, rewrite bool) error {
		if writes.Add(1) == 1 {
			started <- struct{}{}
			<-release
		}
		return s.persistJournal(data, rewrite)
	}
	errs := make(chan error, clients)
	go func() {
		_, err := s.Add(context.Background(), []string{"id0"}, OriginAPI, time.Time{})
		errs <- err
	}()
	<-started // the first save is under way
	for i := 1; i < clients; i++ {
		go func() {
			_, err := s.Add(context.Background(), []string{fmt.Sprint("id", i)}, OriginAPI, time.Time{})
			errs <- err
		}()
	}
	for s.Len() < clients { // every Add is in memory and waiting
		time.Sleep(time.Millisecond)
	}
	close(release)
	for range clients {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := writes.Load(); n != 2 {
		t.Errorf("%d saves for %d Adds, want 2 (the first, then all the others at once)", n, clients)
	}
	if got := stateIDs(t, path); len(got) != clients {
		t.Errorf("state holds %d IDs, want %d", len(got), clients)
	}
}

// TestStorm runs every operation from many goroutines at once, a bounded
// number of times, and fails if they do not all finish within a generous
// bound (a deadlock or a lost wake-up), dumping the goroutines.
func TestStorm(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "ids.txt")
	if err := os.WriteFile(file, []byte("f1\nf2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fc := clocktest.NewFake(t0)
	s := mustOpen(t, Options{StatePath: filepath.Join(dir, "state.json"), Clock: fc}, Config{Static: []string{"c1"}, File: file, Cap: 40, MaxAge: time.Hour})
	const workers, rounds = 8, 60
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ctx := context.Background()
			for i := range rounds {
				mine := fmt.Sprintf("w%d-%d", w, i)
				switch (w + i) % 6 {
				case 0:
					if _, err := s.Add(ctx, []string{mine, "shared"}, OriginAPI, time.Time{}); err != nil {
						t.Error(err)
					}
				case 1:
					if _, err := s.Remove(ctx, []string{"shared", fmt.Sprintf("w%d-%d", w, i-1)}, OriginAPI); err != nil {
						t.Error(err)
					}
				case 2:
					s.IDs()
					s.Stats()
					select {
					case <-s.Changed():
					default:
					}
				case 3:
					fc.Advance(time.Minute)
					if err := s.Maintain(); err != nil {
						t.Error(err)
					}
				case 4:
					ch, err := s.Prepare(Config{Static: []string{"c1", fmt.Sprint("c", i%3)}, File: file, Cap: 30 + i%20, MaxAge: time.Hour})
					if err != nil {
						t.Error(err)
						continue
					}
					ch.Commit()
				case 5:
					content := fmt.Sprintf("f1\nf%d\n", i)
					if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		var b bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
		t.Fatalf("the storm has not finished after 2 minutes: a call stalls\n%s", b.String())
	}
	settle(t, s)
	if !s.Stats().Durable {
		t.Error("not durable after the storm")
	}
	s.mu.Lock()
	live, counted := len(s.liveLocked()), s.live
	s.mu.Unlock()
	if counted != live {
		t.Errorf("the count of tracked IDs is %d, but %d are tracked", counted, live)
	}
}

// BenchmarkAddDurable50 measures how many IDs per second 50 concurrent
// clients get acknowledged durably (fsync'd), one ID per Add.
func BenchmarkAddDurable50(b *testing.B) {
	const clients = 50
	s := mustOpen(b, Options{StatePath: filepath.Join(b.TempDir(), "state.json")}, Config{Cap: 5000})
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if _, err := s.Add(context.Background(), []string{fmt.Sprint("id", i)}, OriginAPI, time.Time{}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "IDs/s")
}

// TestRateLimitResize changes register_per_minute on a reload: the IDs
// already registered this minute still count against the new limit.
func TestRateLimitResize(t *testing.T) {
	t.Parallel()
	fc := clocktest.NewFake(t0)
	s := mustOpen(t, Options{Clock: fc}, Config{RegisterPerMinute: 3})
	ctx := context.Background()
	add := func(ids ...string) error { _, err := s.Add(ctx, ids, OriginAPI, time.Time{}); return err }
	if err := add("a", "b", "c"); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, s, Config{RegisterPerMinute: 6})
	if err := add("d", "e", "f"); err != nil {
		t.Fatalf("3 more after growing the limit to 6: %v", err)
	}
	if err := add("g"); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("a 7th ID in the minute: %v, want ErrRateLimited", err)
	}
	fc.Advance(time.Minute)
	if err := add("h", "i"); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, s, Config{RegisterPerMinute: 3})
	if err := add("j"); err != nil {
		t.Fatalf("a 3rd ID after shrinking the limit to 3: %v", err)
	}
	var rl *RateLimitError
	if err := add("k"); !errors.As(err, &rl) || rl.RetryAfter != 20*time.Second {
		t.Fatalf("a 4th ID after shrinking: %v, want a retry in 20s", err)
	}
}
