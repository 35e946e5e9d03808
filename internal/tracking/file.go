package tracking

import (
	"errors"
	"fmt"
	"io"
	"os"
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

// readBounded reads the file at path if it has at most limit bytes, without
// ever reading more than that; a missing file reads as empty.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}

// fileLine is one ID of the watched file with the line it is on.
type fileLine struct {
	id   string
	line int
}

// readIDFile returns the IDs listed in the watched file, one a line, with
// surrounding whitespace trimmed, everything from a '#' to the end of the line
// ignored and blank lines skipped. A missing file lists no IDs.
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
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, fileLine{id: line, line: i + 1})
		}
	}
	return out, nil
}
