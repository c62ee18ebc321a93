package main

// acl.go wires `courier acl add|list|remove`, Courier's kafka-acls.sh, to
// package ctl: it manages the ACLs of any Kafka-compatible cluster through
// the Kafka protocol.

import (
	"context"
	"fmt"

	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/spf13/cobra"
)

// registerACLFlags adds kafka-acls.sh's flags, filling s; mode is "add",
// "list" or "remove", whose defaults and help differ.
func registerACLFlags(cmd *cobra.Command, s *ctl.ACLSpec, mode string) {
	fl := cmd.Flags()
	fl.StringArrayVar(&s.AllowPrincipals, "allow-principal", nil, "principal allowed, e.g. User:alice (repeatable; \"User:\" is added when missing; User:* is everyone)")
	fl.StringArrayVar(&s.DenyPrincipals, "deny-principal", nil, "principal denied (repeatable)")
	hostDefault := []string{"*"}
	hostHelp := "(repeatable; default * for any host)"
	if mode == "list" {
		hostDefault, hostHelp = nil, "(repeatable; default: any)"
		fl.StringArrayVar(&s.Principals, "principal", nil, "only ACLs of this principal, allowed or denied (repeatable)")
	}
	fl.StringArrayVar(&s.AllowHosts, "allow-host", hostDefault, "IP address the allow principals connect from "+hostHelp)
	fl.StringArrayVar(&s.DenyHosts, "deny-host", hostDefault, "IP address the deny principals connect from "+hostHelp)
	opHelp := "operation: read, write, create, delete, alter, describe, cluster-action, describe-configs, alter-configs, idempotent-write, all (repeatable"
	if mode == "add" {
		opHelp += "; required)"
	} else {
		opHelp += "; default: any)"
	}
	fl.StringArrayVar(&s.Operations, "operation", nil, opHelp)
	fl.StringVar(&s.Topic, "topic", "", "the resource is this topic (or prefix, with --resource-pattern-type prefixed; * for all topics)")
	fl.StringVar(&s.Group, "group", "", "the resource is this consumer group (or prefix; * for all groups)")
	fl.StringVar(&s.TransactionalID, "transactional-id", "", "the resource is this transactional id (or prefix; * for all)")
	fl.BoolVar(&s.Cluster, "cluster", false, "the resource is the cluster")
	patternDefault, patternHelp := "literal", "literal or prefixed"
	switch mode {
	case "list":
		patternDefault, patternHelp = "any", "any, match (every ACL that applies to the named resource), literal or prefixed"
	case "remove":
		patternHelp = "literal, prefixed, any or match"
	}
	fl.StringVar(&s.Pattern, "resource-pattern-type", patternDefault, patternHelp)
	cmd.MarkFlagsMutuallyExclusive("topic", "group", "transactional-id", "cluster")
}

// newACLCommand returns `courier acl`.
func newACLCommand() *cobra.Command {
	cmd := parentCommand(&cobra.Command{
		Use:   "acl",
		Short: "Add, list and remove ACLs on any Kafka-compatible cluster (like kafka-acls.sh)",
		Long: "Manage access control lists. An ACL allows (or denies) a principal, connecting\n" +
			"from a host, an operation on a resource: a topic, a consumer group, the cluster\n" +
			"or a transactional id, named literally or by prefix. A Courier broker enforces\n" +
			"them when started with the authorizer on; super users are always allowed.",
	})
	cmd.AddCommand(newACLAddCommand(), newACLListCommand(), newACLRemoveCommand())
	return cmd
}

// newACLAddCommand returns `courier acl add`.
func newACLAddCommand() *cobra.Command {
	var (
		cf   clientFlags
		spec ctl.ACLSpec
	)
	cmd := &cobra.Command{
		Use:     "add",
		Short:   "Create ACLs: every principal × host × operation given, on one resource",
		Example: "  courier acl add --allow-principal User:alice --operation read --operation describe --topic rider-updates\n  courier acl add --allow-principal User:sink --operation read --group db- --resource-pattern-type prefixed",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := ctl.CheckACLSpec(spec, true); err != nil {
				return err
			}
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				acls, err := a.AddACLs(ctx, spec)
				if len(acls) > 0 {
					fmt.Fprintln(cmd.OutOrStdout(), "created:")
					if werr := ctl.WriteACLs(cmd.OutOrStdout(), acls); werr != nil {
						return werr
					}
				}
				return err
			})
		},
	}
	cf.registerTool(cmd)
	registerACLFlags(cmd, &spec, "add")
	return cmd
}

// newACLListCommand returns `courier acl list`.
func newACLListCommand() *cobra.Command {
	var (
		cf   clientFlags
		spec ctl.ACLSpec
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List ACLs: all of them, or those of a resource, principal or operation",
		Example: "  courier acl list\n  courier acl list --topic rider-updates --resource-pattern-type match\n" +
			"  courier acl list --principal User:alice",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				acls, err := a.ListACLs(ctx, spec)
				if err != nil {
					return err
				}
				return ctl.WriteACLs(cmd.OutOrStdout(), acls)
			})
		},
	}
	cf.registerTool(cmd)
	registerACLFlags(cmd, &spec, "list")
	return cmd
}

// newACLRemoveCommand returns `courier acl remove`.
func newACLRemoveCommand() *cobra.Command {
	var (
		cf   clientFlags
		spec ctl.ACLSpec
	)
	cmd := &cobra.Command{
		Use:   "remove",
		Short: "Remove the ACLs of a resource that match the principals, hosts and operations given",
		Long: "Remove ACLs of one resource. Without --operation every operation's ACLs of the\n" +
			"principals go; without principals, every principal's. The removed ACLs are printed.",
		Example: "  courier acl remove --allow-principal User:alice --topic rider-updates\n" +
			"  courier acl remove --topic rider-updates   # every ACL of the literal resource",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := ctl.CheckACLSpec(spec, false); err != nil {
				return err
			}
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				acls, err := a.RemoveACLs(ctx, spec)
				out := cmd.OutOrStdout()
				switch {
				case len(acls) > 0:
					fmt.Fprintln(out, "removed:")
					if werr := ctl.WriteACLs(out, acls); werr != nil {
						return werr
					}
				case err == nil:
					fmt.Fprintln(out, "no matching ACL")
				}
				return err
			})
		},
	}
	cf.registerTool(cmd)
	registerACLFlags(cmd, &spec, "remove")
	return cmd
}
