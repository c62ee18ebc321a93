package ctl

// admin_test.go runs every topic operation against franz-go's in-memory
// Kafka cluster (kfake) on a random 127.0.0.1 port.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// newCluster starts a one-broker kfake cluster and returns an Admin for it.
func newCluster(t *testing.T, opts ...kfake.Opt) (*kfake.Cluster, *Admin) {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(2, "seeded")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	a, err := New(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return c, a
}

// testCtx returns a context that ends with the test or after 30s.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// produceN writes n records of value v to topic partition p.
func produceN(t *testing.T, c *kfake.Cluster, topic string, p int32, n int, v string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for range n {
		if err := cl.ProduceSync(testCtx(t), &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTopicLifecycle(t *testing.T) {
	c, a := newCluster(t)
	ctx := testCtx(t)

	created, err := a.CreateTopic(ctx, CreateSpec{
		Name: "rider-updates", Partitions: 3, ReplicationFactor: 1,
		Configs: map[string]*string{"retention.ms": new("86400000")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.Partitions != 3 || created.ReplicationFactor != 1 || created.ID == "" {
		t.Errorf("created = %+v", created)
	}

	_, err = a.CreateTopic(ctx, CreateSpec{Name: "rider-updates", Partitions: 1, ReplicationFactor: 1})
	if !errors.Is(err, kerr.TopicAlreadyExists) || err.Error() != "topic rider-updates already exists" {
		t.Errorf("second create: %v", err)
	}
	if _, err := a.CreateTopic(ctx, CreateSpec{Name: "x", Partitions: 0, ReplicationFactor: 1}); err == nil {
		t.Error("create with 0 partitions: no error")
	}
	_, err = a.CreateTopic(ctx, CreateSpec{Name: "too-replicated", Partitions: 1, ReplicationFactor: 3})
	if !errors.Is(err, kerr.InvalidReplicationFactor) {
		t.Errorf("create with replication factor 3 on one broker: %v", err)
	}

	topics, err := a.ListTopics(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []TopicSummary{{Name: "rider-updates", Partitions: 3}, {Name: "seeded", Partitions: 2}}
	if len(topics) != len(want) || topics[0] != want[0] || topics[1] != want[1] {
		t.Errorf("list = %+v, want %+v", topics, want)
	}
	if all, err := a.ListTopics(ctx, true); err != nil || len(all) < len(want) {
		t.Errorf("list --internal = %+v, %v", all, err)
	}

	produceN(t, c, "rider-updates", 1, 5, "hello")
	d, err := a.DescribeTopic(ctx, "rider-updates")
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != created.ID || d.ReplicationFactor != 1 || len(d.Partitions) != 3 {
		t.Errorf("describe = %+v", d)
	}
	if d.ConfigsErr != nil || d.SizesErr != nil {
		t.Errorf("describe errors: configs %v, sizes %v", d.ConfigsErr, d.SizesErr)
	}
	var retention *Config
	for i := range d.Configs {
		if d.Configs[i].Source == kmsg.ConfigSourceDefaultConfig {
			t.Errorf("default config listed: %+v", d.Configs[i])
		}
		if d.Configs[i].Name == "retention.ms" {
			retention = &d.Configs[i]
		}
	}
	if retention == nil || retention.Value != "86400000" || retention.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Errorf("retention.ms = %+v in %+v", retention, d.Configs)
	}
	for _, p := range d.Partitions {
		wantEnd, wantSize := int64(0), false
		if p.Partition == 1 {
			wantEnd, wantSize = 5, true
		}
		if p.Leader < 0 || p.StartOffset != 0 || p.EndOffset != wantEnd || (p.Size > 0) != wantSize || p.Size < 0 {
			t.Errorf("partition %+v", p)
		}
	}
	var out strings.Builder
	if err := WriteTopicDescription(&out, d); err != nil {
		t.Fatal(err)
	}
	t.Logf("describe output:\n%s", out.String())
	if !strings.Contains(out.String(), "retention.ms=86400000 (topic)") {
		t.Errorf("description lacks the config:\n%s", out.String())
	}

	_, err = a.DescribeTopic(ctx, "nope")
	if !errors.Is(err, kerr.UnknownTopicOrPartition) || err.Error() != "unknown topic nope" {
		t.Errorf("describe unknown: %v", err)
	}

	if err := a.AddPartitions(ctx, "rider-updates", 5); err != nil {
		t.Fatal(err)
	}
	if d, err := a.DescribeTopic(ctx, "rider-updates"); err != nil || len(d.Partitions) != 5 {
		t.Errorf("after add-partitions: %d partitions, %v", len(d.Partitions), err)
	}
	err = a.AddPartitions(ctx, "rider-updates", 2)
	if !errors.Is(err, kerr.InvalidPartitions) || !strings.HasPrefix(err.Error(), "add partitions to topic rider-updates: invalid partition count") {
		t.Errorf("shrinking: %v", err)
	}
	err = a.AddPartitions(ctx, "nope", 2)
	if !errors.Is(err, kerr.UnknownTopicOrPartition) || err.Error() != "unknown topic nope" {
		t.Errorf("add partitions to unknown: %v", err)
	}

	if err := a.DeleteTopic(ctx, "rider-updates"); err != nil {
		t.Fatal(err)
	}
	err = a.DeleteTopic(ctx, "rider-updates")
	if !errors.Is(err, kerr.UnknownTopicOrPartition) || err.Error() != "unknown topic rider-updates" {
		t.Errorf("second delete: %v", err)
	}
	topics, err = a.ListTopics(ctx, false)
	if err != nil || len(topics) != 1 || topics[0].Name != "seeded" {
		t.Errorf("list after delete = %+v, %v", topics, err)
	}
}

// TestDescribeWithoutLogDirs checks that a broker without DescribeLogDirs
// (or DescribeConfigs) still gets a description, with "-" for sizes.
func TestDescribeWithoutLogDirs(t *testing.T) {
	vs := kversion.Stable()
	vs.SetMaxKeyVersion(35, -1) // DescribeLogDirs
	vs.SetMaxKeyVersion(32, -1) // DescribeConfigs
	c, a := newCluster(t, kfake.MaxVersions(vs))
	produceN(t, c, "seeded", 0, 2, "x")

	d, err := a.DescribeTopic(testCtx(t), "seeded")
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(d.SizesErr, errors.ErrUnsupported) || !errors.Is(d.ConfigsErr, errors.ErrUnsupported) {
		t.Errorf("sizes err %v, configs err %v: want both unsupported", d.SizesErr, d.ConfigsErr)
	}
	if len(d.Partitions) != 2 || d.Partitions[0].EndOffset != 2 || d.Partitions[0].Size != -1 {
		t.Errorf("partitions = %+v", d.Partitions)
	}
	var out strings.Builder
	if err := WriteTopicDescription(&out, d); err != nil {
		t.Fatal(err)
	}
	t.Logf("describe output:\n%s", out.String())
	if !strings.Contains(out.String(), "Sizes:               unavailable (the broker does not support DescribeLogDirs)\n") ||
		!strings.Contains(out.String(), "0          0       0             2           -\n") {
		t.Errorf("want a size of -:\n%s", out.String())
	}
}
