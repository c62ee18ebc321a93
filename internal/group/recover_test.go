package group

// recover_test.go checks replay against every possible torn tail: a log
// cut at any byte, or with any byte of its last record flipped, replays
// exactly its whole records before the damage.

import (
	"testing"
)

func TestReplayEveryCut(t *testing.T) {
	data := seedLog()
	// Frame boundaries.
	var ends []int
	for off := 0; off < len(data); {
		_, n, err := readFrame(data[off:])
		if err != nil {
			t.Fatal(err)
		}
		off += n
		ends = append(ends, off)
	}
	for cut := 0; cut <= len(data); cut++ {
		want := 0
		for _, e := range ends {
			if e <= cut {
				want = e
			}
		}
		n, err := replay(data[:cut], newState())
		if err != nil || n != want {
			t.Fatalf("cut at %d: replayed %d (%v), want %d", cut, n, err, want)
		}
	}
}

func TestReplayFlippedByteInLastRecord(t *testing.T) {
	data := seedLog()
	var lastStart int
	for off := 0; off < len(data); {
		_, n, _ := readFrame(data[off:])
		lastStart = off
		off += n
	}
	for i := lastStart; i < len(data); i++ {
		bad := append([]byte(nil), data...)
		bad[i] ^= 0x40
		n, err := replay(bad, newState())
		if err != nil || n != lastStart {
			t.Fatalf("flip at %d: replayed %d (%v), want %d", i, n, err, lastStart)
		}
	}
}
