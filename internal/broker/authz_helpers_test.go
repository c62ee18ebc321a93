package broker

// authz_helpers_test.go sets up the authorization matrix tests: a broker
// with the authorizer on, a fixed set of ACLs and principals, and a way to
// send it a kmsg request as any principal without a network.

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"net"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/acl"
	"github.com/courier-dev/courier/internal/broker/auth"
	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The principals of the matrix:
//   - admin: a super user;
//   - alice: ALL on topics "a-*", groups "g-*" and the cluster;
//   - bob: READ on topic a-1 and group g-1 only;
//   - dave: CREATE on topics "d-*" only;
//   - erin: WRITE on topic "e" only (KIP-679: enough to be idempotent);
//   - mallory: DESCRIBE on topic m-visible only;
//   - eve: ALL on everything, but every operation on topic "secret" denied.
func matrixACLs() []acl.Binding {
	b := func(who string, perm kmsg.ACLPermissionType, op kmsg.ACLOperation, rt kmsg.ACLResourceType, pt kmsg.ACLResourcePatternType, name string) acl.Binding {
		return acl.Binding{Principal: "User:" + who, Host: "*", Permission: perm, Operation: op, ResourceType: rt, PatternType: pt, ResourceName: name}
	}
	allow, deny := kmsg.ACLPermissionTypeAllow, kmsg.ACLPermissionTypeDeny
	lit, pre := kmsg.ACLResourcePatternTypeLiteral, kmsg.ACLResourcePatternTypePrefixed
	all := kmsg.ACLOperationAll
	return []acl.Binding{
		b("alice", allow, all, rtTopic, pre, "a-"),
		b("alice", allow, all, rtGroup, pre, "g-"),
		b("alice", allow, all, rtCluster, lit, acl.ClusterName),
		b("bob", allow, opRead, rtTopic, lit, "a-1"),
		b("bob", allow, opRead, rtGroup, lit, "g-1"),
		b("dave", allow, opCreate, rtTopic, pre, "d-"),
		b("erin", allow, opWrite, rtTopic, lit, "e"),
		b("mallory", allow, opDescribe, rtTopic, lit, "m-visible"),
		b("eve", allow, all, rtTopic, lit, "*"),
		b("eve", allow, all, rtGroup, lit, "*"),
		b("eve", deny, all, rtTopic, lit, "secret"),
	}
}

// openAuthzBroker opens a broker with the authorizer enabled (or not),
// the matrix's ACLs, and topics a-1, secret, m-visible, a-grow, with
// offsets committed by group g-1 for a-1 and secret.
func openAuthzBroker(t *testing.T, enabled bool) *Broker {
	t.Helper()
	b, err := Open(Config{
		DataDir: t.TempDir(), AuthorizerEnabled: enabled, SuperUsers: []string{"User:admin"},
		AutoCreateTopics: true, GroupInitialRebalanceDelay: 0,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	for i, err := range b.acls.Create(matrixACLs()) {
		if err != nil {
			t.Fatalf("ACL %d: %v", i, err)
		}
	}
	for _, name := range []string{"a-1", "secret", "m-visible", "a-grow", "e"} {
		if _, err := b.createTopic(name, 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	oc := kmsg.NewPtrOffsetCommitRequest()
	oc.Version, oc.Group, oc.Generation = 8, "g-1", -1
	for _, topic := range []string{"a-1", "secret"} {
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Offset = 0
		rt.Partitions = append(rt.Partitions, rp)
		oc.Topics = append(oc.Topics, rt)
	}
	resp := as[*kmsg.OffsetCommitResponse](t, b, "admin", oc)
	for _, rt := range resp.Topics {
		if c := rt.Partitions[0].ErrorCode; c != 0 {
			t.Fatalf("setup commit %s: %v", rt.Topic, kerr.ErrorForCode(c))
		}
	}
	return b
}

// as sends req to b as User:who from 127.0.0.1 and returns the response.
func as[R kmsg.Response](t *testing.T, b *Broker, who string, req kmsg.Request) R {
	t.Helper()
	conn := &server.ConnInfo{ID: 1, Remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, Local: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9092}}
	conn.SetPrincipal(auth.User(who))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sreq := &server.Request{Msg: req, Conn: conn, Received: time.Now()}
	resp := b.Handle(ctx, sreq)(ctx)
	sreq.Finish() // gives back what a fetch held: the response is not written
	r, ok := resp.(R)
	if !ok {
		t.Fatalf("%s as %s: response %T", kmsg.NameForKey(req.Key()), who, resp)
	}
	return r
}

// expect fails the test unless code is want (nil: no error).
func expect(t *testing.T, what string, code int16, want error) {
	t.Helper()
	var wantCode int16
	if want != nil {
		wantCode = want.(*kerr.Error).Code
	}
	if code != wantCode {
		t.Errorf("%s: got %v, want %v", what, kerr.ErrorForCode(code), want)
	}
}

// notAuthErr fails the test if code is an authorization failure.
func notAuthErr(t *testing.T, what string, code int16) {
	t.Helper()
	switch code {
	case kerr.TopicAuthorizationFailed.Code, kerr.GroupAuthorizationFailed.Code, kerr.ClusterAuthorizationFailed.Code:
		t.Errorf("%s: got %v", what, kerr.ErrorForCode(code))
	}
}

// oneRecordBatch is a valid, non-idempotent v2 batch with one record.
func oneRecordBatch() []byte { return recordBatch([]byte("v")) }

// recordBatch is a valid, non-idempotent v2 batch with one record of value.
func recordBatch(value []byte) []byte {
	rec := kmsg.Record{Value: value}
	rec.Length = int32(len(rec.AppendTo(nil)) - 1) // the record's own length, less its one-byte zero placeholder
	now := time.Now().UnixMilli()
	rb := kmsg.RecordBatch{Magic: 2, ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: 1,
		FirstTimestamp: now, MaxTimestamp: now, Records: rec.AppendTo(nil)}
	raw := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

// topicID is a topic's id.
func topicID(t *testing.T, b *Broker, name string) [16]byte {
	t.Helper()
	tp, ok := b.topics.Get(name)
	if !ok {
		t.Fatalf("no topic %s", name)
	}
	return tp.ID
}

// committed reports whether group has an offset for topic.
func committed(b *Broker, groupID, topic string) bool {
	offs, _ := b.groups.FetchOffsets(groupID)
	_, ok := offs[group.TopicPartition{Topic: topic, Partition: 0}]
	return ok
}

// userOf is the principal User:who.
func userOf(who string) auth.Principal { return auth.User(who) }
