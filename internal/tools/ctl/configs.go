package ctl

// configs.go describes and changes the configs of a topic, a broker, the
// cluster-wide broker defaults or a broker's loggers, on any Kafka
// cluster (DescribeConfigs, IncrementalAlterConfigs): what `courier topic
// alter-config` and `courier config` print and send.
//
// A value is given as on kafka-topics.sh --config: key=value, the value
// everything after the first '='. A list value (cleanup.policy) is
// comma-separated, with or without the brackets kafka-configs.sh
// --add-config needs ([compact,delete]): each flag carries one config, so
// commas need no brackets.

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ConfigResource names the config resource an operation applies to.
type ConfigResource struct {
	Type kmsg.ConfigResourceType
	// Name is the topic, the group, or the broker's id ("" for the
	// cluster-wide broker defaults).
	Name string
}

// String names the resource in messages.
func (r ConfigResource) String() string {
	switch {
	case r.Type == kmsg.ConfigResourceTypeBroker && r.Name == "":
		return "cluster-wide broker defaults"
	case r.Type == kmsg.ConfigResourceTypeBrokerLogger:
		return "loggers of broker " + r.Name
	case r.Type == kmsg.ConfigResourceTypeGroupConfig:
		return "group " + r.Name
	}
	return strings.ToLower(r.Type.String()) + " " + r.Name
}

// ConfigEntry is one described config.
type ConfigEntry struct {
	Name      string
	Value     string // "" when null
	Null      bool   // no value: unset, or sensitive
	Source    kmsg.ConfigSource
	ReadOnly  bool
	Sensitive bool
}

// DescribeConfigs lists every config of a resource, sorted by name.
func (a *Admin) DescribeConfigs(ctx context.Context, r ConfigResource) ([]ConfigEntry, error) {
	req := kmsg.NewPtrDescribeConfigsRequest()
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType, rr.ResourceName = r.Type, r.Name
	req.Resources = append(req.Resources, rr)
	resp, err := req.RequestWith(ctx, a.cl)
	if err != nil {
		return nil, optionalErr("DescribeConfigs", err)
	}
	if len(resp.Resources) != 1 {
		return nil, fmt.Errorf("describe configs of %s: %d resources in the answer, want 1", r, len(resp.Resources))
	}
	res := resp.Resources[0]
	if err := resourceErr(res.ErrorCode, res.ErrorMessage); err != nil {
		return nil, fmt.Errorf("describe configs of %s: %w", r, err)
	}
	out := make([]ConfigEntry, 0, len(res.Configs))
	for _, c := range res.Configs {
		e := ConfigEntry{Name: c.Name, Source: c.Source, ReadOnly: c.ReadOnly, Sensitive: c.IsSensitive, Null: c.Value == nil}
		if c.Value != nil {
			e.Value = *c.Value
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// resourceErr is a resource's error code with the broker's message.
func resourceErr(code int16, msg *string) error {
	err := kerr.ErrorForCode(code)
	if err == nil {
		return nil
	}
	if msg != nil && *msg != "" {
		return fmt.Errorf("%w: %s", err, *msg)
	}
	return err
}

// AlterConfigs applies ops to a resource with IncrementalAlterConfigs:
// all of them or, if the broker refuses one, none.
func (a *Admin) AlterConfigs(ctx context.Context, r ConfigResource, ops []kadm.AlterConfig) error {
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	rr := kmsg.NewIncrementalAlterConfigsRequestResource()
	rr.ResourceType, rr.ResourceName = r.Type, r.Name
	for _, o := range ops {
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Value = o.Name, o.Value
		c.Op = kmsg.IncrementalAlterConfigOp(o.Op)
		rr.Configs = append(rr.Configs, c)
	}
	req.Resources = append(req.Resources, rr)
	resp, err := req.RequestWith(ctx, a.cl)
	if err != nil {
		return optionalErr("IncrementalAlterConfigs", err)
	}
	if len(resp.Resources) != 1 {
		return fmt.Errorf("alter configs of %s: %d resources in the answer, want 1", r, len(resp.Resources))
	}
	if err := resourceErr(resp.Resources[0].ErrorCode, resp.Resources[0].ErrorMessage); err != nil {
		return fmt.Errorf("alter configs of %s: %w", r, err)
	}
	return nil
}

// ParseConfigOps turns the flags of a change into operations: set and
// append/subtract as key=value, delete as keys. A key may be named once.
func ParseConfigOps(set, del, appendTo, subtract []string) ([]kadm.AlterConfig, error) {
	var ops []kadm.AlterConfig
	seen := map[string]bool{}
	add := func(op kadm.IncrementalOp, k string, v *string) error {
		if seen[k] {
			return fmt.Errorf("config %s named more than once", k)
		}
		seen[k] = true
		ops = append(ops, kadm.AlterConfig{Op: op, Name: k, Value: v})
		return nil
	}
	for _, group := range []struct {
		op  kadm.IncrementalOp
		kvs []string
	}{{kadm.SetConfig, set}, {kadm.AppendConfig, appendTo}, {kadm.SubtractConfig, subtract}} {
		for _, kv := range group.kvs {
			k, v, err := parseConfig(kv)
			if err != nil {
				return nil, err
			}
			if err := add(group.op, k, &v); err != nil {
				return nil, err
			}
		}
	}
	for _, k := range del {
		k = strings.TrimSpace(k)
		if k == "" {
			return nil, fmt.Errorf("--delete needs a config name")
		}
		if err := add(kadm.DeleteConfig, k, nil); err != nil {
			return nil, err
		}
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("nothing to change: give --set, --delete, --append or --subtract")
	}
	return ops, nil
}

// parseConfig splits one "key=value"; a value in brackets, as
// kafka-configs.sh takes a list ([compact,delete]), loses them.
func parseConfig(kv string) (string, string, error) {
	k, v, ok := strings.Cut(kv, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return "", "", fmt.Errorf("config %q: want key=value", kv)
	}
	if len(v) >= 2 && v[0] == '[' && v[len(v)-1] == ']' {
		v = v[1 : len(v)-1]
	}
	return k, v, nil
}

// WriteConfigs prints configs as a table: name, value, source, and
// whether the config is read-only.
func WriteConfigs(w io.Writer, entries []ConfigEntry) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVALUE\tSOURCE\tREAD-ONLY")
	for _, e := range entries {
		v := e.Value
		switch {
		case e.Sensitive:
			v = "(sensitive)"
		case e.Null:
			v = "(null)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\n", e.Name, v, sourceName(e.Source), e.ReadOnly)
	}
	return tw.Flush()
}
