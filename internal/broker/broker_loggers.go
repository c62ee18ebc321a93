package broker

// broker_loggers.go is the BROKER_LOGGER config resource: each component
// of the broker logs through its own logger (package loglevel), whose
// level IncrementalAlterConfigs sets (SET, a Kafka level name) or resets
// to the root's (DELETE), with Kafka's checks and messages
// (ConfigAdminManager.validateLogLevelConfigs). Levels live in memory: a
// restart starts again from --log-level, as Kafka's do.

import (
	"log/slog"
	"strconv"
	"strings"

	"github.com/courier-dev/courier/internal/broker/loglevel"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The loggers of the broker's components (Config.LogLevels).
const (
	loggerBroker  = "courier.broker"  // request handlers and the broker's state
	loggerStorage = "courier.storage" // partition logs: recovery, retention, appends
	loggerGroup   = "courier.group"   // the group coordinator
	loggerTopics  = "courier.topics"  // the topic metadata
	loggerACL     = "courier.acl"     // ACLs
	loggerUsers   = "courier.users"   // SCRAM users
	loggerCleaner = "courier.cleaner" // the log cleaner (compaction)
	loggerTxn     = "courier.txn"     // the transaction coordinator
	// LoggerServer is the network layer's logger, which package run
	// builds (see Broker.Logger).
	LoggerServer = "courier.server"
)

// Logger returns the logger of a named component, for the parts of the
// process the broker does not build (package run's network server):
// its level is then listed and set with the broker's.
func (b *Broker) Logger(name string) *slog.Logger { return b.levels.Logger(name) }

// changeLoggers applies one IncrementalAlterConfigs change of the
// BROKER_LOGGER resource. Every operation is checked before any applies.
func (b *Broker) changeLoggers(c configChange, validateOnly bool) error {
	if c.replace {
		return newAPIError(kerr.InvalidRequest, "AlterConfigs is deprecated and does not support the resource type BROKER_LOGGER")
	}
	if c.resource != strconv.Itoa(int(b.cfg.NodeID)) {
		return newAPIError(kerr.InvalidRequest, "Unexpected broker id, expected %d, but received %s", b.cfg.NodeID, c.resource)
	}
	levels := make([]slog.Level, len(c.ops))
	for i, o := range c.ops {
		switch o.op {
		case kmsg.IncrementalAlterConfigOpSet:
			if !b.levels.Exists(o.name) {
				return newAPIError(kerr.InvalidConfig, "Logger %s does not exist!", o.name)
			}
			lv, err := loglevel.ParseLevel(*o.value)
			if err != nil {
				return newAPIError(kerr.InvalidConfig, "Cannot set the log level of %s to %s as it is not a supported log level. Valid log levels are %s",
					o.name, *o.value, strings.Join(loglevel.ValidLevels, ", "))
			}
			levels[i] = lv
		case kmsg.IncrementalAlterConfigOpDelete:
			if !b.levels.Exists(o.name) {
				return newAPIError(kerr.InvalidConfig, "Logger %s does not exist!", o.name)
			}
			if o.name == loglevel.Root {
				return newAPIError(kerr.InvalidRequest, "Removing the log level of the %s logger is not allowed", loglevel.Root)
			}
		default:
			return newAPIError(kerr.InvalidRequest, "%v operation is not allowed for the BROKER_LOGGER resource", o.op)
		}
	}
	if validateOnly {
		return nil
	}
	for i, o := range c.ops {
		var err error
		if o.op == kmsg.IncrementalAlterConfigOpSet {
			err = b.levels.SetLevel(o.name, levels[i])
		} else {
			err = b.levels.Reset(o.name)
		}
		if err != nil { // checked above: the set of loggers is fixed
			return newAPIError(kerr.InvalidConfig, "%v", err)
		}
		if o.op == kmsg.IncrementalAlterConfigOpSet {
			b.cfg.Logger.Info("log level set", "logger", o.name, "level", loglevel.LevelName(levels[i]))
		} else {
			b.cfg.Logger.Info("log level reset to the root's", "logger", o.name)
		}
	}
	return nil
}
