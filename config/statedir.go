package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// CheckStateDirectory reports whether the exporter, run as the current
// user, can keep its tracked-ID state in c.StateDirectory: a directory it
// can write into, or one it can create (the nearest existing parent is a
// directory it can write into). It checks by creating a file and removing
// it again. Load does not call it: --config.check does, where a state
// directory that will not work should show before the exporter starts.
func (c *Config) CheckStateDirectory() error {
	dir := c.StateDirectory
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("state_directory: %s is not a directory", dir)
	case err == nil:
		return writableDir(dir, dir)
	case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
		// ENOTDIR: a parent is a file, found on the way up.
		return fmt.Errorf("state_directory: %w", err)
	}
	for parent := filepath.Dir(dir); ; parent = filepath.Dir(parent) {
		fi, err := os.Stat(parent)
		switch {
		case err == nil && !fi.IsDir():
			return fmt.Errorf("state_directory: %s cannot be created: %s is not a directory", dir, parent)
		case err == nil:
			return writableDir(dir, parent)
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return fmt.Errorf("state_directory: %s cannot be created: %w", dir, err)
		}
		if parent == filepath.Dir(parent) {
			return fmt.Errorf("state_directory: %s cannot be created", dir)
		}
	}
}

// writableDir checks that a file can be created in parent, the state
// directory dir or the parent it would be created in.
func writableDir(dir, parent string) error {
	f, err := os.CreateTemp(parent, ".imstats-check-*")
	if err != nil {
		if dir == parent {
			return fmt.Errorf("state_directory: %s is not writable: %w", dir, err)
		}
		return fmt.Errorf("state_directory: %s cannot be created: %w", dir, err)
	}
	return errors.Join(f.Close(), os.Remove(f.Name()))
}
