package broker_test

// broker_configs_test.go drives the BROKER and BROKER_LOGGER config
// resources over TCP: a cluster-wide default that survives a restart and
// is described and used by topics without their own value, read-only and
// invalid changes refused as Kafka refuses them, loggers' levels listed
// and changed at run time; and the offsets Kafka answers without tiered
// storage (ListOffsets -4, -5, -6), and produce to an internal topic.

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/loglevel"
	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/courier-dev/courier/internal/testkit/testlog"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// describedConfig returns one config of a describe response.
func describedConfig(t *testing.T, rcs kadm.ResourceConfigs, name string) kadm.Config {
	t.Helper()
	if len(rcs) != 1 || rcs[0].Err != nil {
		t.Fatalf("describe: %+v", rcs)
	}
	for _, c := range rcs[0].Configs {
		if c.Key == name {
			return c
		}
	}
	t.Fatalf("%s not described", name)
	return kadm.Config{}
}

func synonymsString(c kadm.Config) string {
	var parts []string
	for _, s := range c.Synonyms {
		v := "null"
		if s.Value != nil {
			v = *s.Value
		}
		parts = append(parts, s.Source.String()+":"+s.Key+"="+v)
	}
	return strings.Join(parts, " ")
}

// TestBrokerDefaultPersistsAndApplies: log.retention.ms set on the
// cluster default is described by a topic without its own retention.ms
// (value, source DYNAMIC_DEFAULT_BROKER_CONFIG, Kafka's synonym chain),
// survives a restart, and is used: retention deletes that topic's old
// segments.
func TestBrokerDefaultPersistsAndApplies(t *testing.T) {
	fast := func(c *run.Config) { c.Broker.RetentionCheckInterval = 50 * time.Millisecond }
	b := testbroker.Start(t, fast)
	adm := kadm.NewClient(testclient.New(t, b.Addr))
	ctx := testCtx(t)
	small, forever := "1024", "-1"
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"internal.segment.bytes": &small}, "plain"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"retention.ms": &forever}, "own"); err != nil {
		t.Fatal(err)
	}
	one := "1"
	resp, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.retention.ms", Value: &one}})
	if err != nil || resp[0].Err != nil {
		t.Fatalf("set log.retention.ms on the cluster default: %v %+v", err, resp)
	}
	check := func(when string) {
		rcs, err := adm.DescribeTopicConfigs(ctx, "plain")
		if err != nil {
			t.Fatal(err)
		}
		c := describedConfig(t, rcs, "retention.ms")
		wantSyn := "DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=1 DEFAULT_CONFIG:log.retention.hours=168"
		if c.MaybeValue() != "1" || c.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig || synonymsString(c) != wantSyn {
			t.Fatalf("%s: retention.ms %q from %v, synonyms %q; want 1 from DYNAMIC_DEFAULT_BROKER_CONFIG, %q",
				when, c.MaybeValue(), c.Source, synonymsString(c), wantSyn)
		}
		rcs, err = adm.DescribeTopicConfigs(ctx, "own")
		if err != nil {
			t.Fatal(err)
		}
		c = describedConfig(t, rcs, "retention.ms")
		if c.MaybeValue() != "-1" || c.Source != kmsg.ConfigSourceDynamicTopicConfig || !strings.HasPrefix(synonymsString(c), "DYNAMIC_TOPIC_CONFIG:retention.ms=-1 DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=1") {
			t.Fatalf("%s: own retention.ms %q from %v, synonyms %q", when, c.MaybeValue(), c.Source, synonymsString(c))
		}
		brs, err := adm.DescribeBrokerConfigs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c := describedConfig(t, brs, "log.retention.ms"); c.MaybeValue() != "1" || c.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig || len(brs[0].Configs) != 1 {
			t.Fatalf("%s: cluster default configs %+v", when, brs[0].Configs)
		}
	}
	check("before restart")
	b.Stop(t)
	b = testbroker.StartAt(t, b.DataDir, fast)
	cl := testclient.New(t, b.Addr, kgo.DefaultProduceTopic("plain"), kgo.ProducerLinger(0))
	adm = kadm.NewClient(cl)
	check("after restart")

	for i := range 12 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(strings.Repeat("x", 400) + string(rune('a'+i)))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	testwait.For(t, 10*time.Second, "retention of plain's old segments under the broker default", func() string {
		starts, err := adm.ListStartOffsets(ctx, "plain")
		if err != nil {
			return err.Error()
		}
		if o, _ := starts.Lookup("plain", 0); o.Offset == 0 {
			return "log start offset still 0"
		}
		return ""
	})
}

// TestBrokerConfigsRefused: read-only configs, invalid values, unknown
// names and unknown brokers are refused as Kafka refuses them.
func TestBrokerConfigsRefused(t *testing.T) {
	b := testbroker.Start(t)
	adm := kadm.NewClient(testclient.New(t, b.Addr))
	ctx := testCtx(t)
	cases := []struct {
		name, value string
		brokers     []int32
		err         error
		msg         string
	}{
		{"log.dirs", "/tmp", nil, kerr.InvalidRequest, "Invalid config value for resource ConfigResource(type=BROKER, name=''): Cannot update these configs dynamically: Set(log.dirs)"},
		{"log.retention.hours", "1", []int32{1}, kerr.InvalidRequest, "Invalid config value for resource ConfigResource(type=BROKER, name='1'): Cannot update these configs dynamically: Set(log.retention.hours)"},
		{"log.retention.ms", "soon", nil, kerr.InvalidRequest, "Invalid config value for resource ConfigResource(type=BROKER, name=''): Invalid value soon for configuration log.retention.ms: Not a number of type LONG"},
		{"log.cleanup.policy", "shred", nil, kerr.InvalidRequest, "Invalid config value for resource ConfigResource(type=BROKER, name=''): Invalid value shred for configuration log.cleanup.policy: String must be one of: compact, delete"},
		{"no.such.config", "1", nil, kerr.InvalidConfig, "Unknown broker config name: no.such.config"},
		{"log.segment.bytes", "2097152", []int32{1}, nil, ""},
	}
	for _, c := range cases {
		resp, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: c.name, Value: &c.value}}, c.brokers...)
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(resp[0].Err, c.err) || resp[0].ErrMessage != c.msg {
			t.Errorf("%s=%s: %v %q, want %v %q", c.name, c.value, resp[0].Err, resp[0].ErrMessage, c.err, c.msg)
		}
	}
	brs, err := adm.DescribeBrokerConfigs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c := describedConfig(t, brs, "log.segment.bytes"); c.MaybeValue() != "2097152" || c.Source != kmsg.ConfigSourceDynamicBrokerConfig {
		t.Errorf("log.segment.bytes set on broker 1: %q from %v", c.MaybeValue(), c.Source)
	}
	if c := describedConfig(t, brs, "log.retention.ms"); c.Value != nil || c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("log.retention.ms unset: %v from %v, want null from DEFAULT_CONFIG", c.Value, c.Source)
	}
	if c := describedConfig(t, brs, "log.retention.hours"); c.MaybeValue() != "168" || synonymsString(c) != "DEFAULT_CONFIG:log.retention.hours=168" {
		t.Errorf("log.retention.hours: %q, synonyms %q", c.MaybeValue(), synonymsString(c))
	}
	// The cluster default list config takes APPEND like a topic's.
	compact := "compact"
	if resp, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.AppendConfig, Name: "log.cleanup.policy", Value: &compact}}); err != nil || resp[0].Err != nil {
		t.Fatalf("append to log.cleanup.policy: %v %+v", err, resp)
	}
	testclient.CreateTopic(t, b.Addr, "inherits", 1, nil)
	rcs, err := adm.DescribeTopicConfigs(ctx, "inherits")
	if err != nil {
		t.Fatal(err)
	}
	if c := describedConfig(t, rcs, "cleanup.policy"); c.MaybeValue() != "delete,compact" || c.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
		t.Errorf("cleanup.policy of a topic without its own: %q from %v", c.MaybeValue(), c.Source)
	}
}

// loggerLevels describes the broker's loggers.
func loggerLevels(t *testing.T, cl *kgo.Client) map[string]string {
	t.Helper()
	req := kmsg.NewPtrDescribeConfigsRequest()
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeBrokerLogger, "1"
	req.Resources = append(req.Resources, rr)
	resp, err := req.RequestWith(testCtx(t), cl)
	if err != nil || resp.Resources[0].ErrorCode != 0 {
		t.Fatalf("describe loggers: %v %v", err, kerr.ErrorForCode(resp.Resources[0].ErrorCode))
	}
	out := map[string]string{}
	for _, c := range resp.Resources[0].Configs {
		out[c.Name] = *c.Value
	}
	return out
}

// alterLogger sends one IncrementalAlterConfigs (or, legacy, AlterConfigs)
// change of a logger and returns the error code and message.
func alterLogger(t *testing.T, cl *kgo.Client, legacy bool, op kmsg.IncrementalAlterConfigOp, name, level string) (int16, string) {
	t.Helper()
	code, msg, err := sendAlterConfigs(testCtx(t), cl, legacy, false, kmsg.ConfigResourceTypeBrokerLogger, "1", cfgOp{name, op, &level})
	if err != nil {
		t.Fatal(err)
	}
	return code, msg
}

// TestBrokerLoggers: the loggers are listed with their levels; raising
// courier.broker to DEBUG makes its debug lines appear (a refused
// produce to an internal topic logs one), DELETE returns it to the root's
// level; Kafka's refusals otherwise. Produce to __consumer_offsets is
// INVALID_TOPIC_EXCEPTION, and the topic is internal in Metadata.
func TestBrokerLoggers(t *testing.T) {
	var logs testlog.Buffer
	levels := loglevel.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: loglevel.LevelTrace}), slog.LevelInfo)
	b := testbroker.Start(t, func(c *run.Config) { c.Broker.LogLevels, c.Broker.Logger = levels, levels.Logger(loglevel.Root) })
	cl := testclient.New(t, b.Addr, kgo.RecordRetries(0), kgo.ProducerLinger(0))
	adm := kadm.NewClient(cl)
	ctx := testCtx(t)

	got := loggerLevels(t, cl)
	for _, name := range []string{"root", "courier.broker", "courier.storage", "courier.group", "courier.server", "courier.topics"} {
		if got[name] != "INFO" {
			t.Errorf("logger %s: %q, want INFO (all: %v)", name, got[name], got)
		}
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "__consumer_offsets"); err != nil {
		t.Fatalf("create __consumer_offsets: %v", err)
	}
	if details, err := adm.ListTopicsWithInternal(ctx, "__consumer_offsets"); err != nil || !details["__consumer_offsets"].IsInternal {
		t.Fatalf("__consumer_offsets not internal in Metadata: %v %+v", err, details)
	}
	produce := func() {
		err := cl.ProduceSync(ctx, &kgo.Record{Topic: "__consumer_offsets", Value: []byte("x")}).FirstErr()
		if !errors.Is(err, kerr.InvalidTopicException) {
			t.Fatalf("produce to __consumer_offsets: %v, want INVALID_TOPIC_EXCEPTION", err)
		}
	}
	debugLine := "level=DEBUG msg=\"produced batch refused\""
	produce()
	if strings.Contains(logs.String(), debugLine) {
		t.Fatal("a debug line at level INFO")
	}
	if code, msg := alterLogger(t, cl, false, kmsg.IncrementalAlterConfigOpSet, "courier.broker", "DEBUG"); code != 0 {
		t.Fatalf("set courier.broker DEBUG: %v %s", kerr.ErrorForCode(code), msg)
	}
	if got := loggerLevels(t, cl); got["courier.broker"] != "DEBUG" || got["root"] != "INFO" {
		t.Fatalf("after SET: %v", got)
	}
	produce()
	if !strings.Contains(logs.String(), debugLine) || !strings.Contains(logs.String(), "Cannot append to internal topic __consumer_offsets") {
		t.Fatalf("no debug line after raising the level:\n%s", logs.String())
	}
	if code, msg := alterLogger(t, cl, false, kmsg.IncrementalAlterConfigOpDelete, "courier.broker", ""); code != 0 {
		t.Fatalf("delete courier.broker: %v %s", kerr.ErrorForCode(code), msg)
	}
	if got := loggerLevels(t, cl); got["courier.broker"] != "INFO" {
		t.Fatalf("after DELETE: %v", got)
	}
	refusals := []struct {
		legacy      bool
		op          kmsg.IncrementalAlterConfigOp
		name, level string
		code        int16
		msg         string
	}{
		{false, kmsg.IncrementalAlterConfigOpDelete, "root", "", kerr.InvalidRequest.Code, "Removing the log level of the root logger is not allowed"},
		{false, kmsg.IncrementalAlterConfigOpSet, "courier.broker", "LOUD", kerr.InvalidConfig.Code, "Cannot set the log level of courier.broker to LOUD as it is not a supported log level. Valid log levels are FATAL, ERROR, WARN, INFO, DEBUG, TRACE"},
		{false, kmsg.IncrementalAlterConfigOpSet, "kafka.server", "DEBUG", kerr.InvalidConfig.Code, "Logger kafka.server does not exist!"},
		{false, kmsg.IncrementalAlterConfigOpAppend, "root", "DEBUG", kerr.InvalidRequest.Code, "APPEND operation is not allowed for the BROKER_LOGGER resource"},
		{true, 0, "root", "DEBUG", kerr.InvalidRequest.Code, "AlterConfigs is deprecated and does not support the resource type BROKER_LOGGER"},
	}
	for _, r := range refusals {
		if code, msg := alterLogger(t, cl, r.legacy, r.op, r.name, r.level); code != r.code || msg != r.msg {
			t.Errorf("%v %s %s: %v %q, want %v %q", r.op, r.name, r.level, kerr.ErrorForCode(code), msg, kerr.ErrorForCode(r.code), r.msg)
		}
	}
}

// TestListOffsetsTieredTimestamps: without tiered storage, earliest local
// (-4) is the log start offset, latest tiered (-5) and earliest pending
// upload (-6) are -1 with epoch -1; a timestamp the request's version
// does not carry is UNSUPPORTED_VERSION.
func TestListOffsetsTieredTimestamps(t *testing.T) {
	b := testbroker.Start(t)
	cl := testclient.New(t, b.Addr, kgo.DefaultProduceTopic("tiers"))
	adm := kadm.NewClient(cl)
	ctx := testCtx(t)
	testclient.CreateTopic(t, b.Addr, "tiers", 1, nil)
	for range 3 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := adm.DeleteRecords(ctx, kadm.Offsets{"tiers": {0: {At: 1}}}); err != nil {
		t.Fatal(err)
	}
	list := func(cl *kgo.Client, ts int64) kmsg.ListOffsetsResponseTopicPartition {
		req := kmsg.NewPtrListOffsetsRequest()
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "tiers"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = ts
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0].Partitions[0]
	}
	for _, c := range []struct {
		ts            int64
		offset, epoch int64
	}{{-4, 1, 0}, {-5, -1, -1}, {-6, -1, -1}, {-2, 1, 0}} {
		p := list(cl, c.ts)
		epoch := int64(p.LeaderEpoch)
		if p.ErrorCode != 0 || p.Offset != c.offset || p.Timestamp != -1 || (c.epoch < 0) != (epoch < 0) {
			t.Errorf("timestamp %d: offset %d epoch %d ts %d %v, want offset %d, epoch %s", c.ts, p.Offset, epoch, p.Timestamp,
				kerr.ErrorForCode(p.ErrorCode), c.offset, map[bool]string{true: "-1", false: ">= 0"}[c.epoch < 0])
		}
	}
	vs := kversion.Stable()
	vs.SetMaxKeyVersion(kmsg.ListOffsets.Int16(), 7)
	old := testclient.New(t, b.Addr, kgo.MaxVersions(vs))
	for _, ts := range []int64{-4, -5, -6} {
		if p := list(old, ts); p.ErrorCode != kerr.UnsupportedVersion.Code {
			t.Errorf("v7 with timestamp %d: %v, want UNSUPPORTED_VERSION", ts, kerr.ErrorForCode(p.ErrorCode))
		}
	}
	if p := list(old, -3); p.ErrorCode != 0 {
		t.Errorf("v7 with timestamp -3: %v", kerr.ErrorForCode(p.ErrorCode))
	}
}
