package broker_test

// topic_configs_test.go drives Kafka 4's topic configs over TCP with kadm:
// every config accepted at CreateTopics with a valid value and refused
// with an invalid one, unknown names refused, a topic created with 30+
// configs describing each back, list configs' APPEND and SUBTRACT, and
// documentation and types in DescribeConfigs.

import (
	"errors"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kafka4TopicConfigs is every topic config of Apache Kafka 4 with a
// valid value (not its default) and an invalid one.
var kafka4TopicConfigs = []struct{ name, valid, invalid string }{
	{"cleanup.policy", "compact,delete", "compact,shred"},
	{"compression.type", "zstd", "brotli"},
	{"compression.gzip.level", "9", "0"},
	{"compression.lz4.level", "12", "18"},
	{"compression.zstd.level", "-5", "23"},
	{"delete.retention.ms", "1000", "-1"},
	{"file.delete.delay.ms", "1000", "-1"},
	{"flush.messages", "100", "0"},
	{"flush.ms", "1000", "-1"},
	{"follower.replication.throttled.replicas", "0:1", "0:x"},
	{"leader.replication.throttled.replicas", "*", "every"},
	{"index.interval.bytes", "8192", "-1"},
	{"local.retention.bytes", "1000", "-3"},
	{"local.retention.ms", "1000", "-3"},
	{"max.compaction.lag.ms", "86400000", "0"},
	{"max.message.bytes", "2000000", "-1"},
	{"message.timestamp.after.max.ms", "60000", "-1"},
	{"message.timestamp.before.max.ms", "60000", "-1"},
	{"message.timestamp.type", "LogAppendTime", "WallClock"},
	{"min.cleanable.dirty.ratio", "0.25", "1.5"},
	{"min.compaction.lag.ms", "1000", "-1"},
	{"min.insync.replicas", "2", "0"},
	{"preallocate", "true", "yes"},
	{"remote.log.copy.disable", "true", "on"},
	{"remote.log.delete.on.disable", "true", "off"},
	{"remote.storage.enable", "false", "true"},
	{"retention.bytes", "1000000", "lots"},
	{"retention.ms", "3600000", "-2"},
	{"segment.bytes", "2097152", "1024"},
	{"segment.index.bytes", "4096", "3"},
	{"segment.jitter.ms", "1000", "-1"},
	{"segment.ms", "3600000", "0"},
	{"unclean.leader.election.enable", "true", "sometimes"},
}

// TestCreateTopicEveryKafka4Config: each config is accepted with a valid
// value and refused with INVALID_CONFIG, naming it, with an invalid one;
// unknown and removed names are refused as Kafka 4 refuses them.
func TestCreateTopicEveryKafka4Config(t *testing.T) {
	b := testbroker.Start(t)
	adm := kadm.NewClient(testclient.New(t, b.Addr))
	ctx := testCtx(t)
	for i, c := range kafka4TopicConfigs {
		t.Run(c.name, func(t *testing.T) {
			// kadm's CreateTopic returns the topic's error as its own.
			if _, err := adm.CreateTopic(ctx, 1, -1, map[string]*string{c.name: &c.valid}, "valid-"+itoa(i)); err != nil {
				t.Fatalf("%s=%s: %v", c.name, c.valid, err)
			}
			bad, err := adm.CreateTopic(ctx, 1, -1, map[string]*string{c.name: &c.invalid}, "invalid-"+itoa(i))
			want := "Invalid value " + c.invalid + " for configuration " + c.name + ": "
			if c.name == "remote.storage.enable" {
				want = "Tiered Storage functionality is disabled in the broker."
			}
			if !errors.Is(err, kerr.InvalidConfig) || !strings.HasPrefix(bad.ErrMessage, want) {
				t.Fatalf("%s=%s: %v %q, want INVALID_CONFIG %q", c.name, c.invalid, err, bad.ErrMessage, want)
			}
		})
	}
	for _, name := range []string{"no.such.config", "message.format.version", "message.downconversion.enable", "message.timestamp.difference.max.ms"} {
		v := "1"
		bad, err := adm.CreateTopic(ctx, 1, -1, map[string]*string{name: &v}, "unknown-config")
		if !errors.Is(err, kerr.InvalidConfig) || bad.ErrMessage != "Unknown topic config name: "+name {
			t.Errorf("%s: %v %q, want INVALID_CONFIG \"Unknown topic config name: %s\"", name, err, bad.ErrMessage, name)
		}
	}
}

// TestCreateTopicWithManyConfigsDescribesThem: a topic created with every
// config at once describes each back with its value and source
// DYNAMIC_TOPIC_CONFIG, and the others' values with DEFAULT_CONFIG.
func TestCreateTopicWithManyConfigsDescribesThem(t *testing.T) {
	b := testbroker.Start(t)
	adm := kadm.NewClient(testclient.New(t, b.Addr))
	ctx := testCtx(t)
	configs := map[string]*string{}
	for _, c := range kafka4TopicConfigs {
		configs[c.name] = &c.valid
	}
	if len(configs) < 30 {
		t.Fatalf("only %d configs", len(configs))
	}
	if _, err := adm.CreateTopic(ctx, 2, 1, configs, "many"); err != nil {
		t.Fatalf("create: %v", err)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, "many")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On("many", nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe: %v %v", err, rc.Err)
	}
	got := map[string]kadm.Config{}
	for _, c := range rc.Configs {
		got[c.Key] = c
	}
	for name, want := range configs {
		c, ok := got[name]
		if !ok || c.MaybeValue() != *want || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
			t.Errorf("%s: %q from %v, want %q from DYNAMIC_TOPIC_CONFIG", name, c.MaybeValue(), c.Source, *want)
		}
		if len(c.Synonyms) == 0 || c.Synonyms[0].Key != name || c.Synonyms[0].Source != kmsg.ConfigSourceDynamicTopicConfig {
			t.Errorf("%s: synonyms %+v, want the topic's own first", name, c.Synonyms)
		}
	}
	if len(got) != len(configs) {
		t.Errorf("described %d configs, want %d", len(got), len(configs))
	}
}

// TestListConfigAppendSubtract: APPEND and SUBTRACT on cleanup.policy
// (and a throttled-replicas list) with kadm, their refusal on a non-list
// config, and the empty list SUBTRACT leaves.
func TestListConfigAppendSubtract(t *testing.T) {
	b := testbroker.Start(t)
	adm := kadm.NewClient(testclient.New(t, b.Addr))
	ctx := testCtx(t)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "lists"); err != nil {
		t.Fatal(err)
	}
	op := func(op kadm.IncrementalOp, name, value string) (string, error) {
		resp, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: op, Name: name, Value: &value}}, "lists")
		if err != nil {
			t.Fatal(err)
		}
		return resp[0].ErrMessage, resp[0].Err
	}
	value := func(name string) string {
		rcs, err := adm.DescribeTopicConfigs(ctx, "lists")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rcs[0].Configs {
			if c.Key == name {
				return c.MaybeValue()
			}
		}
		t.Fatalf("%s not described", name)
		return ""
	}
	steps := []struct {
		op          kadm.IncrementalOp
		name, value string
		want        string // the value after, or the error's text
		err         error
	}{
		{kadm.AppendConfig, "cleanup.policy", "compact", "delete,compact", nil},
		{kadm.AppendConfig, "cleanup.policy", "compact", "delete,compact", nil},
		{kadm.SubtractConfig, "cleanup.policy", "delete", "compact", nil},
		{kadm.SubtractConfig, "cleanup.policy", "compact", "", nil},
		{kadm.AppendConfig, "cleanup.policy", "delete, compact", "delete,compact", nil},
		{kadm.AppendConfig, "cleanup.policy", "shred", "Invalid value delete,compact,shred for configuration cleanup.policy: String must be one of: compact, delete", kerr.InvalidConfig},
		{kadm.AppendConfig, "leader.replication.throttled.replicas", "0:1", "0:1", nil},
		{kadm.AppendConfig, "leader.replication.throttled.replicas", "1:1", "0:1,1:1", nil},
		{kadm.AppendConfig, "retention.ms", "5", "Can't APPEND to key retention.ms because its type is not LIST.", kerr.InvalidConfig},
		{kadm.SubtractConfig, "compression.type", "producer", "Can't SUBTRACT to key compression.type because its type is not LIST.", kerr.InvalidConfig},
	}
	for _, s := range steps {
		msg, err := op(s.op, s.name, s.value)
		if !errors.Is(err, s.err) {
			t.Fatalf("%v %s %q: %v, want %v", s.op, s.name, s.value, err, s.err)
		}
		if s.err != nil {
			if msg != s.want {
				t.Fatalf("%v %s: message %q, want %q", s.op, s.name, msg, s.want)
			}
			continue
		}
		if got := value(s.name); got != s.want {
			t.Fatalf("%v %s %q: value %q, want %q", s.op, s.name, s.value, got, s.want)
		}
	}
}

// TestDescribeConfigsDocumentationAndTypes: documentation only when
// asked, Kafka's config types from v3.
func TestDescribeConfigsDocumentationAndTypes(t *testing.T) {
	b := testbroker.Start(t)
	cl := testclient.New(t, b.Addr)
	testclient.CreateTopic(t, b.Addr, "doc", 1, nil)
	for _, withDoc := range []bool{false, true} {
		req := kmsg.NewPtrDescribeConfigsRequest()
		req.IncludeDocumentation = withDoc
		rr := kmsg.NewDescribeConfigsRequestResource()
		rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeTopic, "doc"
		req.Resources = append(req.Resources, rr)
		resp, err := req.RequestWith(testCtx(t), cl)
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]kmsg.ConfigType{}
		for _, c := range resp.Resources[0].Configs {
			types[c.Name] = c.ConfigType
			if (c.Documentation != nil) != withDoc {
				t.Fatalf("%s: documentation %v with IncludeDocumentation=%v", c.Name, c.Documentation, withDoc)
			}
		}
		want := map[string]kmsg.ConfigType{"cleanup.policy": kmsg.ConfigTypeList, "min.cleanable.dirty.ratio": kmsg.ConfigTypeDouble,
			"preallocate": kmsg.ConfigTypeBoolean, "segment.bytes": kmsg.ConfigTypeInt, "retention.ms": kmsg.ConfigTypeLong, "compression.type": kmsg.ConfigTypeString}
		for name, typ := range want {
			if types[name] != typ {
				t.Errorf("%s: type %v, want %v", name, types[name], typ)
			}
		}
	}
}

func itoa(i int) string { return string(rune('a'+i/26)) + string(rune('a'+i%26)) }
