package console

// flags.go parses the textual settings of the produce and consume commands:
// headers, acks, compression, start offsets and isolation levels.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ParseHeaders parses record headers given as "key=value". The value may be
// empty and may contain '=' and ','; a key may repeat, as Kafka allows.
func ParseHeaders(kvs []string) ([]kgo.RecordHeader, error) {
	var out []kgo.RecordHeader
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("header %q: want key=value", kv)
		}
		out = append(out, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	return out, nil
}

// ParseAcks parses "all" (or "-1"), "1" or "0" ("" means "all"). Only "all"
// allows idempotent writes; idempotent reports whether it does.
func ParseAcks(s string) (acks kgo.Acks, idempotent bool, err error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "all", "-1":
		return kgo.AllISRAcks(), true, nil
	case "1":
		return kgo.LeaderAck(), false, nil
	case "0":
		return kgo.NoAck(), false, nil
	default:
		return kgo.Acks{}, false, fmt.Errorf("acks %q: want all, 1 or 0", s)
	}
}

// ParseCompression parses a batch compression codec name: none, gzip,
// snappy, lz4 or zstd ("" means none).
func ParseCompression(s string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	default:
		return kgo.CompressionCodec{}, fmt.Errorf("compression %q: want none, gzip, snappy, lz4 or zstd", s)
	}
}

// StartOffset returns where consumption starts. offset is "" (not given),
// "earliest", "latest" or a non-negative number; a number needs a single
// partition (partition >= 0). fromBeginning is the same as "earliest" and
// cannot be combined with offset. With neither, consumption starts at the
// end, like kafka-console-consumer.
func StartOffset(fromBeginning bool, offset string, partition int32) (kgo.Offset, error) {
	offset = strings.ToLower(strings.TrimSpace(offset))
	if fromBeginning && offset != "" {
		return kgo.Offset{}, fmt.Errorf("give either --from-beginning or --offset, not both")
	}
	switch offset {
	case "":
		if fromBeginning {
			return kgo.NewOffset().AtStart(), nil
		}
		return kgo.NewOffset().AtEnd(), nil
	case "earliest", "beginning", "start":
		return kgo.NewOffset().AtStart(), nil
	case "latest", "end":
		return kgo.NewOffset().AtEnd(), nil
	}
	n, err := strconv.ParseInt(offset, 10, 64)
	if err != nil || n < 0 {
		return kgo.Offset{}, fmt.Errorf("offset %q: want earliest, latest or a non-negative number", offset)
	}
	if partition < 0 {
		return kgo.Offset{}, fmt.Errorf("offset %d needs --partition: a numeric offset names a position in one partition", n)
	}
	return kgo.NewOffset().At(n), nil
}

// ParseIsolation parses a consumer's isolation level, named as Kafka's
// isolation.level names it: "read_uncommitted" ("" too: the default, as in
// Kafka's consumers) returns every record up to the high watermark, open
// and aborted transactions included; "read_committed" returns records only
// up to the last stable offset, and skips those of aborted transactions.
// The dash spellings (read-committed) are accepted too.
func ParseIsolation(s string) (kgo.IsolationLevel, error) {
	switch strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_") {
	case "", "read_uncommitted":
		return kgo.ReadUncommitted(), nil
	case "read_committed":
		return kgo.ReadCommitted(), nil
	default:
		return kgo.ReadUncommitted(), fmt.Errorf("isolation %q: want read_uncommitted or read_committed", s)
	}
}
