package tracking

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	// stateVersion is the version of the state file format. Version 1 gained
	// the optional fields sent and retired, which readers of the first
	// version 1 files ignore, so it stays 1.
	stateVersion = 1
	// maxStateBytes bounds a version 1 JSON state file read at start; a
	// larger file is treated as corrupt.
	maxStateBytes = 32 << 20
	// tempInfix sits between the state file's name and the random suffix of
	// the temporary files it is written through.
	tempInfix = ".tmp-"
)

// stateFile is the JSON document persisted at Options.StatePath.
type stateFile struct {
	Version int      `json:"version"`
	IDs     []record `json:"ids"`
}

// record is one ID in the state file.
type record struct {
	ID     string    `json:"id"`
	Added  time.Time `json:"added"`
	Sent   time.Time `json:"sent,omitzero"`
	Origin Origin    `json:"origin"`
	// Retired marks an ID the configuration or the watched file lists but
	// that aged out or was evicted (see Set).
	Retired bool `json:"retired,omitempty"`
}

// decodeState parses a version 1 JSON state file. Anything that earlier
// releases cannot have written is an error: bad JSON, another version, an empty or duplicate ID, an
// unknown origin, a missing or out-of-range time, a retired ID registered
// through the API. Unknown fields are ignored. Times are returned in UTC.
func decodeState(data []byte) ([]record, error) {
	var st stateFile
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, err
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("unsupported version %d", st.Version)
	}
	seen := make(map[string]bool, len(st.IDs))
	for i := range st.IDs {
		r := &st.IDs[i]
		r.Added = r.Added.UTC()
		if !r.Sent.IsZero() {
			r.Sent = r.Sent.UTC()
		}
		switch y, sy := r.Added.Year(), r.Sent.Year(); {
		case r.ID == "":
			return nil, fmt.Errorf("ids[%d]: empty id", i)
		case seen[r.ID]:
			return nil, fmt.Errorf("ids[%d]: duplicate id %s", i, quoteShort(r.ID))
		case !r.Origin.valid():
			return nil, fmt.Errorf("ids[%d]: unknown origin %s", i, quoteShort(string(r.Origin)))
		case r.Added.IsZero() || y < 1 || y > 9999:
			// The upper bound keeps the time encodable on the next write.
			return nil, fmt.Errorf("ids[%d]: added time missing or out of range", i)
		case !r.Sent.IsZero() && (sy < 1 || sy > 9999):
			return nil, fmt.Errorf("ids[%d]: sent time out of range", i)
		case r.Retired && (r.Origin == OriginAPI || r.Origin == OriginCallback):
			// Retiring drops the API's and the callbacks' claim (see Set.retire).
			return nil, fmt.Errorf("ids[%d]: retired ID of origin %s", i, r.Origin)
		}
		seen[r.ID] = true
	}
	return st.IDs, nil
}

// errCorrupt marks a state file that exists but cannot be used.
var errCorrupt = errors.New("corrupt state file")

// stateRead is what readState found in a state file.
type stateRead struct {
	ids     map[string]*entry
	records int  // journal records replayed
	tail    int  // bytes after the journal's last good record
	zeros   bool // and they are all zeros
	legacy  bool // a version 1 JSON state file
}

// readState reads the state file at path: a journal, or a version 1 JSON
// state file of an earlier release. A missing file is an empty state; an
// unusable one is an error wrapping errCorrupt.
func readState(path string) (stateRead, error) {
	data, err := readBounded(path, maxJournalBytes)
	switch {
	case errors.Is(err, errTooLarge):
		return stateRead{}, fmt.Errorf("%w: larger than %d bytes", errCorrupt, maxJournalBytes)
	case errors.Is(err, errNotRegular):
		return stateRead{}, fmt.Errorf("%w: %w", errCorrupt, err)
	case err != nil:
		return stateRead{}, err
	case data == nil:
		return stateRead{ids: map[string]*entry{}}, nil
	}
	if bytes.HasPrefix(data, []byte(journalMagic)) {
		j, err := decodeJournal(data)
		if err != nil {
			return stateRead{}, fmt.Errorf("%w: %v", errCorrupt, err)
		}
		return stateRead{ids: j.ids, records: j.records, tail: j.tail, zeros: j.zeros}, nil
	}
	if len(data) > maxStateBytes {
		return stateRead{}, fmt.Errorf("%w: larger than %d bytes", errCorrupt, maxStateBytes)
	}
	recs, err := decodeState(data)
	if err != nil {
		return stateRead{}, fmt.Errorf("%w: %v", errCorrupt, err)
	}
	ids := make(map[string]*entry, len(recs))
	for _, r := range recs {
		ids[r.ID] = &entry{added: r.Added, sent: r.Sent, from: sourceOf(r.Origin), retired: r.Retired}
	}
	return stateRead{ids: ids, legacy: true}, nil
}

// syncDir fsyncs a directory, making a rename inside it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeStaleTemps deletes the temporary files a crash in journal.rewrite may
// have left next to path.
func removeStaleTemps(path string) error {
	entries, err := os.ReadDir(filepath.Dir(path))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	prefix := filepath.Base(path) + tempInfix
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), prefix) {
			if err := os.Remove(filepath.Join(filepath.Dir(path), e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}
