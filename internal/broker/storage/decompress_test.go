package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// bomb compresses n zero bytes, written in 1 MiB pieces so that building it
// allocates little, with the writer newWriter returns.
func bomb(t *testing.T, n int, newWriter func(io.Writer) io.WriteCloser) []byte {
	t.Helper()
	var out bytes.Buffer
	w := newWriter(&out)
	zeros := make([]byte, 1<<20)
	for written := 0; written < n; written += len(zeros) {
		if _, err := w.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestDecompressionBombBounded sends batches whose few hundred KiB inflate
// to several times the bound and checks that each is refused with
// CORRUPT_MESSAGE having allocated in all at most four times the bound
// (the output buffer grows by doubling, so the sizes it passes through add
// up to under three times its last; a zstd stream adds its window), never
// the inflated size.
func TestDecompressionBombBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("compresses hundreds of MiB")
	}
	cfg := Config{MaxMessageBytes: 300_000}.withDefaults()
	limit := decompressLimit(cfg.MaxMessageBytes)
	// Snappy blocks declare their decoded size up front: chunks claiming
	// 8 MiB each are refused once the claims pass the bound, before any
	// decoding.
	snappyChunk := append(binary.AppendUvarint(nil, 8<<20), 0, 0, 0, 0)
	xerial := append(bytes.Clone(xerialMagic), 0, 0, 0, 1, 0, 0, 0, 1)
	for range 8 {
		xerial = binary.BigEndian.AppendUint32(xerial, uint32(len(snappyChunk)))
		xerial = append(xerial, snappyChunk...)
	}
	tests := []struct {
		name     string
		codec    int16
		inflated int
		writer   func(io.Writer) io.WriteCloser
		data     []byte
	}{
		{name: "gzip", codec: codecGzip, inflated: 128 << 20, writer: func(w io.Writer) io.WriteCloser {
			z, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
			return z
		}},
		{name: "zstd stream without content size", codec: codecZstd, inflated: 1 << 30, writer: func(w io.Writer) io.WriteCloser {
			z, _ := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1))
			return z
		}},
		{name: "zstd declaring its content size", codec: codecZstd, inflated: 1 << 30, writer: func(w io.Writer) io.WriteCloser {
			z, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
			z.ResetContentSize(w, 1<<30)
			return z
		}},
		{name: "lz4", codec: codecLZ4, inflated: 64 << 20, writer: func(w io.Writer) io.WriteCloser {
			z := lz4.NewWriter(w)
			_ = z.Apply(lz4.CompressionLevelOption(lz4.Level9))
			return z
		}},
		{name: "snappy xerial", codec: codecSnappy, inflated: 64 << 20, data: xerial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data
			if data == nil {
				data = bomb(t, tt.inflated, tt.writer)
			}
			if len(data) > int(cfg.MaxMessageBytes)-100 || tt.inflated < 3*limit {
				t.Fatalf("bomb of %d bytes inflating to %d is no test of a %d-byte bound", len(data), tt.inflated, limit)
			}
			raw := encodeRaw(kmsg.RecordBatch{Attributes: tt.codec, LastOffsetDelta: 0, FirstTimestamp: 1, MaxTimestamp: 1,
				ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: 1, Records: data})
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, _, err := validateProduced(raw, &cfg, 1)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrCorruptMessage) || !strings.Contains(err.Error(), "inflate past") {
				t.Fatalf("%d-byte bomb: error %v, want CORRUPT_MESSAGE naming the bound", len(data), err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > uint64(4*limit) {
				t.Fatalf("refusing a bomb allocated %d MiB; the bound is %d MiB", got>>20, limit>>20)
			}
		})
	}
}

func TestDecompressLimit(t *testing.T) {
	for _, tt := range []struct {
		maxMessageBytes int32
		want            int
	}{
		{1000, 16 << 20}, {1048588, 1048588 * 64}, {1 << 30, 1 << 30}, {1<<31 - 1, 1 << 30},
	} {
		if got := decompressLimit(tt.maxMessageBytes); got != tt.want {
			t.Errorf("decompressLimit(%d) = %d, want %d", tt.maxMessageBytes, got, tt.want)
		}
	}
}

// FuzzDecompress feeds arbitrary data to every codec: no panic, and output
// never beyond the bound.
func FuzzDecompress(f *testing.F) {
	for _, c := range []kgoCodec{gzipCodec, snappyCodec, lz4Codec, zstdCodec} {
		raw := compressed(c.codec)
		f.Add(uint8(c.id), raw[batchHeaderSize:])
	}
	f.Add(uint8(codecSnappy), xerialBatch(5)[batchHeaderSize:])
	f.Add(uint8(codecSnappy), append(binary.AppendUvarint(nil, 1<<30), 0))
	f.Fuzz(func(t *testing.T, codec uint8, src []byte) {
		const limit = 1 << 16
		out, err := decompress(nil, src, int8(codec%5), limit)
		if err != nil {
			if !errors.Is(err, ErrCorruptMessage) {
				t.Fatalf("error does not wrap ErrCorruptMessage: %v", err)
			}
			return
		}
		if len(out) > limit {
			t.Fatalf("%d bytes out, bound %d", len(out), limit)
		}
	})
}
