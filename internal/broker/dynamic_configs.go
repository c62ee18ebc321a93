package broker

// dynamic_configs.go keeps the broker configs clients set at run time
// (AlterConfigs and IncrementalAlterConfigs on the BROKER resource): the
// cluster-wide defaults (resource name "") and this broker's own
// (resource name: its id), in DATA/meta/broker-configs.json (package
// metafile: replaced atomically, refused rather than guessed when
// damaged). A change is written before it is used; then every open log
// gets the storage.Config its topic now resolves to, so a default applies
// at once to every topic that does not override it.
//
// An entry the file holds that this build does not accept (an unknown
// name, a value out of range) is not used, and not dropped either: it is
// logged at start, counted in courier_broker_configs_ignored, and written
// back unchanged with every later change, for whoever can use or fix it.

import (
	"cmp"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/courier-dev/courier/internal/broker/metafile"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// brokerConfigsFile is the dynamic broker configs' file in DATA/meta.
const brokerConfigsFile = "broker-configs.json"

var brokerConfigsFormat = metafile.Format{What: "broker configs", Version: 1, Perm: 0o644}

// brokerConfigsBody is broker-configs.json's body, beside its version.
type brokerConfigsBody struct {
	// Cluster holds the cluster-wide defaults (Kafka's
	// DYNAMIC_DEFAULT_BROKER_CONFIG), Broker this broker's own
	// (DYNAMIC_BROKER_CONFIG).
	Cluster map[string]string `json:"cluster"`
	Broker  map[string]string `json:"broker"`
}

// dynamicConfigs is the dynamic broker configs. Changes are serialized by
// the broker's adminMu; mu guards reads against them.
type dynamicConfigs struct {
	path string

	mu      sync.RWMutex
	cluster map[string]string
	broker  map[string]string
	// ignored holds entries read from the file that are not used, by
	// scope, kept to be written back.
	ignored brokerConfigsBody
}

// openDynamicConfigs loads DATA/meta/broker-configs.json (none: no
// dynamic configs).
func openDynamicConfigs(dir string, logger *slog.Logger) (*dynamicConfigs, int, error) {
	d := &dynamicConfigs{path: filepath.Join(dir, brokerConfigsFile), cluster: map[string]string{}, broker: map[string]string{},
		ignored: brokerConfigsBody{Cluster: map[string]string{}, Broker: map[string]string{}}}
	var body brokerConfigsBody
	if _, err := brokerConfigsFormat.Load(vfs.Default, d.path, &body, logger); err != nil {
		return nil, 0, err
	}
	ignored := 0
	for _, sc := range []struct {
		scope    string
		in       map[string]string
		use, ign map[string]string
	}{{"cluster", body.Cluster, d.cluster, d.ignored.Cluster}, {"broker", body.Broker, d.broker, d.ignored.Broker}} {
		for name, v := range sc.in {
			if err := validateBrokerConfig(name, v); err != nil {
				logger.Warn("dynamic broker config not used (kept in the file)", "file", d.path, "scope", sc.scope, "config", name, "err", err)
				sc.ign[name] = v
				ignored++
				continue
			}
			sc.use[name] = v
		}
	}
	return d, ignored, nil
}

// snapshot returns copies of the cluster-wide and this broker's configs.
func (d *dynamicConfigs) snapshot() (cluster, broker map[string]string) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return copyMap(d.cluster), copyMap(d.broker)
}

// replace makes next the configs of scope (perBroker: this broker's),
// writing the file first.
func (d *dynamicConfigs) replace(perBroker bool, next map[string]string) error {
	d.mu.RLock()
	body := brokerConfigsBody{Cluster: merged(d.cluster, d.ignored.Cluster), Broker: merged(d.broker, d.ignored.Broker)}
	d.mu.RUnlock()
	if perBroker {
		body.Broker = merged(next, d.ignored.Broker)
	} else {
		body.Cluster = merged(next, d.ignored.Cluster)
	}
	if err := brokerConfigsFormat.Save(vfs.Default, d.path, body); err != nil {
		return err
	}
	d.mu.Lock()
	if perBroker {
		d.broker = copyMap(next)
	} else {
		d.cluster = copyMap(next)
	}
	d.mu.Unlock()
	return nil
}

// merged is used with ignored entries added (a used entry of the same
// name replaced an ignored one).
func merged(used, ignored map[string]string) map[string]string {
	out := copyMap(ignored)
	maps.Copy(out, used)
	return out
}

// copyMap is maps.Clone, but never nil.
func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	maps.Copy(out, m)
	return out
}

// validateBrokerConfig checks a dynamic broker config's name and value.
func validateBrokerConfig(name, value string) error {
	d, ok := brokerConfigDefs[name]
	if !ok {
		return fmt.Errorf("unknown broker config %s", name)
	}
	if !d.dynamic {
		return fmt.Errorf("%s is read-only", name)
	}
	return brokerValueDef(name).Validate(value)
}

// brokerValueDef is the definition a dynamic broker config's values
// follow: the topic config it defaults, under the broker config's name
// (Kafka's messages name it).
func brokerValueDef(name string) topics.ConfigDef {
	td, _ := topics.LookupConfig(brokerConfigDefs[name].topic)
	td.Name = name
	return td
}

// brokerLayer returns the broker-level values topic configs fall back to.
func (b *Broker) brokerLayer() brokerLayer {
	cluster, broker := b.dynamic.snapshot()
	return brokerLayer{cfg: &b.cfg, dynCluster: cluster, dynBroker: broker}
}

// brokerScope resolves a BROKER resource name: "" is the cluster-wide
// defaults, this broker's id its own configs.
func (b *Broker) brokerScope(name string) (perBroker bool, err error) {
	if name == "" {
		return false, nil
	}
	id, perr := strconv.ParseInt(name, 10, 32)
	if perr != nil {
		return false, newAPIError(kerr.InvalidRequest, "Broker id must be an integer, but it is: %s", name)
	}
	if int32(id) != b.cfg.NodeID {
		return false, newAPIError(kerr.InvalidRequest, "unknown broker %s: this broker is %d", name, b.cfg.NodeID)
	}
	return true, nil
}

// resourceString is Kafka's ConfigResource.toString, which its messages
// name resources with.
func resourceString(rt kmsg.ConfigResourceType, name string) string {
	return fmt.Sprintf("ConfigResource(type=%s, name='%s')", rt.String(), name)
}

// changeBrokerConfigs applies one request's change to a BROKER resource:
// every operation is checked (read-only configs refused as Kafka refuses
// them, values validated as the topic config they default), then the new
// configs are written and applied to every open log.
func (b *Broker) changeBrokerConfigs(c configChange, validateOnly bool) error {
	perBroker, err := b.brokerScope(c.resource)
	if err != nil {
		return err
	}
	res := resourceString(c.resourceType, c.resource)
	var readOnly []string
	for _, o := range c.ops {
		d, ok := brokerConfigDefs[o.name]
		if !ok {
			return &topics.ConfigError{Msg: "Unknown broker config name: " + o.name, Unknown: true}
		}
		if !d.dynamic {
			readOnly = append(readOnly, o.name)
		}
	}
	if len(readOnly) > 0 {
		sort.Strings(readOnly)
		return newAPIError(kerr.InvalidRequest, "Invalid config value for resource %s: Cannot update these configs dynamically: Set(%s)", res, strings.Join(readOnly, ", "))
	}
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	cluster, broker := b.dynamic.snapshot()
	current := cluster
	if perBroker {
		current = broker
	}
	next, err := c.apply(current, func(name string) (topics.ConfigDef, bool) { return brokerValueDef(name), true })
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(next)) {
		next[name] = topics.NormalizeValue(brokerConfigDefs[name].topic, next[name])
		if err := validateBrokerConfig(name, next[name]); err != nil {
			return newAPIError(kerr.InvalidRequest, "Invalid config value for resource %s: %v", res, err)
		}
	}
	if validateOnly {
		return nil
	}
	if err := b.dynamic.replace(perBroker, next); err != nil {
		return fmt.Errorf("save %s: %w", brokerConfigsFile, err)
	}
	b.cfg.Logger.Info("dynamic broker configs changed", "resource", res, "configs", next)
	b.applyStorageConfigs()
	return nil
}

// applyStorageConfigs gives every open log the storage.Config its topic
// resolves to now.
func (b *Broker) applyStorageConfigs() {
	layer := b.brokerLayer()
	for _, t := range b.topics.List() {
		sc := storageConfig(layer.effectiveConfigs(t))
		sc.ProducerIDExpirationMs = cmp.Or(b.cfg.ProducerIDExpiration, defaultProducerIDExpiration).Milliseconds()
		for _, p := range b.topicPartitions(t.Name) {
			p.log.SetConfig(sc)
		}
	}
	b.cleaner.Wake()
}
