package ctl

// create_test.go checks the parsing of --config key=value overrides, and
// topic creation with the broker's defaults against a real Courier broker.

import (
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestParseConfigs(t *testing.T) {
	got, err := ParseConfigs([]string{"retention.ms=1000", "cleanup.policy=compact,delete", "empty=", "eq=a=b"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"retention.ms": "1000", "cleanup.policy": "compact,delete", "empty": "", "eq": "a=b"}
	if len(got) != len(want) {
		t.Fatalf("got %d configs, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] == nil || *got[k] != v {
			t.Errorf("%s: got %v, want %q", k, got[k], v)
		}
	}
	if m, err := ParseConfigs(nil); m != nil || err != nil {
		t.Errorf("ParseConfigs(nil) = %v, %v", m, err)
	}
	for _, bad := range [][]string{{"noequals"}, {"=v"}, {"a=1", "a=2"}} {
		if _, err := ParseConfigs(bad); err == nil {
			t.Errorf("ParseConfigs(%q): no error", bad)
		}
	}
}

// TestCreateTopicBrokerDefaults: -1 partitions and -1 replication factor,
// what `courier topic create` sends without --partitions, get the
// broker's defaults over the wire, as kafka-topics.sh's requests do.
func TestCreateTopicBrokerDefaults(t *testing.T) {
	b := testbroker.Start(t, func(c *run.Config) { c.Broker.DefaultPartitions = 3 })
	a, err := New(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	c, err := a.CreateTopic(testCtx(t), CreateSpec{Name: "defaults", Partitions: -1, ReplicationFactor: -1})
	if err != nil {
		t.Fatal(err)
	}
	if c.Partitions != 3 || c.ReplicationFactor != 1 {
		t.Errorf("created %+v, want 3 partitions and replication factor 1", c)
	}
	d, err := a.DescribeTopic(testCtx(t), "defaults")
	if err != nil || len(d.Partitions) != 3 {
		t.Errorf("describe: %v, %d partitions", err, len(d.Partitions))
	}
	// An explicit count still wins; a replication factor a single broker
	// cannot have is refused with a message that says why.
	if c, err := a.CreateTopic(testCtx(t), CreateSpec{Name: "five", Partitions: 5, ReplicationFactor: -1}); err != nil || c.Partitions != 5 {
		t.Errorf("5 partitions: %+v, %v", c, err)
	}
	if _, err := a.CreateTopic(testCtx(t), CreateSpec{Name: "rf3", Partitions: -1, ReplicationFactor: 3}); err == nil || !strings.Contains(err.Error(), "invalid replication factor") {
		t.Errorf("replication factor 3: %v", err)
	}
	for _, spec := range []CreateSpec{{Name: "", Partitions: 1, ReplicationFactor: 1}, {Name: "z", Partitions: 0, ReplicationFactor: -1}, {Name: "z", Partitions: -1, ReplicationFactor: 0}} {
		if err := spec.Validate(); err == nil {
			t.Errorf("%+v: valid", spec)
		}
	}
}
