package main

// acl.go wires `courier acl add|list|remove`, Courier's kafka-acls.sh: it
// manages the ACLs of any Kafka-compatible cluster through the Kafka
// protocol (CreateAcls, DescribeAcls, DeleteAcls, via franz-go's kadm).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// aclFlags are the flags of the acl subcommands, as kafka-acls.sh names them.
type aclFlags struct {
	allowPrincipals, denyPrincipals []string
	allowHosts, denyHosts           []string
	principals                      []string // list only: either permission
	operations                      []string
	topic, group, txnID             string
	cluster                         bool
	pattern                         string
}

// register adds the flags; mode is "add", "list" or "remove".
func (f *aclFlags) register(cmd *cobra.Command, mode string) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.allowPrincipals, "allow-principal", nil, "principal allowed, e.g. User:alice (repeatable; \"User:\" is added when missing; User:* is everyone)")
	fl.StringArrayVar(&f.denyPrincipals, "deny-principal", nil, "principal denied (repeatable)")
	hostDefault := []string{"*"}
	hostHelp := "(repeatable; default * for any host)"
	if mode == "list" {
		hostDefault, hostHelp = nil, "(repeatable; default: any)"
		fl.StringArrayVar(&f.principals, "principal", nil, "only ACLs of this principal, allowed or denied (repeatable)")
	}
	fl.StringArrayVar(&f.allowHosts, "allow-host", hostDefault, "IP address the allow principals connect from "+hostHelp)
	fl.StringArrayVar(&f.denyHosts, "deny-host", hostDefault, "IP address the deny principals connect from "+hostHelp)
	opHelp := "operation: read, write, create, delete, alter, describe, cluster-action, describe-configs, alter-configs, idempotent-write, all (repeatable"
	switch mode {
	case "add":
		opHelp += "; required)"
	default:
		opHelp += "; default: any)"
	}
	fl.StringArrayVar(&f.operations, "operation", nil, opHelp)
	fl.StringVar(&f.topic, "topic", "", "the resource is this topic (or prefix, with --resource-pattern-type prefixed; * for all topics)")
	fl.StringVar(&f.group, "group", "", "the resource is this consumer group (or prefix; * for all groups)")
	fl.StringVar(&f.txnID, "transactional-id", "", "the resource is this transactional id (or prefix; * for all)")
	fl.BoolVar(&f.cluster, "cluster", false, "the resource is the cluster")
	patternDefault, patternHelp := "literal", "literal or prefixed"
	switch mode {
	case "list":
		patternDefault, patternHelp = "any", "any, match (every ACL that applies to the named resource), literal or prefixed"
	case "remove":
		patternHelp = "literal, prefixed, any or match"
	}
	fl.StringVar(&f.pattern, "resource-pattern-type", patternDefault, patternHelp)
	cmd.MarkFlagsMutuallyExclusive("topic", "group", "transactional-id", "cluster")
}

// hasResource reports whether one resource flag was given.
func (f *aclFlags) hasResource() bool {
	return f.topic != "" || f.group != "" || f.txnID != "" || f.cluster
}

// builder turns the flags into a kadm ACL builder for mode.
func (f *aclFlags) builder(mode string) (*kadm.ACLBuilder, error) {
	b := kadm.NewACLs()
	switch {
	case f.topic != "":
		b.Topics(f.topic)
	case f.group != "":
		b.Groups(f.group)
	case f.txnID != "":
		b.TransactionalIDs(f.txnID)
	case f.cluster:
		b.Clusters()
	case mode == "list":
		b.AnyResource()
	default:
		return nil, errors.New("name the resource: --topic, --group, --transactional-id or --cluster")
	}
	pattern, err := kmsg.ParseACLResourcePatternType(f.pattern)
	if err != nil {
		return nil, fmt.Errorf("--resource-pattern-type %q: want literal, prefixed, any or match", f.pattern)
	}
	if mode == "add" && pattern != kadm.ACLPatternLiteral && pattern != kadm.ACLPatternPrefixed {
		return nil, fmt.Errorf("--resource-pattern-type %s: an ACL is literal or prefixed", f.pattern)
	}
	b.ResourcePatternType(pattern)
	ops := make([]kadm.ACLOperation, 0, len(f.operations))
	for _, s := range f.operations {
		op, err := kmsg.ParseACLOperation(s)
		if err != nil || op == kadm.OpUnknown || (mode == "add" && op == kadm.OpAny) {
			return nil, fmt.Errorf("--operation %q: want read, write, create, delete, alter, describe, cluster-action, describe-configs, alter-configs, idempotent-write or all", s)
		}
		ops = append(ops, op)
	}
	if mode == "add" && len(ops) == 0 {
		return nil, errors.New("--operation is required (repeat it for several)")
	}
	b.Operations(ops...) // none: any operation (list, remove)

	allow, deny := withUser(f.allowPrincipals), withUser(f.denyPrincipals)
	if mode == "list" && len(f.principals) > 0 {
		allow, deny = append(allow, withUser(f.principals)...), append(deny, withUser(f.principals)...)
	}
	if mode == "add" && len(allow)+len(deny) == 0 {
		return nil, errors.New("give --allow-principal or --deny-principal")
	}
	if mode == "list" && len(allow)+len(deny) == 0 {
		b.Allow().Deny() // no principal named: every principal, both permissions
	} else {
		b.MaybeAllow(allow...).MaybeDeny(deny...)
	}
	if len(f.allowHosts) == 0 {
		b.AllowHosts()
	} else if len(allow) > 0 {
		b.MaybeAllowHosts(f.allowHosts...)
	}
	if len(f.denyHosts) == 0 {
		b.DenyHosts()
	} else if len(deny) > 0 {
		b.MaybeDenyHosts(f.denyHosts...)
	}
	return b, nil
}

// withUser adds the "User:" principal type where it is missing.
func withUser(ps []string) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		if !strings.Contains(p, ":") {
			p = "User:" + p
		}
		out = append(out, p)
	}
	return out
}

// newACLCommand returns `courier acl`.
func newACLCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "acl",
		Short: "Add, list and remove ACLs on any Kafka-compatible cluster (like kafka-acls.sh)",
		Long: "Manage access control lists. An ACL allows (or denies) a principal, connecting\n" +
			"from a host, an operation on a resource: a topic, a consumer group, the cluster\n" +
			"or a transactional id, named literally or by prefix. A Courier broker enforces\n" +
			"them when started with the authorizer on; super users are always allowed.",
	}
	cmd.AddCommand(newACLAddCommand(), newACLListCommand(), newACLRemoveCommand())
	return cmd
}

// withKadm runs fn with an admin client built from cf.
func withKadm(cmd *cobra.Command, cf *clientFlags, fn func(context.Context, *kadm.Client) error) error {
	cl, err := kgo.NewClient(cf.opts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	return fn(cmd.Context(), kadm.NewClient(cl))
}

// newACLAddCommand returns `courier acl add`.
func newACLAddCommand() *cobra.Command {
	var (
		cf clientFlags
		af aclFlags
	)
	cmd := &cobra.Command{
		Use:     "add",
		Short:   "Create ACLs: every principal × host × operation given, on one resource",
		Example: "  courier acl add --allow-principal User:alice --operation read --operation describe --topic rider-updates\n  courier acl add --allow-principal User:sink --operation read --group db- --resource-pattern-type prefixed",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := af.builder("add")
			if err != nil {
				return err
			}
			return withKadm(cmd, &cf, func(ctx context.Context, adm *kadm.Client) error {
				res, err := adm.CreateACLs(ctx, b)
				if err != nil {
					return err
				}
				var rows []aclRow
				var errs []error
				for _, r := range res {
					row := aclRow{r.Principal, r.Permission, r.Operation, r.Host, r.Type, r.Pattern, r.Name}
					if r.Err != nil {
						errs = append(errs, fmt.Errorf("%s: %w%s", row, r.Err, detail(r.ErrMessage)))
						continue
					}
					rows = append(rows, row)
				}
				if len(rows) > 0 {
					fmt.Fprintln(cmd.OutOrStdout(), "created:")
					writeACLRows(cmd.OutOrStdout(), rows)
				}
				return errors.Join(errs...)
			})
		},
	}
	cf.register(cmd)
	af.register(cmd, "add")
	return cmd
}

// newACLListCommand returns `courier acl list`.
func newACLListCommand() *cobra.Command {
	var (
		cf clientFlags
		af aclFlags
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List ACLs: all of them, or those of a resource, principal or operation",
		Example: "  courier acl list\n  courier acl list --topic rider-updates --resource-pattern-type match\n" +
			"  courier acl list --principal User:alice",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := af.builder("list")
			if err != nil {
				return err
			}
			return withKadm(cmd, &cf, func(ctx context.Context, adm *kadm.Client) error {
				res, err := adm.DescribeACLs(ctx, b)
				if err != nil {
					return err
				}
				seen := map[aclRow]bool{}
				var rows []aclRow
				for _, r := range res {
					if r.Err != nil {
						return fmt.Errorf("list ACLs: %w%s", r.Err, detail(r.ErrMessage))
					}
					for _, d := range r.Described {
						row := aclRow{d.Principal, d.Permission, d.Operation, d.Host, d.Type, d.Pattern, d.Name}
						if !seen[row] {
							seen[row] = true
							rows = append(rows, row)
						}
					}
				}
				writeACLRows(cmd.OutOrStdout(), rows)
				return nil
			})
		},
	}
	cf.register(cmd)
	af.register(cmd, "list")
	return cmd
}

// newACLRemoveCommand returns `courier acl remove`.
func newACLRemoveCommand() *cobra.Command {
	var (
		cf clientFlags
		af aclFlags
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
			if !af.hasResource() {
				return errors.New("name the resource: --topic, --group, --transactional-id or --cluster")
			}
			if len(af.allowPrincipals)+len(af.denyPrincipals) == 0 {
				af.allowHosts, af.denyHosts = nil, nil // every principal, from any host
			}
			b, err := af.builder("remove")
			if err != nil {
				return err
			}
			if len(af.allowPrincipals)+len(af.denyPrincipals) == 0 {
				b.Allow().Deny()
			}
			return withKadm(cmd, &cf, func(ctx context.Context, adm *kadm.Client) error {
				res, err := adm.DeleteACLs(ctx, b)
				if err != nil {
					return err
				}
				var rows []aclRow
				var errs []error
				for _, r := range res {
					if r.Err != nil {
						errs = append(errs, fmt.Errorf("remove ACLs: %w%s", r.Err, detail(r.ErrMessage)))
					}
					for _, d := range r.Deleted {
						rows = append(rows, aclRow{d.Principal, d.Permission, d.Operation, d.Host, d.Type, d.Pattern, d.Name})
					}
				}
				if len(rows) == 0 && len(errs) == 0 {
					fmt.Fprintln(cmd.OutOrStdout(), "no matching ACL")
				} else if len(rows) > 0 {
					fmt.Fprintln(cmd.OutOrStdout(), "removed:")
					writeACLRows(cmd.OutOrStdout(), rows)
				}
				return errors.Join(errs...)
			})
		},
	}
	cf.register(cmd)
	af.register(cmd, "remove")
	return cmd
}

// aclRow is one ACL as printed.
type aclRow struct {
	principal  string
	permission kmsg.ACLPermissionType
	operation  kmsg.ACLOperation
	host       string
	rtype      kmsg.ACLResourceType
	pattern    kmsg.ACLResourcePatternType
	name       string
}

func (r aclRow) String() string {
	return fmt.Sprintf("%s %s %s from %s on %s %s %s", r.principal, r.permission, r.operation, r.host, r.rtype, r.pattern, r.name)
}

// writeACLRows prints ACLs as a table, sorted by resource then principal.
func writeACLRows(w io.Writer, rows []aclRow) {
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.rtype != b.rtype {
			return a.rtype < b.rtype
		}
		if a.name != b.name {
			return a.name < b.name
		}
		if a.pattern != b.pattern {
			return a.pattern < b.pattern
		}
		return a.String() < b.String()
	})
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tNAME\tPATTERN\tPRINCIPAL\tPERMISSION\tOPERATION\tHOST")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.rtype, r.name, r.pattern, r.principal, r.permission, r.operation, r.host)
	}
	tw.Flush()
}

// detail formats a broker's error message, if any.
func detail(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + msg
}
