package storage

// compress.go is the other direction of decompress.go: it compresses a
// batch's records with one of Kafka's codecs, for the two places where the
// broker writes a batch of its own: the log cleaner, which keeps a batch's
// codec when it rewrites it without the records it removed, and
// compression.type, which recompresses a producer's batch into the topic's
// codec. gzip, lz4 and zstd go through franz-go's compressor (pooled
// writers, the frames every Kafka client reads); snappy is written in the
// xerial framing the Java producer uses.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kgo"
)

// xerialBlock is the Java producer's snappy chunk size.
const xerialBlock = 32 << 10

// compressors caches franz-go's compressor (which pools its gzip, lz4 and
// zstd writers) per codec and level.
var compressors sync.Map // codecLevel -> kgo.Compressor

type codecLevel struct {
	codec int8
	level int
}

// compress appends src compressed with codec at level (0 = the codec's
// default, as Kafka's) to dst.
func compress(dst, src []byte, codec int8, level int) ([]byte, error) {
	switch codec {
	case codecNone:
		return append(dst, src...), nil
	case codecSnappy:
		return snappyXerial(dst, src), nil
	}
	c, err := compressorFor(codec, level)
	if err != nil {
		return dst, err
	}
	var buf bytes.Buffer
	out, used := c.Compress(&buf, src)
	if used != kgo.CompressionCodecType(codec) {
		return dst, fmt.Errorf("compress with %s: %w", codecNames[codec], ErrUnsupportedCompression)
	}
	return append(dst, out...), nil
}

// compressorFor returns the cached compressor of a codec at a Kafka level
// (compression.gzip.level, .lz4.level, .zstd.level), translated into the
// libraries' terms.
func compressorFor(codec int8, level int) (kgo.Compressor, error) {
	key := codecLevel{codec, level}
	if c, ok := compressors.Load(key); ok {
		return c.(kgo.Compressor), nil
	}
	var cc kgo.CompressionCodec
	switch codec {
	case codecGzip:
		cc = kgo.GzipCompression().WithLevel(level)
	case codecLZ4:
		cc = kgo.Lz4Compression()
		if level > 0 {
			// Kafka's lz4 levels are 1 (fast) to 17; pierrec's are powers
			// of two from Level1 (1<<8) to Level9.
			cc = cc.WithLevel(int(lz4.CompressionLevel(1 << (7 + min(level, 9)))))
		}
	case codecZstd:
		cc = kgo.ZstdCompression()
		if level != 0 {
			cc = cc.WithLevel(int(zstd.EncoderLevelFromZstd(level)))
		}
	default:
		return nil, fmt.Errorf("compress with codec %d: %w", codec, ErrUnsupportedCompression)
	}
	c, err := kgo.DefaultCompressor(cc)
	if err != nil {
		return nil, fmt.Errorf("%s compressor at level %d: %w", codecNames[codec], level, err)
	}
	actual, _ := compressors.LoadOrStore(key, c)
	return actual.(kgo.Compressor), nil
}

// snappyXerial writes src as xerial-framed snappy blocks (see xerialMagic
// in decompress.go), version 1 and compatible version 1, as the Java
// producer writes them.
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
