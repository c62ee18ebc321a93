package ctl

// acl_table.go renders ACLs as a table, one row per ACL.

import (
	"fmt"
	"io"
	"sort"
)

// WriteACLs writes the ACLs as a RESOURCE / NAME / PATTERN / PRINCIPAL /
// PERMISSION / OPERATION / HOST table, sorted by resource, then principal.
// It sorts acls in place.
func WriteACLs(w io.Writer, acls []ACL) error {
	sort.Slice(acls, func(i, j int) bool {
		a, b := acls[i], acls[j]
		if a.ResourceType != b.ResourceType {
			return a.ResourceType < b.ResourceType
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Pattern != b.Pattern {
			return a.Pattern < b.Pattern
		}
		return a.String() < b.String()
	})
	tw := newTable(w)
	fmt.Fprintln(tw, "RESOURCE\tNAME\tPATTERN\tPRINCIPAL\tPERMISSION\tOPERATION\tHOST")
	for _, r := range acls {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ResourceType, r.Name, r.Pattern, r.Principal, r.Permission, r.Operation, r.Host)
	}
	return tw.Flush()
}
