package journal

// journal.go is the Journal's API: options, Append, Close and the
// counters; Open's recovery is in recover.go and the writer goroutine in
// writer.go.

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

// Defaults for the zero values of Options.
const (
	DefaultCompactBytes = 16 << 20
	DefaultMaxRecord    = 64 << 20
	DefaultRetryMin     = 100 * time.Millisecond
	DefaultRetryMax     = 10 * time.Second
)

var (
	// ErrClosed is returned by Append after Close, and given to the done
	// callbacks of batches Close could not write.
	ErrClosed = errors.New("journal closed")
	// ErrFailed is wrapped by every error that reports a batch as not
	// durable: its write or fsync failed, it was queued behind one that
	// did, or it was appended while the journal was repairing itself. The
	// cause (e.g. syscall.ENOSPC) is wrapped too.
	ErrFailed = errors.New("journal write failed")
	// ErrRecordSize is returned by Append for an empty record or one
	// larger than Options.MaxRecord.
	ErrRecordSize = errors.New("journal record size out of bounds")
	// ErrDamaged is wrapped by the DamageError Open returns for a file it
	// cannot read safely.
	ErrDamaged = errors.New("journal damaged")
)

// Options configures a Journal. Replay and Snapshot are required.
type Options struct {
	// FS is where the file lives; default vfs.Default.
	FS vfs.FS
	// Logger receives what recovery, repairs and compactions did; default
	// discards.
	Logger *slog.Logger
	// CompactBytes: the file is rewritten as a snapshot once it has grown
	// past this and past twice its last snapshot. Default 16 MiB.
	CompactBytes int64
	// MaxRecord bounds one record; Open treats a longer length as damage.
	// Default 64 MiB.
	MaxRecord int
	// RetryMin and RetryMax bound the back-off between repair attempts
	// while the journal cannot write. Defaults 100 ms and 10 s.
	RetryMin, RetryMax time.Duration
	// RefuseDamage makes Open refuse the file with a DamageError at the
	// first damaged record (a checksum that fails, a record Replay
	// rejects, framing lost before a valid record) instead of skipping it,
	// for state that must never be silently partial (topic metadata: a
	// skipped record would make a topic's data look unknown). Open calls
	// Replay with no record after the damage. A torn tail is still cut,
	// including one whose unwritten sectors read as zeros with whole
	// records of the same append after them (a copy of the file is kept
	// then, as for skipped damage).
	RefuseDamage bool
	// Replay is called by Open with each record in the file, in order. An
	// error marks the record damaged: it is skipped, logged and counted,
	// never applied (or, under RefuseDamage, refused). rec is only valid
	// during the call.
	Replay func(rec []byte) error
	// Snapshot calls add with records that rebuild the durable state from
	// nothing (what Replay folded in, then every batch reported durable).
	// It is called on the writer goroutine to compact the file or repair
	// it after a failed write, and by Open after skipping damage. add
	// copies rec.
	Snapshot func(add func(rec []byte)) error
}

// Journal is an append-only, CRC-framed record log in one file. Its
// methods are safe for concurrent use.
type Journal struct {
	path string
	opts Options
	log  *slog.Logger

	// Owned by the writer goroutine (by Open before it starts, by Close
	// after it ends).
	f            vfs.File
	size         int64     // bytes in f, all durable
	snapSize     int64     // size right after the last snapshot
	compactAfter time.Time // no compaction before this (after a failed one)
	nextRepair   time.Time // when broken: the writer's next own repair attempt

	mu      sync.Mutex
	buf     []byte        // frames appended, not yet written
	dones   []func(error) // done of each batch in buf, in order
	broken  error         // set from a failed write until a repair succeeds
	retryAt time.Time     // while broken: appends before this fail fast
	backoff time.Duration
	closed  bool

	stats struct {
		damaged, tornTails, writeFailures, repairs, compactions atomic.Uint64
	}

	kick   chan struct{}
	stop   chan struct{}
	exited chan struct{}
}

// Stats counts what the journal has had to do since Open.
type Stats struct {
	// DamagedRecords is how many damaged records or regions Open skipped
	// (each logged with its byte offset).
	DamagedRecords uint64
	// TornTails is how many torn tails Open cut (0 or 1).
	TornTails uint64
	// WriteFailures is how many writes, fsyncs or compaction renames failed.
	WriteFailures uint64
	// Repairs is how many times the journal rewrote itself from its
	// durable state after a failure and went on.
	Repairs uint64
	// Compactions is how many times the file was rewritten as a snapshot
	// because it had grown.
	Compactions uint64
	// Healthy is false from a failed write until the repair that follows.
	Healthy bool
}

// Stats returns the counters.
func (j *Journal) Stats() Stats {
	j.mu.Lock()
	healthy := j.broken == nil
	j.mu.Unlock()
	return Stats{
		DamagedRecords: j.stats.damaged.Load(),
		TornTails:      j.stats.tornTails.Load(),
		WriteFailures:  j.stats.writeFailures.Load(),
		Repairs:        j.stats.repairs.Load(),
		Compactions:    j.stats.compactions.Load(),
		Healthy:        healthy,
	}
}

// Path returns the journal's file.
func (j *Journal) Path() string { return j.path }

// Err returns why the journal cannot write at the moment (it is repairing
// itself), or nil.
func (j *Journal) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return ErrClosed
	}
	return j.broken
}

// checkRecord validates one record's size.
func (j *Journal) checkRecord(rec []byte) error {
	if len(rec) == 0 || len(rec) > j.opts.MaxRecord {
		return fmt.Errorf("%w: %d bytes, want 1 to %d", ErrRecordSize, len(rec), j.opts.MaxRecord)
	}
	return nil
}

// Append queues recs as one batch, to be written after every batch
// appended before it, with them or alone, and fsynced (group commit: one
// write and one fsync serve every batch queued meanwhile). done, if not
// nil, is called exactly once on the writer goroutine: with nil once the
// batch is durable, or with an error wrapping ErrFailed (or ErrClosed)
// once it is known not to be; done callbacks run in append order, one at a
// time, and never concurrently with Snapshot. done may call Append; it
// must not wait for another batch. An empty batch writes nothing: its done
// is a barrier, called after every earlier batch's.
//
// Append returns an error, and done is not called, when recs cannot be
// written at all: ErrClosed, ErrRecordSize, or an error wrapping ErrFailed
// (and the write's cause) while the journal waits to retry a repair that
// failed. After a failed write, the next Append triggers the repair and
// its batch is written once the repair succeeds; while repairs keep
// failing they are retried with back-off, and an Append after the
// back-off triggers the next attempt.
func (j *Journal) Append(recs [][]byte, done func(error)) error {
	for _, r := range recs {
		if err := j.checkRecord(r); err != nil {
			return err
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return ErrClosed
	}
	if j.broken != nil && time.Now().Before(j.retryAt) {
		return fmt.Errorf("%w: %s is waiting to repair itself after: %w", ErrFailed, j.path, j.broken)
	}
	for _, r := range recs {
		j.buf = appendFrame(j.buf, r)
	}
	j.dones = append(j.dones, done)
	select {
	case j.kick <- struct{}{}:
	default:
	}
	return nil
}

// Close writes what is queued, stops the writer and closes the file.
// Appends after Close fail with ErrClosed.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	j.mu.Unlock()
	close(j.stop)
	<-j.exited
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", j.path, err)
	}
	return nil
}
