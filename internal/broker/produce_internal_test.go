package broker

// produce_internal_test.go checks the produce handler's bookkeeping that
// clients cannot see: refused batches counted by reason, rate-limited
// warnings, and the timestamp bounds passed to storage.

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestRefusedBatchesCountedByReason(t *testing.T) {
	b := openAuthzBroker(t, false)
	produce := func(records []byte, acks int16) {
		r := kmsg.NewPtrProduceRequest()
		r.Version, r.Acks, r.TimeoutMillis = 9, acks, 5000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = "e"
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = records
		rt.Partitions = append(rt.Partitions, rp)
		r.Topics = append(r.Topics, rt)
		as[*kmsg.ProduceResponse](t, b, "admin", r)
	}
	control := oneRecordBatch()
	control[22] |= 0x20 // attributes, low byte
	control = recrc(control)
	produce(control, -1)
	produce(control, -1)
	produce(append(oneRecordBatch(), oneRecordBatch()...), -1)
	produce(oneRecordBatch(), 5)
	produce(oneRecordBatch(), -1) // fine: not counted
	for reason, want := range map[string]float64{storage.ReasonControl: 2, storage.ReasonBatches: 1, reasonRequiredAcks: 1, storage.ReasonCRC: 0} {
		if got := rejectedCount(t, b, reason); got != want {
			t.Errorf("courier_produce_rejected_batches_total{reason=%q} = %v, want %v", reason, got, want)
		}
	}
}

// rejectedCount reads courier_produce_rejected_batches_total{reason} from
// the broker's registry, as a scrape would.
func rejectedCount(t *testing.T, b *Broker, reason string) float64 {
	t.Helper()
	families, err := b.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "courier_produce_rejected_batches_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// recrc recomputes a raw batch's CRC32C (attributes to end) after an edit.
func recrc(raw []byte) []byte {
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

func TestRejectLogWarnsOncePerMinute(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var r rejectLog
	start := time.Unix(1_700_000_000, 0)
	for i := range 100 {
		r.log(logger, start.Add(time.Duration(i)*100*time.Millisecond), []any{"reason", "crc"}) // 10 s of refusals
	}
	r.log(logger, start.Add(61*time.Second), []any{"reason", "crc"})
	if n := strings.Count(buf.String(), "level=WARN"); n != 2 {
		t.Fatalf("%d warnings for 101 refusals over 61 s, want 2:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "refused_since_last_warning=99") {
		t.Fatalf("second warning does not count the 99 refusals in between:\n%s", buf.String())
	}
}

func TestTimestampBound(t *testing.T) {
	tests := []struct {
		configs             map[string]string
		wantBefore, wantAft int64
	}{
		{nil, 9223372036854775807, 3_600_000},
		{map[string]string{"message.timestamp.after.max.ms": "0"}, 9223372036854775807, -1},
		{map[string]string{"message.timestamp.difference.max.ms": "60000"}, 60_000, 60_000},
		{map[string]string{"message.timestamp.difference.max.ms": "60000", "message.timestamp.before.max.ms": "5"}, 5, 60_000},
		{map[string]string{"message.timestamp.before.max.ms": "0"}, -1, 3_600_000},
	}
	for _, tt := range tests {
		tp := topics.Topic{Name: "t", Configs: tt.configs}
		sc := storageConfig(brokerLayer{cfg: &Config{}}.effectiveConfigs(tp))
		if sc.TimestampBeforeMaxMs != tt.wantBefore || sc.TimestampAfterMaxMs != tt.wantAft {
			t.Errorf("%v: before %d after %d, want %d and %d", tt.configs, sc.TimestampBeforeMaxMs, sc.TimestampAfterMaxMs, tt.wantBefore, tt.wantAft)
		}
	}
}

// TestStorageConfigMapping pins the topic-config to storage.Config
// mapping the log cleaner and recompression rely on, Kafka's 0s
// included.
func TestStorageConfigMapping(t *testing.T) {
	tests := []struct {
		configs map[string]string
		check   func(storage.Config) bool
	}{
		{nil, func(c storage.Config) bool {
			return c.Policy == storage.PolicyDelete && c.Compression == storage.CompressionProducer && c.MinCleanableDirtyRatio == 0.5 && c.DeleteRetentionMs == 86400000
		}},
		{map[string]string{"cleanup.policy": "compact"}, func(c storage.Config) bool { return c.Policy == storage.PolicyCompact }},
		{map[string]string{"cleanup.policy": "delete,compact"}, func(c storage.Config) bool { return c.Policy == storage.PolicyCompactDelete }},
		{map[string]string{"cleanup.policy": ""}, func(c storage.Config) bool {
			return c.Policy == storage.PolicyDelete && c.RetentionMs == -1 && c.RetentionBytes == -1
		}},
		{map[string]string{"retention.ms": "0", "retention.bytes": "0"}, func(c storage.Config) bool { return c.RetentionMs == 1 && c.RetentionBytes == 1 }},
		{map[string]string{"delete.retention.ms": "0", "min.cleanable.dirty.ratio": "0"}, func(c storage.Config) bool {
			return c.DeleteRetentionMs == -1 && c.MinCleanableDirtyRatio == -1
		}},
		{map[string]string{"min.compaction.lag.ms": "5", "max.compaction.lag.ms": "9"}, func(c storage.Config) bool { return c.MinCompactionLagMs == 5 && c.MaxCompactionLagMs == 9 }},
		{map[string]string{"compression.type": "zstd", "compression.zstd.level": "-3"}, func(c storage.Config) bool {
			return c.Compression == storage.CompressionZstd && c.CompressionLevel == -3
		}},
		{map[string]string{"compression.type": "gzip"}, func(c storage.Config) bool {
			return c.Compression == storage.CompressionGzip && c.CompressionLevel == 0
		}},
		{map[string]string{"compression.type": "lz4", "compression.gzip.level": "5"}, func(c storage.Config) bool {
			return c.Compression == storage.CompressionLZ4 && c.CompressionLevel == 9
		}},
		{map[string]string{"compression.type": "uncompressed"}, func(c storage.Config) bool { return c.Compression == storage.CompressionNone }},
		{map[string]string{"segment.jitter.ms": "100", "segment.index.bytes": "4096"}, func(c storage.Config) bool {
			return c.SegmentJitterMs == 100 && c.SegmentIndexBytes == 4096
		}},
		{map[string]string{"segment.bytes": "2097152", "internal.segment.bytes": "1024"}, func(c storage.Config) bool { return c.SegmentBytes == 1024 }},
	}
	for _, tt := range tests {
		sc := storageConfig(brokerLayer{cfg: &Config{}}.effectiveConfigs(topics.Topic{Name: "t", Configs: tt.configs}))
		if !tt.check(sc) {
			t.Errorf("%v: %+v", tt.configs, sc)
		}
	}
}
