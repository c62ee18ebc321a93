package broker

// users_internal_test.go checks that the SCRAM user APIs need DESCRIBE and
// ALTER on the cluster: with the authorizer on, an anonymous request (no
// connection, no ACL) is refused for every user it names.

import (
	"context"
	"testing"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestUserSCRAMCredentialsNeedClusterACLs(t *testing.T) {
	b, err := Open(Config{DataDir: t.TempDir(), AuthorizerEnabled: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	ctx := context.Background()

	dreq := kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()
	u := kmsg.NewDescribeUserSCRAMCredentialsRequestUser()
	u.Name = "alice"
	dreq.Users = append(dreq.Users, u)
	dresp := b.Handle(ctx, &server.Request{Msg: dreq})(ctx).(*kmsg.DescribeUserSCRAMCredentialsResponse)
	if dresp.ErrorCode != kerr.ClusterAuthorizationFailed.Code || len(dresp.Results) != 1 ||
		dresp.Results[0].ErrorCode != kerr.ClusterAuthorizationFailed.Code {
		t.Errorf("describe: %+v", dresp)
	}

	areq := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	ups := kmsg.NewAlterUserSCRAMCredentialsRequestUpsertion()
	ups.Name, ups.Mechanism, ups.Iterations, ups.Salt, ups.SaltedPassword = "mallory", 1, 4096, []byte("s"), make([]byte, 32)
	del := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
	del.Name, del.Mechanism = "alice", 1
	areq.Upsertions = append(areq.Upsertions, ups)
	areq.Deletions = append(areq.Deletions, del)
	aresp := b.Handle(ctx, &server.Request{Msg: areq})(ctx).(*kmsg.AlterUserSCRAMCredentialsResponse)
	if len(aresp.Results) != 2 {
		t.Fatalf("alter: %+v", aresp)
	}
	for _, r := range aresp.Results {
		if r.ErrorCode != kerr.ClusterAuthorizationFailed.Code {
			t.Errorf("alter %s: code %d", r.User, r.ErrorCode)
		}
	}
	if len(b.Users().List()) != 0 {
		t.Error("a refused upsertion was stored")
	}
}
