package storage

// compress.go is the other direction of decompress.go: it compresses a
// batch's records with one of Kafka's codecs, for the two places where the
// broker writes a batch of its own: the log cleaner, which keeps a batch's
// codec when it rewrites it without the records it removed, and
// compression.type, which recompresses a producer's batch into the topic's
// codec. The encodings are the ones Kafka's own producer writes (snappy in
// xerial framing, lz4 frames with block checksums off and independent
// blocks), so that every client that reads Kafka reads these.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// xerialBlock is the Java producer's snappy chunk size.
const xerialBlock = 32 << 10

// zstdEncoders caches one encoder per level: an encoder is expensive to
// build and EncodeAll is safe for concurrent use.
var zstdEncoders sync.Map // int (level) -> *zstd.Encoder

// compress appends src compressed with codec at level (0 = the codec's
// default, as Kafka's) to dst.
func compress(dst, src []byte, codec int8, level int) ([]byte, error) {
	switch codec {
	case codecNone:
		return append(dst, src...), nil
	case codecGzip:
		return gzipCompress(dst, src, level)
	case codecSnappy:
		return snappyXerial(dst, src), nil
	case codecLZ4:
		return lz4Compress(dst, src, level)
	case codecZstd:
		enc, err := zstdEncoder(level)
		if err != nil {
			return dst, err
		}
		return enc.EncodeAll(src, dst), nil
	}
	return dst, fmt.Errorf("compress with codec %d: %w", codec, ErrUnsupportedCompression)
}

func gzipCompress(dst, src []byte, level int) ([]byte, error) {
	if level == 0 {
		level = gzip.DefaultCompression
	}
	out := bytes.NewBuffer(dst)
	w, err := gzip.NewWriterLevel(out, level)
	if err != nil {
		return dst, fmt.Errorf("gzip level %d: %w", level, err)
	}
	if _, err := w.Write(src); err != nil {
		return dst, fmt.Errorf("gzip: %w", err)
	}
	if err := w.Close(); err != nil {
		return dst, fmt.Errorf("gzip: %w", err)
	}
	return out.Bytes(), nil
}

// snappyXerial writes src as xerial-framed snappy blocks (see xerialMagic
// in decompress.go), version 1 and compatible version 1.
func snappyXerial(dst, src []byte) []byte {
	dst = append(dst, xerialMagic...)
	dst = binary.BigEndian.AppendUint32(dst, 1)
	dst = binary.BigEndian.AppendUint32(dst, 1)
	for len(src) > 0 {
		n := min(len(src), xerialBlock)
		block := snappy.Encode(nil, src[:n])
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(block)))
		dst = append(dst, block...)
		src = src[n:]
	}
	return dst
}

func lz4Compress(dst, src []byte, level int) ([]byte, error) {
	out := bytes.NewBuffer(dst)
	w := lz4.NewWriter(out)
	opts := []lz4.Option{lz4.ConcurrencyOption(1), lz4.BlockChecksumOption(false)}
	if level > 0 {
		// Kafka's lz4 levels are 1 (fast) to 17; pierrec's are powers of
		// two from Level1 (1<<8) to Level9.
		opts = append(opts, lz4.CompressionLevelOption(lz4.CompressionLevel(1<<(7+min(level, 9)))))
	}
	if err := w.Apply(opts...); err != nil {
		return dst, fmt.Errorf("lz4 options: %w", err)
	}
	if _, err := w.Write(src); err != nil {
		return dst, fmt.Errorf("lz4: %w", err)
	}
	if err := w.Close(); err != nil {
		return dst, fmt.Errorf("lz4: %w", err)
	}
	return out.Bytes(), nil
}

func zstdEncoder(level int) (*zstd.Encoder, error) {
	if e, ok := zstdEncoders.Load(level); ok {
		return e.(*zstd.Encoder), nil
	}
	opts := []zstd.EOption{zstd.WithEncoderConcurrency(1), zstd.WithZeroFrames(true)}
	if level != 0 {
		opts = append(opts, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)))
	}
	e, err := zstd.NewWriter(nil, opts...)
	if err != nil {
		return nil, fmt.Errorf("zstd level %d: %w", level, err)
	}
	actual, _ := zstdEncoders.LoadOrStore(level, e)
	return actual.(*zstd.Encoder), nil
}
