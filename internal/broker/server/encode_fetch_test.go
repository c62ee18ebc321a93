package server

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchResponse builds a fetch response of version v whose partitions
// carry records of the given sizes (filled from rng).
func fetchResponse(v int16, sizes []int, rng *rand.Rand) *kmsg.FetchResponse {
	fr := kmsg.NewPtrFetchResponse()
	fr.Version = v
	fr.ThrottleMillis = 7
	st := kmsg.NewFetchResponseTopic()
	st.Topic = "rider-updates"
	st.TopicID = [16]byte{1, 2, 3}
	for i, n := range sizes {
		sp := kmsg.NewFetchResponseTopicPartition()
		sp.Partition = int32(i)
		sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = 1000, 1000, 0
		sp.RecordBatches = make([]byte, n)
		for j := range sp.RecordBatches {
			sp.RecordBatches[j] = byte(rng.UintN(256))
		}
		st.Partitions = append(st.Partitions, sp)
	}
	fr.Topics = append(fr.Topics, st)
	return fr
}

func joined(segs [][]byte) []byte { return bytes.Join(segs, nil) }

// TestSplicedFetchIsKmsgEncoding: for every Fetch version served, the
// segments written are byte for byte kmsg's encoding, the large record
// fields are their own segments (not copies), and the response is left as
// it was.
func TestSplicedFetchIsKmsgEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	layouts := [][]int{
		{spliceMin},
		{100, spliceMin + 1, 0, 3 * spliceMin},
		{spliceMin - 1, 200 << 10, 200 << 10},
	}
	for v := int16(4); v <= 16; v++ {
		for _, sizes := range layouts {
			fr := fetchResponse(v, sizes, rng)
			want := encodeResponse(nil, 42, fr)
			before := make([][]byte, len(sizes))
			for i := range sizes {
				before[i] = fr.Topics[0].Partitions[i].RecordBatches
			}
			_, segs, size, ok := encodeFetchSpliced(nil, 42, fr, rng.Uint64())
			if !ok {
				t.Fatalf("v%d %v: not spliced", v, sizes)
			}
			if got := joined(segs); !bytes.Equal(got, want) || size != len(want) {
				t.Fatalf("v%d %v: spliced encoding differs from kmsg's (%d bytes, want %d)", v, sizes, size, len(want))
			}
			spliced := 0
			for _, s := range segs {
				for i := range sizes {
					if len(s) >= spliceMin && len(s) == len(before[i]) && &s[0] == &before[i][0] {
						spliced++
					}
				}
			}
			large := 0
			for i, n := range sizes {
				if n >= spliceMin {
					large++
				}
				if p := fr.Topics[0].Partitions[i].RecordBatches; len(p) != len(before[i]) || (n > 0 && &p[0] != &before[i][0]) {
					t.Fatalf("v%d: partition %d's records not restored", v, i)
				}
			}
			if spliced != large {
				t.Fatalf("v%d %v: %d record fields written in place, want %d", v, sizes, spliced, large)
			}
		}
	}
}

// TestSpliceFallsBackOnAmbiguousMarker: a small record field that happens
// to contain a marker makes the encoder encode the response whole.
func TestSpliceFallsBackOnAmbiguousMarker(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	fr := fetchResponse(12, []int{64, spliceMin}, rng)
	const salt = 0x0123456789abcdef
	marker := []byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0, 0, 0, 0, 0, 0, 0, 0}
	copy(fr.Topics[0].Partitions[0].RecordBatches[10:], marker)
	if _, _, _, ok := encodeFetchSpliced(nil, 1, fr, salt); ok {
		t.Fatal("spliced although the marker occurs twice")
	}
	want := encodeResponse(nil, 1, fr)
	_, segs, size := encodeResponseSegments(nil, 1, fr)
	if !bytes.Equal(joined(segs), want) || size != len(want) {
		t.Fatal("fallback encoding differs from kmsg's")
	}
}

// FuzzSplicedFetch: whatever the layout, version and salt, the segments
// are kmsg's encoding.
func FuzzSplicedFetch(f *testing.F) {
	f.Add(int16(4), uint64(1), []byte{1, 0, 200})
	f.Add(int16(16), uint64(0), []byte{0, 255, 3})
	f.Fuzz(func(t *testing.T, v int16, salt uint64, layout []byte) {
		v = 4 + (v&0x7fff)%13
		if len(layout) > 8 {
			layout = layout[:8]
		}
		sizes := make([]int, len(layout))
		for i, b := range layout {
			sizes[i] = int(b) * 256 // 0 to ~64 KiB, around spliceMin
		}
		fr := fetchResponse(v, sizes, rand.New(rand.NewPCG(salt, 9)))
		want := encodeResponse(nil, 5, fr)
		_, segs, size := encodeResponseSegments(nil, 5, fr)
		if !bytes.Equal(joined(segs), want) || size != len(want) {
			t.Fatalf("v%d %v: segments differ from kmsg's encoding", v, sizes)
		}
		if _, segs, _, ok := encodeFetchSpliced(nil, 5, fr, salt); ok && !bytes.Equal(joined(segs), want) {
			t.Fatalf("v%d %v salt %x: spliced encoding differs", v, sizes, salt)
		}
	})
}
