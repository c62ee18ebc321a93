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
// reduce to: SET with a value, or DELETE (back to the default). APPEND and
// SUBTRACT apply to list configs, which Courier has none of.
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
	if c.resourceType != kmsg.ConfigResourceTypeTopic {
		return kerr.InvalidRequest.Code, errorMessage(fmt.Errorf("only topic configs can be altered, not %v", c.resourceType))
	}
	err := b.changeTopicConfigs(c.resource, c.apply, validateOnly)
	return errorCode(err), errorMessage(err)
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
	}
	return 0
}

// check refuses what Kafka refuses in any resource's change, before
// looking at the resource: a config named twice (INVALID_REQUEST: which
// would win?), a SET without a value (INVALID_REQUEST), and an operation
// Courier's configs cannot take (INVALID_CONFIG).
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
		case kmsg.IncrementalAlterConfigOpSet, kmsg.IncrementalAlterConfigOpDelete:
		case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
			return fmt.Errorf("%w: %s: operation %v applies to list configs only", topics.ErrInvalidConfig, o.name, o.op)
		default:
			return fmt.Errorf("%w: %s: unknown operation %d", errInvalidRequest, o.name, int8(o.op))
		}
	}
	return nil
}

// apply computes the new configs from current (a copy the caller owns).
func (c configChange) apply(current map[string]string) (map[string]string, error) {
	next := current
	if c.replace || next == nil {
		next = make(map[string]string, len(c.ops))
	}
	for _, o := range c.ops {
		switch o.op {
		case kmsg.IncrementalAlterConfigOpSet:
			next[o.name] = *o.value
		case kmsg.IncrementalAlterConfigOpDelete:
			if _, known := topics.LookupConfig(o.name); !known {
				return nil, fmt.Errorf("%w: unknown config %q", topics.ErrInvalidConfig, o.name)
			}
			delete(next, o.name)
		}
	}
	return next, nil
}
