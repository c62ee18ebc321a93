package storage

// This file persists the log start offset. Segment deletion alone would move
// the start to the first remaining segment's base on restart, but
// DeleteRecords can move it into the middle of a segment, so the value is
// kept in a one-line text file replaced atomically (tmp + fsync + rename,
// then a directory fsync) before the new start takes effect.

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

// checkpointName is the log start offset file in the partition directory.
const checkpointName = "log-start-offset"

// errBadCheckpoint marks a checkpoint file that exists but cannot be parsed.
var errBadCheckpoint = errors.New("malformed log start offset checkpoint")

// readCheckpoint returns the persisted log start offset, 0 if there is none.
// A malformed file (it can only be damaged from outside: it is replaced
// atomically) returns errBadCheckpoint so that Open can log it and fall back
// to 0; other errors are I/O failures.
func readCheckpoint(fsys fileSystem, dir string) (int64, error) {
	path := filepath.Join(dir, checkpointName)
	b, err := vfs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("parse %s: %q: %w", path, b, errBadCheckpoint)
	}
	return v, nil
}

// writeCheckpoint durably replaces the persisted log start offset.
func writeCheckpoint(fsys fileSystem, dir string, offset int64) error {
	path := filepath.Join(dir, checkpointName)
	return vfs.WriteAtomic(fsys, path, []byte(strconv.FormatInt(offset, 10)+"\n"), 0o644)
}
