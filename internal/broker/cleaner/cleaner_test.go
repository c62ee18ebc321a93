package cleaner

// Tests of the cleaner threads over real logs, and of the I/O throttle.

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// keyedBatch encodes a produced batch of records with the given keys
// (kmsg, and the CRC32C over the attributes onwards, as producers do).
func keyedBatch(ts int64, keys ...string) []byte {
	var body []byte
	for i, k := range keys {
		rec := kmsg.Record{OffsetDelta: int32(i), Key: []byte(k), Value: []byte(fmt.Sprint(i))}
		rec.Length = int32(len(rec.AppendTo(nil)) - 1)
		body = rec.AppendTo(body)
	}
	rb := kmsg.RecordBatch{PartitionLeaderEpoch: -1, Magic: 2, LastOffsetDelta: int32(len(keys) - 1),
		FirstTimestamp: ts, MaxTimestamp: ts, ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1,
		NumRecords: int32(len(keys)), Records: body}
	rb.Length = int32(49 + len(body))
	raw := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

func TestThreadsCleanDirtyLogs(t *testing.T) {
	now := time.Now()
	var logs []Target
	for i := range 3 {
		cfg := storage.Config{Policy: storage.PolicyCompact, SegmentBytes: 2048}
		if i == 2 {
			cfg.Policy = storage.PolicyDelete // not the cleaner's
		}
		l, err := storage.Open(filepath.Join(t.TempDir(), fmt.Sprint(i)), cfg, storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		for range 60 {
			if _, err := l.Append(keyedBatch(now.UnixMilli(), "a", "b", "c")); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Sync(); err != nil {
			t.Fatal(err)
		}
		logs = append(logs, Target{Name: fmt.Sprint(i), Log: l})
	}
	m := New(Config{Threads: 2, Backoff: 10 * time.Millisecond, IOBytesPerSecond: 10 << 20}, func() []Target { return logs })
	m.Start()
	defer m.Close()
	testwait.For(t, 10*time.Second, "both compacted logs cleaned", func() string {
		for _, tg := range logs[:2] {
			if st := tg.Log.CleanerState(); st.DirtyRatio > 0 || st.LastCleaned.IsZero() {
				return fmt.Sprintf("log %s: %+v", tg.Name, st)
			}
		}
		return ""
	})
	if st := logs[2].Log.CleanerState(); st.Compacted || !st.LastCleaned.IsZero() {
		t.Fatalf("a delete-policy log was cleaned: %+v", st)
	}
	s := m.Stats()
	if s.Runs < 2 || s.BytesRead == 0 || s.RecordsRemoved == 0 || s.Failures != 0 {
		t.Fatalf("stats %+v", s)
	}
	start := time.Now()
	m.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
}

func TestThrottle(t *testing.T) {
	th := NewThrottle(100_000)
	ctx := context.Background()
	start := time.Now()
	// The first 100 kB pass at once (a second's burst); 30 kB more of debt
	// are waited out: about 0.3 s.
	if err := th.Wait(ctx, 130_000); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 3*time.Second {
		t.Fatalf("130 kB at 100 kB/s with a 100 kB burst took %v, want about 0.3 s", d)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := th.Wait(cctx, 1_000_000); err == nil {
		t.Fatal("a cancelled wait returned nil")
	}
}
