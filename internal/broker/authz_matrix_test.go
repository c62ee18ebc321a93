package broker

// authz_matrix_test.go drives every topic and cluster API with real kmsg
// requests as allowed and denied principals (see authz_helpers_test.go)
// and checks the error codes, and that Metadata leaks no topic.

import (
	"testing"

	"github.com/courier-dev/courier/internal/broker/acl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestAuthzProduceFetchOffsets(t *testing.T) {
	b := openAuthzBroker(t, true)
	produce := func(who, topic string) int16 {
		r := kmsg.NewPtrProduceRequest()
		r.Version, r.Acks, r.TimeoutMillis = 9, -1, 5000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = oneRecordBatch()
		rt.Partitions = append(rt.Partitions, rp)
		r.Topics = append(r.Topics, rt)
		return as[*kmsg.ProduceResponse](t, b, who, r).Topics[0].Partitions[0].ErrorCode
	}
	expect(t, "produce alice a-1", produce("alice", "a-1"), nil)
	expect(t, "produce bob a-1 (READ only)", produce("bob", "a-1"), kerr.TopicAuthorizationFailed)
	expect(t, "produce mallory secret", produce("mallory", "secret"), kerr.TopicAuthorizationFailed)
	expect(t, "produce mallory unknown topic", produce("mallory", "nope"), kerr.TopicAuthorizationFailed)
	expect(t, "produce eve secret (denied)", produce("eve", "secret"), kerr.TopicAuthorizationFailed)
	expect(t, "produce eve e", produce("eve", "e"), nil)

	fetch := func(who string, version int16, topic string) int16 {
		r := kmsg.NewPtrFetchRequest()
		r.Version, r.MaxWaitMillis, r.MinBytes, r.MaxBytes = version, 0, 0, 1<<20
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = topic
		rt.TopicID = topicID(t, b, topic)
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.PartitionMaxBytes = 1 << 20
		rt.Partitions = append(rt.Partitions, rp)
		r.Topics = append(r.Topics, rt)
		sp := as[*kmsg.FetchResponse](t, b, who, r).Topics[0].Partitions[0]
		if sp.ErrorCode != 0 && len(sp.RecordBatches) > 0 {
			t.Errorf("fetch %s as %s: records with error", topic, who)
		}
		return sp.ErrorCode
	}
	for _, v := range []int16{12, 13} {
		expect(t, "fetch alice", fetch("alice", v, "a-1"), nil)
		expect(t, "fetch bob (READ)", fetch("bob", v, "a-1"), nil)
		expect(t, "fetch mallory secret", fetch("mallory", v, "secret"), kerr.TopicAuthorizationFailed)
		expect(t, "fetch mallory m-visible (DESCRIBE only)", fetch("mallory", v, "m-visible"), kerr.TopicAuthorizationFailed)
	}

	listOffsets := func(who, topic string) int16 {
		r := kmsg.NewPtrListOffsetsRequest()
		r.Version = 7
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = -1
		rt.Partitions = append(rt.Partitions, rp)
		r.Topics = append(r.Topics, rt)
		return as[*kmsg.ListOffsetsResponse](t, b, who, r).Topics[0].Partitions[0].ErrorCode
	}
	expect(t, "list offsets bob", listOffsets("bob", "a-1"), nil)
	expect(t, "list offsets mallory m-visible", listOffsets("mallory", "m-visible"), nil)
	expect(t, "list offsets mallory secret", listOffsets("mallory", "secret"), kerr.TopicAuthorizationFailed)
	expect(t, "list offsets mallory unknown", listOffsets("mallory", "nope"), kerr.TopicAuthorizationFailed)

	epoch := func(who, topic string) int16 {
		r := kmsg.NewPtrOffsetForLeaderEpochRequest()
		r.Version, r.ReplicaID = 4, -1
		rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		rp.CurrentLeaderEpoch = -1
		rt.Partitions = append(rt.Partitions, rp)
		r.Topics = append(r.Topics, rt)
		return as[*kmsg.OffsetForLeaderEpochResponse](t, b, who, r).Topics[0].Partitions[0].ErrorCode
	}
	expect(t, "epoch bob", epoch("bob", "a-1"), nil)
	expect(t, "epoch mallory", epoch("mallory", "secret"), kerr.TopicAuthorizationFailed)

	initPID := func(who string) int16 {
		r := kmsg.NewPtrInitProducerIDRequest()
		r.Version = 4
		return as[*kmsg.InitProducerIDResponse](t, b, who, r).ErrorCode
	}
	expect(t, "init pid alice (IDEMPOTENT_WRITE via ALL on cluster)", initPID("alice"), nil)
	expect(t, "init pid erin (WRITE on a topic)", initPID("erin"), nil)
	expect(t, "init pid bob (READ only)", initPID("bob"), kerr.ClusterAuthorizationFailed)
	expect(t, "init pid mallory", initPID("mallory"), kerr.ClusterAuthorizationFailed)
}

// metadataTopics returns the topics of a Metadata answer by name (or by id
// when unnamed), with their error codes.
func metadataTopics(resp *kmsg.MetadataResponse) map[string]kmsg.MetadataResponseTopic {
	out := map[string]kmsg.MetadataResponseTopic{}
	for _, mt := range resp.Topics {
		key := "id"
		if mt.Topic != nil {
			key = *mt.Topic
		}
		out[key] = mt
	}
	return out
}

func TestAuthzMetadataLeaksNothing(t *testing.T) {
	b := openAuthzBroker(t, true)
	meta := func(who string, version int16, names ...string) *kmsg.MetadataResponse {
		r := kmsg.NewPtrMetadataRequest()
		r.Version, r.AllowAutoTopicCreation = version, true
		r.IncludeTopicAuthorizedOperations = true
		r.IncludeClusterAuthorizedOperations = version <= 10
		if names != nil {
			r.Topics = []kmsg.MetadataRequestTopic{}
			for _, n := range names {
				rt := kmsg.NewMetadataRequestTopic()
				rt.Topic = kmsg.StringPtr(n)
				r.Topics = append(r.Topics, rt)
			}
		}
		return as[*kmsg.MetadataResponse](t, b, who, r)
	}
	// All topics: each principal sees exactly what it may describe.
	for who, want := range map[string][]string{
		"admin": {"a-1", "a-grow", "e", "m-visible", "secret"}, "alice": {"a-1", "a-grow"},
		"bob": {"a-1"}, "mallory": {"m-visible"}, "dave": nil, "eve": {"a-1", "a-grow", "e", "m-visible"},
	} {
		got := metadataTopics(meta(who, 10))
		if len(got) != len(want) {
			t.Errorf("all topics as %s: got %d topics, want %v", who, len(got), want)
		}
		for _, n := range want {
			if _, ok := got[n]; !ok {
				t.Errorf("all topics as %s: %s missing", who, n)
			}
		}
	}
	// Named: unauthorized topics, existing or not, answer the same.
	got := metadataTopics(meta("mallory", 12, "secret", "nope", "m-visible"))
	expect(t, "metadata mallory secret", got["secret"].ErrorCode, kerr.TopicAuthorizationFailed)
	expect(t, "metadata mallory nope", got["nope"].ErrorCode, kerr.TopicAuthorizationFailed)
	expect(t, "metadata mallory m-visible", got["m-visible"].ErrorCode, nil)
	if len(got["secret"].Partitions) != 0 || got["secret"].TopicID != [16]byte{} {
		t.Error("metadata leaked partitions or id of secret")
	}
	if _, ok := b.topics.Get("nope"); ok {
		t.Error("an unauthorized metadata request auto-created a topic")
	}
	// Auto-creation needs CREATE; DESCRIBE alone is not enough.
	got = metadataTopics(meta("alice", 12, "a-auto"))
	expect(t, "metadata alice auto-create", got["a-auto"].ErrorCode, nil)
	if _, ok := b.topics.Get("a-auto"); !ok {
		t.Error("a-auto not created for alice")
	}
	// By id: the id is echoed, the name is not.
	r := kmsg.NewPtrMetadataRequest()
	r.Version = 12
	rt := kmsg.NewMetadataRequestTopic()
	rt.TopicID = topicID(t, b, "secret")
	r.Topics = []kmsg.MetadataRequestTopic{rt}
	byID := as[*kmsg.MetadataResponse](t, b, "mallory", r).Topics[0]
	expect(t, "metadata mallory by id", byID.ErrorCode, kerr.TopicAuthorizationFailed)
	if byID.Topic != nil {
		t.Errorf("metadata by id leaked the name %q", *byID.Topic)
	}
	// Authorized operations.
	topicOps := acl.OperationBits(acl.SupportedOperations(rtTopic))
	if got := metadataTopics(meta("alice", 10, "a-1"))["a-1"].AuthorizedOperations; got != topicOps {
		t.Errorf("alice's operations on a-1: %b, want %b", got, topicOps)
	}
	if got := metadataTopics(meta("mallory", 10, "m-visible"))["m-visible"].AuthorizedOperations; got != 1<<int32(opDescribe) {
		t.Errorf("mallory's operations on m-visible: %b, want DESCRIBE", got)
	}
	if got := meta("alice", 10).AuthorizedOperations; got != acl.OperationBits(acl.SupportedOperations(rtCluster)) {
		t.Errorf("alice's cluster operations: %b", got)
	}
	if got := meta("mallory", 10).AuthorizedOperations; got != 0 {
		t.Errorf("mallory's cluster operations: %b, want none", got)
	}
}

func TestAuthzTopicAdmin(t *testing.T) {
	b := openAuthzBroker(t, true)
	create := func(who, name string) kmsg.CreateTopicsResponseTopic {
		r := kmsg.NewPtrCreateTopicsRequest()
		r.Version, r.TimeoutMillis = 7, 5000
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, 1, 1
		r.Topics = append(r.Topics, rt)
		return as[*kmsg.CreateTopicsResponse](t, b, who, r).Topics[0]
	}
	expect(t, "create mallory", create("mallory", "m-new").ErrorCode, kerr.TopicAuthorizationFailed)
	expect(t, "create alice (cluster CREATE)", create("alice", "z-new").ErrorCode, nil)
	d := create("dave", "d-new")
	expect(t, "create dave (topic CREATE)", d.ErrorCode, nil)
	expect(t, "create dave: configs without DESCRIBE_CONFIGS", d.ConfigErrorCode, kerr.TopicAuthorizationFailed)
	if len(d.Configs) != 0 {
		t.Error("configs returned without DESCRIBE_CONFIGS")
	}
	expect(t, "create dave outside prefix", create("dave", "x-new").ErrorCode, kerr.TopicAuthorizationFailed)

	grow := func(who, name string) int16 {
		r := kmsg.NewPtrCreatePartitionsRequest()
		r.Version, r.TimeoutMillis = 3, 5000
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic, rt.Count = name, 2
		r.Topics = append(r.Topics, rt)
		return as[*kmsg.CreatePartitionsResponse](t, b, who, r).Topics[0].ErrorCode
	}
	expect(t, "create partitions mallory", grow("mallory", "a-grow"), kerr.TopicAuthorizationFailed)
	expect(t, "create partitions alice", grow("alice", "a-grow"), nil)

	delRecords := func(who, name string) int16 {
		r := kmsg.NewPtrDeleteRecordsRequest()
		r.Version, r.TimeoutMillis = 2, 5000
		rt := kmsg.NewDeleteRecordsRequestTopic()
		rt.Topic = name
		rp := kmsg.NewDeleteRecordsRequestTopicPartition()
		rp.Offset = 0
		rt.Partitions = append(rt.Partitions, rp)
		r.Topics = append(r.Topics, rt)
		return as[*kmsg.DeleteRecordsResponse](t, b, who, r).Topics[0].Partitions[0].ErrorCode
	}
	expect(t, "delete records bob (READ)", delRecords("bob", "a-1"), kerr.TopicAuthorizationFailed)
	expect(t, "delete records alice", delRecords("alice", "a-1"), nil)

	describe := func(who string, rt kmsg.ConfigResourceType, name string) int16 {
		r := kmsg.NewPtrDescribeConfigsRequest()
		r.Version = 4
		rr := kmsg.NewDescribeConfigsRequestResource()
		rr.ResourceType, rr.ResourceName = rt, name
		r.Resources = append(r.Resources, rr)
		return as[*kmsg.DescribeConfigsResponse](t, b, who, r).Resources[0].ErrorCode
	}
	expect(t, "describe configs alice topic", describe("alice", kmsg.ConfigResourceTypeTopic, "a-1"), nil)
	expect(t, "describe configs alice broker", describe("alice", kmsg.ConfigResourceTypeBroker, "1"), nil)
	expect(t, "describe configs bob topic", describe("bob", kmsg.ConfigResourceTypeTopic, "a-1"), kerr.TopicAuthorizationFailed)
	expect(t, "describe configs mallory broker", describe("mallory", kmsg.ConfigResourceTypeBroker, "1"), kerr.ClusterAuthorizationFailed)

	alter := func(who string, rt kmsg.ConfigResourceType, name string) (int16, int16) {
		r := kmsg.NewPtrAlterConfigsRequest()
		r.Version = 2
		rr := kmsg.NewAlterConfigsRequestResource()
		rr.ResourceType, rr.ResourceName = rt, name
		r.Resources = append(r.Resources, rr)
		ir := kmsg.NewPtrIncrementalAlterConfigsRequest()
		ir.Version = 1
		irr := kmsg.NewIncrementalAlterConfigsRequestResource()
		irr.ResourceType, irr.ResourceName = rt, name
		ir.Resources = append(ir.Resources, irr)
		return as[*kmsg.AlterConfigsResponse](t, b, who, r).Resources[0].ErrorCode,
			as[*kmsg.IncrementalAlterConfigsResponse](t, b, who, ir).Resources[0].ErrorCode
	}
	for _, c := range []struct {
		who  string
		rt   kmsg.ConfigResourceType
		name string
		want error
	}{
		{"alice", kmsg.ConfigResourceTypeTopic, "a-1", nil},
		{"alice", kmsg.ConfigResourceTypeBroker, "1", nil}, // allowed: an empty change of the broker's configs
		{"bob", kmsg.ConfigResourceTypeTopic, "a-1", kerr.TopicAuthorizationFailed},
		{"mallory", kmsg.ConfigResourceTypeTopic, "nope", kerr.TopicAuthorizationFailed},
		{"mallory", kmsg.ConfigResourceTypeBroker, "1", kerr.ClusterAuthorizationFailed},
	} {
		a, i := alter(c.who, c.rt, c.name)
		expect(t, "alter configs "+c.who+" "+c.name, a, c.want)
		expect(t, "incremental alter configs "+c.who+" "+c.name, i, c.want)
	}

	logDirs := as[*kmsg.DescribeLogDirsResponse](t, b, "mallory", &kmsg.DescribeLogDirsRequest{Version: 3})
	expect(t, "describe log dirs mallory", logDirs.ErrorCode, kerr.ClusterAuthorizationFailed)
	if len(logDirs.Dirs) != 0 {
		t.Error("log dirs leaked")
	}
	expect(t, "describe log dirs alice", as[*kmsg.DescribeLogDirsResponse](t, b, "alice", &kmsg.DescribeLogDirsRequest{Version: 3}).ErrorCode, nil)
	cluster := func(who string) *kmsg.DescribeClusterResponse {
		return as[*kmsg.DescribeClusterResponse](t, b, who, &kmsg.DescribeClusterRequest{Version: 1, IncludeClusterAuthorizedOperations: true})
	}
	expect(t, "describe cluster mallory", cluster("mallory").ErrorCode, kerr.ClusterAuthorizationFailed)
	if c := cluster("alice"); c.ErrorCode != 0 || c.ClusterAuthorizedOperations != acl.OperationBits(acl.SupportedOperations(rtCluster)) {
		t.Errorf("describe cluster alice: %v, operations %b", kerr.ErrorForCode(c.ErrorCode), c.ClusterAuthorizedOperations)
	}
	av := as[*kmsg.ApiVersionsResponse](t, b, "mallory", &kmsg.ApiVersionsRequest{Version: 3})
	expect(t, "api versions mallory", av.ErrorCode, nil)

	del := func(who string, byID bool, name string) kmsg.DeleteTopicsResponseTopic {
		r := kmsg.NewPtrDeleteTopicsRequest()
		r.Version, r.TimeoutMillis = 6, 5000
		rt := kmsg.NewDeleteTopicsRequestTopic()
		if byID {
			rt.TopicID = topicID(t, b, name)
		} else {
			rt.Topic = kmsg.StringPtr(name)
		}
		r.Topics = append(r.Topics, rt)
		return as[*kmsg.DeleteTopicsResponse](t, b, who, r).Topics[0]
	}
	expect(t, "delete topic mallory by name", del("mallory", false, "secret").ErrorCode, kerr.TopicAuthorizationFailed)
	expect(t, "delete topic mallory unknown", del("mallory", false, "nope").ErrorCode, kerr.TopicAuthorizationFailed)
	byID := del("mallory", true, "secret")
	expect(t, "delete topic mallory by id", byID.ErrorCode, kerr.TopicAuthorizationFailed)
	if byID.Topic != nil {
		t.Errorf("delete by id leaked the name %q", *byID.Topic)
	}
	expect(t, "delete topic bob (READ)", del("bob", false, "a-1").ErrorCode, kerr.TopicAuthorizationFailed)
	expect(t, "delete topic alice", del("alice", true, "a-grow").ErrorCode, nil)
	if _, ok := b.topics.Get("secret"); !ok {
		t.Error("secret was deleted")
	}
}
