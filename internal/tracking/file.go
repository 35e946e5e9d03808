package tracking

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// maxFileBytes bounds the watched file; a larger one is refused.
const maxFileBytes = 4 << 20

// fileStat is what Sync compares to decide whether the watched file changed.
type fileStat struct {
	exists bool
	size   int64
	mtime  time.Time
}

// equal reports whether two stats describe the same file content.
func (a fileStat) equal(b fileStat) bool {
	return a.exists == b.exists && a.size == b.size && a.mtime.Equal(b.mtime)
}

// statFile stats path; a missing file is a zero fileStat, not an error.
func statFile(path string) (fileStat, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return fileStat{}, nil
	}
	if err != nil {
		return fileStat{}, err
	}
	return fileStat{exists: true, size: fi.Size(), mtime: fi.ModTime()}, nil
}

// errTooLarge is readBounded's answer for a file over its limit.
var errTooLarge = errors.New("file too large")

// errNotRegular is wrapped by readBounded's answer for a path that is not a
// regular file.
var errNotRegular = errors.New("not a regular file")

// checkRegular returns an error wrapping errNotRegular, naming path and what
// it is, unless fi is a regular file. Opening a named pipe for reading
// blocks until a writer comes, so it is checked before the open.
func checkRegular(path string, fi os.FileInfo) error {
	if fi.Mode().IsRegular() {
		return nil
	}
	what := "special file"
	switch m := fi.Mode(); {
	case m.IsDir():
		what = "directory"
	case m&os.ModeNamedPipe != 0:
		what = "named pipe"
	case m&os.ModeSocket != 0:
		what = "socket"
	case m&os.ModeDevice != 0:
		what = "device"
	}
	return fmt.Errorf("%s is a %s, %w", path, what, errNotRegular)
}

// readBounded reads the file at path if it has at most limit bytes, without
// ever reading more than that; a missing file reads as empty, and anything
// but a regular file (after symbolic links) is refused without being opened.
func readBounded(path string, limit int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := checkRegular(path, fi); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Replaced between the Stat and the Open: check what was opened.
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := checkRegular(path, fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}

// fileLine is one line of the watched file that lists an ID: the ID, the
// sent time the line gives (zero if none), the line number, and why the
// line is unusable ("" if it is usable).
type fileLine struct {
	id   string
	sent time.Time
	line int
	bad  string
}

// readIDFile returns the lines of the watched file that list an ID. A line
// is an ID, optionally followed by whitespace and the time the push or
// message was sent, as RFC 3339 (2026-12-07T09:30:00+08:00) or unix
// seconds; surrounding whitespace is trimmed, everything from a '#' to the
// end of the line ignored and blank lines skipped. A line with a sent time
// that does not parse, or more than two fields, comes back with bad set. A
// missing file lists no IDs.
func readIDFile(path string) ([]fileLine, error) {
	data, err := readBounded(path, maxFileBytes)
	if errors.Is(err, errTooLarge) {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxFileBytes)
	}
	if err != nil {
		return nil, err
	}
	var out []fileLine
	for i, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		l := fileLine{id: fields[0], line: i + 1}
		switch len(fields) {
		case 1:
		case 2:
			t, err := parseSent(fields[1])
			if err != nil {
				l.bad = err.Error()
			}
			l.sent = t
		default:
			l.bad = "more than an ID and a sent time"
		}
		out = append(out, l)
	}
	return out, nil
}

// parseSent reads a watched file's sent time: RFC 3339 or unix seconds,
// within the years the state file can hold.
func parseSent(s string) (time.Time, error) {
	var t time.Time
	if secs, err := strconv.ParseInt(s, 10, 64); err == nil {
		t = time.Unix(secs, 0)
	} else if t, err = time.Parse(time.RFC3339, s); err != nil {
		return time.Time{}, fmt.Errorf("sent time %s is neither RFC 3339 nor unix seconds", quoteShort(s))
	}
	if y := t.UTC().Year(); y < 1970 || y > 9999 {
		return time.Time{}, fmt.Errorf("sent time %s is out of range", quoteShort(s))
	}
	return t.UTC(), nil
}
