package ctl

// group_table.go renders group listings, descriptions and seek results as
// aligned plain-text tables, in the manner of table.go. Unknown values
// print as "-".

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// WriteGroupList writes the groups as a GROUP / TYPE / STATE /
// PROTOCOL-TYPE table.
func WriteGroupList(w io.Writer, groups []GroupSummary) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "GROUP\tTYPE\tSTATE\tPROTOCOL-TYPE")
	for _, g := range groups {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", g.Group, orDash(g.Type), orDash(g.State), orDash(g.ProtocolType))
	}
	return tw.Flush()
}

// WriteGroupDescription writes the description: a header of group-wide
// facts, a table of members and their assignments, and a table of
// committed offsets, end offsets and lag by partition (for a share group:
// share-partition start offsets, end offsets and lag).
func WriteGroupDescription(w io.Writer, d GroupDescription) error {
	if err := writeGroupHeader(w, d); err != nil {
		return err
	}
	if len(d.Members) > 0 {
		fmt.Fprintln(w)
		if err := writeMembers(w, d); err != nil {
			return err
		}
	}
	if len(d.Offsets) > 0 {
		fmt.Fprintln(w)
		tw := newTable(w)
		fmt.Fprintln(tw, "TOPIC\tPARTITION\tCOMMITTED\tEND-OFFSET\tLAG\tMEMBER-ID")
		for _, o := range d.Offsets {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s", o.Topic, o.Partition, num(o.Committed), num(o.End), num(o.Lag), orDash(o.MemberID))
			if o.Err != nil {
				fmt.Fprintf(tw, "\t%v", o.Err)
			}
			fmt.Fprintln(tw)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(d.Shares) > 0 {
		fmt.Fprintln(w)
		tw := newTable(w)
		fmt.Fprintln(tw, "TOPIC\tPARTITION\tSTART-OFFSET\tEND-OFFSET\tLAG\tMEMBERS")
		for _, s := range d.Shares {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d", s.Topic, s.Partition, num(s.Start), num(s.End), num(s.Lag), len(s.Members))
			if s.Err != nil {
				fmt.Fprintf(tw, "\t%v", s.Err)
			}
			fmt.Fprintln(tw)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// writeGroupHeader writes the group-wide facts of a description.
func writeGroupHeader(w io.Writer, d GroupDescription) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "Group:\t%s\n", d.Group)
	fmt.Fprintf(tw, "Type:\t%s\n", orDash(d.Type))
	fmt.Fprintf(tw, "Coordinator:\t%s\n", orDash(d.Coordinator))
	fmt.Fprintf(tw, "State:\t%s\n", orDash(d.State))
	if d.Type == "classic" || d.Type == "" {
		fmt.Fprintf(tw, "Protocol type:\t%s\n", orDash(d.ProtocolType))
		fmt.Fprintf(tw, "Protocol:\t%s\n", orDash(d.Protocol))
	} else {
		fmt.Fprintf(tw, "Assignor:\t%s\n", orDash(d.Protocol))
		fmt.Fprintf(tw, "Group epoch:\t%d\n", d.Epoch)
		fmt.Fprintf(tw, "Assignment epoch:\t%d\n", d.AssignmentEpoch)
	}
	fmt.Fprintf(tw, "Members:\t%d\n", len(d.Members))
	n := len(d.Offsets) + len(d.Shares)
	switch {
	case d.OffsetsErr != nil && n == 0:
		fmt.Fprintf(tw, "Offsets:\tunavailable (%v)\n", d.OffsetsErr)
	case d.OffsetsErr != nil:
		fmt.Fprintf(tw, "Offsets:\tincomplete (%v)\n", d.OffsetsErr)
	case n == 0 && d.Type == "share":
		fmt.Fprintf(tw, "Offsets:\tno share-partition state yet\n")
	case n == 0:
		fmt.Fprintf(tw, "Offsets:\tnone committed\n")
	}
	if n > 0 {
		fmt.Fprintf(tw, "Total lag:\t%d\n", d.TotalLag())
	}
	return tw.Flush()
}

// writeMembers writes the members table: for a classic group each
// member's assignment; for a consumer group also its epoch, subscription
// and target assignment; for a share group its epoch and subscription.
func writeMembers(w io.Writer, d GroupDescription) error {
	static := false
	for _, m := range d.Members {
		static = static || m.InstanceID != ""
	}
	tw := newTable(w)
	if static {
		fmt.Fprint(tw, "INSTANCE-ID\t")
	}
	switch d.Type {
	case "consumer":
		fmt.Fprintln(tw, "MEMBER-ID\tCLIENT-ID\tHOST\tEPOCH\tSUBSCRIBED\tASSIGNED\tTARGET")
	case "share":
		fmt.Fprintln(tw, "MEMBER-ID\tCLIENT-ID\tHOST\tEPOCH\tSUBSCRIBED\tASSIGNED")
	default:
		fmt.Fprintln(tw, "MEMBER-ID\tCLIENT-ID\tHOST\tASSIGNED")
	}
	for _, m := range d.Members {
		if static {
			fmt.Fprintf(tw, "%s\t", orDash(m.InstanceID))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t", m.MemberID, orDash(m.ClientID), orDash(m.Host))
		switch d.Type {
		case "consumer":
			epoch := strconv.FormatInt(int64(m.Epoch), 10)
			if m.Classic {
				epoch += " (classic)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", epoch, subscription(m), assignment(m.Assigned), assignment(m.Target))
		case "share":
			fmt.Fprintf(tw, "%d\t%s\t%s\n", m.Epoch, subscription(m), assignment(m.Assigned))
		default:
			fmt.Fprintf(tw, "%s\n", assignment(m.Assigned))
		}
	}
	return tw.Flush()
}

// subscription renders a member's subscription: its topics comma-separated,
// its regular expression between slashes, or "-".
func subscription(m GroupMember) string {
	parts := append([]string(nil), m.Subscribed...)
	if m.Regex != "" {
		parts = append(parts, "/"+m.Regex+"/")
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

// WriteSeekResults writes what a seek set, by partition: the committed
// offset before, the offset after, and a note or error.
func WriteSeekResults(w io.Writer, results []SeekResult) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tPREVIOUS\tNEW")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s", r.Topic, r.Partition, num(r.Previous), num(r.Offset))
		switch {
		case r.Err != nil:
			fmt.Fprintf(tw, "\tnot set: %v", r.Err)
		case r.Note != "":
			fmt.Fprintf(tw, "\t(%s)", r.Note)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// assignment renders a member's partitions as "topic:0,1,2 other:3", or "-".
func assignment(a map[string][]int32) string {
	if len(a) == 0 {
		return "-"
	}
	topics := make([]string, 0, len(a))
	for t := range a {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	var b strings.Builder
	for i, t := range topics {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t)
		b.WriteByte(':')
		for j, p := range a[t] {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(int64(p), 10))
		}
	}
	return b.String()
}
