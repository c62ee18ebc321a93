package group

// recover.go replays the offsets log at start and repairs a torn tail.

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
)

// replay folds every whole record of data into s and returns the length
// of that prefix. It stops without error at the first torn frame (a
// partial write or checksum mismatch, which only a crash mid-write leaves,
// at the end); a frame whose checksum holds but cannot be decoded is an
// error, since cutting it would lose every record after it.
func replay(data []byte, s *state) (int, error) {
	off := 0
	for off < len(data) {
		r, n, err := readFrame(data[off:])
		if errors.Is(err, errTorn) {
			return off, nil
		}
		if err != nil {
			return off, fmt.Errorf("offsets log at byte %d: %w", off, err)
		}
		s.apply(r)
		off += n
	}
	return off, nil
}

// recoverLog reads the log at path (absent: empty), cuts a torn tail and
// returns the state it holds and its length.
func recoverLog(path string, logger *slog.Logger) (*state, int64, error) {
	s := newState()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read offsets log: %w", err)
	}
	n, err := replay(data, s)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	if n < len(data) {
		logger.Warn("offsets log: cutting torn tail", "path", path, "valid_bytes", n, "dropped_bytes", len(data)-n)
		if err := truncateSync(path, int64(n)); err != nil {
			return nil, 0, err
		}
	}
	return s, int64(n), nil
}

// truncateSync cuts the file at size and fsyncs it.
func truncateSync(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open offsets log to repair: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("truncate offsets log: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync offsets log: %w", err)
	}
	return nil
}
