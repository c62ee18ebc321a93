package group

// wal.go is the offsets log: an append-only file of records, written and
// fsynced by one goroutine so that concurrent commits share an fsync
// (group commit), and compacted by atomically replacing it with a snapshot.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

const (
	logName = "offsets.log"
	tmpName = "offsets.log.tmp"
)

// errClosed is returned for appends after Close.
var errClosed = errors.New("group coordinator closed")

// offsetLog is the durable log of group records.
type offsetLog struct {
	dir          string
	logger       *slog.Logger
	compactBytes int64

	mu       sync.Mutex
	f        *os.File
	st       *state // the state after every appended record
	buf      []byte // frames appended but not yet written
	appended uint64 // sequence of the last append
	durable  uint64 // every append up to this one is on disk
	err      error  // sticky write failure
	closed   bool
	changed  chan struct{} // closed when durable or err changes
	size     int64         // file bytes plus buf
	snapSize int64         // file bytes right after the last compaction

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

// openLog recovers the log in dir (creating it as needed) and starts its
// writer. It returns the recovered state, which the caller must not
// modify.
func openLog(dir string, compactBytes int64, logger *slog.Logger) (*offsetLog, *state, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("create %s: %w", dir, err)
	}
	// A leftover snapshot is from a compaction that did not finish; the
	// log it was to replace is intact.
	if err := os.Remove(filepath.Join(dir, tmpName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("remove stale snapshot: %w", err)
	}
	path := filepath.Join(dir, logName)
	st, size, err := recoverLog(path, logger)
	if err != nil {
		return nil, nil, err
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("open offsets log: %w", err)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, nil, err
		}
	}
	l := &offsetLog{
		dir: dir, logger: logger, compactBytes: compactBytes,
		f: f, st: st.clone(), size: size, snapSize: size,
		changed: make(chan struct{}),
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go l.run()
	return l, st, nil
}

// append queues records for writing and returns the sequence to wait on.
// Records of one key must be appended in order, which the caller's group
// lock guarantees.
func (l *offsetLog) append(recs []record) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, errClosed
	}
	if l.err != nil {
		return 0, l.err
	}
	if len(recs) == 0 {
		return l.appended, nil
	}
	before := len(l.buf)
	for _, r := range recs {
		l.buf = appendFrame(l.buf, r)
		l.st.apply(r)
	}
	l.size += int64(len(l.buf) - before)
	l.appended++
	select {
	case l.kick <- struct{}{}:
	default:
	}
	return l.appended, nil
}

// wait returns once append seq is on disk, the log failed, or ctx ends.
func (l *offsetLog) wait(ctx context.Context, seq uint64) error {
	for {
		l.mu.Lock()
		durable, err, ch := l.durable, l.err, l.changed
		l.mu.Unlock()
		if durable >= seq {
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// healthy reports the sticky write error, if any.
func (l *offsetLog) healthy() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errClosed
	}
	return l.err
}

// run is the writer goroutine.
func (l *offsetLog) run() {
	defer close(l.done)
	for {
		select {
		case <-l.kick:
		case <-l.stop:
			l.flush()
			return
		}
		l.flush()
		l.maybeCompact()
	}
}

// flush writes and fsyncs what was appended, then wakes the waiters.
func (l *offsetLog) flush() {
	l.mu.Lock()
	buf, seq, f := l.buf, l.appended, l.f
	l.buf = nil
	failed := l.err != nil
	l.mu.Unlock()
	if failed {
		return
	}
	var err error
	if len(buf) > 0 {
		if _, err = f.Write(buf); err == nil {
			err = f.Sync()
		}
	}
	l.mu.Lock()
	if err != nil {
		l.err = fmt.Errorf("write offsets log: %w", err)
		l.logger.Error("offsets log write failed; commits will fail until restart", "err", err)
	} else {
		l.durable = seq
	}
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// maybeCompact rewrites the log as a snapshot once it has grown past
// compactBytes and twice its last snapshot: the snapshot is written to a
// temporary file, fsynced, renamed over the log, and the directory
// fsynced, so a crash leaves either the old log or the new one.
func (l *offsetLog) maybeCompact() {
	l.mu.Lock()
	if l.err != nil || l.size < max(l.compactBytes, 2*l.snapSize) {
		l.mu.Unlock()
		return
	}
	snap := l.st.clone()
	seq := l.appended
	mark := len(l.buf) // frames already reflected in snap
	l.mu.Unlock()

	var data []byte
	for _, r := range snap.records() {
		data = appendFrame(data, r)
	}
	nf, err := l.writeSnapshot(data)
	if err != nil {
		l.logger.Error("offsets log compaction failed; keeping the log", "err", err)
		return
	}
	l.mu.Lock()
	old := l.f
	l.f = nf
	l.buf = append([]byte(nil), l.buf[mark:]...)
	l.snapSize = int64(len(data))
	l.size = l.snapSize + int64(len(l.buf))
	if l.durable < seq {
		l.durable = seq
		close(l.changed)
		l.changed = make(chan struct{})
	}
	l.mu.Unlock()
	old.Close()
	l.logger.Debug("offsets log compacted", "bytes", len(data))
}

// writeSnapshot installs data as the log and returns it open for appends.
func (l *offsetLog) writeSnapshot(data []byte) (*os.File, error) {
	tmp := filepath.Join(l.dir, tmpName)
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(l.dir, logName))
	}
	if err == nil {
		err = syncDir(l.dir)
	}
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, err
	}
	return f, nil
}

// close writes what is queued and closes the file.
func (l *offsetLog) close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.err
	if cerr := l.f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}

// syncDir fsyncs a directory so a file created or renamed in it persists.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
