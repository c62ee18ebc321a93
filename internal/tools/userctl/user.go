package userctl

// user.go creates, lists and deletes users in either store: the cluster's,
// through the Kafka protocol, or a stopped broker's.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/courier-dev/courier/internal/broker/users"
	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// UserStore is where SCRAM users live: a cluster (ClusterUsers) or a
// stopped broker's store (OfflineUsers).
type UserStore interface {
	// SetCredential stores c for user name; salted is the salted
	// password c was derived from (a cluster derives its keys itself).
	SetCredential(ctx context.Context, name string, c users.Credential, salted []byte) error
	// Users lists the users and their credentials, sorted by name.
	Users(ctx context.Context) ([]users.User, error)
	// DeleteCredential removes user name's credential for m.
	DeleteCredential(ctx context.Context, name string, m users.Mechanism) error
}

// CreateUser sets user name's password for mechanism mech: it draws a salt,
// derives the credential with iterations rounds of PBKDF2 and stores it in
// st. The user is created if it is new; its other mechanisms' credentials
// are kept.
func CreateUser(ctx context.Context, st UserStore, name string, mech users.Mechanism, password string, iterations int) error {
	if err := users.ValidateName(name); err != nil {
		return err
	}
	if err := users.ValidateIterations(iterations); err != nil {
		return err
	}
	if password == "" {
		return errors.New("empty password refused")
	}
	salt := make([]byte, users.SaltBytes)
	if _, err := rand.Read(salt); err != nil {
		return fmt.Errorf("draw salt: %w", err)
	}
	salted, err := users.SaltedPassword(mech, password, salt, iterations)
	if err != nil {
		return err
	}
	c, err := users.CredentialFromSaltedPassword(mech, salt, salted, iterations)
	if err != nil {
		return err
	}
	return st.SetCredential(ctx, name, c, salted)
}

// DeleteUser deletes user name's credentials for mechs, or all of them when
// mechs is empty, and returns the mechanisms deleted, in order. A user
// without a named credential is an error.
func DeleteUser(ctx context.Context, st UserStore, name string, mechs ...users.Mechanism) ([]users.Mechanism, error) {
	if len(mechs) == 0 {
		us, err := st.Users(ctx)
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			if u.Name == name {
				for _, c := range u.Credentials {
					mechs = append(mechs, c.Mechanism)
				}
			}
		}
		if len(mechs) == 0 {
			return nil, fmt.Errorf("user %s not found", name)
		}
	}
	var done []users.Mechanism
	for _, m := range mechs {
		if err := st.DeleteCredential(ctx, name, m); err != nil {
			return done, err
		}
		done = append(done, m)
	}
	return done, nil
}

// WriteUsers writes the users as a USER / MECHANISM / ITERATIONS table,
// one row per credential.
func WriteUsers(w io.Writer, us []users.User) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tMECHANISM\tITERATIONS")
	for _, u := range us {
		for _, c := range u.Credentials {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", u.Name, c.Mechanism, c.Iterations)
		}
	}
	return tw.Flush()
}

// OfflineUsers is the user store of a stopped broker's data directory (the
// caller opens it, holding the directory's lock, and closes it).
type OfflineUsers struct {
	Store *users.Store
}

// SetCredential implements UserStore.
func (o OfflineUsers) SetCredential(_ context.Context, name string, c users.Credential, _ []byte) error {
	return o.Store.Set(name, c)
}

// Users implements UserStore.
func (o OfflineUsers) Users(context.Context) ([]users.User, error) { return o.Store.List(), nil }

// DeleteCredential implements UserStore.
func (o OfflineUsers) DeleteCredential(_ context.Context, name string, m users.Mechanism) error {
	if err := o.Store.Delete(name, m); err != nil {
		if errors.Is(err, users.ErrNotFound) {
			return fmt.Errorf("user %s has no %s credential", name, m)
		}
		return err
	}
	return nil
}

// kadmMechanism maps a mechanism to kadm's.
func kadmMechanism(m users.Mechanism) kadm.ScramMechanism {
	if m == users.ScramSHA256 {
		return kadm.ScramSha256
	}
	return kadm.ScramSha512
}

// alterResult returns a user's error from an AlterUserScramCredentials
// answer.
func alterResult(res kadm.AlteredUserSCRAMs, name string) error {
	r, ok := res[name]
	switch {
	case !ok:
		return fmt.Errorf("user %s: no result from the cluster", name)
	case r.Err != nil:
		return fmt.Errorf("user %s: %w%s", name, r.Err, ctl.Detail(r.Err, r.ErrMessage))
	}
	return nil
}

// ClusterUsers are the users of a cluster, through the Kafka protocol.
type ClusterUsers struct {
	Admin *kadm.Client
}

// SetCredential implements UserStore.
func (c ClusterUsers) SetCredential(ctx context.Context, name string, cred users.Credential, salted []byte) error {
	res, err := c.Admin.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{
		User: name, Mechanism: kadmMechanism(cred.Mechanism), Iterations: int32(cred.Iterations),
		Salt: cred.Salt, SaltedPassword: salted,
	}})
	if err != nil {
		return fmt.Errorf("set SCRAM credential of user %s: %w", name, err)
	}
	return alterResult(res, name)
}

// Users implements UserStore.
func (c ClusterUsers) Users(ctx context.Context) ([]users.User, error) {
	ds, err := c.Admin.DescribeUserSCRAMs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list SCRAM users: %w", err)
	}
	var out []users.User
	for _, d := range ds.Sorted() {
		if d.Err != nil {
			return nil, fmt.Errorf("user %s: %w%s", d.User, d.Err, ctl.Detail(d.Err, d.ErrMessage))
		}
		u := users.User{Name: d.User}
		for _, ci := range d.CredInfos {
			u.Credentials = append(u.Credentials, users.CredentialInfo{Mechanism: users.Mechanism(ci.Mechanism.String()), Iterations: int(ci.Iterations)})
		}
		out = append(out, u)
	}
	return out, nil
}

// DeleteCredential implements UserStore.
func (c ClusterUsers) DeleteCredential(ctx context.Context, name string, m users.Mechanism) error {
	res, err := c.Admin.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: name, Mechanism: kadmMechanism(m)}}, nil)
	if err != nil {
		return fmt.Errorf("delete SCRAM credential of user %s: %w", name, err)
	}
	if r := res[name]; errors.Is(r.Err, kerr.ResourceNotFound) {
		return fmt.Errorf("user %s has no %s credential", name, m)
	}
	return alterResult(res, name)
}
