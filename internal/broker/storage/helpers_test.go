package storage

// Shared test helpers: a batch builder on top of kmsg (so test batches are
// encoded by an independent implementation), a fake clock, a fault-injecting
// filesystem, and small log helpers.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/vfs"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// testBatch describes a batch to encode.
type testBatch struct {
	records    int
	valueSize  int
	ts         int64 // first timestamp; record i is ts+i
	producerID int64
	epoch      int16
	seq        int32
	attrs      int16 // extra attributes (the transactional bit)
}

// batch returns a plain (non-idempotent) batch of n records.
func batch(n int) testBatch {
	return testBatch{records: n, valueSize: 16, ts: 1_000, producerID: -1, epoch: -1, seq: -1}
}

func (b testBatch) idem(pid int64, epoch int16, seq int32) testBatch {
	b.producerID, b.epoch, b.seq = pid, epoch, seq
	return b
}
func (b testBatch) at(ts int64) testBatch { b.ts = ts; return b }

// txn returns the batch as a transactional producer's.
func (b testBatch) txn(pid int64, epoch int16, seq int32) testBatch {
	b = b.idem(pid, epoch, seq)
	b.attrs |= attrTransactional
	return b
}
func (b testBatch) values(n int) testBatch { b.valueSize = n; return b }

// encode builds the wire bytes with kmsg and a Castagnoli CRC over [21:].
func (b testBatch) encode() []byte {
	var recs []byte
	for i := 0; i < b.records; i++ {
		r := kmsg.Record{
			TimestampDelta64: int64(i),
			OffsetDelta:      int32(i),
			Key:              []byte{byte(i)},
			Value:            bytes.Repeat([]byte{byte('a' + i%26)}, b.valueSize),
		}
		r.Length = int32(len(r.AppendTo(nil)) - 1) // the zero Length varint is one byte
		recs = r.AppendTo(recs)
	}
	rb := kmsg.RecordBatch{
		PartitionLeaderEpoch: -1,
		Magic:                2,
		Attributes:           b.attrs,
		LastOffsetDelta:      int32(b.records - 1),
		FirstTimestamp:       b.ts,
		MaxTimestamp:         b.ts + int64(max(b.records-1, 0)),
		ProducerID:           b.producerID,
		ProducerEpoch:        b.epoch,
		FirstSequence:        b.seq,
		NumRecords:           int32(b.records),
		Records:              recs,
	}
	rb.Length = int32(minBatchLength + len(recs))
	raw := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[offCRC:], crc32.Checksum(raw[offAttributes:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

// recrc recomputes a batch's CRC after a test edits fields under it.
func recrc(b []byte) []byte {
	binary.BigEndian.PutUint32(b[offCRC:], batchCRC(b))
	return b
}

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.UnixMilli(1_700_000_000_000)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// openTest opens a log in dir with a quiet logger, failing the test on error.
func openTest(t testing.TB, dir string, cfg Config, opts Options) *Log {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	l, err := Open(dir, cfg, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

// mustAppend appends b's encoding and returns the stored bytes (Append
// stamps them in place) and the result.
func mustAppend(t testing.TB, l *Log, b testBatch) ([]byte, AppendResult) {
	t.Helper()
	raw := b.encode()
	res, err := l.Append(raw)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return raw, res
}

// readAll reads the whole log from the log start with Read, checking that
// every batch is whole and valid, and returns the concatenated bytes.
func readAll(t testing.TB, l *Log) []byte {
	t.Helper()
	var out []byte
	next := l.LogStartOffset()
	for next < l.HighWatermark() {
		b, err := l.Read(next, 1<<20)
		if err != nil {
			t.Fatalf("Read(%d): %v", next, err)
		}
		batches, err := SplitBatches(b)
		if err != nil || len(batches) == 0 {
			t.Fatalf("Read(%d) returned %d bytes that do not split: %v", next, len(b), err)
		}
		for _, bb := range batches {
			// A cleaned batch may hold fewer records than it spans.
			h := parseHeader(bb)
			err := errors.Join(h.checkFraming(), h.checkCompactedContents())
			if batchCRC(bb) != h.crc {
				err = errors.Join(err, errors.New("CRC mismatch"))
			}
			if err != nil {
				t.Fatalf("Read(%d): invalid batch: %v", next, err)
			}
			next = h.lastOffset() + 1
		}
		out = append(out, b...)
	}
	return out
}

// crash abandons a log without Close: no final fsync, no index files, as if
// the process died (data written is still in the page cache, as after a
// process crash).
func crash(l *Log) {
	l.bg.Wait()
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	for _, s := range l.segs {
		s.closeFile(l.opts.Files)
	}
}

// segmentFiles lists the .log files in dir.
func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+logSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// faultFS wraps the OS filesystem, counting file fsyncs and letting a test
// intercept fsyncs and writes.
type faultFS struct {
	vfs.FS
	noSync    bool // skip real fsyncs (fuzzing is about logic, not durability)
	fileSyncs atomic.Int64
	dirSyncs  atomic.Int64
	readBytes atomic.Int64 // bytes asked of ReadAt, by every file

	mu      sync.Mutex
	onSync  func(name string) error
	onWrite func(name string, p []byte, off int64) error
	// syncedDirs lists every directory fsync, in order.
	syncedDirs []string
}

func (f *faultFS) setSync(h func(string) error) { f.mu.Lock(); f.onSync = h; f.mu.Unlock() }
func (f *faultFS) setWrite(h func(string, []byte, int64) error) {
	f.mu.Lock()
	f.onWrite = h
	f.mu.Unlock()
}

func (f *faultFS) OpenFile(name string, flag int, perm os.FileMode) (file, error) {
	inner, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{file: inner, fs: f, name: name}, nil
}

func (f *faultFS) SyncDir(path string) error {
	f.dirSyncs.Add(1)
	f.mu.Lock()
	f.syncedDirs = append(f.syncedDirs, path)
	f.mu.Unlock()
	if f.noSync {
		return nil
	}
	return f.FS.SyncDir(path)
}

type faultFile struct {
	file
	fs   *faultFS
	name string
}

func (f *faultFile) Sync() error {
	f.fs.fileSyncs.Add(1)
	f.fs.mu.Lock()
	h := f.fs.onSync
	f.fs.mu.Unlock()
	if h != nil {
		if err := h(f.name); err != nil {
			return err
		}
	}
	if f.fs.noSync {
		return nil
	}
	return f.file.Sync()
}

func (f *faultFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.readBytes.Add(int64(len(p)))
	return f.file.ReadAt(p, off)
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	h := f.fs.onWrite
	f.fs.mu.Unlock()
	if h != nil {
		if err := h(f.name, p, off); err != nil {
			// Simulate a partial write before the failure.
			n, _ := f.file.WriteAt(p[:len(p)/2], off)
			return n, err
		}
	}
	return f.file.WriteAt(p, off)
}

var errInjected = errors.New("injected fault")
