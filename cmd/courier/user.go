package main

// user.go wires `courier user` (create, list, delete): SASL/SCRAM users,
// either on a stopped broker's data directory (--data: the offline
// bootstrap of the first admin user, as kafka-storage --add-scram does),
// or through any Kafka-compatible cluster with AlterUserScramCredentials
// and DescribeUserScramCredentials (--brokers). Passwords are read from
// stdin or a terminal prompt, never from a flag, and never printed.

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/courier-dev/courier/internal/broker"
	"github.com/courier-dev/courier/internal/broker/users"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/term"
)

// newUserCommand returns `courier user`.
func newUserCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Create, list and delete SASL/SCRAM users, on a cluster or on a stopped broker's data directory",
	}
	cmd.AddCommand(newUserCreateCommand(), newUserListCommand(), newUserDeleteCommand())
	return cmd
}

// userTarget is where the users are: a data directory or a cluster.
type userTarget struct {
	data string
	cf   clientFlags
}

// register adds --data and the client flags to cmd.
func (t *userTarget) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.data, "data", "", "work on this stopped broker's data directory instead of a cluster (env COURIER_DATA)")
	t.cf.register(cmd)
}

// userStore is what the commands need of either target.
type userStore interface {
	set(ctx context.Context, name string, c users.Credential, salted []byte) error
	list(ctx context.Context) ([]users.User, error)
	remove(ctx context.Context, name string, mech users.Mechanism) error
	close()
}

// open returns the store the flags name.
func (t *userTarget) open() (userStore, error) {
	if t.data != "" {
		st, release, err := broker.OpenUsers(t.data)
		if err != nil {
			return nil, fmt.Errorf("users of %s: %w", t.data, err)
		}
		return &dirUsers{st: st, release: release}, nil
	}
	cl, err := kgo.NewClient(t.cf.opts()...)
	if err != nil {
		return nil, fmt.Errorf("create Kafka client: %w", err)
	}
	return &clusterUsers{cl: cl, adm: kadm.NewClient(cl)}, nil
}

// newUserCreateCommand returns `courier user create NAME`.
func newUserCreateCommand() *cobra.Command {
	var (
		t          userTarget
		mechanism  string
		iterations int
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a user, or set its password for a mechanism; the password is read from stdin (first line) or prompted for",
		Args:  userNameArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			mech, err := users.ParseMechanism(mechanism)
			if err != nil {
				return err
			}
			if err := users.ValidateIterations(iterations); err != nil {
				return err
			}
			pass, err := readPassword(cmd.InOrStdin(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			salt := make([]byte, users.SaltBytes)
			if _, err := rand.Read(salt); err != nil {
				return fmt.Errorf("draw salt: %w", err)
			}
			salted, err := users.SaltedPassword(mech, pass, salt, iterations)
			if err != nil {
				return err
			}
			c, err := users.CredentialFromSaltedPassword(mech, salt, salted, iterations)
			if err != nil {
				return err
			}
			st, err := t.open()
			if err != nil {
				return err
			}
			defer st.close()
			if err := st.set(cmd.Context(), args[0], c, salted); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "user %s: %s credential set (%d iterations)\n", args[0], mech, iterations)
			return nil
		},
	}
	t.register(cmd)
	cmd.Flags().StringVar(&mechanism, "mechanism", string(users.ScramSHA512), "SCRAM-SHA-256 or SCRAM-SHA-512")
	cmd.Flags().IntVar(&iterations, "iterations", 8192, fmt.Sprintf("PBKDF2 iterations, %d..%d", users.MinIterations, users.MaxIterations))
	return cmd
}

// newUserListCommand returns `courier user list`.
func newUserListCommand() *cobra.Command {
	var t userTarget
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List users with their mechanisms and iteration counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := t.open()
			if err != nil {
				return err
			}
			defer st.close()
			us, err := st.list(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "USER\tMECHANISM\tITERATIONS")
			for _, u := range us {
				for _, c := range u.Credentials {
					fmt.Fprintf(tw, "%s\t%s\t%d\n", u.Name, c.Mechanism, c.Iterations)
				}
			}
			return tw.Flush()
		},
	}
	t.register(cmd)
	return cmd
}

// newUserDeleteCommand returns `courier user delete NAME`.
func newUserDeleteCommand() *cobra.Command {
	var (
		t         userTarget
		mechanism string
	)
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a user's credential for --mechanism, or all its credentials",
		Args:  userNameArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			var mechs []users.Mechanism
			if mechanism != "" {
				m, err := users.ParseMechanism(mechanism)
				if err != nil {
					return err
				}
				mechs = append(mechs, m)
			}
			st, err := t.open()
			if err != nil {
				return err
			}
			defer st.close()
			if mechs == nil {
				if mechs, err = userMechanisms(cmd.Context(), st, args[0]); err != nil {
					return err
				}
			}
			for _, m := range mechs {
				if err := st.remove(cmd.Context(), args[0], m); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "user %s: %s credential deleted\n", args[0], m)
			}
			return nil
		},
	}
	t.register(cmd)
	cmd.Flags().StringVar(&mechanism, "mechanism", "", "delete only this mechanism's credential (default: all of the user's)")
	return cmd
}

// userMechanisms returns the mechanisms name has credentials for.
func userMechanisms(ctx context.Context, st userStore, name string) ([]users.Mechanism, error) {
	us, err := st.list(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		if u.Name == name {
			var out []users.Mechanism
			for _, c := range u.Credentials {
				out = append(out, c.Mechanism)
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("user %s not found", name)
}

// userNameArg requires exactly one valid user name argument.
func userNameArg(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("want exactly one user NAME, got %d arguments", len(args))
	}
	return users.ValidateName(args[0])
}

// maxPasswordBytes bounds a password read from stdin.
const maxPasswordBytes = 1024

// readPassword reads the password: prompted for twice without echo if in
// is a terminal, else the first line of in. An empty password is refused.
func readPassword(in io.Reader, prompt io.Writer) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		read := func(what string) (string, error) {
			fmt.Fprint(prompt, what)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(prompt)
			if err != nil {
				return "", fmt.Errorf("read password: %w", err)
			}
			return string(b), nil
		}
		p1, err := read("Password: ")
		if err != nil {
			return "", err
		}
		p2, err := read("Password again: ")
		if err != nil {
			return "", err
		}
		if p1 != p2 {
			return "", errors.New("the passwords differ")
		}
		if p1 == "" {
			return "", errors.New("empty password refused")
		}
		return p1, nil
	}
	line, err := bufio.NewReaderSize(in, maxPasswordBytes+2).ReadSlice('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", fmt.Errorf("password on stdin longer than %d bytes", maxPasswordBytes)
		}
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	pass := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
	if pass == "" {
		return "", errors.New("empty password refused (give it as the first line of stdin)")
	}
	return pass, nil
}

// dirUsers is the user store of a stopped broker's data directory.
type dirUsers struct {
	st      *users.Store
	release func() error
}

func (d *dirUsers) set(_ context.Context, name string, c users.Credential, _ []byte) error {
	return d.st.Set(name, c)
}

func (d *dirUsers) list(context.Context) ([]users.User, error) { return d.st.List(), nil }

func (d *dirUsers) remove(_ context.Context, name string, m users.Mechanism) error {
	if err := d.st.Delete(name, m); err != nil {
		if errors.Is(err, users.ErrNotFound) {
			return fmt.Errorf("user %s has no %s credential", name, m)
		}
		return err
	}
	return nil
}

func (d *dirUsers) close() { _ = d.release() }

// clusterUsers are the users of a cluster, through the Kafka protocol.
type clusterUsers struct {
	cl  *kgo.Client
	adm *kadm.Client
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
	case r.Err != nil && r.ErrMessage != "":
		return fmt.Errorf("user %s: %w: %s", name, r.Err, r.ErrMessage)
	case r.Err != nil:
		return fmt.Errorf("user %s: %w", name, r.Err)
	}
	return nil
}

func (c *clusterUsers) set(ctx context.Context, name string, cred users.Credential, salted []byte) error {
	res, err := c.adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{
		User: name, Mechanism: kadmMechanism(cred.Mechanism), Iterations: int32(cred.Iterations),
		Salt: cred.Salt, SaltedPassword: salted,
	}})
	if err != nil {
		return fmt.Errorf("alter SCRAM credentials: %w", err)
	}
	return alterResult(res, name)
}

func (c *clusterUsers) list(ctx context.Context) ([]users.User, error) {
	ds, err := c.adm.DescribeUserSCRAMs(ctx)
	if err != nil {
		return nil, fmt.Errorf("describe SCRAM credentials: %w", err)
	}
	var out []users.User
	for _, d := range ds.Sorted() {
		if d.Err != nil {
			return nil, fmt.Errorf("user %s: %w", d.User, d.Err)
		}
		u := users.User{Name: d.User}
		for _, ci := range d.CredInfos {
			u.Credentials = append(u.Credentials, users.CredentialInfo{Mechanism: users.Mechanism(ci.Mechanism.String()), Iterations: int(ci.Iterations)})
		}
		out = append(out, u)
	}
	return out, nil
}

func (c *clusterUsers) remove(ctx context.Context, name string, m users.Mechanism) error {
	res, err := c.adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: name, Mechanism: kadmMechanism(m)}}, nil)
	if err != nil {
		return fmt.Errorf("alter SCRAM credentials: %w", err)
	}
	if r := res[name]; errors.Is(r.Err, kerr.ResourceNotFound) {
		return fmt.Errorf("user %s has no %s credential", name, m)
	}
	return alterResult(res, name)
}

func (c *clusterUsers) close() { c.cl.Close() }
