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

	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
)

// TestJournalAppendsOnlyTheChange: each save used to rewrite the whole set
// (3 MB at 30 000 IDs), so durable registrations slowed as the set grew.
// With 1 000 IDs tracked, saving one more ID must append one record.
func TestJournalAppendsOnlyTheChange(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	s := mustOpen(t, Options{StatePath: path, Clock: clocktest.NewFake(t0)}, Config{})
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprintf("id-%04d", i)
	}
	mustAdd(t, s, OriginAPI, ids...)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, s, OriginAPI, "one-more")
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := appendPut(nil, "one-more", &entry{added: t0, from: fromAPI})
	if !bytes.Equal(after, append(before, want...)) {
		t.Errorf("the save of one ID grew the state file from %d to %d bytes, want by one record of %d", len(before), len(after), len(want))
	}
}

// TestJournalCompacts: a journal of many changes to few IDs is rewritten
// with one record per ID once it holds more than compactFactor times the
// records needed (plus compactSlack), and still loads as memory holds it.
func TestJournalCompacts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	o := Options{StatePath: path, Clock: clocktest.NewFake(t0)}
	s := mustOpen(t, o, Config{Cap: 10})
	largest := int64(0)
	for i := range 2 * compactSlack {
		mustAdd(t, s, OriginAPI, fmt.Sprint("id-", i))
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		largest = max(largest, fi.Size())
	}
	st, err := readState(path)
	if err != nil {
		t.Fatal(err)
	}
	if limit := compactFactor*len(st.ids) + compactSlack + 2; st.records > limit {
		t.Errorf("journal holds %d records for %d IDs, want at most %d", st.records, len(st.ids), limit)
	}
	if oneRecord := int64(len(appendPut(nil, "id-0000", &entry{added: t0, from: fromAPI}))); largest > int64(compactFactor*10+compactSlack+4)*oneRecord {
		t.Errorf("journal grew to %d bytes", largest)
	}
	checkIDs(t, mustOpen(t, o, Config{Cap: 10}), s.IDs())
}

// TestJournalTornLastRecord: a process killed while appending leaves part
// of a record, never acknowledged. It is ignored on load and the first save
// rewrites the journal without it.
func TestJournalTornLastRecord(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		tail func(rec []byte) []byte
	}{
		{name: "length only", tail: func(rec []byte) []byte { return rec[:3] }},
		{name: "cut short", tail: func(rec []byte) []byte { return rec[:len(rec)-1] }},
		{name: "bad checksum", tail: func(rec []byte) []byte { r := bytes.Clone(rec); r[len(r)-1] ^= 1; return r }},
		{name: "zeros", tail: func(rec []byte) []byte { return make([]byte, len(rec)) }},
		// The size of an append reached the disk and its data did not.
		{name: "many zeros", tail: func([]byte) []byte { return make([]byte, 64<<10) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "state.json")
			o := Options{StatePath: path, Clock: clocktest.NewFake(t0)}
			mustAdd(t, mustOpen(t, o, Config{}), OriginAPI, "a", "b")
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(tc.tail(appendPut(nil, "c", &entry{added: t0, from: fromAPI}))); err != nil {
				t.Fatal(err)
			}
			f.Close()
			var logs bytes.Buffer
			o.Logger = log.NewLogfmtLogger(&logs)
			s := mustOpen(t, o, Config{})
			checkIDs(t, s, []ID{id("a", t0, OriginAPI), id("b", t0, OriginAPI)})
			if !strings.Contains(logs.String(), `msg="ignoring an incomplete last record of the state file, never acknowledged"`) {
				t.Errorf("logs = %q", logs.String())
			}
			mustAdd(t, s, OriginAPI, "d")
			if got := stateIDs(t, path); len(got) != 3 { // and no torn tail
				t.Errorf("state = %v, want a, b, d", got)
			}
			if matches, _ := filepath.Glob(path + ".corrupt-*"); len(matches) != 0 {
				t.Errorf("a torn last record moved the state aside: %v", matches)
			}
		})
	}
}

// TestJournalDamaged: more than one record's worth of bad bytes is damage,
// not a torn write: the IDs before it are kept, and the file is moved aside
// (not overwritten) at the first save.
func TestJournalDamaged(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	o := Options{StatePath: path, Clock: clocktest.NewFake(t0)}
	mustAdd(t, mustOpen(t, o, Config{}), OriginAPI, "a")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(bytes.Repeat([]byte{0xff}, 2*maxRecordBytes)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var logs bytes.Buffer
	o.Logger = log.NewLogfmtLogger(&logs)
	s := mustOpen(t, o, Config{})
	checkIDs(t, s, []ID{id("a", t0, OriginAPI)})
	if want := `msg="tracked-ID state file is damaged; keeping the IDs before the damage, it will be moved aside at the first save" path=` + path + ` ids=1 bytes_ignored=2048`; !strings.Contains(logs.String(), want) {
		t.Errorf("logs = %q, want %q", logs.String(), want)
	}
	if matches, _ := filepath.Glob(path + ".corrupt-*"); len(matches) != 1 {
		t.Errorf("moved aside: %v, want one file", matches)
	}
	if got := stateIDs(t, path); len(got) != 1 {
		t.Errorf("state = %v, want a", got)
	}
}

// TestJournalMalformedRecord: a record whose checksum holds but whose
// content no release writes makes the file corrupt, as bad JSON did.
func TestJournalMalformedRecord(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		payload string
		wantErr string
	}{
		{name: "unknown operation", payload: "X\x01a", wantErr: "record 1: malformed record: unknown operation 0x58"},
		{name: "no origin", payload: "P\x01a\x80\xb8\x92\xfc\x0c\x00\x00", wantErr: "record 1: malformed record: no origin"},
		{name: "retired api", payload: "P\x01a\x80\xb8\x92\xfc\x0c\x00\x24", wantErr: "record 1: malformed record: retired ID of origin api or callback"},
		{name: "retired callback", payload: "P\x01a\x80\xb8\x92\xfc\x0c\x00\x28", wantErr: "record 1: malformed record: retired ID of origin api or callback"},
		{name: "unknown flags", payload: "P\x01a\x80\xb8\x92\xfc\x0c\x00\x94", wantErr: "record 1: malformed record: unknown flags 0x94"},
		{name: "nanoseconds", payload: "P\x01a\x80\xb8\x92\xfc\x0c\x80\x94\xeb\xdc\x03\x04", wantErr: "record 1: malformed record: added: bad nanoseconds"},
		{name: "empty id", payload: "D\x00", wantErr: "record 1: malformed record: bad ID length"},
		{name: "trailing bytes", payload: "D\x01ab", wantErr: "record 1: malformed record: trailing bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := make([]byte, recordHeaderBytes, recordHeaderBytes+len(tc.payload))
			rec = append(rec, tc.payload...)
			frameRecord(rec, 0)
			_, err := decodeJournal(append([]byte(journalMagic), rec...))
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("decodeJournal error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestMigrateVersion1 loads a JSON state file as earlier releases wrote it
// (testdata/state-v1.json): the first save rewrites it as a journal holding
// the same IDs, with their times, origins and retired flag.
func TestMigrateVersion1(t *testing.T) {
	t.Parallel()
	old, err := os.ReadFile(filepath.Join("testdata", "state-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	want, err := decodeState(old)
	if err != nil {
		t.Fatal(err)
	}
	fc := clocktest.NewFake(t0.Add(time.Hour))
	o := Options{StatePath: path, Clock: fc}
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	live := []ID{
		{ID: "1613113584", Added: t0.Add(5), Origin: OriginAPI},
		{ID: "bsp54sn8bpn8hc3etq40", Added: t0.Add(5), Sent: t0.Add(-time.Hour), Origin: OriginAPI},
		id("1400000002", at(-48*time.Hour), OriginFile),
	}
	checkIDs(t, s, live)
	settle(t, s) // the migration is due at once, before any change
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte(journalMagic)) {
		t.Fatalf("state file after the first save is not a journal:\n%s", data)
	}
	if got := stateIDs(t, path); !reflect.DeepEqual(got, want) {
		t.Errorf("migrated state = %v, want %v", got, want)
	}
	checkIDs(t, mustOpen(t, o, Config{Static: []string{"1400000001"}, File: ""}), []ID{live[0], live[1]})
}

func FuzzDecodeJournal(f *testing.F) {
	var full []byte
	full = appendPut(full, "a", &entry{added: t0, from: fromAPI})
	full = appendPut(full, "b", &entry{added: t0.Add(5), sent: t0.Add(-time.Hour), from: fromConfig | fromFile, retired: true})
	full = appendDelete(full, "a")
	f.Add(append([]byte(journalMagic), full...))
	f.Add(append([]byte(journalMagic), full[:len(full)-3]...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !bytes.HasPrefix(data, []byte(journalMagic)) {
			data = append([]byte(journalMagic), data...)
		}
		j, err := decodeJournal(data)
		if err != nil {
			return
		}
		// Whatever decodes must survive a rewrite and a load unchanged.
		out := []byte(journalMagic)
		for id, e := range j.ids {
			out = appendPut(out, id, e)
		}
		again, err := decodeJournal(out)
		if err != nil {
			t.Fatalf("decodeJournal of the rewritten journal: %v", err)
		}
		if again.tail != 0 || !reflect.DeepEqual(again.ids, j.ids) {
			t.Fatalf("rewrite changed the IDs: %v, want %v", again.ids, j.ids)
		}
	})
}
