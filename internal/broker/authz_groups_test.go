package broker

// authz_groups_test.go drives the group APIs and the ACL APIs as allowed
// and denied principals (see authz_helpers_test.go), checks that
// ListGroups, DescribeGroups and OffsetFetch leak nothing, and that with
// the authorizer off everything is allowed and the ACL APIs answer
// SECURITY_DISABLED.

import (
	"sort"
	"testing"

	"github.com/courier-dev/courier/internal/broker/acl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestAuthzGroups(t *testing.T) {
	b := openAuthzBroker(t, true)
	commit := func(who, grp, topic string) kmsg.OffsetCommitResponseTopicPartition {
		r := kmsg.NewPtrOffsetCommitRequest()
		r.Version, r.Group, r.Generation = 8, grp, -1
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = topic
		rt.Partitions = append(rt.Partitions, kmsg.NewOffsetCommitRequestTopicPartition())
		r.Topics = append(r.Topics, rt)
		return as[*kmsg.OffsetCommitResponse](t, b, who, r).Topics[0].Partitions[0]
	}
	expect(t, "commit bob g-1 a-1", commit("bob", "g-1", "a-1").ErrorCode, nil)
	expect(t, "commit bob g-1 secret", commit("bob", "g-1", "secret").ErrorCode, kerr.TopicAuthorizationFailed)
	expect(t, "commit bob g-2", commit("bob", "g-2", "a-1").ErrorCode, kerr.GroupAuthorizationFailed)
	expect(t, "commit mallory", commit("mallory", "g-1", "m-visible").ErrorCode, kerr.GroupAuthorizationFailed)

	// OffsetFetch, all topics (v7 and v8+): bob sees a-1's offset, not secret's.
	r7 := kmsg.NewPtrOffsetFetchRequest()
	r7.Version, r7.Group = 7, "g-1"
	f7 := as[*kmsg.OffsetFetchResponse](t, b, "bob", r7)
	if f7.ErrorCode != 0 || len(f7.Topics) != 1 || f7.Topics[0].Topic != "a-1" {
		t.Errorf("offset fetch v7 all topics as bob: %v %+v", kerr.ErrorForCode(f7.ErrorCode), f7.Topics)
	}
	expect(t, "offset fetch v7 mallory", as[*kmsg.OffsetFetchResponse](t, b, "mallory", r7).ErrorCode, kerr.GroupAuthorizationFailed)
	r1 := kmsg.NewPtrOffsetFetchRequest()
	r1.Version, r1.Group = 1, "g-1"
	r1.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "a-1", Partitions: []int32{0}}}
	f1 := as[*kmsg.OffsetFetchResponse](t, b, "mallory", r1)
	expect(t, "offset fetch v1 mallory", f1.Topics[0].Partitions[0].ErrorCode, kerr.GroupAuthorizationFailed)
	r8 := kmsg.NewPtrOffsetFetchRequest()
	r8.Version = 8
	rg := kmsg.NewOffsetFetchRequestGroup()
	rg.Group = "g-1"
	r8.Groups = []kmsg.OffsetFetchRequestGroup{rg}
	f8 := as[*kmsg.OffsetFetchResponse](t, b, "bob", r8).Groups[0]
	if f8.ErrorCode != 0 || len(f8.Topics) != 1 || f8.Topics[0].Topic != "a-1" {
		t.Errorf("offset fetch v8 all topics as bob: %v %+v", kerr.ErrorForCode(f8.ErrorCode), f8.Topics)
	}
	if g := as[*kmsg.OffsetFetchResponse](t, b, "mallory", r8).Groups[0]; g.ErrorCode != kerr.GroupAuthorizationFailed.Code || len(g.Topics) != 0 {
		t.Errorf("offset fetch v8 as mallory: %v, %d topics", kerr.ErrorForCode(g.ErrorCode), len(g.Topics))
	}
	rg.Topics = []kmsg.OffsetFetchRequestGroupTopic{{Topic: "secret", Partitions: []int32{0}}}
	r8.Groups = []kmsg.OffsetFetchRequestGroup{rg}
	p := as[*kmsg.OffsetFetchResponse](t, b, "bob", r8).Groups[0].Topics[0].Partitions[0]
	expect(t, "offset fetch bob named secret", p.ErrorCode, kerr.TopicAuthorizationFailed)
	if p.Offset != -1 {
		t.Errorf("offset fetch leaked secret's offset %d", p.Offset)
	}

	coord := func(who, key string) int16 {
		r := kmsg.NewPtrFindCoordinatorRequest()
		r.Version, r.CoordinatorKeys = 4, []string{key}
		return as[*kmsg.FindCoordinatorResponse](t, b, who, r).Coordinators[0].ErrorCode
	}
	expect(t, "find coordinator bob", coord("bob", "g-1"), nil)
	expect(t, "find coordinator mallory", coord("mallory", "g-1"), kerr.GroupAuthorizationFailed)

	join := kmsg.NewPtrJoinGroupRequest()
	join.Version, join.Group, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis, join.ProtocolType = 5, "g-1", 10000, 10000, "consumer"
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range"}}
	expect(t, "join bob", as[*kmsg.JoinGroupResponse](t, b, "bob", join).ErrorCode, kerr.MemberIDRequired)
	expect(t, "join mallory", as[*kmsg.JoinGroupResponse](t, b, "mallory", join).ErrorCode, kerr.GroupAuthorizationFailed)
	hb := &kmsg.HeartbeatRequest{Version: 3, Group: "g-1", MemberID: "m", Generation: 1}
	notAuthErr(t, "heartbeat bob", as[*kmsg.HeartbeatResponse](t, b, "bob", hb).ErrorCode)
	expect(t, "heartbeat mallory", as[*kmsg.HeartbeatResponse](t, b, "mallory", hb).ErrorCode, kerr.GroupAuthorizationFailed)
	sync := &kmsg.SyncGroupRequest{Version: 3, Group: "g-1", MemberID: "m", Generation: 1}
	notAuthErr(t, "sync bob", as[*kmsg.SyncGroupResponse](t, b, "bob", sync).ErrorCode)
	expect(t, "sync mallory", as[*kmsg.SyncGroupResponse](t, b, "mallory", sync).ErrorCode, kerr.GroupAuthorizationFailed)
	leave := &kmsg.LeaveGroupRequest{Version: 3, Group: "g-1", Members: []kmsg.LeaveGroupRequestMember{{MemberID: "m"}}}
	notAuthErr(t, "leave bob", as[*kmsg.LeaveGroupResponse](t, b, "bob", leave).ErrorCode)
	expect(t, "leave mallory", as[*kmsg.LeaveGroupResponse](t, b, "mallory", leave).ErrorCode, kerr.GroupAuthorizationFailed)

	// DescribeGroups: per group; nothing about a group leaks.
	dg := &kmsg.DescribeGroupsRequest{Version: 5, Groups: []string{"g-1"}, IncludeAuthorizedOperations: true}
	d := as[*kmsg.DescribeGroupsResponse](t, b, "bob", dg).Groups[0]
	if d.ErrorCode != 0 || d.AuthorizedOperations != acl.OperationBits([]kmsg.ACLOperation{opRead, opDescribe}) {
		t.Errorf("describe group as bob: %v, operations %b", kerr.ErrorForCode(d.ErrorCode), d.AuthorizedOperations)
	}
	d = as[*kmsg.DescribeGroupsResponse](t, b, "mallory", dg).Groups[0]
	expect(t, "describe group mallory", d.ErrorCode, kerr.GroupAuthorizationFailed)
	if d.State != "" || len(d.Members) != 0 || d.Group != "g-1" {
		t.Errorf("describe group leaked: %+v", d)
	}

	// ListGroups: cluster DESCRIBE lists all, else only describable groups.
	expect(t, "commit alice g-2", commit("alice", "g-2", "a-1").ErrorCode, nil)
	for who, want := range map[string][]string{"admin": {"g-1", "g-2"}, "alice": {"g-1", "g-2"}, "bob": {"g-1"}, "mallory": nil} {
		lg := as[*kmsg.ListGroupsResponse](t, b, who, &kmsg.ListGroupsRequest{Version: 4})
		var got []string
		for _, g := range lg.Groups {
			got = append(got, g.Group)
		}
		sort.Strings(got)
		if len(got) != len(want) || (len(want) > 0 && got[0] != want[0]) || (len(want) > 1 && got[1] != want[1]) {
			t.Errorf("list groups as %s: %v, want %v", who, got, want)
		}
	}

	od := func(who, grp, topic string) *kmsg.OffsetDeleteResponse {
		r := &kmsg.OffsetDeleteRequest{Group: grp}
		r.Topics = []kmsg.OffsetDeleteRequestTopic{{Topic: topic, Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}}}
		return as[*kmsg.OffsetDeleteResponse](t, b, who, r)
	}
	expect(t, "offset delete bob (READ)", od("bob", "g-1", "a-1").ErrorCode, kerr.GroupAuthorizationFailed)
	o := od("alice", "g-1", "secret")
	expect(t, "offset delete alice secret", o.Topics[0].Partitions[0].ErrorCode, kerr.TopicAuthorizationFailed)
	if !committed(b, "g-1", "secret") {
		t.Error("offset delete removed an offset of an unauthorized topic")
	}
	expect(t, "offset delete alice a-1", od("alice", "g-1", "a-1").Topics[0].Partitions[0].ErrorCode, nil)

	dgr := func(who, grp string) int16 {
		return as[*kmsg.DeleteGroupsResponse](t, b, who, &kmsg.DeleteGroupsRequest{Version: 2, Groups: []string{grp}}).Groups[0].ErrorCode
	}
	expect(t, "delete group bob (READ)", dgr("bob", "g-1"), kerr.GroupAuthorizationFailed)
	expect(t, "delete group mallory unknown", dgr("mallory", "nope"), kerr.GroupAuthorizationFailed)
	expect(t, "delete group alice", dgr("alice", "g-2"), nil)
}

func TestAuthzACLAPIs(t *testing.T) {
	b := openAuthzBroker(t, true)
	create := &kmsg.CreateACLsRequest{Version: 3, Creations: []kmsg.CreateACLsRequestCreation{{
		ResourceType: rtTopic, ResourceName: "t", ResourcePatternType: kmsg.ACLResourcePatternTypeLiteral,
		Principal: "User:zed", Host: "*", Operation: opRead, PermissionType: kmsg.ACLPermissionTypeAllow,
	}, {
		ResourceType: rtTopic, ResourceName: "t", ResourcePatternType: kmsg.ACLResourcePatternTypeMatch,
		Principal: "User:zed", Host: "*", Operation: opRead, PermissionType: kmsg.ACLPermissionTypeAllow,
	}}}
	cr := as[*kmsg.CreateACLsResponse](t, b, "mallory", create)
	expect(t, "create ACLs mallory", cr.Results[0].ErrorCode, kerr.ClusterAuthorizationFailed)
	cr = as[*kmsg.CreateACLsResponse](t, b, "alice", create)
	expect(t, "create ACLs alice", cr.Results[0].ErrorCode, nil)
	expect(t, "create ACLs alice, MATCH pattern", cr.Results[1].ErrorCode, kerr.InvalidRequest)

	describe := &kmsg.DescribeACLsRequest{Version: 3, ResourceType: kmsg.ACLResourceTypeAny, ResourcePatternType: kmsg.ACLResourcePatternTypeAny,
		Principal: kmsg.StringPtr("User:zed"), Operation: kmsg.ACLOperationAny, PermissionType: kmsg.ACLPermissionTypeAny}
	expect(t, "describe ACLs mallory", as[*kmsg.DescribeACLsResponse](t, b, "mallory", describe).ErrorCode, kerr.ClusterAuthorizationFailed)
	dr := as[*kmsg.DescribeACLsResponse](t, b, "alice", describe)
	if dr.ErrorCode != 0 || len(dr.Resources) != 1 || dr.Resources[0].ResourceName != "t" || len(dr.Resources[0].ACLs) != 1 {
		t.Fatalf("describe ACLs alice: %v %+v", kerr.ErrorForCode(dr.ErrorCode), dr.Resources)
	}
	conn := func(who string) bool { return b.acls.Authorize(userOf(who), "127.0.0.1", opRead, rtTopic, "t") }
	if !conn("zed") {
		t.Error("the created ACL does not apply")
	}

	del := &kmsg.DeleteACLsRequest{Version: 3, Filters: []kmsg.DeleteACLsRequestFilter{{
		ResourceType: kmsg.ACLResourceTypeAny, ResourcePatternType: kmsg.ACLResourcePatternTypeAny,
		Principal: kmsg.StringPtr("User:zed"), Operation: kmsg.ACLOperationAny, PermissionType: kmsg.ACLPermissionTypeAny,
	}}}
	expect(t, "delete ACLs mallory", as[*kmsg.DeleteACLsResponse](t, b, "mallory", del).Results[0].ErrorCode, kerr.ClusterAuthorizationFailed)
	if !conn("zed") {
		t.Error("a refused delete removed the ACL")
	}
	res := as[*kmsg.DeleteACLsResponse](t, b, "alice", del).Results[0]
	if res.ErrorCode != 0 || len(res.MatchingACLs) != 1 {
		t.Fatalf("delete ACLs alice: %v %+v", kerr.ErrorForCode(res.ErrorCode), res.MatchingACLs)
	}
	if conn("zed") {
		t.Error("the deleted ACL still applies")
	}
}

func TestAuthzDisabled(t *testing.T) {
	b := openAuthzBroker(t, false)
	r := kmsg.NewPtrMetadataRequest()
	r.Version = 12
	if got := len(as[*kmsg.MetadataResponse](t, b, "mallory", r).Topics); got != 5 {
		t.Errorf("metadata without authorizer: %d topics, want 5", got)
	}
	expect(t, "delete group", as[*kmsg.DeleteGroupsResponse](t, b, "mallory", &kmsg.DeleteGroupsRequest{Version: 2, Groups: []string{"nope"}}).Groups[0].ErrorCode, kerr.GroupIDNotFound)
	dr := as[*kmsg.DescribeACLsResponse](t, b, "admin", &kmsg.DescribeACLsRequest{Version: 3, ResourceType: kmsg.ACLResourceTypeAny,
		ResourcePatternType: kmsg.ACLResourcePatternTypeAny, Operation: kmsg.ACLOperationAny, PermissionType: kmsg.ACLPermissionTypeAny})
	expect(t, "describe ACLs", dr.ErrorCode, kerr.SecurityDisabled)
	cr := as[*kmsg.CreateACLsResponse](t, b, "admin", &kmsg.CreateACLsRequest{Version: 3, Creations: make([]kmsg.CreateACLsRequestCreation, 1)})
	expect(t, "create ACLs", cr.Results[0].ErrorCode, kerr.SecurityDisabled)
	del := as[*kmsg.DeleteACLsResponse](t, b, "admin", &kmsg.DeleteACLsRequest{Version: 3, Filters: make([]kmsg.DeleteACLsRequestFilter, 1)})
	expect(t, "delete ACLs", del.Results[0].ErrorCode, kerr.SecurityDisabled)
	dg := as[*kmsg.DescribeGroupsResponse](t, b, "mallory", &kmsg.DescribeGroupsRequest{Version: 5, Groups: []string{"g-1"}, IncludeAuthorizedOperations: true}).Groups[0]
	if want := acl.OperationBits(acl.SupportedOperations(rtGroup)); dg.AuthorizedOperations != want {
		t.Errorf("group operations without authorizer: %b, want %b", dg.AuthorizedOperations, want)
	}
}
