package broker

// alter_configs.go is the one path of both APIs that change configs,
// AlterConfigs (33_alter_configs.go) and IncrementalAlterConfigs
// (44_incremental_alter_configs.go): each handler only turns its request's
// form into a configChange; checking the change, authorization and the
// resource, computing the new configs from the current ones, validating
// and applying them durably happen here, once.

import (
	"fmt"
	"sort"
	"strings"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// configOp is one requested change of one config, in the form both APIs
// reduce to: SET with a value, DELETE (back to the default), or APPEND
// and SUBTRACT (list configs only: add the values not there, remove the
// ones there).
type configOp struct {
	name  string
	op    kmsg.IncrementalAlterConfigOp
	value *string
}

// configChange is the change one request asks of one resource.
type configChange struct {
	resourceType kmsg.ConfigResourceType
	resource     string
	// replace starts from no configs instead of the resource's current
	// ones: AlterConfigs replaces them wholesale, so configs it does not
	// name return to their defaults.
	replace bool
	ops     []configOp
}

// alterConfigs checks, authorizes and (unless validateOnly) applies one
// resource's change, and returns the resource's error code and message.
func (b *Broker) alterConfigs(req *server.Request, c configChange, validateOnly bool) (int16, *string) {
	if code := b.alterConfigsAuthCode(req, c.resourceType, c.resource); code != 0 {
		return code, nil
	}
	if err := c.check(); err != nil {
		return errorCode(err), errorMessage(err)
	}
	var err error
	switch c.resourceType {
	case kmsg.ConfigResourceTypeTopic:
		err = b.changeTopicConfigs(c.resource, func(current map[string]string) (map[string]string, error) {
			return c.apply(current, lookupTopicConfig)
		}, validateOnly)
	case kmsg.ConfigResourceTypeBroker:
		err = b.changeBrokerConfigs(c, validateOnly)
	case kmsg.ConfigResourceTypeBrokerLogger:
		err = b.changeLoggers(c, validateOnly)
	case kmsg.ConfigResourceTypeGroupConfig:
		err = b.changeGroupConfigs(c, validateOnly)
	default:
		err = newAPIError(kerr.InvalidRequest, "unsupported resource type %v: Courier alters TOPIC, BROKER, BROKER_LOGGER and GROUP configs", c.resourceType)
	}
	return errorCode(err), errorMessage(err)
}

// lookupTopicConfig finds a topic config a change may name: one of Kafka
// 4's, or a removed one a topic may still hold (to DELETE it).
func lookupTopicConfig(name string) (topics.ConfigDef, bool) {
	if d, ok := topics.LookupConfig(name); ok {
		return d, true
	}
	return topics.LookupRemovedConfig(name)
}

// alterConfigsAuthCode checks ALTER_CONFIGS on a topic, or on the cluster
// for a broker resource: TOPIC_ or CLUSTER_AUTHORIZATION_FAILED, or 0.
func (b *Broker) alterConfigsAuthCode(req *server.Request, rt kmsg.ConfigResourceType, name string) int16 {
	switch rt {
	case kmsg.ConfigResourceTypeTopic:
		if !b.allowed(req, opAlterConfigs, rtTopic, name) {
			return kerr.TopicAuthorizationFailed.Code
		}
	case kmsg.ConfigResourceTypeBroker, kmsg.ConfigResourceTypeBrokerLogger:
		if !b.allowedCluster(req, opAlterConfigs) {
			return kerr.ClusterAuthorizationFailed.Code
		}
	case kmsg.ConfigResourceTypeGroupConfig:
		if !b.allowed(req, opAlterConfigs, rtGroup, name) {
			return kerr.GroupAuthorizationFailed.Code
		}
	}
	return 0
}

// check refuses what Kafka refuses in any resource's change, before
// looking at the resource: a config named twice (INVALID_REQUEST: which
// would win?), a SET, APPEND or SUBTRACT without a value
// (INVALID_REQUEST), and an unknown operation (INVALID_REQUEST).
func (c configChange) check() error {
	seen := make(map[string]bool, len(c.ops))
	var dups, nulls []string
	for _, o := range c.ops {
		if seen[o.name] {
			dups = append(dups, o.name)
		}
		seen[o.name] = true
		if o.op != kmsg.IncrementalAlterConfigOpDelete && o.value == nil {
			nulls = append(nulls, o.op.String()+":"+o.name)
		}
	}
	if len(dups) > 0 {
		sort.Strings(dups)
		return fmt.Errorf("%w: duplicate config keys: %s", errInvalidRequest, strings.Join(dups, ","))
	}
	if len(nulls) > 0 {
		return fmt.Errorf("%w: null value not supported for: %s", errInvalidRequest, strings.Join(nulls, ","))
	}
	for _, o := range c.ops {
		switch o.op {
		case kmsg.IncrementalAlterConfigOpSet, kmsg.IncrementalAlterConfigOpDelete,
			kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
		default:
			return fmt.Errorf("%w: %s: unknown operation %d", errInvalidRequest, o.name, int8(o.op))
		}
	}
	return nil
}

// apply computes the new configs from current (a copy the caller owns),
// with lookup giving the definitions of the names the ops may touch.
// APPEND and SUBTRACT start from the current value or, where there is
// none, the config's default, as Kafka's controller does; on a config
// that is not a LIST they are INVALID_CONFIG with Kafka's message.
func (c configChange) apply(current map[string]string, lookup func(string) (topics.ConfigDef, bool)) (map[string]string, error) {
	next := current
	if c.replace || next == nil {
		next = make(map[string]string, len(c.ops))
	}
	for _, o := range c.ops {
		d, known := lookup(o.name)
		switch o.op {
		case kmsg.IncrementalAlterConfigOpSet:
			next[o.name] = *o.value
		case kmsg.IncrementalAlterConfigOpDelete:
			if !known {
				return nil, &topics.ConfigError{Msg: "Unknown topic config name: " + o.name, Unknown: true}
			}
			delete(next, o.name)
		case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
			if !known {
				return nil, &topics.ConfigError{Msg: "Unknown topic config name: " + o.name, Unknown: true}
			}
			if !d.IsList() {
				return nil, &topics.ConfigError{Msg: fmt.Sprintf("Can't %v to key %s because its type is not LIST.", o.op, o.name)}
			}
			old, ok := next[o.name]
			if !ok {
				old = d.Default
			}
			if o.op == kmsg.IncrementalAlterConfigOpAppend {
				next[o.name] = topics.AppendList(old, *o.value)
			} else {
				next[o.name] = topics.SubtractList(old, *o.value)
			}
		}
	}
	return next, nil
}
