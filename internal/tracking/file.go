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
