package userctl

// user_test.go creates, lists and deletes SCRAM users in both stores: a
// stopped broker's (OfflineUsers) and a running broker's, through the
// Kafka protocol; and reads passwords as `courier user create` does.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker"
	"github.com/courier-dev/courier/internal/broker/users"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// testCtx returns a context that ends with the test or after 30s.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// verifyPassword opens dir's users offline and checks user's password.
func verifyPassword(t *testing.T, dir, user, pass string) bool {
	t.Helper()
	st, release, err := broker.OpenUsers(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	return st.VerifyPassword(user, pass)
}

// userTable renders the store's users as WriteUsers does.
func userTable(t *testing.T, st UserStore) string {
	t.Helper()
	us, err := st.Users(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteUsers(&b, us); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// exerciseUsers runs the same story on a store: two users, one with two
// mechanisms, refusals, then deletes; admin is left, with s3cret-admin.
func exerciseUsers(t *testing.T, st UserStore) {
	ctx := testCtx(t)
	for _, c := range []struct {
		name, pass string
		mech       users.Mechanism
		iterations int
	}{
		{"admin", "s3cret-admin", users.ScramSHA512, 8192},
		{"alice", "alice-pw", users.ScramSHA256, 4096},
		{"alice", "alice-pw2", users.ScramSHA512, 8192},
	} {
		if err := CreateUser(ctx, st, c.name, c.mech, c.pass, c.iterations); err != nil {
			t.Fatalf("create %s %s: %v", c.name, c.mech, err)
		}
	}
	want := "USER   MECHANISM      ITERATIONS\n" +
		"admin  SCRAM-SHA-512  8192\n" +
		"alice  SCRAM-SHA-256  4096\n" +
		"alice  SCRAM-SHA-512  8192\n"
	if got := userTable(t, st); got != want {
		t.Errorf("users:\n%s\nwant:\n%s", got, want)
	}
	for _, tc := range []struct {
		name, pass string
		iterations int
		want       string
	}{
		{"bob", "", 8192, "empty password"},
		{"bob", "pw", 100, "too few"},
		{"bad\tname", "pw", 8192, "invalid user name"},
	} {
		if err := CreateUser(ctx, st, tc.name, users.ScramSHA512, tc.pass, tc.iterations); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("create %q: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := DeleteUser(ctx, st, "nobody"); err == nil || !strings.Contains(err.Error(), "user nobody not found") {
		t.Errorf("delete an unknown user: %v", err)
	}
	if _, err := DeleteUser(ctx, st, "admin", users.ScramSHA256); err == nil || !strings.Contains(err.Error(), "admin has no SCRAM-SHA-256 credential") {
		t.Errorf("delete a missing mechanism: %v", err)
	}
	done, err := DeleteUser(ctx, st, "alice")
	if err != nil || len(done) != 2 || done[0] != users.ScramSHA256 || done[1] != users.ScramSHA512 {
		t.Errorf("delete alice: %v, %v", done, err)
	}
	if got := userTable(t, st); got != "USER   MECHANISM      ITERATIONS\nadmin  SCRAM-SHA-512  8192\n" {
		t.Errorf("after deletes:\n%s", got)
	}
}

func TestUsersOffline(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data") // not created yet: the first user comes before the first start
	st, release, err := broker.OpenUsers(data)
	if err != nil {
		t.Fatal(err)
	}
	exerciseUsers(t, OfflineUsers{Store: st})
	release()
	if !verifyPassword(t, data, "admin", "s3cret-admin") || verifyPassword(t, data, "alice", "alice-pw") {
		t.Error("stored credentials do not match the passwords given")
	}
}

func TestUsersOnline(t *testing.T) {
	b := testbroker.Start(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	exerciseUsers(t, ClusterUsers{Admin: kadm.NewClient(cl)})
	cl.Close()
	b.Stop(t)
	if !verifyPassword(t, b.DataDir, "admin", "s3cret-admin") || verifyPassword(t, b.DataDir, "alice", "alice-pw") {
		t.Error("the broker's credentials do not match the passwords given")
	}
}

// failingReader fails every read.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("device gone") }

func TestReadPassword(t *testing.T) {
	long := strings.Repeat("x", MaxPasswordBytes+1)
	for _, tc := range []struct {
		in      io.Reader
		want    string // the password read
		wantErr string // or part of the error
	}{
		{strings.NewReader("pw\n"), "pw", ""},
		{strings.NewReader("pw\r\nignored\n"), "pw", ""},
		{strings.NewReader("no newline"), "no newline", ""},
		{strings.NewReader(strings.Repeat("x", MaxPasswordBytes) + "\n"), strings.Repeat("x", MaxPasswordBytes), ""},
		{strings.NewReader("\n"), "", "empty password"},
		{strings.NewReader(""), "", "empty password"},
		{strings.NewReader(long + "\n"), "", "longer than 1024 bytes"},
		{strings.NewReader(long + long), "", "longer than 1024 bytes"},
		{failingReader{}, "", "device gone"},
	} {
		var prompt bytes.Buffer
		got, err := ReadPassword(tc.in, &prompt)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("ReadPassword: %q, %v; want an error with %q", got, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("ReadPassword: %q, %v; want %q", got, err, tc.want)
		}
		if prompt.Len() != 0 {
			t.Errorf("prompted %q for a non-terminal input", prompt.String())
		}
	}
}
