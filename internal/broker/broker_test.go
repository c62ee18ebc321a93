package broker_test

// broker_test.go drives a real broker over TCP with franz-go: topic
// administration, produce and consume with every acks setting and
// compression codec, restarts, and the errors Kafka defines for bad input.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker"
	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// consumeN reads n records of a topic from the start.
func consumeN(t *testing.T, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := testclient.New(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx := testCtx(t)
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(out), n, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

func TestProduceConsumeEveryAcksAndCodec(t *testing.T) {
	b := testbroker.Start(t)
	codecs := map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
	}
	acks := map[string]kgo.Acks{"all": kgo.AllISRAcks(), "leader": kgo.LeaderAck(), "none": kgo.NoAck()}
	for cname, codec := range codecs {
		for aname, ack := range acks {
			t.Run(cname+"/"+aname, func(t *testing.T) {
				topic := "t-" + cname + "-" + aname
				testclient.CreateTopic(t, b.Addr, topic, 3, nil)
				opts := []kgo.Opt{kgo.ProducerBatchCompression(codec), kgo.RequiredAcks(ack), kgo.DefaultProduceTopic(topic)}
				if aname != "all" {
					opts = append(opts, kgo.DisableIdempotentWrite())
				}
				cl := testclient.New(t, b.Addr, opts...)
				const n = 300
				var want [][]byte
				for i := 0; i < n; i++ {
					v := bytes.Repeat([]byte(strconv.Itoa(i)), 1+i%50)
					want = append(want, v)
					cl.Produce(testCtx(t), &kgo.Record{Key: []byte(strconv.Itoa(i % 7)), Value: v, Partition: int32(i % 3)}, nil)
				}
				if err := cl.Flush(testCtx(t)); err != nil {
					t.Fatal(err)
				}
				got := consumeN(t, b.Addr, topic, n)
				seen := map[string]bool{}
				for _, r := range got {
					seen[string(r.Value)] = true
				}
				for i, v := range want {
					if !seen[string(v)] {
						t.Fatalf("record %d missing", i)
					}
				}
			})
		}
	}
}

func TestOffsetsAreDenseAndOrderedPerPartition(t *testing.T) {
	b := testbroker.Start(t)
	testclient.CreateTopic(t, b.Addr, "orders", 2, nil)
	cl := testclient.New(t, b.Addr, kgo.DefaultProduceTopic("orders"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	const n = 1000
	for i := 0; i < n; i++ {
		r := &kgo.Record{Value: []byte(strconv.Itoa(i)), Partition: int32(i % 2)}
		if err := cl.ProduceSync(testCtx(t), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if want := int64(i / 2); r.Offset != want {
			t.Fatalf("record %d got offset %d, want %d", i, r.Offset, want)
		}
	}
	next := map[int32]int64{}
	for _, r := range consumeN(t, b.Addr, "orders", n) {
		if r.Offset != next[r.Partition] {
			t.Fatalf("partition %d: offset %d, want %d", r.Partition, r.Offset, next[r.Partition])
		}
		if v, _ := strconv.Atoi(string(r.Value)); int64(v) != r.Offset*2+int64(r.Partition) {
			t.Fatalf("partition %d offset %d holds %q", r.Partition, r.Offset, r.Value)
		}
		next[r.Partition]++
	}
}

func TestRestartKeepsTopicsAndRecords(t *testing.T) {
	dir := t.TempDir()
	b := testbroker.StartAt(t, dir)
	testclient.CreateTopic(t, b.Addr, "keep", 4, map[string]*string{"retention.ms": kadm.StringPtr("-1")})
	cl := testclient.New(t, b.Addr, kgo.DefaultProduceTopic("keep"))
	for i := 0; i < 200; i++ {
		cl.Produce(testCtx(t), &kgo.Record{Value: []byte(fmt.Sprintf("v%03d", i))}, nil)
	}
	if err := cl.Flush(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	b.Stop(t)

	b2 := testbroker.StartAt(t, dir)
	adm := kadm.NewClient(testclient.New(t, b2.Addr))
	td, err := adm.ListTopics(testCtx(t), "keep")
	if err != nil || td["keep"].Err != nil || len(td["keep"].Partitions) != 4 {
		t.Fatalf("topic after restart: %v %+v", err, td["keep"])
	}
	cfgs, err := adm.DescribeTopicConfigs(testCtx(t), "keep")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := cfgs.On("keep", nil); err != nil || !hasConfig(v.Configs, "retention.ms", "-1") {
		t.Fatalf("retention.ms lost across restart: %v %+v", err, v)
	}
	got := consumeN(t, b2.Addr, "keep", 200)
	if len(got) != 200 {
		t.Fatalf("got %d records after restart, want 200", len(got))
	}
	ends, err := adm.ListEndOffsets(testCtx(t), "keep")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != 200 {
		t.Fatalf("end offsets sum to %d after restart, want 200", total)
	}
}

func hasConfig(cs []kadm.Config, name, value string) bool {
	for _, c := range cs {
		if c.Key == name && c.Value != nil && *c.Value == value {
			return true
		}
	}
	return false
}

func TestTopicAdministration(t *testing.T) {
	b := testbroker.Start(t)
	adm := kadm.NewClient(testclient.New(t, b.Addr))
	ctx := testCtx(t)
	tests := []struct {
		name       string
		topic      string
		partitions int32
		rf         int16
		configs    map[string]*string
		want       error
	}{
		{"ok", "rider-updates", 4, 1, nil, nil},
		{"exists", "rider-updates", 4, 1, nil, kerr.TopicAlreadyExists},
		{"bad name", "bad/name", 1, 1, nil, kerr.InvalidTopicException},
		{"too long", string(bytes.Repeat([]byte("a"), 250)), 1, 1, nil, kerr.InvalidTopicException},
		{"zero partitions", "zero", 0, 1, nil, kerr.InvalidPartitions},
		{"negative partitions", "neg", -5, 1, nil, kerr.InvalidPartitions},
		{"huge partitions", "huge", 1 << 30, 1, nil, kerr.InvalidPartitions},
		{"replication 3", "rf3", 1, 3, nil, kerr.InvalidReplicationFactor},
		{"unknown config", "cfg", 1, 1, map[string]*string{"no.such": kadm.StringPtr("1")}, kerr.InvalidConfig},
		{"bad config value", "cfg2", 1, 1, map[string]*string{"retention.ms": kadm.StringPtr("soon")}, kerr.InvalidConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := adm.CreateTopic(ctx, tc.partitions, tc.rf, tc.configs, tc.topic)
			if err != resp.Err && err != nil {
				t.Fatal(err) // a request failure, not a topic error
			}
			if !errors.Is(resp.Err, tc.want) && !(tc.want == nil && resp.Err == nil) {
				t.Fatalf("got %v, want %v", resp.Err, tc.want)
			}
			if resp.Err != nil && resp.ErrMessage == "" {
				t.Fatalf("%v without an error message", resp.Err)
			}
		})
	}
	if _, err := adm.CreatePartitions(ctx, 2, "rider-updates"); err != nil {
		t.Fatal(err)
	}
	td, _ := adm.ListTopics(ctx, "rider-updates")
	if n := len(td["rider-updates"].Partitions); n != 6 {
		t.Fatalf("after adding 2 partitions: %d, want 6", n)
	}
	resp, _ := adm.UpdatePartitions(ctx, 3, "rider-updates")
	if r, _ := resp.On("rider-updates", nil); !errors.Is(r.Err, kerr.InvalidPartitions) {
		t.Fatalf("shrinking partitions: %v, want INVALID_PARTITIONS", r.Err)
	}
	dr, err := adm.DeleteTopics(ctx, "rider-updates", "never-was")
	if err != nil {
		t.Fatal(err)
	}
	if r := dr["rider-updates"]; r.Err != nil {
		t.Fatalf("delete: %v", r.Err)
	}
	if r := dr["never-was"]; !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("delete unknown: %v", r.Err)
	}
	// Re-creating a deleted topic starts empty.
	testclient.CreateTopic(t, b.Addr, "rider-updates", 1, nil)
	ends, _ := adm.ListEndOffsets(ctx, "rider-updates")
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset != 0 {
			t.Fatalf("re-created topic has end offset %d", o.Offset)
		}
	})
}

func TestListOffsetsByTimestampAndDeleteRecords(t *testing.T) {
	b := testbroker.Start(t)
	testclient.CreateTopic(t, b.Addr, "ts", 1, nil)
	cl := testclient.New(t, b.Addr, kgo.DefaultProduceTopic("ts"))
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	for i := 0; i < 10; i++ {
		r := &kgo.Record{Value: []byte{byte(i)}, Timestamp: base.Add(time.Duration(i) * time.Minute)}
		if err := cl.ProduceSync(testCtx(t), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	adm := kadm.NewClient(cl)
	ctx := testCtx(t)
	lo, err := adm.ListOffsetsAfterMilli(ctx, base.Add(4*time.Minute+time.Second).UnixMilli(), "ts")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := lo.Lookup("ts", 0); o.Offset != 5 {
		t.Fatalf("offset after minute 4: %d, want 5", o.Offset)
	}
	dr, err := adm.DeleteRecords(ctx, kadm.Offsets{"ts": {0: {Topic: "ts", Partition: 0, At: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := dr.Lookup("ts", 0); r.Err != nil || r.LowWatermark != 3 {
		t.Fatalf("delete records: %+v", r)
	}
	starts, _ := adm.ListStartOffsets(ctx, "ts")
	if o, _ := starts.Lookup("ts", 0); o.Offset != 3 {
		t.Fatalf("start offset after delete: %d, want 3", o.Offset)
	}
	dr, _ = adm.DeleteRecords(ctx, kadm.Offsets{"ts": {0: {Topic: "ts", Partition: 0, At: 99}}})
	if r, _ := dr.Lookup("ts", 0); !errors.Is(r.Err, kerr.OffsetOutOfRange) {
		t.Fatalf("delete beyond end: %v", r.Err)
	}
}

func TestFetchLongPollWakesOnProduce(t *testing.T) {
	b := testbroker.Start(t)
	testclient.CreateTopic(t, b.Addr, "poll", 1, nil)
	consumer := testclient.New(t, b.Addr, kgo.ConsumeTopics("poll"), kgo.FetchMaxWait(10*time.Second))
	ctx := testCtx(t)
	// Let the consumer reach the end and park in a long poll.
	go func() {
		time.Sleep(time.Second)
		producer := testclient.New(t, b.Addr, kgo.DefaultProduceTopic("poll"))
		producer.ProduceSync(ctx, &kgo.Record{Value: []byte("wake")})
	}()
	start := time.Now()
	for {
		fs := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal("no record")
		}
		if len(fs.Records()) > 0 {
			break
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("record arrived after %v; the long poll did not wake on produce", d)
	}
}

type runConfig = run.Config

func TestSecondBrokerOnSameDataDirRefused(t *testing.T) {
	dir := t.TempDir()
	testbroker.StartAt(t, dir)
	_, err := broker.Open(broker.Config{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "in use by another broker") {
		t.Fatalf("second broker on %s: %v", dir, err)
	}
}
