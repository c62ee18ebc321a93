package storage

// decompress.go inflates a compressed batch's records so that validation
// can walk them: gzip, snappy (a raw block, or xerial framing as the Java
// producer writes it), lz4 frames and zstd, each into a pooled buffer and
// never past a bound, so that a small "zip bomb" batch costs at most that
// bound in memory and time. Decoders are pooled too; nothing here starts a
// goroutine (zstd and lz4 run with concurrency 1, synchronously), and a
// zstd decoder that its free list cannot keep is closed.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Kafka's compression codec ids (batch attributes bits 0-2).
const (
	codecNone   = 0
	codecGzip   = 1
	codecSnappy = 2
	codecLZ4    = 3
	codecZstd   = 4
)

// codecNames names the codecs for messages.
var codecNames = [...]string{"none", "gzip", "snappy", "lz4", "zstd"}

// Decompression bounds. Kafka's broker streams records and has no bound;
// Courier inflates a batch in memory, so it needs one. A producer's batch
// is bounded before compression by franz-go (ProducerBatchMaxBytes, at most
// max.message.bytes) and after compression by the Java client (batch.size,
// usually 16 KiB to 1 MiB, with an estimated ratio), so 64 times
// max.message.bytes (64 MiB at the default 1 MiB) leaves room for any real
// workload while a bomb (1 MB of zstd zeros inflates to gigabytes) is
// refused after at most that much work. The floor keeps topics with a small
// max.message.bytes usable with compressible data; the ceiling is franz-go's
// default MaxDecompressBatchBytes, past which its consumers refuse a batch.
const (
	decompressFactor   = 64
	minDecompressLimit = 16 << 20
	maxDecompressLimit = 1 << 30
	// keptBufferMax is the largest buffer returned to the pool, so that a
	// rare huge batch does not pin its memory.
	keptBufferMax = 8 << 20
)

// decompressLimit is the most bytes a batch may inflate to in a topic with
// the given max.message.bytes.
func decompressLimit(maxMessageBytes int32) int {
	return int(min(max(int64(maxMessageBytes)*decompressFactor, minDecompressLimit), maxDecompressLimit))
}

// errDecompressLimit is wrapped when a batch inflates past its bound.
var errDecompressLimit = errors.New("decompressed size exceeds the bound")

// decompressBuf is a pooled output buffer.
type decompressBuf struct{ b []byte }

var decompressBufs = sync.Pool{New: func() any { return new(decompressBuf) }}

// getBuf returns an empty pooled buffer; putBuf gives it back.
func getBuf() *decompressBuf { return decompressBufs.Get().(*decompressBuf) }

func putBuf(d *decompressBuf) {
	if cap(d.b) > keptBufferMax {
		d.b = nil
	}
	d.b = d.b[:0]
	decompressBufs.Put(d)
}

// Pooled decoders, each with the bytes.Reader it reads from. A pool is a
// small free list rather than a sync.Pool so that zstd decoders are closed,
// not dropped, when there are more than it keeps.
type gzipDecoder struct {
	r   gzip.Reader
	src bytes.Reader
}

type lz4Decoder struct {
	r   *lz4.Reader
	src bytes.Reader
}

// decoderPoolSize is how many decoders of each codec are kept: appends are
// serialized per connection, so this many connections can validate
// compressed batches at once without allocating a decoder.
const decoderPoolSize = 8

var (
	gzipDecoders = make(chan *gzipDecoder, decoderPoolSize)
	lz4Decoders  = make(chan *lz4Decoder, decoderPoolSize)
)

// decompress inflates src, compressed with codec, appending to dst (a
// pooled buffer's slice), and refuses output beyond limit bytes. The
// returned slice may be a grown dst; errors wrap ErrCorruptMessage.
func decompress(dst, src []byte, codec int8, limit int) ([]byte, error) {
	var out []byte
	var err error
	switch codec {
	case codecGzip:
		out, err = gunzip(dst, src, limit)
	case codecSnappy:
		out, err = unsnappy(dst, src, limit)
	case codecLZ4:
		out, err = unlz4(dst, src, limit)
	case codecZstd:
		out, err = unzstd(dst, src, limit)
	default:
		return dst, fmt.Errorf("unknown compression codec %d: %w", codec, ErrCorruptMessage)
	}
	if err != nil {
		if errors.Is(err, errDecompressLimit) {
			return out, fmt.Errorf("%s records inflate past %d bytes (64 x max.message.bytes, at least 16 MiB): %w: %w", codecNames[codec], limit, err, ErrCorruptMessage)
		}
		return out, fmt.Errorf("decompress %s records: %v: %w", codecNames[codec], err, ErrCorruptMessage)
	}
	return out, nil
}

// readLimited reads r to its end into dst, growing dst as needed, and fails
// with errDecompressLimit once more than limit bytes arrive.
func readLimited(dst []byte, r io.Reader, limit, sizeHint int) ([]byte, error) {
	if want := min(max(sizeHint, 64<<10), limit+1); cap(dst) < want {
		dst = append(dst[:cap(dst)], make([]byte, want-cap(dst))...)[:len(dst)]
	}
	for {
		if len(dst) == cap(dst) {
			if len(dst) > limit {
				return dst, errDecompressLimit
			}
			grow := min(2*cap(dst), limit+1) - len(dst)
			dst = append(dst, make([]byte, grow)...)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			if len(dst) > limit {
				return dst, errDecompressLimit
			}
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

func gunzip(dst, src []byte, limit int) ([]byte, error) {
	var d *gzipDecoder
	select {
	case d = <-gzipDecoders:
	default:
		d = new(gzipDecoder)
	}
	defer func() {
		d.src.Reset(nil) // do not pin the request's buffer
		select {
		case gzipDecoders <- d:
		default:
		}
	}()
	d.src.Reset(src)
	if err := d.r.Reset(&d.src); err != nil {
		return dst, err
	}
	return readLimited(dst, &d.r, limit, 4*len(src))
}

// unzstd decodes the frames of src. A frame that declares its content size
// is decoded in memory, into a buffer allocated once at that size, by a
// decoder whose WithDecoderMaxMemory is the limit, so that a larger
// declared size is refused before anything is allocated. A frame without
// one (a streaming writer's, such as the Java client's) is read as a stream
// into the buffer, which grows by doubling and stops past the limit.
func unzstd(dst, src []byte, limit int) ([]byte, error) {
	pool := zstdPool(limit)
	var d *zstd.Decoder
	select {
	case d = <-pool:
	default:
		// Concurrency 1 decodes on the calling goroutine. In a stream
		// the memory bound caps the window.
		var err error
		d, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(limit)))
		if err != nil {
			return dst, fmt.Errorf("new zstd decoder: %w", err)
		}
	}
	defer func() {
		select {
		case pool <- d:
		default:
			d.Close()
		}
	}()
	var h zstd.Header
	if err := h.Decode(src); err == nil && h.HasFCS {
		out, err := d.DecodeAll(src, dst)
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
			return dst, errDecompressLimit
		}
		return out, err
	}
	src2 := bytes.NewReader(src)
	if err := d.Reset(src2); err != nil {
		return dst, err
	}
	defer d.Reset(nil) // drop the reference to src
	out, err := readLimited(dst, d, limit, 4*len(src))
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
		return out, errDecompressLimit
	}
	return out, err
}

// zstdPools holds a decoder free list per limit (a topic's bound depends on
// its max.message.bytes, so there are as many as distinct values of it).
var zstdPools sync.Map // int -> chan *zstd.Decoder

func zstdPool(limit int) chan *zstd.Decoder {
	if p, ok := zstdPools.Load(limit); ok {
		return p.(chan *zstd.Decoder)
	}
	p, _ := zstdPools.LoadOrStore(limit, make(chan *zstd.Decoder, decoderPoolSize))
	return p.(chan *zstd.Decoder)
}

func unlz4(dst, src []byte, limit int) ([]byte, error) {
	if err := checkLZ4Frame(src); err != nil {
		return dst, err
	}
	var d *lz4Decoder
	select {
	case d = <-lz4Decoders:
	default:
		d = &lz4Decoder{r: lz4.NewReader(nil)}
	}
	defer func() {
		d.r.Reset(nil)
		d.src.Reset(nil) // do not pin the request's buffer
		select {
		case lz4Decoders <- d:
		default:
		}
	}()
	d.src.Reset(src)
	d.r.Reset(&d.src)
	return readLimited(dst, d.r, limit, 4*len(src))
}

// checkLZ4Frame checks that src is exactly one LZ4 frame of the kind Kafka's
// Java client reads (Lz4BlockInputStream): version 1, independent blocks,
// no dictionary, reserved bits clear, block size id 4-7. Java reads only the
// first frame, so records in a second one would be lost to Java consumers.
// It walks the block lengths only; decoding and checksums are left to the
// lz4 reader.
func checkLZ4Frame(src []byte) error {
	const magic = 0x184D2204
	if len(src) < 7 || binary.LittleEndian.Uint32(src) != magic {
		return errors.New("not an LZ4 frame (bad magic)")
	}
	flg, bd := src[4], src[5]
	if flg>>6 != 1 || flg&0x03 != 0 || flg&0x20 == 0 {
		return fmt.Errorf("LZ4 frame flags %#02x: Kafka needs version 1, independent blocks, no dictionary", flg)
	}
	if bd&0x8f != 0 || bd>>4&7 < 4 {
		return fmt.Errorf("LZ4 block descriptor %#02x is invalid", bd)
	}
	pos := 7 // magic, FLG, BD, header checksum
	if flg&0x08 != 0 {
		pos += 8 // content size
	}
	blockChecksum := flg&0x10 != 0
	for {
		if len(src)-pos < 4 {
			return errors.New("LZ4 frame truncated")
		}
		size := int(binary.LittleEndian.Uint32(src[pos:]) & 0x7fffffff)
		pos += 4
		if size == 0 {
			break
		}
		if blockChecksum {
			size += 4
		}
		if len(src)-pos < size {
			return errors.New("LZ4 frame truncated")
		}
		pos += size
	}
	if flg&0x04 != 0 {
		pos += 4 // content checksum
	}
	if pos != len(src) {
		return fmt.Errorf("%d bytes after the LZ4 frame (Kafka reads one frame)", len(src)-pos)
	}
	return nil
}

// xerialMagic starts snappy data framed by snappy-java's stream format,
// which the Java producer writes: the magic, a version and a minimum
// compatible version (int32 each), then chunks of a big-endian int32 length
// and a raw snappy block.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

// unsnappy decodes a raw snappy block or xerial-framed blocks. Blocks are
// decoded as standard snappy (not the s2 superset), which is what every
// Kafka client can read; their declared sizes are summed against the bound
// before anything is allocated.
func unsnappy(dst, src []byte, limit int) ([]byte, error) {
	if !bytes.HasPrefix(src, xerialMagic) {
		return snappyBlock(dst, src, limit)
	}
	if len(src) < 16 {
		return dst, errors.New("xerial header truncated")
	}
	if v := int32(binary.BigEndian.Uint32(src[8:])); v < 1 {
		return dst, fmt.Errorf("xerial version %d (snappy-java reads 1 and later)", v)
	}
	total := 0
	for rest := src[16:]; len(rest) > 0; {
		n, block, err := xerialChunk(rest)
		if err != nil {
			return dst, err
		}
		size, err := snappy.DecodedLen(block)
		if err != nil {
			return dst, err
		}
		if total += size; total > limit {
			return dst, errDecompressLimit
		}
		rest = rest[n:]
	}
	if cap(dst)-len(dst) < total {
		dst = append(dst[:cap(dst)], make([]byte, total-(cap(dst)-len(dst)))...)[:len(dst)]
	}
	for rest := src[16:]; len(rest) > 0; {
		n, block, _ := xerialChunk(rest)
		var err error
		if dst, err = snappyBlock(dst, block, limit-len(dst)); err != nil {
			return dst, err
		}
		rest = rest[n:]
	}
	return dst, nil
}

// xerialChunk splits the next chunk off b: its total length and its block.
func xerialChunk(b []byte) (int, []byte, error) {
	if len(b) < 4 {
		return 0, nil, errors.New("xerial chunk length truncated")
	}
	size := int64(binary.BigEndian.Uint32(b))
	if size > int64(len(b)-4) {
		return 0, nil, fmt.Errorf("xerial chunk of %d bytes, %d remain", size, len(b)-4)
	}
	return 4 + int(size), b[4 : 4+size], nil
}

// snappyBlock appends the decoding of one raw snappy block to dst.
func snappyBlock(dst, block []byte, limit int) ([]byte, error) {
	size, err := snappy.DecodedLen(block)
	if err != nil {
		return dst, err
	}
	if size > limit {
		return dst, errDecompressLimit
	}
	if cap(dst)-len(dst) < size {
		dst = append(dst[:cap(dst)], make([]byte, size-(cap(dst)-len(dst)))...)[:len(dst)]
	}
	out, err := snappy.DecodeStrict(dst[len(dst):len(dst)+size], block)
	if err != nil {
		return dst, err
	}
	return dst[:len(dst)+len(out)], nil
}
