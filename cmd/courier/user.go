package main

// user.go wires `courier user` (create, list, delete) to package userctl:
// SASL/SCRAM users, either on a stopped broker's data directory (--data:
// the offline bootstrap of the first admin user, as kafka-storage
// --add-scram does), or through any Kafka-compatible cluster (--brokers).
// Passwords are read from stdin or a terminal prompt, never from a flag,
// and never printed.

import (
	"context"
	"fmt"

	"github.com/courier-dev/courier/internal/broker"
	"github.com/courier-dev/courier/internal/broker/users"
	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/courier-dev/courier/internal/tools/userctl"
	"github.com/spf13/cobra"
)

// newUserCommand returns `courier user`.
func newUserCommand() *cobra.Command {
	cmd := parentCommand(&cobra.Command{
		Use:   "user",
		Short: "Create, list and delete SASL/SCRAM users, on a cluster or on a stopped broker's data directory",
	})
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
	t.cf.registerTool(cmd)
}

// run calls fn with the store the flags name, closing it after.
func (t *userTarget) run(cmd *cobra.Command, fn func(context.Context, userctl.UserStore) error) error {
	if t.data == "" {
		return withAdmin(cmd, &t.cf, func(ctx context.Context, a *ctl.Admin) error {
			return fn(ctx, userctl.ClusterUsers{Admin: a.Kadm()})
		})
	}
	st, release, err := broker.OpenUsers(t.data)
	if err != nil {
		return fmt.Errorf("users of %s: %w", t.data, err)
	}
	defer release()
	return fn(cmd.Context(), userctl.OfflineUsers{Store: st})
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
			pass, err := userctl.ReadPassword(cmd.InOrStdin(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return t.run(cmd, func(ctx context.Context, st userctl.UserStore) error {
				if err := userctl.CreateUser(ctx, st, args[0], mech, pass, iterations); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "user %s: %s credential set (%d iterations)\n", args[0], mech, iterations)
				return nil
			})
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
			return t.run(cmd, func(ctx context.Context, st userctl.UserStore) error {
				us, err := st.Users(ctx)
				if err != nil {
					return err
				}
				return userctl.WriteUsers(cmd.OutOrStdout(), us)
			})
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
			return t.run(cmd, func(ctx context.Context, st userctl.UserStore) error {
				done, err := userctl.DeleteUser(ctx, st, args[0], mechs...)
				for _, m := range done {
					fmt.Fprintf(cmd.OutOrStdout(), "user %s: %s credential deleted\n", args[0], m)
				}
				return err
			})
		},
	}
	t.register(cmd)
	cmd.Flags().StringVar(&mechanism, "mechanism", "", "delete only this mechanism's credential (default: all of the user's)")
	return cmd
}

// userNameArg requires exactly one valid user name argument.
func userNameArg(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("want exactly one user NAME, got %d arguments", len(args))
	}
	return users.ValidateName(args[0])
}
