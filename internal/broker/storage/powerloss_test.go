package storage

// Power-loss tests on vfs.MemFS: the log runs on an in-memory file system
// that remembers what was fsynced, and CrashClone yields what a power loss
// at that moment would leave (unsynced bytes dropped, or partly kept with
// zeroed sectors; directory entries not yet fsynced gone). After each
// crash the log is opened on the clone with the next leader epoch and
// checked: every batch acknowledged as durable is there, byte for byte, at
// its offset; nothing was invented; the lost tail is reported by the epoch
// cache; and nothing but a torn tail needed recovery.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

// powerLossSeed is the base seed; COURIER_CRASH_SEED replays one round.
func powerLossSeeds(t *testing.T) []uint64 {
	if s := os.Getenv("COURIER_CRASH_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("COURIER_CRASH_SEED: %v", err)
		}
		return []uint64{n}
	}
	var seeds []uint64
	for i := uint64(1); i <= 16; i++ {
		seeds = append(seeds, i)
	}
	return seeds
}

func TestPowerLossKeepsDurableBatches(t *testing.T) {
	for _, seed := range powerLossSeeds(t) {
		for _, mode := range []SyncMode{SyncAlways, SyncInterval} {
			t.Run(fmt.Sprintf("seed=%d/mode=%d", seed, mode), func(t *testing.T) {
				powerLossRound(t, seed, mode)
			})
		}
	}
}

// powerLossRound runs a few crash cycles: appends (some acknowledged as
// durable), rolls, syncs, a crash at a random moment, recovery on the
// clone.
func powerLossRound(t *testing.T, seed uint64, mode SyncMode) {
	rng := rand.New(rand.NewPCG(seed, uint64(mode)))
	mem := vfs.NewMem()
	dir := "/data/logs/t-0"
	cfg := Config{SegmentBytes: 600, IndexIntervalBytes: 100}
	durable := map[int64][]byte{} // base offset -> bytes of batches known durable
	var written [][]byte          // everything ever appended, durable or not
	var lastEnd int64             // log end before the crash
	for epoch := int32(1); epoch <= 4; epoch++ {
		l, err := openLog(mem, dir, cfg, Options{Sync: mode, LeaderEpoch: epoch, Logger: quietLogger(), Files: NewFileCache(2)})
		if err != nil {
			t.Fatalf("open after crash %d: %v", epoch-1, err)
		}
		checkAfterPowerLoss(t, l, durable, written)
		if r := l.Recovery(); r.DamagedRegions > 0 || r.QuarantinedFiles > 0 || r.OffsetGaps > 0 {
			t.Fatalf("epoch %d: recovery found more than a torn tail: %+v", epoch, r)
		}
		if epoch > 1 {
			// The previous epoch ended where the log now ends.
			if e, end := l.EndOffsetForEpoch(epoch - 1); end != l.LogEndOffset() || end > lastEnd {
				t.Fatalf("epoch %d ends at (%d, %d); log end %d, was %d before the crash", epoch-1, e, end, l.LogEndOffset(), lastEnd)
			}
		}
		for i, n := 0, 5+rng.IntN(20); i < n; i++ {
			raw, res := mustAppend(t, l, batch(1+rng.IntN(4)).values(10+rng.IntN(120)).at(int64(1000+i)))
			written = append(written, raw)
			switch rng.IntN(4) {
			case 0: // a producer waits for its batch to be durable
				if err := l.WaitDurable(res.LastOffset); err != nil {
					t.Fatal(err)
				}
				if mode == SyncInterval {
					if err := l.Sync(); err != nil {
						t.Fatal(err)
					}
				}
				markDurable(t, l, durable, res.LastOffset)
			case 1:
				if err := l.Sync(); err != nil {
					t.Fatal(err)
				}
				markDurable(t, l, durable, res.LastOffset)
			}
		}
		l.bg.Wait() // a roll's background sync may still run: let it finish first
		lastEnd = l.LogEndOffset()
		mem = mem.CrashClone(vfs.CrashOptions{Rand: rng})
		crash(l)
	}
}

// markDurable records every batch up to offset as durable, reading them
// back from the log.
func markDurable(t *testing.T, l *Log, durable map[int64][]byte, offset int64) {
	t.Helper()
	for _, b := range readBatchList(t, l) {
		h := parseHeader(b)
		if h.lastOffset() <= offset {
			durable[h.baseOffset] = b
		}
	}
}

// checkAfterPowerLoss checks a log opened after a crash: every durable
// batch is there, and every batch is one that was written.
func checkAfterPowerLoss(t *testing.T, l *Log, durable map[int64][]byte, written [][]byte) {
	t.Helper()
	got := map[int64][]byte{}
	for _, b := range readBatchList(t, l) {
		got[parseHeader(b).baseOffset] = b
		found := false
		for _, w := range written {
			if bytes.Equal(w, b) {
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("recovered a batch at offset %d that was never written", parseHeader(b).baseOffset)
		}
	}
	for base, b := range durable {
		if !bytes.Equal(got[base], b) {
			t.Fatalf("durable batch at offset %d lost by a power loss", base)
		}
	}
}

// TestPowerLossKeepsNewPartitionDirectory: a partition created in a fresh
// directory, written and fsynced, survives a power loss right after: the
// directory's own entry in its parent was made durable with the data.
func TestPowerLossKeepsNewPartitionDirectory(t *testing.T) {
	mem := vfs.NewMem()
	if err := vfs.MkdirAllDurable(mem, "/data/logs", 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("/data/logs", "fresh-0")
	l, err := openLog(mem, dir, Config{}, Options{Sync: SyncAlways, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	raw, res := mustAppend(t, l, batch(3))
	if err := l.WaitDurable(res.LastOffset); err != nil {
		t.Fatal(err)
	}
	clone := mem.CrashClone(vfs.CrashOptions{})
	crash(l)
	l, err = openLog(clone, dir, Config{}, Options{Sync: SyncAlways, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := readAll(t, l); !bytes.Equal(got, raw) {
		t.Fatalf("after a power loss the new partition holds %d bytes, want the %d acknowledged", len(got), len(raw))
	}
}
