package broker_test

// users_test.go drives DescribeUserScramCredentials and
// AlterUserScramCredentials (KIP-554) with kadm, as Kafka's tools would,
// and with raw requests for the errors kadm would not let through; the
// credentials must survive a restart and verify the passwords given.

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/broker"
	"github.com/courier-dev/courier/internal/broker/users"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// credInfos flattens a described user's credentials.
func credInfos(d kadm.DescribedUserSCRAM) []string {
	var out []string
	for _, c := range d.CredInfos {
		out = append(out, c.Mechanism.String()+"/"+strconv.Itoa(int(c.Iterations)))
	}
	slices.Sort(out)
	return out
}

func TestUserSCRAMCredentials(t *testing.T) {
	dir := t.TempDir()
	b := testbroker.StartAt(t, dir)
	adm := kadm.NewClient(testclient.New(t, b.Addr))
	ctx := testCtx(t)

	if ds, err := adm.DescribeUserSCRAMs(ctx); err != nil || len(ds) != 0 {
		t.Fatalf("describe with no users: %v, %v", ds, err)
	}
	alter := func(del []kadm.DeleteSCRAM, ups []kadm.UpsertSCRAM) kadm.AlteredUserSCRAMs {
		t.Helper()
		res, err := adm.AlterUserSCRAMs(ctx, del, ups)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := alter(nil, []kadm.UpsertSCRAM{
		{User: "alice", Mechanism: kadm.ScramSha256, Iterations: 4096, Password: "alice-pw"},
		{User: "bob", Mechanism: kadm.ScramSha512, Iterations: 8192, Password: "bob-pw"},
	})
	if err := res.Error(); err != nil {
		t.Fatalf("upsert: %v", err)
	}
	if err := alter(nil, []kadm.UpsertSCRAM{{User: "alice", Mechanism: kadm.ScramSha512, Iterations: 16384, Password: "alice-pw2"}}).Error(); err != nil {
		t.Fatalf("second mechanism: %v", err)
	}

	ds, err := adm.DescribeUserSCRAMs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := credInfos(ds["alice"]); !slices.Equal(got, []string{"SCRAM-SHA-256/4096", "SCRAM-SHA-512/16384"}) {
		t.Errorf("alice: %v", got)
	}
	if got := credInfos(ds["bob"]); !slices.Equal(got, []string{"SCRAM-SHA-512/8192"}) {
		t.Errorf("bob: %v", got)
	}
	ds, err = adm.DescribeUserSCRAMs(ctx, "bob", "nobody")
	if err != nil {
		t.Fatal(err)
	}
	if ds["bob"].Err != nil || ds["nobody"].Err != kerr.ResourceNotFound || len(ds) != 2 {
		t.Errorf("describe bob, nobody: %+v", ds)
	}

	// Errors, per user.
	res = alter([]kadm.DeleteSCRAM{{User: "bob", Mechanism: kadm.ScramSha256}, {User: "nobody", Mechanism: kadm.ScramSha512}},
		[]kadm.UpsertSCRAM{
			{User: "carol", Mechanism: kadm.ScramSha256, Iterations: 100, Salt: []byte("salt"), SaltedPassword: make([]byte, 32)},
			{User: "dave", Mechanism: kadm.ScramSha256, Iterations: 4096, Salt: []byte("salt"), SaltedPassword: make([]byte, 31)},
		})
	for user, want := range map[string]error{"bob": kerr.ResourceNotFound, "nobody": kerr.ResourceNotFound, "carol": kerr.UnacceptableCredential, "dave": kerr.UnacceptableCredential} {
		if res[user].Err != want {
			t.Errorf("alter %s: %v (%s), want %v", user, res[user].Err, res[user].ErrMessage, want)
		}
	}

	// Raw requests: a user twice, an unknown mechanism.
	rc := dialRaw(t, b.Addr)
	areq := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	del := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
	del.Name, del.Mechanism = "bob", 2
	ups := kmsg.NewAlterUserSCRAMCredentialsRequestUpsertion()
	ups.Name, ups.Mechanism, ups.Iterations, ups.Salt, ups.SaltedPassword = "bob", 1, 4096, []byte("s"), make([]byte, 32)
	odd := ups
	odd.Name, odd.Mechanism = "erin", 3
	areq.Deletions = append(areq.Deletions, del)
	areq.Upsertions = append(areq.Upsertions, ups, odd)
	aresp := call[*kmsg.AlterUserSCRAMCredentialsResponse](t, rc, areq)
	if len(aresp.Results) != 2 {
		t.Fatalf("alter results: %+v", aresp.Results)
	}
	expectCode(t, "bob twice", aresp.Results[0].ErrorCode, kerr.DuplicateResource)
	expectCode(t, "unknown mechanism", aresp.Results[1].ErrorCode, kerr.UnsupportedSaslMechanism)
	dreq := kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()
	for _, n := range []string{"alice", "alice", "bob"} {
		u := kmsg.NewDescribeUserSCRAMCredentialsRequestUser()
		u.Name = n
		dreq.Users = append(dreq.Users, u)
	}
	dresp := call[*kmsg.DescribeUserSCRAMCredentialsResponse](t, rc, dreq)
	if len(dresp.Results) != 2 || dresp.Results[0].User != "alice" {
		t.Fatalf("describe results: %+v", dresp.Results)
	}
	expectCode(t, "alice twice", dresp.Results[0].ErrorCode, kerr.DuplicateResource)
	expectCode(t, "bob", dresp.Results[1].ErrorCode, nil)

	// Deletions; the user goes with its last credential.
	if err := alter([]kadm.DeleteSCRAM{{User: "alice", Mechanism: kadm.ScramSha256}, {User: "bob", Mechanism: kadm.ScramSha512}}, nil).Error(); err != nil {
		t.Fatalf("delete: %v", err)
	}
	ds, err = adm.DescribeUserSCRAMs(ctx)
	if err != nil || len(ds) != 1 || !slices.Equal(credInfos(ds["alice"]), []string{"SCRAM-SHA-512/16384"}) {
		t.Fatalf("after deletes: %+v %v", ds, err)
	}

	// The store cannot be opened offline while the broker runs.
	if _, _, err := broker.OpenUsers(dir); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("OpenUsers on a running broker's data: %v", err)
	}
	b.Stop(t)
	st, release, err := broker.OpenUsers(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !st.VerifyPassword("alice", "alice-pw2") || st.VerifyPassword("alice", "alice-pw") {
		t.Error("the stored credential does not match the password kadm salted")
	}
	if _, ok := st.Lookup("alice", users.ScramSHA512); !ok {
		t.Error("alice lost her credential")
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}

	// And a restarted broker serves them.
	b = testbroker.StartAt(t, dir)
	ds, err = kadm.NewClient(testclient.New(t, b.Addr)).DescribeUserSCRAMs(testCtx(t))
	if err != nil || !slices.Equal(credInfos(ds["alice"]), []string{"SCRAM-SHA-512/16384"}) {
		t.Fatalf("after restart: %+v %v", ds, err)
	}
}
