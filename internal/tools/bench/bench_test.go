package bench

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// newCluster starts an in-process one-broker kfake cluster and returns a
// client option reaching it and an admin client.
func newCluster(t *testing.T) (kgo.Opt, *kadm.Client) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	seeds := kgo.SeedBrokers(c.ListenAddrs()...)
	cl, err := kgo.NewClient(seeds)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return seeds, kadm.NewClient(cl)
}

func TestRunAgainstKfake(t *testing.T) {
	seeds, adm := newCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const records = 5000
	cfg := Config{
		ClientOpts:  []kgo.Opt{seeds},
		Topic:       "bench-kept",
		Records:     records,
		Size:        100,
		Partitions:  3,
		Producers:   2,
		BufferBytes: 64 << 10, // a small pool, so records are reused
		Keep:        true,
	}
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Check(); err != nil {
		t.Fatal(err)
	}
	if res.Produce.Records != records || res.Produce.Bytes != records*100 {
		t.Errorf("produced %d records, %d bytes", res.Produce.Records, res.Produce.Bytes)
	}
	if res.Consume.Records != records || res.Consume.Bytes != records*100 {
		t.Errorf("consumed %d records, %d bytes", res.Consume.Records, res.Consume.Bytes)
	}
	if res.E2E.Samples != records || res.E2E.P50 <= 0 || res.E2E.P99 < res.E2E.P50 || res.E2E.Max < res.E2E.P99 {
		t.Errorf("e2e latency %+v", res.E2E)
	}
	for _, tp := range []Throughput{res.Produce, res.Consume} {
		if tp.Elapsed <= 0 || tp.RecordsPerSec() <= 0 || tp.MBPerSec() <= 0 {
			t.Errorf("throughput %+v", tp)
		}
	}

	// The log holds exactly the records produced, over every partition.
	ends, err := adm.ListEndOffsets(ctx, cfg.Topic)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	parts := 0
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Errorf("partition %d: %v", o.Partition, o.Err)
		}
		total += o.Offset
		parts++
	})
	if total != records || parts != 3 {
		t.Errorf("log holds %d records over %d partitions, want %d over 3", total, parts, records)
	}

	// The JSON form is one flat object with the documented keys.
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var flat map[string]any
	if err := json.Unmarshal(b, &flat); err != nil {
		t.Fatal(err)
	}
	if start, end := flat["produce_start_unix_ms"].(float64), flat["produce_end_unix_ms"].(float64); start < 1e12 || end < start {
		t.Errorf("JSON produce window [%v, %v]", start, end)
	}
	for _, k := range []string{"produce_records_per_sec", "produce_mb_per_sec", "consume_records_per_sec", "consume_mb_per_sec", "e2e_p50_ms", "e2e_p99_ms"} {
		if v, ok := flat[k].(float64); !ok || v <= 0 {
			t.Errorf("JSON %s = %v", k, flat[k])
		}
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil || !strings.Contains(text.String(), "rec/s") {
		t.Errorf("WriteText: %v\n%s", err, text.String())
	}
}

func TestRunDeletesTopic(t *testing.T) {
	seeds, adm := newCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	res, err := Run(ctx, Config{ClientOpts: []kgo.Opt{seeds}, Records: 500, Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Check(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Topic, "courier-bench-") {
		t.Errorf("generated topic %q", res.Topic)
	}
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if topics.Has(res.Topic) {
		t.Errorf("topic %q still exists after the run", res.Topic)
	}

	// A topic that already exists is not fresh: Run refuses it.
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "taken"); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, Config{ClientOpts: []kgo.Opt{seeds}, Topic: "taken", Records: 10}); err == nil {
		t.Error("Run on an existing topic succeeded")
	}
}

func TestConfigValidation(t *testing.T) {
	seeds := kgo.SeedBrokers("127.0.0.1:1")
	for _, cfg := range []Config{
		{},
		{ClientOpts: []kgo.Opt{seeds}, Size: HeaderSize - 1},
		{ClientOpts: []kgo.Opt{seeds}, Partitions: -1},
		{ClientOpts: []kgo.Opt{seeds}, Records: 3, Producers: 4},
		{ClientOpts: []kgo.Opt{seeds}, Compression: "brotli"},
	} {
		if _, err := cfg.withDefaults(); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
	cfg, err := Config{ClientOpts: []kgo.Opt{seeds}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Records != DefaultRecords || cfg.Size != DefaultSize || cfg.Partitions != DefaultPartitions || cfg.Compression != "none" {
		t.Errorf("defaults: %+v", cfg)
	}
}
