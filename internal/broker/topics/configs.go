package topics

// configs.go defines the topic configs Courier understands, their defaults
// and validation. Names and meanings are Kafka's, so existing tools and
// scripts that set them keep working.

import (
	"fmt"
	"sort"
	"strconv"
)

// ConfigDef describes one topic config.
type ConfigDef struct {
	Name    string
	Default string
	// Doc is shown in DescribeConfigs with documentation requested.
	Doc string
	// validate returns an error for an unacceptable value.
	validate func(v string) error
}

func longAtLeast(min int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		if n < min {
			return fmt.Errorf("%d is below the minimum %d", n, min)
		}
		return nil
	}
}

func oneOf(values ...string) func(string) error {
	return func(v string) error {
		for _, ok := range values {
			if v == ok {
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %v", v, values)
	}
}

// configDefs is every topic config served, by name.
var configDefs = map[string]ConfigDef{}

func init() {
	for _, d := range []ConfigDef{
		{Name: "cleanup.policy", Default: "delete", Doc: "delete: segments are deleted by retention; compact: the log cleaner keeps the newest record of each key; compact,delete: both.", validate: oneOf("delete", "compact", "compact,delete", "delete,compact")},
		{Name: "retention.ms", Default: "604800000", Doc: "How long a segment is kept after its newest record; -1 keeps forever.", validate: longAtLeast(-1)},
		{Name: "retention.bytes", Default: "-1", Doc: "Partition size above which the oldest segments are deleted; -1 means no limit.", validate: longAtLeast(-1)},
		{Name: "segment.bytes", Default: "1073741824", Doc: "Segment file size at which a new segment is started.", validate: longAtLeast(14)},
		{Name: "segment.ms", Default: "604800000", Doc: "Segment age at which a new segment is started.", validate: longAtLeast(1)},
		{Name: "max.message.bytes", Default: "1048588", Doc: "Largest record batch accepted.", validate: longAtLeast(0)},
		{Name: "message.timestamp.type", Default: "CreateTime", Doc: "CreateTime keeps the producer's timestamps; LogAppendTime stamps batches with the broker's clock.", validate: oneOf("CreateTime", "LogAppendTime")},
		{Name: "message.timestamp.before.max.ms", Default: "9223372036854775807", Doc: "How far before the broker's clock a CreateTime record's timestamp may lie; a batch with an older record is refused with INVALID_TIMESTAMP. Ignored with LogAppendTime.", validate: longAtLeast(0)},
		{Name: "message.timestamp.after.max.ms", Default: "3600000", Doc: "How far after the broker's clock a CreateTime record's timestamp may lie (Kafka 4's default: one hour); a batch with a later record is refused with INVALID_TIMESTAMP. Ignored with LogAppendTime.", validate: longAtLeast(0)},
		{Name: "message.timestamp.difference.max.ms", Default: "9223372036854775807", Doc: "Deprecated (Kafka 3.6, removed in 4.0): if set, the bound before and after the broker's clock where message.timestamp.before.max.ms or after.max.ms is not set.", validate: longAtLeast(0)},
		{Name: "index.interval.bytes", Default: "4096", Doc: "Bytes between offset index entries.", validate: longAtLeast(0)},
		{Name: "compression.type", Default: "producer", Doc: "Batches are stored as the producer compressed them.", validate: oneOf("producer")},
		{Name: "min.insync.replicas", Default: "1", Doc: "Courier is a single node: every acknowledged batch is on its one replica.", validate: longAtLeast(1)},
	} {
		configDefs[d.Name] = d
	}
}

// ConfigDefs returns every served config definition, sorted by name.
func ConfigDefs() []ConfigDef {
	out := make([]ConfigDef, 0, len(configDefs))
	for _, d := range configDefs {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupConfig returns the definition of a config.
func LookupConfig(name string) (ConfigDef, bool) {
	d, ok := configDefs[name]
	return d, ok
}

// ValidateConfig checks one config name and value.
func ValidateConfig(name, value string) error {
	d, ok := configDefs[name]
	if !ok {
		return fmt.Errorf("%w: unknown config %q", ErrInvalidConfig, name)
	}
	if err := d.validate(value); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalidConfig, name, err)
	}
	return nil
}

// ValidateConfigs checks every entry of configs.
func ValidateConfigs(configs map[string]string) error {
	names := make([]string, 0, len(configs))
	for k := range configs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := ValidateConfig(k, configs[k]); err != nil {
			return err
		}
	}
	return nil
}

// Value returns a topic's effective value of a config: its own setting or
// the default. ok is false for a config that does not exist.
func (t *Topic) Value(name string) (value string, isDefault bool, ok bool) {
	d, ok := configDefs[name]
	if !ok {
		return "", false, false
	}
	if v, set := t.Configs[name]; set {
		return v, false, true
	}
	return d.Default, true, true
}

// Int64 returns a numeric config's effective value.
func (t *Topic) Int64(name string) int64 {
	v, _, _ := t.Value(name)
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// ValidateName checks a topic name against Kafka's rules: 1 to 249
// characters from [a-zA-Z0-9._-], and not "." or "..".
func ValidateName(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > 249 {
		return fmt.Errorf("%w: %q", ErrInvalidTopic, name)
	}
	for _, r := range name {
		ok := r == '.' || r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return fmt.Errorf("%w: %q contains %q (allowed: letters, digits, '.', '_', '-')", ErrInvalidTopic, name, r)
		}
	}
	return nil
}
