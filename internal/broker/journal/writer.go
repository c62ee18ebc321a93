package journal

// writer.go is the journal's writer goroutine: it writes and fsyncs what
// was appended (group commit), reports each batch to its done callback,
// compacts the file by rewriting it as a snapshot, and after a failed
// write repairs the journal by the same rewrite.
//
// Why a failed write is repaired by a rewrite rather than retried: after a
// write or fsync fails the file's contents are unknown. Part of the batch
// may be on disk, and Linux may have dropped the dirty pages on a failed
// fsync so that a second fsync "succeeds" without them. The only state
// known to be right is the durable one the user holds, so the journal
// writes a fresh snapshot of it to a temporary file, fsyncs it, renames it
// over the journal and fsyncs the directory, and appends from there.

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

// run is the writer goroutine; Close stops it.
func (j *Journal) run() {
	defer close(j.exited)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-j.kick:
		case <-timer.C:
		case <-j.stop:
			j.flush()
			j.failQueued(ErrClosed)
			return
		}
		j.flush()
		j.maybeCompact()
		if !j.nextRepair.IsZero() {
			timer.Reset(time.Until(j.nextRepair))
		}
	}
}

// flush writes and fsyncs every queued batch and reports them. While the
// journal is broken it first tries to repair it, if that is due.
func (j *Journal) flush() {
	j.mu.Lock()
	buf, dones := j.buf, j.dones
	j.buf, j.dones = nil, nil
	broken, due := j.broken, !time.Now().Before(j.retryAt)
	j.mu.Unlock()

	if broken != nil {
		if !due {
			report(dones, fmt.Errorf("%w: %s is waiting to repair itself after: %w", ErrFailed, j.path, broken))
			return
		}
		if err := j.repair(); err != nil {
			report(dones, fmt.Errorf("%w: %s could not repair itself: %w", ErrFailed, j.path, err))
			return
		}
	}
	if len(buf) > 0 {
		_, err := j.f.WriteAt(buf, j.size)
		if err == nil {
			err = j.f.Sync()
		}
		if err != nil {
			j.fail(fmt.Errorf("%w: write %s: %w", ErrFailed, j.path, err), dones)
			return
		}
		j.size += int64(len(buf))
	}
	report(dones, nil)
}

// report calls each done callback with err.
func report(dones []func(error), err error) {
	for _, d := range dones {
		if d != nil {
			d(err)
		}
	}
}

// fail marks the journal broken after a failed write: the batches written
// and every batch queued behind them fail. The next append, or the writer
// after RetryMin, repairs the journal; the batches appended after this
// point are written after the repair, without the failed ones, which is
// why records must not need an earlier record that was still in flight
// (see the package doc).
func (j *Journal) fail(err error, dones []func(error)) {
	j.stats.writeFailures.Add(1)
	j.log.Error("journal write failed: the batch is reported failed and the journal will rewrite itself from its durable state",
		"file", j.path, "err", err)
	j.mu.Lock()
	j.broken = err
	j.retryAt = time.Now()
	j.backoff = j.opts.RetryMin
	queued := j.dones
	j.buf, j.dones = nil, nil
	j.mu.Unlock()
	j.nextRepair = time.Now().Add(j.opts.RetryMin)
	// Cut what the failed write may have left, so that a crash before the
	// repair does not replay a batch reported failed. Best effort: on a
	// broken disk this may fail too, and only the repair is certain.
	if terr := j.f.Truncate(j.size); terr == nil {
		if serr := j.f.Sync(); serr != nil {
			j.log.Warn("journal: fsync after cutting a failed write failed", "file", j.path, "err", serr)
		}
	} else {
		j.log.Warn("journal: could not cut a failed write", "file", j.path, "err", terr)
	}

	report(dones, err)
	report(queued, err)
}

// failQueued fails whatever is still queued (at Close).
func (j *Journal) failQueued(err error) {
	j.mu.Lock()
	dones := j.dones
	j.buf, j.dones = nil, nil
	j.mu.Unlock()
	report(dones, err)
}

// repair rewrites the journal from the durable state. On failure it backs
// off: appends fail fast until the next attempt is due.
func (j *Journal) repair() error {
	data, err := j.snapshot()
	if err == nil {
		err = j.install(data)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil {
		j.backoff = min(max(2*j.backoff, j.opts.RetryMin), j.opts.RetryMax)
		j.retryAt = time.Now().Add(j.backoff)
		j.nextRepair = j.retryAt
		j.log.Warn("journal repair failed; retrying", "file", j.path, "in", j.backoff, "err", err)
		return err
	}
	j.log.Warn("journal repaired: rewritten from its durable state after a failed write", "file", j.path, "bytes", len(data), "failed_write", j.broken)
	j.broken, j.backoff, j.nextRepair = nil, 0, time.Time{}
	j.stats.repairs.Add(1)
	return nil
}

// maybeCompact rewrites the journal as a snapshot once it has grown past
// CompactBytes and twice its last snapshot.
func (j *Journal) maybeCompact() {
	if j.Err() != nil || j.size < max(j.opts.CompactBytes, 2*j.snapSize) || time.Now().Before(j.compactAfter) {
		return
	}
	data, err := j.snapshot()
	if err == nil {
		err = j.install(data)
	}
	switch {
	case err == nil:
		j.stats.compactions.Add(1)
		j.log.Debug("journal compacted", "file", j.path, "bytes", len(data))
	case errors.Is(err, vfs.ErrUnchanged):
		// The journal is intact; appends go on. Try again later rather
		// than after every write while, say, the disk is full.
		j.compactAfter = time.Now().Add(j.opts.RetryMax)
		j.log.Warn("journal compaction failed; keeping the journal as it is", "file", j.path, "err", err)
	default:
		// The rename or the directory fsync failed: which file the name
		// holds after a crash is unknown, so nothing more may be
		// acknowledged until a repair has written and synced one.
		j.fail(fmt.Errorf("%w: compact %s: %w", ErrFailed, j.path, err), nil)
	}
}

// snapshot frames the user's snapshot.
func (j *Journal) snapshot() ([]byte, error) {
	var (
		buf []byte
		bad error
	)
	err := j.opts.Snapshot(func(rec []byte) {
		if bad == nil {
			if bad = j.checkRecord(rec); bad == nil {
				buf = appendFrame(buf, rec)
			}
		}
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		return nil, fmt.Errorf("%w: snapshot of %s: %w", vfs.ErrUnchanged, j.path, err)
	}
	return buf, nil
}

// install atomically replaces the journal with data and appends to it
// from then on.
func (j *Journal) install(data []byte) error {
	if err := vfs.WriteAtomic(j.opts.FS, j.path, data, 0o644); err != nil {
		return err
	}
	f, err := j.opts.FS.OpenFile(j.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("reopen %s: %w", j.path, err)
	}
	if j.f != nil {
		j.f.Close() // the replaced file: nothing in it is needed
	}
	j.f, j.size, j.snapSize = f, int64(len(data)), int64(len(data))
	return nil
}
