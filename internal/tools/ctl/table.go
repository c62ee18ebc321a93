package ctl

// table.go renders listings and descriptions as aligned plain-text tables
// for a terminal. Unknown values print as "-".

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// WriteTopicList writes the topics as a NAME / PARTITIONS table.
func WriteTopicList(w io.Writer, topics []TopicSummary) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "NAME\tPARTITIONS")
	for _, t := range topics {
		name := t.Name
		if t.Internal {
			name += " (internal)"
		}
		fmt.Fprintf(tw, "%s\t%d\n", name, t.Partitions)
	}
	return tw.Flush()
}

// WriteTopicDescription writes the description: a header of topic-wide
// facts, the non-default configs, and a table of partitions.
func WriteTopicDescription(w io.Writer, d TopicDescription) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "Topic:\t%s\n", d.Name)
	fmt.Fprintf(tw, "ID:\t%s\n", orDash(d.ID))
	if d.Internal {
		fmt.Fprintf(tw, "Internal:\tyes\n")
	}
	fmt.Fprintf(tw, "Partitions:\t%d\n", len(d.Partitions))
	fmt.Fprintf(tw, "Replication factor:\t%d\n", d.ReplicationFactor)
	switch {
	case d.ConfigsErr != nil:
		fmt.Fprintf(tw, "Configs:\tunavailable (%v)\n", d.ConfigsErr)
	case len(d.Configs) == 0:
		fmt.Fprintf(tw, "Configs:\tall defaults\n")
	default:
		for i, c := range d.Configs {
			label := ""
			if i == 0 {
				label = "Configs:"
			}
			v := c.Value
			if c.Sensitive {
				v = "(sensitive)"
			}
			fmt.Fprintf(tw, "%s\t%s=%s (%s)\n", label, c.Name, v, sourceName(c.Source))
		}
	}
	if d.SizesErr != nil {
		fmt.Fprintf(tw, "Sizes:\tunavailable (%v)\n", d.SizesErr)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	tw = newTable(w)
	// The dirty ratio column appears for a compacted topic on Courier.
	dirty := slices.ContainsFunc(d.Partitions, func(p PartitionInfo) bool { return p.DirtyKnown })
	header := "PARTITION\tLEADER\tSTART-OFFSET\tEND-OFFSET\tSIZE-BYTES"
	if dirty {
		header += "\tDIRTY-RATIO"
	}
	fmt.Fprintln(tw, header)
	for _, p := range d.Partitions {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s", p.Partition,
			num(int64(p.Leader)), num(p.StartOffset), num(p.EndOffset), num(p.Size))
		if dirty {
			ratio := "-"
			if p.DirtyKnown {
				ratio = strconv.FormatFloat(p.DirtyRatio, 'f', 3, 64)
			}
			fmt.Fprintf(tw, "\t%s", ratio)
		}
		if p.Err != nil {
			fmt.Fprintf(tw, "\t%v", p.Err)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// newTable returns a tabwriter with the CLI's column spacing.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// num renders n, or "-" for the -1 that means unknown.
func num(n int64) string {
	if n < 0 {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}

// orDash returns s, or "-" if s is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// sourceName says where a config value comes from, in short words.
func sourceName(s kmsg.ConfigSource) string {
	switch s {
	case kmsg.ConfigSourceDynamicTopicConfig:
		return "topic"
	case kmsg.ConfigSourceDynamicBrokerConfig:
		return "dynamic broker"
	case kmsg.ConfigSourceDynamicDefaultBrokerConfig:
		return "dynamic cluster default"
	case kmsg.ConfigSourceStaticBrokerConfig:
		return "static broker"
	default:
		return strings.ToLower(strings.ReplaceAll(s.String(), "_", " "))
	}
}
