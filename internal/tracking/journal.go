package tracking

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"time"
)

// The state file is a journal: a header, then one record per change of one
// ID, appended and fsync'd once per group commit, so that saving a change
// costs in proportion to the change and not to the set. Replaying the
// records in order gives the set. When the journal holds more than
// compactFactor times the records the set needs, the next save rewrites it
// as one record per known ID (a temporary file, fsync, rename, directory
// fsync), so a crash leaves either the old or the new journal; so do the
// first save of a process and the save after a failed one, which have no
// file open to append to.
//
// Each record is framed as
//
//	uint32 little-endian: length of the payload (1 to maxRecordBytes)
//	uint32 little-endian: CRC-32C (Castagnoli) of the payload
//	payload
//
// and its payload is one of
//
//	'P' uvarint(len(id)) id varint(added seconds) uvarint(added nanoseconds) flags
//	    [varint(sent seconds) uvarint(sent nanoseconds)]   put: the ID's whole entry
//	'D' uvarint(len(id)) id                                 delete: the ID is forgotten
//
// where flags holds the origins listing the ID (bits 0-3: config, file,
// api, callback), retired (bit 5) and whether a sent time follows (bit 6); seconds
// are Unix seconds. A record that is cut short or fails its checksum ends
// the journal: it is the last write of a process killed before the fsync
// that would have acknowledged it. The version 1 JSON state file of earlier
// releases is still read, and rewritten as a journal by the first save.
const journalMagic = "imstats tracked IDs journal v2\n"

const (
	// maxJournalBytes bounds the journal read at start; a larger one is
	// treated as corrupt.
	maxJournalBytes = 256 << 20
	// maxRecordBytes bounds a record's payload; a larger length is damage.
	maxRecordBytes = 1024
	// recordHeaderBytes is the length and checksum before each payload.
	recordHeaderBytes = 8
	// compactFactor and compactSlack decide when a save rewrites the
	// journal instead of appending: once it would hold more than
	// compactFactor × the known IDs + compactSlack records.
	compactFactor = 2
	compactSlack  = 1024
)

// The operations of a journal record.
const (
	opPut    = 'P'
	opDelete = 'D'
)

// The bits of a put record's flags byte besides the origins (sources).
const (
	flagRetired = 1 << 5
	flagSent    = 1 << 6
	flagsKnown  = byte(fromConfig|fromFile|registered) | flagRetired | flagSent
)

// castagnoli is the CRC-32C table of the records' checksums.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frameRecord fills in the header of the record that starts at b[start]:
// recordHeaderBytes of room, then the payload up to the end of b.
func frameRecord(b []byte, start int) {
	payload := b[start+recordHeaderBytes:]
	binary.LittleEndian.PutUint32(b[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(payload, castagnoli))
}

// appendPut appends a put record of id's entry e to b.
func appendPut(b []byte, id string, e *entry) []byte {
	start := len(b)
	b = append(b, make([]byte, recordHeaderBytes)...)
	b = append(b, opPut)
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	b = binary.AppendVarint(b, e.added.Unix())
	b = binary.AppendUvarint(b, uint64(e.added.Nanosecond()))
	flags := byte(e.from)
	if e.retired {
		flags |= flagRetired
	}
	if !e.sent.IsZero() {
		flags |= flagSent
	}
	b = append(b, flags)
	if !e.sent.IsZero() {
		b = binary.AppendVarint(b, e.sent.Unix())
		b = binary.AppendUvarint(b, uint64(e.sent.Nanosecond()))
	}
	frameRecord(b, start)
	return b
}

// appendDelete appends a delete record of id to b.
func appendDelete(b []byte, id string) []byte {
	start := len(b)
	b = append(b, make([]byte, recordHeaderBytes)...)
	b = append(b, opDelete)
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	frameRecord(b, start)
	return b
}

// journalRead is what decodeJournal found.
type journalRead struct {
	ids     map[string]*entry
	records int // records replayed
	// tail is how many bytes follow the last good record: a record cut
	// short or failing its checksum, and whatever follows it.
	tail int
	// zeros is whether the tail is all zero bytes, as a file system leaves
	// the end of a file whose size reached the disk before its data did.
	zeros bool
}

// decodeJournal replays a journal (data starts with journalMagic). A record
// whose checksum holds but whose content appendPut cannot have written is
// an error; a bad checksum or a record cut short ends the journal there.
func decodeJournal(data []byte) (journalRead, error) {
	r := journalRead{ids: make(map[string]*entry)}
	rest := data[len(journalMagic):]
	for len(rest) > 0 {
		if len(rest) < recordHeaderBytes {
			break
		}
		n := binary.LittleEndian.Uint32(rest)
		if n == 0 || n > maxRecordBytes || uint64(len(rest)-recordHeaderBytes) < uint64(n) {
			break
		}
		payload := rest[recordHeaderBytes : recordHeaderBytes+int(n)]
		if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(rest[4:]) {
			break
		}
		if err := r.apply(payload); err != nil {
			return journalRead{}, fmt.Errorf("record %d: %w", r.records+1, err)
		}
		r.records++
		rest = rest[recordHeaderBytes+int(n):]
	}
	r.tail = len(rest)
	r.zeros = len(bytes.Trim(rest, "\x00")) == 0
	return r, nil
}

// errRecord is the error of a record that decodes to nonsense.
var errRecord = errors.New("malformed record")

// apply replays one record's payload.
func (r *journalRead) apply(p []byte) error {
	op := p[0]
	p = p[1:]
	n, k := binary.Uvarint(p)
	if k <= 0 || n == 0 || n > uint64(len(p)-k) {
		return fmt.Errorf("%w: bad ID length", errRecord)
	}
	id := string(p[k : k+int(n)])
	p = p[k+int(n):]
	switch op {
	case opDelete:
		if len(p) != 0 {
			return fmt.Errorf("%w: trailing bytes", errRecord)
		}
		delete(r.ids, id)
		return nil
	case opPut:
	default:
		return fmt.Errorf("%w: unknown operation %#x", errRecord, op)
	}
	e := &entry{}
	var err error
	if e.added, p, err = readTime(p); err != nil {
		return fmt.Errorf("%w: added: %w", errRecord, err)
	}
	if len(p) == 0 {
		return fmt.Errorf("%w: no flags", errRecord)
	}
	flags := p[0]
	p = p[1:]
	e.from = sources(flags) & (fromConfig | fromFile | registered)
	e.retired = flags&flagRetired != 0
	switch {
	case flags&^flagsKnown != 0:
		return fmt.Errorf("%w: unknown flags %#x", errRecord, flags)
	case e.from == 0:
		return fmt.Errorf("%w: no origin", errRecord)
	case e.retired && e.from&registered != 0:
		return fmt.Errorf("%w: retired ID of origin api or callback", errRecord)
	}
	if flags&flagSent != 0 {
		if e.sent, p, err = readTime(p); err != nil {
			return fmt.Errorf("%w: sent: %w", errRecord, err)
		}
	}
	if len(p) != 0 {
		return fmt.Errorf("%w: trailing bytes", errRecord)
	}
	r.ids[id] = e
	return nil
}

// Unix seconds of the first and last second of the years 1 to 9999, the
// range the JSON state file can hold.
var (
	minUnix = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxUnix = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
)

// readTime reads a time written as varint seconds and uvarint nanoseconds.
func readTime(p []byte) (time.Time, []byte, error) {
	sec, k := binary.Varint(p)
	if k <= 0 {
		return time.Time{}, nil, errors.New("bad seconds")
	}
	p = p[k:]
	nsec, k := binary.Uvarint(p)
	if k <= 0 || nsec >= uint64(time.Second) {
		return time.Time{}, nil, errors.New("bad nanoseconds")
	}
	if sec < minUnix || sec > maxUnix {
		return time.Time{}, nil, errors.New("out of range")
	}
	return time.Unix(sec, int64(nsec)).UTC(), p[k:], nil
}

// journal is the open state file, owned by the flusher goroutine (at most
// one runs per Set; Set.flushing hands it from one to the next).
type journal struct {
	path string
	// f is the journal open for appending; nil until the first save and
	// after a failed one, which is why those rewrite the file.
	f *os.File
}

// appendRecords appends data to the open journal and fsyncs it. On an
// error the file is closed: what part of data reached the disk is unknown,
// so the next save must rewrite the journal.
func (j *journal) appendRecords(data []byte) error {
	err := j.checkInPlace()
	if err == nil {
		_, err = j.f.Write(data)
	}
	if err == nil {
		err = j.f.Sync()
	}
	if err != nil {
		j.close()
	}
	return err
}

// errReplaced is the error of an append to a journal that is no longer the
// file at its path: what is appended to it is lost at the next start.
var errReplaced = errors.New("the state file was removed or replaced")

// checkInPlace returns an error wrapping errReplaced unless the open journal
// is still the file at its path. A stat per group commit costs little
// beside its fsync.
func (j *journal) checkInPlace() error {
	at, err := os.Stat(j.path)
	if err != nil {
		return fmt.Errorf("%w: %w", errReplaced, err)
	}
	open, err := j.f.Stat()
	if err != nil {
		return err
	}
	if !os.SameFile(at, open) {
		return fmt.Errorf("%w: %s", errReplaced, j.path)
	}
	return nil
}

// rewrite replaces the journal by one holding data after the header, so
// that a crash at any point leaves either the old or the new journal: it
// writes a temporary file in the same directory, fsyncs it, renames it over
// the journal, fsyncs the directory, and keeps the file open for appending.
func (j *journal) rewrite(data []byte) error {
	j.close()
	dir := filepath.Dir(j.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// CreateTemp opens the file with mode 0o600, the mode the state keeps.
	f, err := os.CreateTemp(dir, filepath.Base(j.path)+tempInfix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.WriteString(journalMagic)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, j.path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return err
	}
	j.f = f
	return nil
}

// close closes the open journal, if any.
func (j *journal) close() {
	if j.f != nil {
		_ = j.f.Close()
		j.f = nil
	}
}
