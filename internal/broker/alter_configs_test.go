package broker_test

// alter_configs_test.go drives AlterConfigs and IncrementalAlterConfigs
// over TCP: what each form changes, what both refuse, validate-only, and
// that concurrent changes of one topic do not lose each other.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// cfgOp is one config change of a test request; for AlterConfigs only
// name and value count.
type cfgOp struct {
	name  string
	op    kmsg.IncrementalAlterConfigOp
	value *string
}

func set(name, value string) cfgOp { return cfgOp{name, kmsg.IncrementalAlterConfigOpSet, &value} }
func del(name string) cfgOp        { return cfgOp{name, kmsg.IncrementalAlterConfigOpDelete, nil} }

// alterConfigs sends one resource's change with AlterConfigs (legacy) or
// IncrementalAlterConfigs and returns its error code.
func alterConfigs(t *testing.T, cl *kgo.Client, legacy, validateOnly bool, rt kmsg.ConfigResourceType, name string, ops ...cfgOp) int16 {
	t.Helper()
	code, _, err := sendAlterConfigs(testCtx(t), cl, legacy, validateOnly, rt, name, ops...)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// sendAlterConfigs is alterConfigs for any goroutine, also returning the
// error message.
func sendAlterConfigs(ctx context.Context, cl *kgo.Client, legacy, validateOnly bool, rt kmsg.ConfigResourceType, name string, ops ...cfgOp) (int16, string, error) {
	var req kmsg.Request
	if legacy {
		r := kmsg.NewPtrAlterConfigsRequest()
		r.ValidateOnly = validateOnly
		r.Resources = []kmsg.AlterConfigsRequestResource{{ResourceType: rt, ResourceName: name}}
		for _, o := range ops {
			r.Resources[0].Configs = append(r.Resources[0].Configs, kmsg.AlterConfigsRequestResourceConfig{Name: o.name, Value: o.value})
		}
		req = r
	} else {
		r := kmsg.NewPtrIncrementalAlterConfigsRequest()
		r.ValidateOnly = validateOnly
		r.Resources = []kmsg.IncrementalAlterConfigsRequestResource{{ResourceType: rt, ResourceName: name}}
		for _, o := range ops {
			r.Resources[0].Configs = append(r.Resources[0].Configs, kmsg.IncrementalAlterConfigsRequestResourceConfig{Name: o.name, Op: o.op, Value: o.value})
		}
		req = r
	}
	resp, err := cl.Request(ctx, req)
	if err != nil {
		return 0, "", err
	}
	msg := func(m *string) string {
		if m == nil {
			return ""
		}
		return *m
	}
	switch r := resp.(type) {
	case *kmsg.AlterConfigsResponse:
		return r.Resources[0].ErrorCode, msg(r.Resources[0].ErrorMessage), nil
	case *kmsg.IncrementalAlterConfigsResponse:
		return r.Resources[0].ErrorCode, msg(r.Resources[0].ErrorMessage), nil
	}
	return 0, "", fmt.Errorf("unexpected response %T", resp)
}

// topicConfigs returns the configs a topic sets (not its defaults).
func topicConfigs(t *testing.T, cl *kgo.Client, topic string) map[string]string {
	t.Helper()
	req := kmsg.NewPtrDescribeConfigsRequest()
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeTopic, topic
	req.Resources = append(req.Resources, rr)
	resp, err := req.RequestWith(testCtx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	if err := kerr.ErrorForCode(resp.Resources[0].ErrorCode); err != nil {
		t.Fatalf("describe configs of %s: %v", topic, err)
	}
	out := map[string]string{}
	for _, c := range resp.Resources[0].Configs {
		if c.Source == kmsg.ConfigSourceDynamicTopicConfig {
			out[c.Name] = *c.Value
		}
	}
	return out
}

func TestAlterConfigs(t *testing.T) {
	b := testbroker.Start(t)
	cl := testclient.New(t, b.Addr)
	initial := map[string]string{"retention.ms": "1000", "segment.bytes": "1048576"}
	topic, broker := kmsg.ConfigResourceTypeTopic, kmsg.ConfigResourceTypeBroker
	cases := []struct {
		name         string
		legacy       bool
		validateOnly bool
		rt           kmsg.ConfigResourceType
		missing      bool // the request names a topic that does not exist
		ops          []cfgOp
		code         int16
		want         map[string]string // nil: initial, unchanged
	}{
		{name: "incremental set", ops: []cfgOp{set("retention.bytes", "5000")}, want: map[string]string{"retention.ms": "1000", "segment.bytes": "1048576", "retention.bytes": "5000"}},
		{name: "incremental delete", ops: []cfgOp{del("retention.ms")}, want: map[string]string{"segment.bytes": "1048576"}},
		{name: "incremental set and delete", ops: []cfgOp{set("retention.ms", "2000"), del("segment.bytes")}, want: map[string]string{"retention.ms": "2000"}},
		{name: "incremental validate only", validateOnly: true, ops: []cfgOp{set("retention.ms", "2000")}},
		{name: "incremental invalid value", ops: []cfgOp{set("retention.bytes", "5000"), set("retention.ms", "soon")}, code: kerr.InvalidConfig.Code},
		{name: "incremental unknown config", ops: []cfgOp{set("retention.minutes", "5")}, code: kerr.InvalidConfig.Code},
		{name: "incremental delete unknown config", ops: []cfgOp{del("retention.minutes")}, code: kerr.InvalidConfig.Code},
		{name: "incremental append", ops: []cfgOp{{"cleanup.policy", kmsg.IncrementalAlterConfigOpAppend, new("compact")}}, want: map[string]string{"retention.ms": "1000", "segment.bytes": "1048576", "cleanup.policy": "delete,compact"}},
		{name: "incremental subtract", ops: []cfgOp{{"cleanup.policy", kmsg.IncrementalAlterConfigOpSubtract, new("delete")}}, want: map[string]string{"retention.ms": "1000", "segment.bytes": "1048576", "cleanup.policy": ""}},
		{name: "incremental append to a non-list", ops: []cfgOp{{"retention.ms", kmsg.IncrementalAlterConfigOpAppend, new("5")}}, code: kerr.InvalidConfig.Code},
		{name: "incremental subtract from a non-list", ops: []cfgOp{{"compression.type", kmsg.IncrementalAlterConfigOpSubtract, new("producer")}}, code: kerr.InvalidConfig.Code},
		{name: "incremental append invalid item", ops: []cfgOp{{"cleanup.policy", kmsg.IncrementalAlterConfigOpAppend, new("shred")}}, code: kerr.InvalidConfig.Code},
		{name: "incremental set without value", ops: []cfgOp{{"retention.ms", kmsg.IncrementalAlterConfigOpSet, nil}}, code: kerr.InvalidRequest.Code},
		{name: "incremental config twice", ops: []cfgOp{set("retention.ms", "1"), del("retention.ms")}, code: kerr.InvalidRequest.Code},
		{name: "incremental unknown topic", missing: true, ops: []cfgOp{set("retention.ms", "1")}, code: kerr.UnknownTopicOrPartition.Code},
		{name: "incremental broker read-only", rt: broker, ops: []cfgOp{set("log.dirs", "/tmp")}, code: kerr.InvalidRequest.Code},
		{name: "legacy replaces", legacy: true, ops: []cfgOp{set("retention.bytes", "5000")}, want: map[string]string{"retention.bytes": "5000"}},
		{name: "legacy empty resets all", legacy: true, want: map[string]string{}},
		{name: "legacy validate only", legacy: true, validateOnly: true, ops: []cfgOp{set("retention.bytes", "5000")}},
		{name: "legacy invalid value", legacy: true, ops: []cfgOp{set("segment.bytes", "1")}, code: kerr.InvalidConfig.Code},
		{name: "legacy null value", legacy: true, ops: []cfgOp{{"retention.ms", kmsg.IncrementalAlterConfigOpSet, nil}}, code: kerr.InvalidRequest.Code},
		{name: "legacy config twice", legacy: true, ops: []cfgOp{set("retention.ms", "1"), set("retention.ms", "2")}, code: kerr.InvalidRequest.Code},
		{name: "legacy unknown topic", legacy: true, missing: true, code: kerr.UnknownTopicOrPartition.Code},
		{name: "legacy broker read-only", legacy: true, rt: broker, ops: []cfgOp{set("num.partitions", "3")}, code: kerr.InvalidRequest.Code},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("alter-%d", i)
			cfgs := map[string]*string{}
			for k, v := range initial {
				cfgs[k] = &v
			}
			testclient.CreateTopic(t, b.Addr, name, 1, cfgs)
			rt, target := topic, name
			if tc.rt == broker {
				rt, target = broker, "1"
			}
			if tc.missing {
				target = "no-such-topic"
			}
			if code := alterConfigs(t, cl, tc.legacy, tc.validateOnly, rt, target, tc.ops...); code != tc.code {
				t.Fatalf("error code %v, want %v", kerr.ErrorForCode(code), kerr.ErrorForCode(tc.code))
			}
			want := tc.want
			if want == nil {
				want = initial
			}
			if got := topicConfigs(t, cl, name); !maps.Equal(got, want) {
				t.Fatalf("configs %v, want %v", got, want)
			}
		})
	}
}

// TestAlterConfigsApplyToLog: a changed config takes effect on the
// partitions at once (max.message.bytes refuses a batch it allowed).
func TestAlterConfigsApplyToLog(t *testing.T) {
	b := testbroker.Start(t)
	cl := testclient.New(t, b.Addr, kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordRetries(0))
	testclient.CreateTopic(t, b.Addr, "limited", 1, nil)
	big := &kgo.Record{Topic: "limited", Value: make([]byte, 2000)}
	if err := cl.ProduceSync(testCtx(t), big).FirstErr(); err != nil {
		t.Fatalf("produce before the change: %v", err)
	}
	if code := alterConfigs(t, cl, false, false, kmsg.ConfigResourceTypeTopic, "limited", set("max.message.bytes", "1000")); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	big = &kgo.Record{Topic: "limited", Value: make([]byte, 2000)}
	if err := cl.ProduceSync(testCtx(t), big).FirstErr(); !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("produce after the change: %v, want MESSAGE_TOO_LARGE", err)
	}
}

// TestIncrementalAlterConfigsConcurrent: changes of different configs of
// one topic, sent at once, all survive (none starts from configs another
// is replacing).
func TestIncrementalAlterConfigsConcurrent(t *testing.T) {
	b := testbroker.Start(t)
	testclient.CreateTopic(t, b.Addr, "busy", 1, nil)
	names := []string{"retention.ms", "retention.bytes", "segment.ms", "max.message.bytes",
		"index.interval.bytes", "message.timestamp.after.max.ms", "message.timestamp.before.max.ms", "min.insync.replicas"}
	clients := make([]*kgo.Client, len(names))
	for i := range clients {
		clients[i] = testclient.New(t, b.Addr)
	}
	for round := range 5 {
		var wg sync.WaitGroup
		codes := make([]int16, len(names))
		errs := make([]error, len(names))
		ctx := testCtx(t)
		for i, n := range names {
			wg.Go(func() {
				codes[i], _, errs[i] = sendAlterConfigs(ctx, clients[i], false, false, kmsg.ConfigResourceTypeTopic, "busy", set(n, fmt.Sprint(1000+round)))
			})
		}
		wg.Wait()
		for i, c := range codes {
			if errs[i] != nil || c != 0 {
				t.Fatalf("round %d: set %s: %v %v", round, names[i], errs[i], kerr.ErrorForCode(c))
			}
		}
		got := topicConfigs(t, clients[0], "busy")
		for _, n := range names {
			if got[n] != fmt.Sprint(1000+round) {
				t.Fatalf("round %d: %s = %q after concurrent changes, want %d (configs %v)", round, n, got[n], 1000+round, got)
			}
		}
	}
}
