package main

// broker_static.go tells the broker which of its configs the command line
// set, by their Kafka names, so that DescribeConfigs reports them as
// STATIC_BROKER_CONFIG (the others as DEFAULT_CONFIG), and builds the
// broker's per-component loggers (BROKER_LOGGER).

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/courier-dev/courier/internal/broker/loglevel"
	"github.com/spf13/cobra"
)

// staticFlagConfigs maps a broker flag to the Kafka broker configs it
// sets; the broker reads their values from the Config fields the flag
// set (an empty value).
var staticFlagConfigs = map[string][]string{
	"node-id":                           {"broker.id", "node.id"},
	"data":                              {"log.dirs"},
	"default-partitions":                {"num.partitions"},
	"auto-create-topics":                {"auto.create.topics.enable"},
	"retention-check-interval":          {"log.retention.check.interval.ms"},
	"offsets-retention":                 {"offsets.retention.minutes"},
	"transaction-max-timeout":           {"transaction.max.timeout.ms"},
	"transactional-id-expiration":       {"transactional.id.expiration.ms"},
	"producer-id-expiration":            {"producer.id.expiration.ms"},
	"group-initial-rebalance-delay":     {"group.initial.rebalance.delay.ms"},
	"group-protocols":                   {"group.coordinator.rebalance.protocols"},
	"group-consumer-assignors":          {"group.consumer.assignors"},
	"group-consumer-session-timeout":    {"group.consumer.session.timeout.ms"},
	"group-consumer-heartbeat-interval": {"group.consumer.heartbeat.interval.ms"},
	"group-consumer-migration-policy":   {"group.consumer.migration.policy"},
	"share-record-lock-duration":        {"group.share.record.lock.duration.ms"},
	"share-delivery-count-limit":        {"group.share.delivery.count.limit"},
	"share-partition-max-record-locks":  {"group.share.partition.max.record.locks"},
	"share-max-group-size":              {"group.share.max.size"},
	"share-max-sessions":                {"group.share.max.share.sessions"},
	"super-users":                       {"super.users"},
	"fsync":                             {"courier.fsync"},
}

// staticConfigs lists the broker configs the command line set.
func staticConfigs(cmd *cobra.Command, addr string, listeners, advertised []string, maxRequest int32) map[string]string {
	f := cmd.Flags()
	out := map[string]string{}
	for flag, names := range staticFlagConfigs {
		if f.Changed(flag) {
			for _, n := range names {
				out[n] = ""
			}
		}
	}
	if f.Changed("max-request-bytes") {
		out["socket.request.max.bytes"] = strconv.Itoa(int(maxRequest))
	}
	switch {
	case len(listeners) > 0:
		out["listeners"] = strings.Join(listeners, ",")
	case f.Changed("addr"):
		out["listeners"] = "PLAINTEXT://" + addr
	}
	adv, _ := f.GetString("advertised-addr")
	switch {
	case len(advertised) > 0:
		out["advertised.listeners"] = strings.Join(advertised, ",")
	case adv != "":
		out["advertised.listeners"] = "PLAINTEXT://" + adv
	}
	return out
}

// newBrokerLogger builds the broker's loggers: one handler at the lowest
// level, and the root logger at --log-level, so that raising a
// component's level at run time (IncrementalAlterConfigs on
// BROKER_LOGGER, courier config set --broker-logger) shows more.
func newBrokerLogger(w io.Writer, level, format string) (*loglevel.Levels, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: loglevel.LevelTrace}
	switch format {
	case "text":
		return loglevel.New(slog.NewTextHandler(w, opts), lv), nil
	case "json":
		return loglevel.New(slog.NewJSONHandler(w, opts), lv), nil
	default:
		return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
	}
}
