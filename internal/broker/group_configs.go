package broker

// group_configs.go is the GROUP config resource (KIP-848, KIP-932): a
// group's own settings, set with IncrementalAlterConfigs or AlterConfigs
// and described with DescribeConfigs, by Kafka's names and with Kafka's
// validation (GroupConfig.validate: each value within the broker's
// bounds, a session timeout above the heartbeat interval). They are kept
// like the dynamic broker configs, in DATA/meta/group-configs.json
// (package metafile: replaced atomically, refused rather than guessed
// when damaged), written before they are used. A group need not exist to
// be configured, as in Kafka. The share coordinator reads a group's
// share.* settings at every use (groupConfigs); the consumer.* ones are
// for the KIP-848 coordinator.

import (
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/metafile"
	"github.com/courier-dev/courier/internal/broker/share"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupConfigsFile is the group configs' file in DATA/meta.
const groupConfigsFile = "group-configs.json"

var groupConfigsFormat = metafile.Format{What: "group configs", Version: 1, Perm: 0o644}

// groupConfigsBody is group-configs.json's body: group id to its configs.
type groupConfigsBody struct {
	Groups map[string]map[string]string `json:"groups"`
}

// groupConfigDef is one group config: its type, the broker default it
// falls back to, and the bounds a value must respect.
type groupConfigDef struct {
	name string
	typ  kmsg.ConfigType
	doc  string
	// def is the broker's default for groups that do not set it.
	def func(*Config) string
	// lo, hi bound an INT (inclusive); check validates a STRING or
	// BOOLEAN.
	lo, hi int64
	check  func(string) error
}

func msDefault(d *time.Duration, def time.Duration) func(*Config) string {
	return func(*Config) string {
		if *d > 0 {
			return strconv.FormatInt(d.Milliseconds(), 10)
		}
		return strconv.FormatInt(def.Milliseconds(), 10)
	}
}

// groupConfigDefs are Kafka 4.2's group configs (GroupConfig), in the
// order DescribeConfigs lists them.
var groupConfigDefs = []groupConfigDef{
	{name: "consumer.heartbeat.interval.ms", typ: kmsg.ConfigTypeInt, lo: 5000, hi: 15000,
		doc: "The heartbeat interval given to the members of a consumer group (KIP-848; the default is --group-consumer-heartbeat-interval).",
		def: func(c *Config) string {
			return durationMsOr(c.ConsumerGroupHeartbeatInterval, group.DefaultConsumerHeartbeatInterval)
		}},
	{name: "consumer.session.timeout.ms", typ: kmsg.ConfigTypeInt, lo: 45000, hi: 60000,
		doc: "The timeout to detect client failures of a consumer group (KIP-848; the default is --group-consumer-session-timeout).",
		def: func(c *Config) string { return durationMsOr(c.ConsumerGroupSessionTimeout, 45*time.Second) }},
	{name: "share.auto.offset.reset", typ: kmsg.ConfigTypeString, check: checkShareReset,
		doc: "Where a share group starts reading a partition: latest, earliest, or by_duration:<ISO-8601 duration> (records not older than that).",
		def: func(*Config) string { return "latest" }},
	{name: "share.delivery.count.limit", typ: kmsg.ConfigTypeInt, lo: 2, hi: 10,
		doc: "The most times a record is delivered to a share group; then it is archived (group.share.delivery.count.limit).",
		def: func(c *Config) string { return strconv.Itoa(cmpOr(c.ShareDeliveryCountLimit, 5)) }},
	{name: "share.heartbeat.interval.ms", typ: kmsg.ConfigTypeInt, lo: 5000, hi: 15000,
		doc: "The heartbeat interval given to the members of a share group (group.share.heartbeat.interval.ms).",
		def: func(*Config) string { return "5000" }},
	{name: "share.isolation.level", typ: kmsg.ConfigTypeString, check: oneOf("read_committed", "read_uncommitted"),
		doc: "read_committed: a share group is given only committed transactional records, up to the last stable offset; read_uncommitted: everything.",
		def: func(*Config) string { return "read_uncommitted" }},
	{name: "share.partition.max.record.locks", typ: kmsg.ConfigTypeInt, lo: 100, hi: 10000,
		doc: "The most records in flight per share-partition (group.share.partition.max.record.locks).",
		def: func(c *Config) string { return strconv.Itoa(cmpOr(c.SharePartitionMaxRecordLocks, 2000)) }},
	{name: "share.record.lock.duration.ms", typ: kmsg.ConfigTypeInt, lo: 15000, hi: 60000,
		doc: "How long a share group member holds a record it was given before it is available again (group.share.record.lock.duration.ms).",
		def: func(c *Config) string { return msDefault(&c.ShareRecordLockDuration, 30*time.Second)(c) }},
	{name: "share.renew.acknowledge.enable", typ: kmsg.ConfigTypeBoolean, check: oneOf("true", "false"),
		doc: "Whether share group members may renew their record locks (KIP-1222).",
		def: func(*Config) string { return "true" }},
	{name: "share.session.timeout.ms", typ: kmsg.ConfigTypeInt, lo: 45000, hi: 60000,
		doc: "The timeout to detect client failures of a share group (group.share.session.timeout.ms).",
		def: func(*Config) string { return "45000" }},
	{name: "streams.heartbeat.interval.ms", typ: kmsg.ConfigTypeInt, lo: 5000, hi: 15000,
		doc: "Kafka Streams groups (KIP-1071), which Courier does not serve: stored, no effect.",
		def: func(*Config) string { return "5000" }},
	{name: "streams.initial.rebalance.delay.ms", typ: kmsg.ConfigTypeInt, lo: 0, hi: 1<<31 - 1,
		doc: "Kafka Streams groups (KIP-1071), which Courier does not serve: stored, no effect.",
		def: func(*Config) string { return "3000" }},
	{name: "streams.num.standby.replicas", typ: kmsg.ConfigTypeInt, lo: 0, hi: 2,
		doc: "Kafka Streams groups (KIP-1071), which Courier does not serve: stored, no effect.",
		def: func(*Config) string { return "0" }},
	{name: "streams.session.timeout.ms", typ: kmsg.ConfigTypeInt, lo: 45000, hi: 60000,
		doc: "Kafka Streams groups (KIP-1071), which Courier does not serve: stored, no effect.",
		def: func(*Config) string { return "45000" }},
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func lookupGroupConfig(name string) (groupConfigDef, bool) {
	for _, d := range groupConfigDefs {
		if d.name == name {
			return d, true
		}
	}
	return groupConfigDef{}, false
}

func oneOf(vals ...string) func(string) error {
	return func(v string) error {
		if slices.Contains(vals, v) {
			return nil
		}
		return fmt.Errorf("String must be one of: %s", strings.Join(vals, ", "))
	}
}

// checkShareReset validates share.auto.offset.reset.
func checkShareReset(v string) error {
	_, _, err := parseShareReset(v)
	return err
}

// parseShareReset parses share.auto.offset.reset (Kafka's
// ShareGroupAutoOffsetResetStrategy).
func parseShareReset(v string) (mode int, d time.Duration, err error) {
	switch lv := strings.ToLower(strings.TrimSpace(v)); {
	case lv == "latest":
		return share.ResetLatest, 0, nil
	case lv == "earliest":
		return share.ResetEarliest, 0, nil
	case strings.HasPrefix(lv, "by_duration:"):
		d, err := parseISODuration(strings.TrimSpace(v[len("by_duration:"):]))
		if err != nil {
			//lint:ignore ST1005 Kafka's message, which clients show verbatim
			return 0, 0, fmt.Errorf("Invalid duration in by_duration: %w", err)
		}
		if d < 0 {
			//lint:ignore ST1005 Kafka's message, which clients show verbatim
			return 0, 0, fmt.Errorf("Negative duration is not allowed in by_duration")
		}
		return share.ResetByDuration, d, nil
	}
	//lint:ignore ST1005 Kafka's message, which clients show verbatim
	return 0, 0, fmt.Errorf("Invalid value `%s` for configuration share.auto.offset.reset. The value must be either 'earliest', 'latest' or of the format 'by_duration:<PnDTnHnMn.nS.>'", v)
}

// parseISODuration parses an ISO-8601 duration as java.time.Duration
// does: PnDTnHnMn.nS, with optional signs.
func parseISODuration(s string) (time.Duration, error) {
	u := strings.ToUpper(s)
	neg := false
	if strings.HasPrefix(u, "-") || strings.HasPrefix(u, "+") {
		neg, u = u[0] == '-', u[1:]
	}
	if !strings.HasPrefix(u, "P") || len(u) < 3 {
		return 0, fmt.Errorf("%q is not an ISO-8601 duration", s)
	}
	u = u[1:]
	var total float64
	inTime := false
	units := map[bool]map[byte]float64{false: {'D': 86400}, true: {'H': 3600, 'M': 60, 'S': 1}}
	for len(u) > 0 {
		if u[0] == 'T' {
			if inTime || len(u) == 1 {
				return 0, fmt.Errorf("%q is not an ISO-8601 duration", s)
			}
			inTime, u = true, u[1:]
			continue
		}
		i := 0
		for i < len(u) && (u[i] == '-' || u[i] == '+' || u[i] == '.' || (u[i] >= '0' && u[i] <= '9')) {
			i++
		}
		if i == 0 || i == len(u) {
			return 0, fmt.Errorf("%q is not an ISO-8601 duration", s)
		}
		n, err := strconv.ParseFloat(u[:i], 64)
		scale, ok := units[inTime][u[i]]
		if err != nil || !ok {
			return 0, fmt.Errorf("%q is not an ISO-8601 duration", s)
		}
		total += n * scale
		u = u[i+1:]
	}
	if neg {
		total = -total
	}
	if total > float64(1<<62)/1e9 || total < -float64(1<<62)/1e9 {
		return 0, fmt.Errorf("%q is too long", s)
	}
	return time.Duration(total * float64(time.Second)), nil
}

// validateGroupValue checks one value against its definition.
func validateGroupValue(d groupConfigDef, v string) error {
	if d.typ == kmsg.ConfigTypeInt {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil {
			return &topics.ConfigError{Msg: fmt.Sprintf("Invalid value %s for configuration %s: Not a number of type INT", v, d.name)}
		}
		if n < d.lo {
			return &topics.ConfigError{Msg: fmt.Sprintf("%s must be greater than or equal to %d", d.name, d.lo)}
		}
		if n > d.hi {
			return &topics.ConfigError{Msg: fmt.Sprintf("%s must be less than or equal to %d", d.name, d.hi)}
		}
		return nil
	}
	if err := d.check(v); err != nil {
		return &topics.ConfigError{Msg: fmt.Sprintf("Invalid value %s for configuration %s: %v", v, d.name, err)}
	}
	return nil
}

// validateGroupConfigs checks a group's whole set of configs: every name
// known, every value valid, and (over the broker defaults) each session
// timeout above its heartbeat interval.
func (b *Broker) validateGroupConfigs(configs map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(configs)) {
		d, ok := lookupGroupConfig(name)
		if !ok {
			return &topics.ConfigError{Msg: "Unknown group config name: " + name, Unknown: true}
		}
		if err := validateGroupValue(d, configs[name]); err != nil {
			return err
		}
	}
	eff := b.effectiveGroupConfigs(configs)
	for _, kind := range []string{"consumer", "share", "streams"} {
		st, _ := strconv.Atoi(eff[kind+".session.timeout.ms"])
		hb, _ := strconv.Atoi(eff[kind+".heartbeat.interval.ms"])
		if st <= hb {
			return &topics.ConfigError{Msg: kind + ".session.timeout.ms must be greater than " + kind + ".heartbeat.interval.ms"}
		}
	}
	return nil
}

// effectiveGroupConfigs is configs over the broker defaults.
func (b *Broker) effectiveGroupConfigs(configs map[string]string) map[string]string {
	out := make(map[string]string, len(groupConfigDefs))
	for _, d := range groupConfigDefs {
		out[d.name] = d.def(&b.cfg)
	}
	maps.Copy(out, configs)
	return out
}

// groupConfigStore holds every group's configs.
type groupConfigStore struct {
	path string
	// mu guards groups; changes are serialized by the broker's adminMu.
	mu     sync.RWMutex
	groups map[string]map[string]string
}

// openGroupConfigs loads DATA/meta/group-configs.json (none: no group
// configs).
func openGroupConfigs(dir string, logger *slog.Logger) (*groupConfigStore, error) {
	s := &groupConfigStore{path: filepath.Join(dir, groupConfigsFile), groups: map[string]map[string]string{}}
	var body groupConfigsBody
	if _, err := groupConfigsFormat.Load(vfs.Default, s.path, &body, logger); err != nil {
		return nil, err
	}
	for g, cfg := range body.Groups {
		s.groups[g] = copyMap(cfg)
	}
	return s, nil
}

// get returns a copy of a group's configs.
func (s *groupConfigStore) get(group string) map[string]string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return copyMap(s.groups[group])
}

// set replaces a group's configs, writing the file first.
func (s *groupConfigStore) set(group string, next map[string]string) error {
	s.mu.RLock()
	body := groupConfigsBody{Groups: make(map[string]map[string]string, len(s.groups)+1)}
	for g, cfg := range s.groups {
		body.Groups[g] = cfg
	}
	s.mu.RUnlock()
	if len(next) == 0 {
		delete(body.Groups, group)
	} else {
		body.Groups[group] = next
	}
	if err := groupConfigsFormat.Save(vfs.Default, s.path, body); err != nil {
		return fmt.Errorf("save %s: %w", groupConfigsFile, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(next) == 0 {
		delete(s.groups, group)
	} else {
		s.groups[group] = copyMap(next)
	}
	return nil
}

// GroupConfigs is one group's effective settings.
type GroupConfigs struct {
	// ConsumerSessionTimeout and ConsumerHeartbeatInterval are
	// consumer.session.timeout.ms and consumer.heartbeat.interval.ms,
	// for KIP-848 consumer groups.
	ConsumerSessionTimeout, ConsumerHeartbeatInterval time.Duration
	// Share is the share.* settings, for share groups.
	Share share.GroupConfig
}

// groupConfigs returns a group's effective settings: its configs over the
// broker's defaults. Values are validated when set, so they parse.
func (b *Broker) groupConfigs(group string) GroupConfigs {
	eff := b.effectiveGroupConfigs(b.groupCfgs.get(group))
	ms := func(name string) time.Duration {
		n, _ := strconv.Atoi(eff[name])
		return time.Duration(n) * time.Millisecond
	}
	num := func(name string) int { n, _ := strconv.Atoi(eff[name]); return n }
	out := GroupConfigs{
		ConsumerSessionTimeout:    ms("consumer.session.timeout.ms"),
		ConsumerHeartbeatInterval: ms("consumer.heartbeat.interval.ms"),
		Share: share.GroupConfig{
			SessionTimeout:    ms("share.session.timeout.ms"),
			HeartbeatInterval: ms("share.heartbeat.interval.ms"),
			LockDuration:      ms("share.record.lock.duration.ms"),
			DeliveryLimit:     int16(num("share.delivery.count.limit")),
			MaxLocks:          num("share.partition.max.record.locks"),
			ReadCommitted:     eff["share.isolation.level"] == "read_committed",
			RenewDisabled:     eff["share.renew.acknowledge.enable"] == "false",
		},
	}
	out.Share.Reset, out.Share.ResetDuration, _ = parseShareReset(eff["share.auto.offset.reset"])
	return out
}

// consumerGroupTimeouts is the session timeout and heartbeat interval a
// consumer group sets itself (consumer.session.timeout.ms,
// consumer.heartbeat.interval.ms); 0 where it does not, for the group
// coordinator's defaults. The coordinator asks at every heartbeat, so a
// change applies from the members' next heartbeat.
func (b *Broker) consumerGroupTimeouts(group string) (session, heartbeat time.Duration) {
	set := b.groupCfgs.get(group)
	ms := func(name string) time.Duration {
		n, err := strconv.Atoi(set[name])
		if err != nil || n <= 0 {
			return 0
		}
		return time.Duration(n) * time.Millisecond
	}
	return ms("consumer.session.timeout.ms"), ms("consumer.heartbeat.interval.ms")
}

// groupConfigEntries describes a group's configs: those it sets, and the
// broker defaults of the others.
func (b *Broker) groupConfigEntries(group string) []configEntry {
	set := b.groupCfgs.get(group)
	var out []configEntry
	for _, d := range groupConfigDefs {
		v, src := d.def(&b.cfg), kmsg.ConfigSourceDefaultConfig
		if sv, ok := set[d.name]; ok {
			v, src = sv, kmsg.ConfigSourceGroupConfig
		}
		out = append(out, configEntry{name: d.name, value: &v, doc: d.doc, source: src, typ: d.typ,
			synonyms: []configSynonym{{name: d.name, value: v, source: src}}})
	}
	return out
}

// changeGroupConfigs applies one request's change to a GROUP resource.
func (b *Broker) changeGroupConfigs(c configChange, validateOnly bool) error {
	if c.resource == "" {
		return newAPIError(kerr.InvalidRequest, "Group name must not be empty")
	}
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	next, err := c.apply(b.groupCfgs.get(c.resource), func(name string) (topics.ConfigDef, bool) {
		d, ok := lookupGroupConfig(name)
		if !ok {
			return topics.ConfigDef{}, false
		}
		return topics.ConfigDef{Name: name, Type: d.typ, Default: d.def(&b.cfg)}, true
	})
	if err != nil {
		return err
	}
	for name, v := range next {
		next[name] = strings.TrimSpace(v)
	}
	if err := b.validateGroupConfigs(next); err != nil {
		return err
	}
	if validateOnly {
		return nil
	}
	if err := b.groupCfgs.set(c.resource, next); err != nil {
		return err
	}
	b.cfg.Logger.Info("group configs changed", "group", c.resource, "configs", next)
	return nil
}
