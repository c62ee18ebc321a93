package topics

// configs.go is how topic configs are checked, normalized and read: the
// definitions themselves (every topic config of Apache Kafka 4, with its
// type, default and valid values) are in configdefs.go. Names, types,
// ranges and error messages are Kafka's, so that tools written for Kafka
// (Terraform, Strimzi, Kafka Connect, kafka-topics --config) work
// unchanged.
//
// Two levels of checking: a request (CreateTopics, AlterConfigs) is held
// to Kafka 4's rules (ValidateConfigs); metadata already stored is held
// only to what some Courier version accepted (ValidateStoredConfigs), so
// that a topic created before a rule was tightened (segment.bytes' minimum
// rose to 1 MiB in Kafka 4.0) or with a config Kafka 4 removed still loads.

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ConfigDef describes one topic config.
type ConfigDef struct {
	Name string
	// Type is Kafka's type of the config (DescribeConfigs v3+).
	Type kmsg.ConfigType
	// Default is Kafka's default, as DescribeConfigs shows it.
	Default string
	// Doc is shown in DescribeConfigs with documentation requested.
	Doc string
	// Effect says what Courier does with the config (README's table).
	Effect string
	// Internal configs are accepted but never described (Kafka's
	// defineInternal: internal.segment.bytes).
	Internal bool
	// check returns an error for a value of the right type that Kafka
	// refuses (a range, a set of valid strings); nil accepts any.
	check func(v string) error
}

// IsList reports whether the config is a LIST, which
// IncrementalAlterConfigs may APPEND to and SUBTRACT from.
func (d ConfigDef) IsList() bool { return d.Type == kmsg.ConfigTypeList }

// ErrUnknownConfig is wrapped (with ErrInvalidConfig) by the error for a
// config name Kafka 4 does not define.
var ErrUnknownConfig = errors.New("unknown topic config")

// ConfigError is an invalid or unknown config: its text is Kafka's
// message, and it matches ErrInvalidConfig (and ErrUnknownConfig for an
// unknown name) with errors.Is.
type ConfigError struct {
	Msg     string
	Unknown bool
}

func (e *ConfigError) Error() string { return e.Msg }

// Is makes errors.Is(err, ErrInvalidConfig) hold.
func (e *ConfigError) Is(target error) bool {
	return target == ErrInvalidConfig || (e.Unknown && target == ErrUnknownConfig)
}

func configErrorf(format string, args ...any) error {
	return &ConfigError{Msg: fmt.Sprintf(format, args...)}
}

func unknownConfig(name string) error {
	return &ConfigError{Msg: "Unknown topic config name: " + name, Unknown: true}
}

// configDefs is every topic config served, by name.
var configDefs = map[string]ConfigDef{}

// removedConfigs are configs Kafka 4.0 removed that earlier Courier
// versions accepted: a request naming them is refused as Kafka 4 refuses
// them (unknown), but a topic that stored one keeps it (and its effect)
// until it is deleted from the topic.
var removedConfigs = map[string]ConfigDef{}

// ConfigDefs returns every described config definition, sorted by name.
func ConfigDefs() []ConfigDef {
	out := make([]ConfigDef, 0, len(configDefs))
	for _, d := range configDefs {
		if !d.Internal {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupConfig returns the definition of a config Kafka 4 defines.
func LookupConfig(name string) (ConfigDef, bool) {
	d, ok := configDefs[name]
	return d, ok
}

// LookupRemovedConfig returns the definition of a config that Kafka 4
// removed but that a topic may still hold (see removedConfigs).
func LookupRemovedConfig(name string) (ConfigDef, bool) {
	d, ok := removedConfigs[name]
	return d, ok
}

// ValidateConfig checks one config name and value as Kafka 4 checks a
// request: the name must be known, and the value of its type and range.
func ValidateConfig(name, value string) error {
	d, ok := configDefs[name]
	if !ok {
		return unknownConfig(name)
	}
	return d.Validate(value)
}

// Validate checks a value against the definition: Kafka's messages,
// "Invalid value V for configuration N: reason".
func (d ConfigDef) Validate(value string) error {
	if err := parseAs(d.Type, value); err != nil {
		return invalidValue(d.Name, value, err)
	}
	if d.check != nil {
		if err := d.check(strings.TrimSpace(value)); err != nil {
			return invalidValue(d.Name, value, err)
		}
	}
	return nil
}

func invalidValue(name, value string, reason error) error {
	return configErrorf("Invalid value %s for configuration %s: %v", value, name, reason)
}

// ValidateConfigs checks every entry of configs as a request's (each
// name and value, then the rules between configs), in name order so that
// the error is the same every time.
func ValidateConfigs(configs map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(configs)) {
		if err := ValidateConfig(k, configs[k]); err != nil {
			return err
		}
	}
	return validateTogether(configs)
}

// ValidateChange checks a topic's configs after a change from current to
// next: the entries the change sets are held to Kafka 4's rules (as a
// request's), those it keeps to the stored rules (a topic may hold a
// config Kafka 4 removed, or a value from before a range tightened), and
// the result to the rules between configs.
func ValidateChange(current, next map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(next)) {
		v := next[k]
		if old, kept := current[k]; kept && old == v {
			if err := ValidateStoredConfigs(map[string]string{k: v}); err != nil {
				return err
			}
			continue
		}
		if err := ValidateConfig(k, v); err != nil {
			return err
		}
	}
	return validateTogether(next)
}

// ValidateStoredConfigs checks configs read from stored metadata: each
// name must be one some Courier version accepted and each value parse as
// its type. Ranges are not checked: they have tightened across Kafka
// versions, and a topic created under an older one must still load.
func ValidateStoredConfigs(configs map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(configs)) {
		d, ok := configDefs[k]
		if !ok {
			if d, ok = removedConfigs[k]; !ok {
				return unknownConfig(k)
			}
		}
		if err := parseAs(d.Type, configs[k]); err != nil {
			return invalidValue(k, configs[k], err)
		}
	}
	return nil
}

// validateTogether applies Kafka's rules between configs
// (LogConfig.validateValues and the tiered-storage checks a broker
// without tiered storage applies).
func validateTogether(configs map[string]string) error {
	minLag := int64OrDefault(configs, "min.compaction.lag.ms")
	maxLag := int64OrDefault(configs, "max.compaction.lag.ms")
	if minLag > maxLag {
		return configErrorf("conflict topic config setting min.compaction.lag.ms (%d) > max.compaction.lag.ms (%d)", minLag, maxLag)
	}
	if v, ok := configs["remote.storage.enable"]; ok && strings.EqualFold(strings.TrimSpace(v), "true") {
		// Kafka's answer when remote.log.storage.system.enable is off,
		// as it always is here: Courier has no tiered storage.
		return configErrorf("Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.")
	}
	return nil
}

// int64OrDefault reads a LONG config from configs or its default.
func int64OrDefault(configs map[string]string, name string) int64 {
	v, ok := configs[name]
	if !ok {
		v = configDefs[name].Default
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return n
}

// NormalizeConfigs returns configs with each value in the form Kafka
// parses it to and Courier stores: surrounding spaces trimmed, booleans
// in lower case, lists as NormalizeList makes them. Validate first: a
// value that does not parse is kept as it is.
func NormalizeConfigs(configs map[string]string) map[string]string {
	out := make(map[string]string, len(configs))
	for k, v := range configs {
		out[k] = NormalizeValue(k, v)
	}
	return out
}

// NormalizeValue is NormalizeConfigs for one value.
func NormalizeValue(name, v string) string {
	d, ok := configDefs[name]
	if !ok {
		d, ok = removedConfigs[name]
	}
	if !ok {
		return v
	}
	switch d.Type {
	case kmsg.ConfigTypeList:
		return NormalizeList(v)
	case kmsg.ConfigTypeBoolean:
		return strings.ToLower(strings.TrimSpace(v))
	case kmsg.ConfigTypePassword:
		return v
	}
	return strings.TrimSpace(v)
}

// ParseList splits a LIST value as Kafka's ConfigDef does: the value
// trimmed, empty meaning the empty list, otherwise split at commas with
// the spaces around each item trimmed (an empty item stays, and a
// validator then refuses it).
func ParseList(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return []string{}
	}
	items := strings.Split(v, ",")
	for i, it := range items {
		items[i] = strings.TrimSpace(it)
	}
	return items
}

// FormatList joins list items as Kafka stores a list value: comma
// separated, no spaces.
func FormatList(items []string) string { return strings.Join(items, ",") }

// NormalizeList is ParseList then FormatList with repeated items dropped
// (a list config is a set of values: "compact,compact" means "compact").
func NormalizeList(v string) string {
	items := ParseList(v)
	out := items[:0]
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		if !seen[it] {
			seen[it] = true
			out = append(out, it)
		}
	}
	return FormatList(out)
}

// AppendList adds the items of add not in current, in order (Kafka's
// IncrementalAlterConfigs APPEND).
func AppendList(current, add string) string {
	items := ParseList(current)
	for _, it := range ParseList(add) {
		if !slices.Contains(items, it) {
			items = append(items, it)
		}
	}
	return FormatList(items)
}

// SubtractList removes the items of sub from current (Kafka's
// IncrementalAlterConfigs SUBTRACT); removing every item leaves the empty
// list.
func SubtractList(current, sub string) string {
	drop := ParseList(sub)
	var out []string
	for _, it := range ParseList(current) {
		if !slices.Contains(drop, it) {
			out = append(out, it)
		}
	}
	return FormatList(out)
}

// parseAs checks that v parses as Kafka's type t, with Kafka's messages.
func parseAs(t kmsg.ConfigType, v string) error {
	s := strings.TrimSpace(v)
	switch t {
	case kmsg.ConfigTypeBoolean:
		if !strings.EqualFold(s, "true") && !strings.EqualFold(s, "false") {
			//lint:ignore ST1005 Kafka's ConfigDef message, which clients show verbatim
			return errors.New("Expected value to be either true or false")
		}
	case kmsg.ConfigTypeInt:
		if _, err := strconv.ParseInt(s, 10, 32); err != nil {
			//lint:ignore ST1005 Kafka's ConfigDef message, which clients show verbatim
			return errors.New("Not a number of type INT")
		}
	case kmsg.ConfigTypeLong:
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			//lint:ignore ST1005 Kafka's ConfigDef message, which clients show verbatim
			return errors.New("Not a number of type LONG")
		}
	case kmsg.ConfigTypeDouble:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			//lint:ignore ST1005 Kafka's ConfigDef message, which clients show verbatim
			return errors.New("Not a number of type DOUBLE")
		}
	}
	return nil
}

// atLeast is Kafka's Range.atLeast for INT and LONG configs.
func atLeast(min int64) func(string) error {
	return func(v string) error {
		n, _ := strconv.ParseInt(v, 10, 64)
		if n < min {
			return fmt.Errorf("Value must be at least %d", min)
		}
		return nil
	}
}

// between is Kafka's Range.between for INT and LONG configs.
func between(min, max int64) func(string) error {
	return func(v string) error {
		n, _ := strconv.ParseInt(v, 10, 64)
		if n < min {
			return fmt.Errorf("Value must be at least %d", min)
		}
		if n > max {
			return fmt.Errorf("Value must be no more than %d", max)
		}
		return nil
	}
}

// betweenFloat is Kafka's Range.between for DOUBLE configs.
func betweenFloat(min, max float64) func(string) error {
	return func(v string) error {
		f, _ := strconv.ParseFloat(v, 64)
		if f < min {
			return fmt.Errorf("Value must be at least %v", min)
		}
		if f > max {
			return fmt.Errorf("Value must be no more than %v", max)
		}
		return nil
	}
}

// oneOf is Kafka's ValidString.in.
func oneOf(values ...string) func(string) error {
	return func(v string) error {
		if slices.Contains(values, v) {
			return nil
		}
		//lint:ignore ST1005 Kafka's ConfigDef message, which clients show verbatim
		return fmt.Errorf("String must be one of: %s", strings.Join(values, ", "))
	}
}

// listOf is Kafka's ValidList.in: every item one of values (the empty
// list is valid).
func listOf(values ...string) func(string) error {
	return func(v string) error {
		for _, it := range ParseList(v) {
			if !slices.Contains(values, it) {
				//lint:ignore ST1005 Kafka's ConfigDef message, which clients show verbatim
				return fmt.Errorf("String must be one of: %s", strings.Join(values, ", "))
			}
		}
		return nil
	}
}

// throttledReplicas is Kafka's ThrottledReplicaListValidator: "*" or a
// list of partition:broker pairs.
func throttledReplicas(v string) error {
	items := ParseList(v)
	if strings.Join(items, "") == "*" {
		return nil
	}
	for _, it := range items {
		if it == "" {
			continue
		}
		p, b, ok := strings.Cut(it, ":")
		if !ok || !digits(p) || !digits(b) {
			//lint:ignore ST1005 Kafka's ConfigDef message, which clients show verbatim
			return errors.New("must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...")
		}
	}
	return nil
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// gzipLevel is Kafka's GZIP level validator: 1 to 9, or -1 (the codec's
// default).
func gzipLevel(v string) error {
	n, _ := strconv.ParseInt(v, 10, 64)
	if n == -1 || (n >= 1 && n <= 9) {
		return nil
	}
	return errors.New("Value must be between 1 and 9 or equal to -1")
}

// Value returns a topic's own value of a config, or Kafka's default when
// the topic does not set it. ok is false for a config that does not exist
// (a removed config is reported only when the topic holds it).
func (t *Topic) Value(name string) (value string, isDefault bool, ok bool) {
	d, ok := configDefs[name]
	if !ok {
		if v, set := t.Configs[name]; set {
			if _, removed := removedConfigs[name]; removed {
				return v, false, true
			}
		}
		return "", false, false
	}
	if v, set := t.Configs[name]; set {
		return v, false, true
	}
	return d.Default, true, true
}

// Int64 returns a numeric config's value (the topic's own or the default).
func (t *Topic) Int64(name string) int64 {
	v, _, _ := t.Value(name)
	n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return n
}

// internalTopics are Kafka's internal topics (Topic.isInternal): a client
// may not produce to them.
var internalTopics = map[string]bool{
	"__consumer_offsets":  true,
	"__transaction_state": true,
	"__share_group_state": true,
}

// IsInternal reports whether name is one of Kafka's internal topics.
func IsInternal(name string) bool { return internalTopics[name] }

// MetadataTopic is KRaft's metadata log, which Kafka refuses to create.
const MetadataTopic = "__cluster_metadata"

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
