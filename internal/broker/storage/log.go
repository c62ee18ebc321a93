package storage

// This file is the Log type: opening, appending, the cheap accessors, and
// closing. Reads are in read.go, fsync in sync.go, retention in
// retention.go, recovery in recovery.go.

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

// Log is one partition's durable log. All methods are safe for concurrent
// use. Appends are serialized; reads run concurrently with them and with
// each other; fsyncs never block appends.
//
// Lock order: cleanMu, maintMu, ckptMu, appendMu, syncMu, mu. No lock is held across an
// fsync except syncMu (and ckptMu, for DeleteRecords' checkpoint).
type Log struct {
	dir    string
	fs     fileSystem
	opts   Options
	logger *slog.Logger
	cfg    atomic.Pointer[Config]

	cleanMu  sync.Mutex   // serializes cleanings of this log (clean.go)
	maintMu  sync.Mutex   // keeps retention and DeleteRecords out of a cleaner swap
	ckptMu   sync.Mutex   // serializes DeleteRecords and its checkpoint writes
	appendMu sync.Mutex   // serializes writers: Append, rolls, segment detachment, Close
	syncMu   sync.Mutex   // serializes fsyncs, index-file writes and segment file removal
	mu       sync.RWMutex // guards the published state below; held only briefly

	// Published state: guarded by mu, and (except unsynced) written only
	// with appendMu held too, so appendMu alone also suffices to read it.
	segs     []*segment    // oldest first, the last is active; replaced, never edited in place
	end      int64         // log end offset: the next offset to assign
	logStart int64         // first readable offset
	closed   bool          // Close has begun
	notify   chan struct{} // closed when the high watermark advances; nil until Notify asks
	unsynced []*segment    // rolled segments whose data and index files await Sync
	dirGen   uint64        // bumped on every segment file creation

	producers *producerState // guarded by appendMu
	// firstUnstable is the first offset of the oldest ongoing transaction
	// (-1 if none) and aborted the aborted-transactions index (txn.go):
	// published with the log end.
	firstUnstable int64
	aborted       txnIndex
	// snapPending are producer-state snapshots taken at rolls, written by
	// the next sync once the data they describe is durable (snapshot.go).
	snapPending []pendingSnapshot
	// snapClean (guarded by appendMu) says the producer state has not
	// changed since the last snapshot was taken; snapsExist that a
	// snapshot file exists (or will, once pending ones are written).
	snapClean  bool
	snapsExist atomic.Bool
	epochs     epochCache     // guarded by mu (readers) and appendMu with mu (writers)
	report     RecoveryReport // what Open found and did; written only by Open
	// recoveryCut is the lowest offset recovery cut or repaired from
	// (MaxInt64 if none): a snapshot above it is not this log's state.
	// Written only by Open.
	recoveryCut int64

	snaps        []int64 // guarded by syncMu: offsets of the snapshot files, ascending
	dirSyncedGen uint64  // guarded by syncMu: dirGen covered by the last directory fsync
	parentDirty  bool    // guarded by syncMu: Open created the directory; its parent awaits an fsync
	filesClosed  bool    // guarded by syncMu: Close has closed the files

	firstDirty  atomic.Int64 // the cleaner checkpoint: below it the log is compacted
	lastCleaned atomic.Int64 // unix ms of the last cleaning, 0 if none since Open

	durable atomic.Int64          // every offset below it is fsynced
	failure atomic.Pointer[error] // sticky: an fsync failed, or a failed write could not be undone
	bg      sync.WaitGroup        // syncs started by segment rolls
}

// AppendResult describes an appended (or deduplicated) batch.
type AppendResult struct {
	// BaseOffset and LastOffset are the offsets of the batch's first and
	// last records; for a duplicate, those the original batch got.
	BaseOffset, LastOffset int64
	// LogAppendTime is the broker timestamp stamped on the batch when the
	// topic uses LogAppendTime (for a duplicate, the original's), else -1.
	LogAppendTime int64
	// LogStartOffset is the log start offset after the append.
	LogStartOffset int64
	// Duplicate reports that the batch repeated one of the producer's last
	// five batches and was not written again.
	Duplicate bool
}

// Open opens the log in dir, creating the directory if needed, and recovers
// it: leftover temporary files are removed, the active segment (and any
// segment not cleanly sealed) is verified batch by batch and cut back to its
// last whole valid batch, and the in-memory indexes and idempotent-producer
// state are rebuilt from the retained batch headers. The cost is a read of
// the batch headers of the whole log.
func Open(dir string, cfg Config, opts Options) (*Log, error) {
	return openLog(vfs.Default, dir, cfg, opts)
}

// openLog is Open on a given filesystem (tests inject faults through it).
func openLog(fsys fileSystem, dir string, cfg Config, opts Options) (*Log, error) {
	opts = opts.withDefaults()
	l := &Log{
		dir:           dir,
		fs:            fsys,
		opts:          opts,
		logger:        opts.Logger.With("dir", dir),
		producers:     newProducerState(),
		firstUnstable: -1,
		recoveryCut:   math.MaxInt64,
	}
	l.SetConfig(cfg)
	if _, err := fsys.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		// A new partition: its directory's entry is made durable by the
		// first sync that has data (creating thousands of partitions then
		// costs no fsync each). Missing ancestors, rare, are made durable
		// now.
		if err := vfs.MkdirAllDurable(fsys, filepath.Dir(dir), 0o755); err != nil {
			return nil, fmt.Errorf("open log %s: %w", dir, err)
		}
		l.parentDirty = true
	}
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	if err := l.recover(); err != nil {
		for _, s := range l.segs {
			s.closeFile(l.opts.Files)
		}
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	l.durable.Store(l.end) // recover fsynced everything it kept
	l.loadFirstDirty()
	return l, nil
}

// SetConfig replaces the topic configuration. It applies to later appends,
// rolls and retention passes; existing segments are not rewritten.
func (l *Log) SetConfig(cfg Config) {
	c := cfg.withDefaults()
	l.cfg.Store(&c)
}

// Config returns the topic configuration in effect, defaults filled in.
func (l *Log) Config() Config { return *l.cfg.Load() }

// Append validates one raw v2 record batch from a producer (a produce
// request's partition holds exactly one: see ProducedBatch), applies
// idempotent-producer deduplication, assigns offsets and writes it to the
// active segment with a single positional write.
//
// Append rewrites the header of batch in place (base offset, partition
// leader epoch and, for LogAppendTime, max timestamp, timestamp type and
// CRC, and for CreateTime a max timestamp that disagrees with the
// records'), as Kafka does with the request buffer; the caller must not
// expect the bytes unchanged. Every record is walked (see records.go).
//
// The data is readable (and the high watermark advanced) when Append
// returns, but durable only after WaitDurable. A batch that fails
// validation gets a *BatchError wrapping ErrCorruptMessage,
// ErrMessageTooLarge, ErrInvalidRecord or ErrInvalidTimestamp; a sequence
// or epoch error wraps ErrOutOfOrderSequence or ErrInvalidProducerEpoch;
// anything else is an I/O error.
//
// An idempotent producer with no retained state must start at sequence 0,
// unless the log start offset is above 0, since then retention may have
// removed its history and any sequence is accepted.
func (l *Log) Append(batch []byte) (AppendResult, error) {
	cfg := l.cfg.Load()
	h, rebuilt, err := validateProduced(batch, cfg, l.opts.Now().UnixMilli())
	if err != nil {
		return AppendResult{}, fmt.Errorf("append to %s: %w", l.dir, err)
	}
	if rebuilt != nil {
		batch = rebuilt
	}
	l.appendMu.Lock()
	res, rolled, err := l.appendLocked(batch, &h, cfg)
	if rolled {
		l.syncAfterRoll()
	}
	l.appendMu.Unlock()
	return res, err
}

// syncAfterRoll starts the sync a roll calls for: the rolled segment must
// be fsynced, its index files and the producer-state snapshot written; it
// runs off the append path, as Kafka flushes on roll asynchronously. Close
// waits for it. Caller holds appendMu.
func (l *Log) syncAfterRoll() {
	l.bg.Add(1)
	go func() {
		defer l.bg.Done()
		if err := l.Sync(); err != nil {
			l.logger.Error("sync after segment roll", "err", err)
		}
	}()
}

// appendLocked is Append after validation, with appendMu held. rolled
// reports that a new segment was created.
func (l *Log) appendLocked(batch []byte, h *batchHeader, cfg *Config) (res AppendResult, rolled bool, err error) {
	if err := l.writable("append to"); err != nil {
		return res, false, err
	}
	if h.producerID >= 0 {
		dup, err := l.producers.check(h, l.logStart > 0)
		if err != nil {
			return res, false, fmt.Errorf("append to %s: %w", l.dir, err)
		}
		if dup != nil {
			return AppendResult{
				BaseOffset:     dup.baseOffset,
				LastOffset:     dup.lastOffset,
				LogAppendTime:  dup.appendTime,
				LogStartOffset: l.logStart,
				Duplicate:      true,
			}, false, nil
		}
	}

	nowMs := l.opts.Now().UnixMilli()
	appendTime := int64(-1)
	if cfg.LogAppendTime {
		appendTime = nowMs
	}
	return l.writeLocked(batch, h, cfg, nowMs, appendTime, func() (abortedTxn, bool) {
		if h.producerID >= 0 {
			l.producers.update(h, appendTime, nowMs)
		}
		return abortedTxn{}, false
	})
}

// writable returns an error if the log takes no more writes (closed, or
// failed). Caller holds appendMu.
func (l *Log) writable(op string) error {
	if l.closed {
		return l.errClosed(op)
	}
	if err := l.failed(); err != nil {
		return fmt.Errorf("%s %s: log unusable after an earlier failure: %w", op, l.dir, err)
	}
	return nil
}

// writeLocked writes a validated batch (a producer's, or a marker) at the
// log end, rolling first if due, then lets apply update the producer
// state (h then carries the batch's base offset) and publishes the new
// end together with the state readers derive from it: the first unstable
// offset and any aborted transaction apply returns. Publishing them under
// one lock is what keeps the LSO from ever passing an open transaction.
// Caller holds appendMu.
func (l *Log) writeLocked(batch []byte, h *batchHeader, cfg *Config, nowMs, appendTime int64, apply func() (abortedTxn, bool)) (res AppendResult, rolled bool, err error) {
	if cfg.LogAppendTime {
		h.maxTimestamp = nowMs
	}
	seg := l.segs[len(l.segs)-1]
	if l.shouldRoll(seg, cfg, int64(len(batch)), h, nowMs) {
		if seg, err = l.roll(nowMs); err != nil {
			return res, false, err
		}
		rolled = true
	}

	base, pos := l.end, seg.size
	stampBatch(batch, base, l.opts.LeaderEpoch, appendTime)
	h.baseOffset = base
	f := seg.pinnedFile()
	if _, err := f.WriteAt(batch, pos); err != nil {
		err = fmt.Errorf("append to %s: write %d bytes to %s at %d: %w", l.dir, len(batch), seg.logPath, pos, err)
		// Nothing was published, so the log is intact if the file is cut
		// back; if even that fails, stop writing to it.
		if terr := f.Truncate(pos); terr != nil {
			l.fail(fmt.Errorf("%w (and truncating back failed: %v)", err, terr))
		}
		return res, rolled, err
	}
	aborted, isAbort := apply()
	l.snapClean = false
	// Only a transactional batch (a producer's, or a marker) opens or
	// closes a transaction: the others leave the first unstable offset as
	// it was, and the append path does not walk the open transactions.
	firstUnstable := l.firstUnstable
	if h.attributes&attrTransactional != 0 {
		firstUnstable = l.producers.firstUnstable()
	}

	last := h.lastOffset()
	l.mu.Lock()
	if seg.size == 0 {
		seg.firstTs = h.maxTimestamp
	}
	seg.idx.add(seg.base, pos, int64(len(batch)), base, last, h.maxTimestamp, cfg.IndexIntervalBytes)
	seg.size += int64(len(batch))
	seg.next = last + 1
	seg.modified = nowMs
	l.end = last + 1
	l.firstUnstable = firstUnstable
	if isAbort {
		l.aborted = append(l.aborted, aborted)
	}
	l.epochs.assign(l.opts.LeaderEpoch, base)
	if l.opts.Sync != SyncAlways {
		l.wakeLocked() // with SyncAlways readers wait for the fsync instead
	}
	logStart := l.logStart
	l.mu.Unlock()

	return AppendResult{BaseOffset: base, LastOffset: last, LogAppendTime: appendTime, LogStartOffset: logStart}, rolled, nil
}

// shouldRoll reports whether a batch of size bytes must go into a new
// segment. As in Kafka: never roll an empty segment; roll when the batch
// would push the segment past segment.bytes, when its offsets would not fit
// the index's 32-bit relative offsets, when an index would grow past
// segment.index.bytes, or when segment.ms (less the segment's
// segment.jitter.ms share, and at most max.compaction.lag.ms on a
// compacted topic, so that the cleaner can reach every record in time) has
// passed, that is when the incoming batch's timestamp is that much past
// the first batch's (or, without timestamps, the segment is that old).
func (l *Log) shouldRoll(seg *segment, cfg *Config, size int64, h *batchHeader, nowMs int64) bool {
	if seg.size == 0 {
		return false
	}
	if seg.size+size > cfg.SegmentBytes {
		return true
	}
	if l.end+int64(h.lastOffsetDelta)-seg.base > math.MaxInt32 {
		return true
	}
	if ib := int(cfg.SegmentIndexBytes); len(seg.idx.offsets)+1 > ib/offsetEntrySize || len(seg.idx.times)+1 > ib/timeEntrySize {
		return true
	}
	waited := nowMs - seg.created
	if seg.firstTs >= 0 {
		waited = h.maxTimestamp - seg.firstTs
	}
	rollMs := cfg.SegmentMs - seg.jitter
	if cfg.Policy.Compacts() && cfg.MaxCompactionLagMs > 0 {
		rollMs = min(rollMs, cfg.MaxCompactionLagMs)
	}
	return waited > rollMs
}

// roll seals the active segment and starts a new one at the high watermark.
// Only the file creation happens here; fsyncing the old segment, writing its
// index files and the producer-state snapshot taken here (after expiring
// producers), and fsyncing the directory are left to the next Sync, which
// Append triggers in the background. Caller holds appendMu.
func (l *Log) roll(nowMs int64) (*segment, error) {
	seg, err := createSegment(l.fs, l.opts.Files, l.dir, l.end, nowMs)
	if err != nil {
		return nil, fmt.Errorf("roll %s: %w", l.dir, err)
	}
	if j := l.cfg.Load().SegmentJitterMs; j > 0 {
		seg.jitter = rand.Int64N(j)
	}
	old := l.segs[len(l.segs)-1]
	l.expireLocked(nowMs)
	snap, take := l.takeSnapshot()
	l.mu.Lock()
	old.idx.seal(old.base)
	l.segs = append(l.segs[:len(l.segs):len(l.segs)], seg)
	l.unsynced = append(l.unsynced, old)
	if take {
		l.snapPending = append(l.snapPending, snap)
	}
	l.dirGen++
	l.mu.Unlock()
	l.logger.Debug("rolled segment", "segment", seg.logPath)
	return seg, nil
}

// LogStartOffset returns the first offset that may be read.
func (l *Log) LogStartOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.logStart
}

// HighWatermark returns the offset below which consumers may read. With
// SyncAlways it is the durable offset, so that no consumer ever sees a
// record a power loss could take back; otherwise it is the log end offset
// (Courier has no replicas to wait for).
func (l *Log) HighWatermark() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.highWatermarkLocked()
}

// highWatermarkLocked is HighWatermark with mu held.
func (l *Log) highWatermarkLocked() int64 {
	if l.opts.Sync == SyncAlways {
		return min(l.durable.Load(), l.end)
	}
	return l.end
}

// LogEndOffset returns the next offset to be assigned.
func (l *Log) LogEndOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.end
}

// wakeLocked closes the notification channel after the high watermark
// moved. Caller holds mu.
func (l *Log) wakeLocked() {
	if l.notify != nil && !l.closed { // Close closed it for good
		close(l.notify)
		l.notify = nil // made on demand by Notify, so appends nobody waits for allocate nothing
	}
}

// Size returns the bytes of batch data held across all segments.
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var n int64
	for _, s := range l.segs {
		n += s.size
	}
	return n
}

// Notify returns a channel that is closed the next time the high watermark
// advances (and when the log closes). A fetch long-poll takes the channel,
// reads, and if there was nothing waits on it; taking the channel before
// reading is what makes that race-free.
func (l *Log) Notify() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.notify == nil {
		l.notify = make(chan struct{})
	}
	return l.notify
}

// Close stops appends, fsyncs what is not yet durable and closes the files.
// It writes no index files for the active segment: Open verifies the last
// segment in full anyway (it is the one a crash can tear), so a broker with
// thousands of partitions stops with no fsync for those with nothing new.
// Later calls on the log return errors matching fs.ErrClosed; Close itself
// may be called again (it returns nil).
func (l *Log) Close() error {
	l.appendMu.Lock()
	if l.closed {
		l.appendMu.Unlock()
		return nil
	}
	l.mu.Lock()
	l.closed = true
	if l.notify == nil {
		l.notify = make(chan struct{})
	}
	close(l.notify) // wake long-polls; the channel stays closed for good
	l.mu.Unlock()
	l.appendMu.Unlock()

	l.bg.Wait()
	// Appends have stopped: the producer state is final, as of the log
	// end; a snapshot of it means the next Open replays nothing.
	l.appendMu.Lock()
	snap, take := l.takeSnapshot()
	l.appendMu.Unlock()
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	err := l.syncLocked()
	if err == nil && take {
		err = l.writeSnapshots([]pendingSnapshot{snap})
	}
	l.mu.RLock()
	segs := l.segs
	l.mu.RUnlock()
	errs := []error{err}
	for _, s := range segs {
		if cerr := s.closeFile(l.opts.Files); cerr != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", s.logPath, cerr))
		}
	}
	l.filesClosed = true
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close log %s: %w", l.dir, err)
	}
	return nil
}

// Delete closes the log and removes its directory with everything in it.
func (l *Log) Delete() error {
	cerr := l.Close()
	if err := l.fs.RemoveAll(l.dir); err != nil {
		return errors.Join(cerr, fmt.Errorf("delete log %s: %w", l.dir, err))
	}
	return cerr
}

// errClosed is the error for an operation on a closed log.
func (l *Log) errClosed(op string) error {
	return fmt.Errorf("%s %s: log closed: %w", op, l.dir, fs.ErrClosed)
}

// fail records a failure after which the log's on-disk state is uncertain
// (an fsync error, or a write that could not be undone); appends and syncs
// return it from then on. It returns err.
func (l *Log) fail(err error) error {
	l.failure.CompareAndSwap(nil, &err)
	return err
}

// failed returns the recorded failure, if any.
func (l *Log) failed() error {
	if p := l.failure.Load(); p != nil {
		return *p
	}
	return nil
}
