package ctl

// configs_test.go checks the parsing of config changes and, against a real
// Courier broker, describing and changing a topic's list config, the
// cluster-wide broker defaults and a broker's log levels.

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestParseConfigOps(t *testing.T) {
	tests := []struct {
		set, del, app, sub []string
		want               string // ops as "op:name=value" joined, or the error's text
	}{
		{set: []string{"cleanup.policy=compact,delete"}, want: "SET:cleanup.policy=compact,delete"},
		{set: []string{"cleanup.policy=[compact,delete]"}, want: "SET:cleanup.policy=compact,delete"},
		{app: []string{"cleanup.policy=compact"}, sub: []string{"x=a=b"}, want: "APPEND:cleanup.policy=compact SUBTRACT:x=a=b"},
		{del: []string{"retention.ms"}, want: "DELETE:retention.ms"},
		{set: []string{"a=1"}, del: []string{"a"}, want: "config a named more than once"},
		{set: []string{"novalue"}, want: `config "novalue": want key=value`},
		{want: "nothing to change"},
	}
	for _, tc := range tests {
		ops, err := ParseConfigOps(tc.set, tc.del, tc.app, tc.sub)
		var got []string
		for _, o := range ops {
			s := kmsg.IncrementalAlterConfigOp(o.Op).String() + ":" + o.Name
			if o.Value != nil {
				s += "=" + *o.Value
			}
			got = append(got, s)
		}
		g := strings.Join(got, " ")
		if err != nil {
			g = err.Error()
		}
		if !strings.HasPrefix(g, tc.want) {
			t.Errorf("%+v: %q, want %q", tc, g, tc.want)
		}
	}
}

// courierAdmin starts a Courier broker and returns its address and an
// Admin for it, closed when the test ends.
func courierAdmin(t *testing.T) (string, *Admin) {
	t.Helper()
	b := testbroker.Start(t)
	a, err := New(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return b.Addr, a
}

func TestConfigsOnCourier(t *testing.T) {
	_, a := courierAdmin(t)
	ctx := testCtx(t)
	if _, err := a.CreateTopic(ctx, CreateSpec{Name: "latest", Partitions: 1, ReplicationFactor: -1}); err != nil {
		t.Fatal(err)
	}
	topic := ConfigResource{Type: kmsg.ConfigResourceTypeTopic, Name: "latest"}
	compact := "compact"
	if err := a.AlterConfigs(ctx, topic, []kadm.AlterConfig{{Op: kadm.AppendConfig, Name: "cleanup.policy", Value: &compact}}); err != nil {
		t.Fatal(err)
	}
	value := func(r ConfigResource, name string) ConfigEntry {
		es, err := a.DescribeConfigs(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Name == name {
				return e
			}
		}
		t.Fatalf("%s: %s not described", r, name)
		return ConfigEntry{}
	}
	if e := value(topic, "cleanup.policy"); e.Value != "delete,compact" || e.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Errorf("cleanup.policy %+v", e)
	}
	five := "5"
	err := a.AlterConfigs(ctx, topic, []kadm.AlterConfig{{Op: kadm.AppendConfig, Name: "retention.ms", Value: &five}})
	if err == nil || !strings.Contains(err.Error(), "Can't APPEND to key retention.ms because its type is not LIST.") {
		t.Errorf("append to retention.ms: %v", err)
	}

	def := ConfigResource{Type: kmsg.ConfigResourceTypeBroker}
	day := "86400000"
	if err := a.AlterConfigs(ctx, def, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.retention.ms", Value: &day}}); err != nil {
		t.Fatal(err)
	}
	if e := value(def, "log.retention.ms"); e.Value != day || e.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
		t.Errorf("log.retention.ms default %+v", e)
	}
	if e := value(ConfigResource{Type: kmsg.ConfigResourceTypeBroker, Name: "1"}, "log.dirs"); !e.ReadOnly || e.Value == "" {
		t.Errorf("log.dirs %+v", e)
	}

	loggers := ConfigResource{Type: kmsg.ConfigResourceTypeBrokerLogger, Name: "1"}
	debug := "DEBUG"
	if err := a.AlterConfigs(ctx, loggers, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "courier.storage", Value: &debug}}); err != nil {
		t.Fatal(err)
	}
	es, err := a.DescribeConfigs(ctx, loggers)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteConfigs(&out, es); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "courier.storage") || !strings.Contains(out.String(), "DEBUG") {
		t.Errorf("loggers table:\n%s", out.String())
	}
	// The client finds no broker 7 to ask.
	if _, err = a.DescribeConfigs(ctx, ConfigResource{Type: kmsg.ConfigResourceTypeBrokerLogger, Name: "7"}); err == nil {
		t.Error("loggers of broker 7 described")
	}
	// A broker's refusal carries its message.
	bad := "LOUD"
	err = a.AlterConfigs(ctx, loggers, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "courier.storage", Value: &bad}})
	if !errors.Is(err, kerr.InvalidConfig) || !strings.Contains(err.Error(), "Valid log levels are") {
		t.Errorf("level LOUD: %v", err)
	}
}

// TestDirtyRatioOnCourier checks that describe shows a compacted topic's
// dirty ratio per partition (Courier reports it) and none for a topic that
// is not compacted.
func TestDirtyRatioOnCourier(t *testing.T) {
	addr, a := courierAdmin(t)
	ctx := testCtx(t)
	compact, tiny := "compact", "100" // a segment per record
	for _, spec := range []CreateSpec{
		{Name: "state", Partitions: 2, ReplicationFactor: 1, Configs: map[string]*string{"cleanup.policy": &compact, "internal.segment.bytes": &tiny}},
		{Name: "events", Partitions: 1, ReplicationFactor: 1},
	} {
		if _, err := a.CreateTopic(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for range 4 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "state", Partition: 1, Key: []byte("k"), Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// Partition 0 has nothing; partition 1 has three sealed segments the
	// cleaner (its first look is 15 s away) has not reached: all dirty.
	var d TopicDescription
	testwait.For(t, 10*time.Second, "partition 1's sealed segments to be cleanable", func() string {
		if d, err = a.DescribeTopic(ctx, "state"); err != nil {
			t.Fatal(err)
		}
		if !d.Partitions[0].DirtyKnown || d.Partitions[0].DirtyRatio != 0 || d.Partitions[1].DirtyRatio != 1 {
			return fmt.Sprintf("dirty ratios %v and %v, want 0 and 1", d.Partitions[0].DirtyRatio, d.Partitions[1].DirtyRatio)
		}
		return ""
	})
	var out strings.Builder
	if err := WriteTopicDescription(&out, d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "DIRTY-RATIO") || !strings.Contains(out.String(), "1.000") {
		t.Errorf("description of a compacted topic lacks its dirty ratio:\n%s", out.String())
	}
	d, err = a.DescribeTopic(ctx, "events")
	if err != nil {
		t.Fatal(err)
	}
	if d.Partitions[0].DirtyKnown {
		t.Errorf("topic not compacted: dirty ratio %v reported", d.Partitions[0].DirtyRatio)
	}
	out.Reset()
	WriteTopicDescription(&out, d)
	if strings.Contains(out.String(), "DIRTY-RATIO") {
		t.Errorf("description of a delete-policy topic shows a dirty ratio:\n%s", out.String())
	}
}
