package bench

// groups_test.go runs the group benchmarks at a small size: the share and
// classic throughput runs and the rebalance rounds of both protocols, and
// the checks of their settings.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestRunGroups(t *testing.T) {
	seeds, adm := newCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rs, err := RunGroups(ctx, GroupsConfig{ClientOpts: []kgo.Opt{seeds}, Records: 6000, Size: 20, Partitions: 2, Consumers: []int{1, 3}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 4 {
		t.Fatalf("results = %+v", rs)
	}
	for i, want := range []struct {
		proto     string
		consumers int
	}{{ProtocolShare, 1}, {ProtocolShare, 3}, {ProtocolClassic, 1}, {ProtocolClassic, 3}} {
		r := rs[i]
		t.Logf("%+v", r)
		if r.Protocol != want.proto || r.Consumers != want.consumers || r.Records != 6000 || r.Partitions != 2 ||
			r.RecordsPerSec <= 0 || r.Seconds <= 0 || r.Active < 1 || r.Active > want.consumers || r.Redelivered < 0 {
			t.Errorf("result %d = %+v", i, r)
		}
		// A classic group's parallelism stops at the partition count.
		if r.Protocol == ProtocolClassic && r.Active > 2 {
			t.Errorf("classic group with %d active consumers on 2 partitions", r.Active)
		}
	}
	// The topic is deleted afterwards.
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range topics.Names() {
		if strings.HasPrefix(name, "courier-bench-groups-") {
			t.Errorf("topic %s left behind", name)
		}
	}
}

func TestRunRebalance(t *testing.T) {
	// KIP-848 members heartbeat at the broker's interval (Kafka's 5 s):
	// shortened here to keep the test quick.
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.BrokerConfigs(map[string]string{"group.consumer.heartbeat.interval.ms": "500"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	seeds := kgo.SeedBrokers(c.ListenAddrs()...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rs, err := RunRebalance(ctx, RebalanceConfig{ClientOpts: []kgo.Opt{seeds}, Members: 2, Partitions: 4, Rounds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Protocol != ProtocolConsumer || rs[1].Protocol != ProtocolClassic {
		t.Fatalf("results = %+v", rs)
	}
	for _, r := range rs {
		t.Logf("%+v", r)
		if len(r.OwnsMs) != 1 || r.OwnsP50Ms <= 0 || r.SettledP50 < r.OwnsP50Ms || r.OwnsMaxMs != r.OwnsP50Ms {
			t.Errorf("result = %+v", r)
		}
	}
}

func TestGroupsConfigErrors(t *testing.T) {
	for _, cfg := range []GroupsConfig{
		{Consumers: []int{0}},
		{Protocols: []string{"queue"}},
		{Records: -1},
	} {
		if _, err := cfg.withDefaults(); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
	for _, cfg := range []RebalanceConfig{
		{Members: 10, Partitions: 10},
		{Protocols: []string{"share"}},
		{Rounds: -1},
	} {
		if _, err := cfg.withDefaults(); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
	if m, x := medianMax([]float64{3, 1, 2, 10}); m != 2.5 || x != 10 {
		t.Errorf("medianMax = %v, %v", m, x)
	}
}

// TestGroupProtocolsRequired: on a cluster without the protocols (Courier
// with --group-protocols classic) the runs fail at once, naming what is
// missing, instead of measuring the classic protocol under KIP-848's name
// or waiting for share-group records that never come.
func TestGroupProtocolsRequired(t *testing.T) {
	b := testbroker.Start(t, func(c *run.Config) { c.Broker.GroupProtocols = []string{"classic"} })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := []kgo.Opt{kgo.SeedBrokers(b.Addr)}
	if _, err := RunRebalance(ctx, RebalanceConfig{ClientOpts: opts, Members: 1, Partitions: 2, Rounds: 1}); err == nil ||
		!strings.Contains(err.Error(), "does not support KIP-848 consumer groups") {
		t.Errorf("rebalance: %v", err)
	}
	if _, err := RunGroups(ctx, GroupsConfig{ClientOpts: opts, Records: 10, Consumers: []int{1}}); err == nil ||
		!strings.Contains(err.Error(), "does not support share groups") {
		t.Errorf("groups: %v", err)
	}
}
