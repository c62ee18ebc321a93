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

// WriteGroupList writes the groups as a GROUP / STATE / PROTOCOL-TYPE table.
func WriteGroupList(w io.Writer, groups []GroupSummary) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "GROUP\tSTATE\tPROTOCOL-TYPE")
	for _, g := range groups {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", g.Group, orDash(g.State), orDash(g.ProtocolType))
	}
	return tw.Flush()
}

// WriteGroupDescription writes the description: a header of group-wide
// facts, a table of members and their assignments, and a table of
// committed offsets, end offsets and lag by partition.
func WriteGroupDescription(w io.Writer, d GroupDescription) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "Group:\t%s\n", d.Group)
	fmt.Fprintf(tw, "Coordinator:\t%s\n", orDash(d.Coordinator))
	fmt.Fprintf(tw, "State:\t%s\n", orDash(d.State))
	fmt.Fprintf(tw, "Protocol type:\t%s\n", orDash(d.ProtocolType))
	fmt.Fprintf(tw, "Protocol:\t%s\n", orDash(d.Protocol))
	fmt.Fprintf(tw, "Members:\t%d\n", len(d.Members))
	switch {
	case d.OffsetsErr != nil && len(d.Offsets) == 0:
		fmt.Fprintf(tw, "Offsets:\tunavailable (%v)\n", d.OffsetsErr)
	case d.OffsetsErr != nil:
		fmt.Fprintf(tw, "Offsets:\tincomplete (%v)\n", d.OffsetsErr)
	case len(d.Offsets) == 0:
		fmt.Fprintf(tw, "Offsets:\tnone committed\n")
	}
	if len(d.Offsets) > 0 {
		fmt.Fprintf(tw, "Total lag:\t%d\n", d.TotalLag())
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if len(d.Members) > 0 {
		static := false
		for _, m := range d.Members {
			static = static || m.InstanceID != ""
		}
		fmt.Fprintln(w)
		tw = newTable(w)
		if static {
			fmt.Fprint(tw, "INSTANCE-ID\t")
		}
		fmt.Fprintln(tw, "MEMBER-ID\tCLIENT-ID\tHOST\tASSIGNED")
		for _, m := range d.Members {
			if static {
				fmt.Fprintf(tw, "%s\t", orDash(m.InstanceID))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.MemberID, orDash(m.ClientID), orDash(m.Host), assignment(m.Assigned))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if len(d.Offsets) > 0 {
		fmt.Fprintln(w)
		tw = newTable(w)
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
	return nil
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
