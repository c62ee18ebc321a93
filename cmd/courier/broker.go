package main

// broker.go wires `courier broker` flags to the broker.

import (
	"fmt"
	"time"

	"github.com/courier-dev/courier/internal/broker"
	"github.com/courier-dev/courier/internal/broker/cleaner"
	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/loglevel"
	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func newBrokerCommand() *cobra.Command {
	var (
		cfg        run.Config
		fsync      string
		logLevel   string
		logFormat  string
		maxRequest int32
		listeners  []string
		advertised []string
		quotaBy    string
		authorizer string
		basicAuth  string
		// groupProtocols is --group-protocols.
		groupProtocols []string
		// assignors and migration are --group-consumer-assignors and
		// --group-consumer-migration-policy.
		assignors []string
		migration string
		console   consoleFlags
	)
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run the Kafka-compatible broker",
		Long: `Run the Kafka-compatible broker. Any Kafka client can produce to and
consume from it. Data (topic metadata and partition logs) lives under --data.

--fsync always: a produce request with acks=1 or acks=all is answered only
after its batches are fsynced (concurrent producers share each fsync), so an
acknowledged record survives a power loss.
--fsync interval: batches are written to the OS at once and fsynced every
--fsync-interval; an acknowledged record survives a crash of the broker
process (kill -9), but a power loss can take the last interval's writes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			switch fsync {
			case "always":
				cfg.Broker.Sync = storage.SyncAlways
			case "interval":
				cfg.Broker.Sync = storage.SyncInterval
			default:
				return fmt.Errorf("--fsync must be always or interval, not %q", fsync)
			}
			if maxRequest < 1024 {
				return fmt.Errorf("--max-request-bytes %d is too small (minimum 1024)", maxRequest)
			}
			cfg.MaxRequestBytes = maxRequest
			if cfg.Broker.GroupProtocols, err = broker.ParseGroupProtocols(groupProtocols); err != nil {
				return fmt.Errorf("--group-protocols: %w", err)
			}
			if err := consumerGroupFlags(&cfg.Broker, assignors, migration); err != nil {
				return err
			}
			if err := securityFlags(cmd, &cfg, listeners, advertised, quotaBy); err != nil {
				return err
			}
			if err := httpFlags(&cfg, basicAuth); err != nil {
				return err
			}
			switch authorizer {
			case "on":
				cfg.Broker.AuthorizerEnabled = true
			case "off":
			default:
				return fmt.Errorf("--authorizer must be on or off, not %q", authorizer)
			}
			levels, err := newBrokerLogger(cmd.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return err
			}
			cfg.Broker.LogLevels, cfg.Broker.Logger = levels, levels.Logger(loglevel.Root)
			cfg.Broker.StaticConfigs = staticConfigs(cmd, cfg.Addr, listeners, advertised, maxRequest)
			if cfg.Broker.Cleaner.Threads == 0 {
				cfg.Broker.Cleaner.Threads = -1 // the broker reads 0 as "default"
			}
			closeConsole, err := brokerConsole(&console, &cfg)
			if err != nil {
				return err
			}
			defer closeConsole()
			return run.Broker(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", "127.0.0.1:9092", "address to listen on for Kafka clients")
	f.StringVar(&cfg.AdvertisedAddr, "advertised-addr", "", "host:port clients are told to connect to (default: the address they reached)")
	f.StringVar(&cfg.Broker.DataDir, "data", "./data", "data directory")
	f.StringVar(&cfg.HTTPAddr, "http-addr", "127.0.0.1:9644", "address of the HTTP port serving /metrics and /healthz (empty to disable)")
	addHTTPFlags(f, &cfg, &basicAuth)
	f.StringVar(&fsync, "fsync", "interval", "when to fsync appended batches: always or interval")
	f.DurationVar(&cfg.Broker.SyncInterval, "fsync-interval", time.Second, "fsync period with --fsync interval")
	f.Int32Var(&maxRequest, "max-request-bytes", 100<<20, "largest request frame accepted")
	f.BoolVar(&cfg.Broker.AutoCreateTopics, "auto-create-topics", true, "create unknown topics when clients ask for them (auto.create.topics.enable)")
	f.Int32Var(&cfg.Broker.DefaultPartitions, "default-partitions", 1, "partitions of auto-created topics")
	f.DurationVar(&cfg.Broker.RetentionCheckInterval, "retention-check-interval", 30*time.Second, "how often retention deletes old segments")
	f.DurationVar(&cfg.Broker.GroupInitialRebalanceDelay, "group-initial-rebalance-delay", 3*time.Second, "how long a new consumer group waits for more members before its first rebalance")
	f.DurationVar(&cfg.Broker.OffsetsRetention, "offsets-retention", 7*24*time.Hour, "how long an empty group's committed offsets are kept (offsets.retention.minutes)")
	f.StringSliceVar(&groupProtocols, "group-protocols", broker.AllGroupProtocols, "group protocols served (group.coordinator.rebalance.protocols): classic, consumer (KIP-848), share (KIP-932 share groups); classic is required")
	f.DurationVar(&cfg.Broker.ShareRecordLockDuration, "share-record-lock-duration", 30*time.Second, "how long a share group member holds a record before it is available again, for groups that do not set share.record.lock.duration.ms (group.share.record.lock.duration.ms; 15s to 60s)")
	f.IntVar(&cfg.Broker.ShareDeliveryCountLimit, "share-delivery-count-limit", 5, "the most times a record is delivered to a share group before it is archived, for groups that do not set share.delivery.count.limit (group.share.delivery.count.limit; 2 to 10)")
	f.IntVar(&cfg.Broker.SharePartitionMaxRecordLocks, "share-partition-max-record-locks", 2000, "the most records in flight per share-partition, for groups that do not set share.partition.max.record.locks (group.share.partition.max.record.locks; 100 to 10000)")
	f.IntVar(&cfg.Broker.ShareMaxGroupSize, "share-max-group-size", 200, "the most members of one share group (group.share.max.size; 10 to 1000)")
	f.IntVar(&cfg.Broker.ShareMaxSessions, "share-max-sessions", 2000, "the most share sessions open at once; one is opened per share consumer and broker (group.share.max.share.sessions)")
	f.StringSliceVar(&assignors, "group-consumer-assignors", []string{group.AssignorUniform, group.AssignorRange}, "server-side assignors KIP-848 consumer groups may use, the first the default (group.consumer.assignors): uniform, range")
	f.DurationVar(&cfg.Broker.ConsumerGroupSessionTimeout, "group-consumer-session-timeout", 45*time.Second, "a KIP-848 consumer group member that does not heartbeat this long is removed (group.consumer.session.timeout.ms)")
	f.DurationVar(&cfg.Broker.ConsumerGroupHeartbeatInterval, "group-consumer-heartbeat-interval", group.DefaultConsumerHeartbeatInterval, "how often KIP-848 consumer group members are told to heartbeat; each partition moved between members waits up to one interval (group.consumer.heartbeat.interval.ms)")
	f.StringVar(&migration, "group-consumer-migration-policy", group.MigrationBidirectional, "converting groups with members between the classic and consumer protocols (group.consumer.migration.policy): disabled, upgrade (a consumer-protocol member joining a classic group), downgrade (the last consumer-protocol member leaving a consumer group) or bidirectional; empty groups convert either way")
	f.DurationVar(&cfg.Broker.TransactionMaxTimeout, "transaction-max-timeout", 15*time.Minute, "the longest transaction timeout a transactional producer may ask for (transaction.max.timeout.ms)")
	f.DurationVar(&cfg.Broker.TransactionalIDExpiration, "transactional-id-expiration", 7*24*time.Hour, "how long an idle transactional id is remembered (transactional.id.expiration.ms)")
	f.DurationVar(&cfg.Broker.ProducerIDExpiration, "producer-id-expiration", 24*time.Hour, "how long a partition remembers an idle producer's sequence numbers (producer.id.expiration.ms)")
	f.Int32Var(&cfg.Broker.NodeID, "node-id", 1, "this broker's node id")
	f.BoolVar(&cfg.Broker.RebuildMetadata, "rebuild-metadata", false, "rebuild the topic metadata (DATA/meta/topics.log) from the partition directories at start: for a lost or damaged file (a damaged one is moved to DATA/quarantine)")
	f.IntVar(&cfg.Broker.MaxPartitions, "max-partitions", 0, "most partitions all topics together may have; creating more is refused (0: derived from the open-file limit, ulimit -n)")
	f.IntVar(&cfg.Broker.AutoCreateTopicsPerRequest, "auto-create-topics-per-request", 20, "most topics one Metadata request may auto-create")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	addSecurityFlags(f, &cfg, &listeners, &advertised, &quotaBy)
	f.StringVar(&authorizer, "authorizer", "off", "on: every request is checked against the ACLs (courier acl), and what no ACL allows is denied; off: everything is allowed")
	f.StringSliceVar(&cfg.Broker.SuperUsers, "super-users", nil, "principals allowed everything whatever the ACLs say, e.g. User:admin (comma-separated)")
	f.StringVar(&logFormat, "log-format", "text", "text or json")
	addCleanerFlags(f, &cfg.Broker.Cleaner)
	addBrokerConsoleFlags(f, &console)
	return cmd
}

// addCleanerFlags adds the log cleaner's flags (Kafka's log.cleaner.*).
func addCleanerFlags(f *pflag.FlagSet, c *cleaner.Config) {
	f.IntVar(&c.Threads, "cleaner-threads", cleaner.DefaultThreads, "log cleaner threads compacting topics with cleanup.policy=compact (log.cleaner.threads); 0 disables compaction")
	f.Int64Var(&c.KeyMapBytes, "cleaner-dedupe-buffer-size", cleaner.DefaultKeyMapBytes, "memory of the cleaner's key maps, all threads together (log.cleaner.dedupe.buffer.size); a partition with more keys is cleaned in several passes")
	f.Int64Var(&c.IOBytesPerSecond, "cleaner-io-max-bytes-per-second", 0, "most bytes per second the cleaner reads and writes, all threads together (log.cleaner.io.max.bytes.per.second); 0: unlimited")
	f.DurationVar(&c.Backoff, "cleaner-backoff", cleaner.DefaultBackoff, "how long an idle cleaner thread sleeps before looking for work again (log.cleaner.backoff.ms)")
}

// consumerGroupFlags checks the KIP-848 consumer group flags as Kafka
// checks its configs: known assignors, a heartbeat interval below the
// session timeout, a known migration policy.
func consumerGroupFlags(c *broker.Config, assignors []string, migration string) error {
	var err error
	if c.ConsumerGroupAssignors, err = group.ParseAssignors(assignors); err != nil {
		return fmt.Errorf("--group-consumer-assignors: %w", err)
	}
	if c.ConsumerGroupSessionTimeout <= 0 || c.ConsumerGroupHeartbeatInterval <= 0 {
		return fmt.Errorf("--group-consumer-session-timeout and --group-consumer-heartbeat-interval must be positive")
	}
	if c.ConsumerGroupHeartbeatInterval >= c.ConsumerGroupSessionTimeout {
		return fmt.Errorf("--group-consumer-heartbeat-interval %v must be less than --group-consumer-session-timeout %v", c.ConsumerGroupHeartbeatInterval, c.ConsumerGroupSessionTimeout)
	}
	if c.ConsumerGroupMigrationPolicy, err = group.ParseMigrationPolicy(migration); err != nil {
		return fmt.Errorf("--group-consumer-migration-policy: %w", err)
	}
	return nil
}
