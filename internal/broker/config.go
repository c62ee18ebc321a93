package broker

// config.go holds the broker's settings and their defaults.

import (
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/courier-dev/courier/internal/broker/cleaner"
	"github.com/courier-dev/courier/internal/broker/loglevel"
	"github.com/courier-dev/courier/internal/broker/storage"
)

// Config configures a Broker.
type Config struct {
	// DataDir holds topic metadata and partition logs.
	DataDir string
	// NodeID is the broker's id in Metadata responses.
	NodeID int32
	// AdvertisedHost and AdvertisedPort are what clients are told to
	// connect to; when empty the listener's address is used.
	AdvertisedHost string
	AdvertisedPort int32
	// AdvertisedListeners maps a listener's name (its protocol, e.g.
	// SASL_SSL) to the address advertised to clients connected to it; it
	// takes precedence over AdvertisedHost/Port (see listeners.go).
	AdvertisedListeners map[string]HostPort
	// Sync chooses when appends are fsynced (see storage.SyncMode).
	Sync storage.SyncMode
	// SyncInterval is the interval flusher's period in SyncInterval mode.
	SyncInterval time.Duration
	// RetentionCheckInterval is how often retention runs.
	RetentionCheckInterval time.Duration
	// AutoCreateTopics creates unknown topics named in Metadata requests
	// that allow it (Kafka's auto.create.topics.enable).
	AutoCreateTopics bool
	// DefaultPartitions is the partition count of auto-created topics and
	// of CreateTopics requests that leave it to the broker.
	DefaultPartitions int32
	// GroupInitialRebalanceDelay is how long a new group waits for more
	// members before its first rebalance (Kafka's
	// group.initial.rebalance.delay.ms); negative means the default, 3s.
	GroupInitialRebalanceDelay time.Duration
	// OffsetsRetention is how long an empty group's committed offsets are
	// kept (Kafka's offsets.retention.minutes); 0 means the default, 7 days.
	OffsetsRetention time.Duration
	// GroupProtocols are the group protocols the broker serves (Kafka's
	// group.coordinator.rebalance.protocols): "classic" (JoinGroup,
	// SyncGroup, Heartbeat, LeaveGroup), "consumer" (KIP-848's
	// ConsumerGroupHeartbeat) and "share" (KIP-932's share groups). The
	// APIs of a protocol left out are not advertised in ApiVersions and
	// are refused. nil means all three; classic is always served, as in
	// Kafka, which refuses a list without it.
	GroupProtocols []string
	// ShareRecordLockDuration, ShareDeliveryCountLimit and
	// SharePartitionMaxRecordLocks are the share groups' defaults (Kafka's
	// group.share.record.lock.duration.ms, group.share.delivery.count.limit
	// and group.share.partition.max.record.locks), which a group's own
	// configs override; 0 means Kafka's default (30 s, 5, 2000).
	ShareRecordLockDuration      time.Duration
	ShareDeliveryCountLimit      int
	SharePartitionMaxRecordLocks int
	// ShareMaxGroupSize is the most members of one share group (Kafka's
	// group.share.max.size, 10 to 1000; a member beyond it is refused
	// GROUP_MAX_SIZE_REACHED) and ShareMaxSessions the most share
	// sessions open at once (group.share.max.share.sessions, at least 1;
	// SHARE_SESSION_LIMIT_REACHED beyond it). 0 means Kafka's default
	// (200, 2000).
	ShareMaxGroupSize int
	ShareMaxSessions  int
	// ConsumerGroupAssignors are the server-side assignors KIP-848
	// consumer groups may use (Kafka's group.consumer.assignors):
	// "uniform", "range"; the first is the default. nil means
	// uniform,range.
	ConsumerGroupAssignors []string
	// ConsumerGroupSessionTimeout is group.consumer.session.timeout.ms:
	// a consumer group member silent this long is fenced. 0 means 45s.
	ConsumerGroupSessionTimeout time.Duration
	// ConsumerGroupMigrationPolicy is group.consumer.migration.policy:
	// whether groups with members are converted between the classic and
	// consumer protocols (disabled, upgrade, downgrade, bidirectional).
	// "" means bidirectional, Kafka's default.
	ConsumerGroupMigrationPolicy string
	// ConsumerGroupHeartbeatInterval is
	// group.consumer.heartbeat.interval.ms, the interval consumer group
	// members are told to heartbeat at. 0 means
	// group.DefaultConsumerHeartbeatInterval.
	ConsumerGroupHeartbeatInterval time.Duration
	// TransactionMaxTimeout is the longest transaction.timeout.ms a
	// transactional producer may ask for (Kafka's
	// transaction.max.timeout.ms); 0 means the default, 15 minutes.
	TransactionMaxTimeout time.Duration
	// TransactionalIDExpiration is how long a transactional id with no
	// transaction in progress is remembered after its last use (Kafka's
	// transactional.id.expiration.ms); 0 means the default, 7 days.
	TransactionalIDExpiration time.Duration
	// ProducerIDExpiration is how long a partition remembers an idle
	// producer's sequence numbers (Kafka's producer.id.expiration.ms); 0
	// means the default, 1 day.
	ProducerIDExpiration time.Duration
	// AuthorizerEnabled turns ACL enforcement on: every request is checked
	// against the ACLs in DATA/meta/acls.json as Kafka's authorizer does
	// (nothing is allowed without a matching ALLOW, except for super
	// users), and CreateAcls, DescribeAcls and DeleteAcls are served. Off,
	// everything is allowed and those APIs answer SECURITY_DISABLED, as a
	// Kafka broker without an authorizer does; the ACLs are kept.
	AuthorizerEnabled bool
	// SuperUsers are principals ("User:admin") allowed everything when
	// the authorizer is enabled (Kafka's super.users).
	SuperUsers []string
	// RebuildMetadata rebuilds the topic metadata from the partition
	// directories at start (adding topics the metadata lacks; a damaged
	// metadata file is moved to DATA/quarantine first). Without it, a
	// missing or damaged metadata file stops the start.
	RebuildMetadata bool
	// MaxPartitions bounds the partitions of all topics together; creating
	// more is refused with POLICY_VIOLATION. Each partition keeps its
	// active segment file open, so 0 means a default derived from the
	// open-file limit (see defaultMaxPartitions).
	MaxPartitions int
	// AutoCreateTopicsPerRequest bounds how many topics one Metadata
	// request may auto-create; further unknown topics in it answer
	// UNKNOWN_TOPIC_OR_PARTITION (retriable). 0 means 20.
	AutoCreateTopicsPerRequest int
	// FetchMaxBytes caps every fetch response below the client's MaxBytes,
	// and every partition's PartitionMaxBytes (Kafka's fetch.max.bytes).
	// As in Kafka (KIP-74), a response's first batch is returned whole even
	// if larger, so a consumer always progresses; max.message.bytes bounds
	// it. 0 means the default, 55 MiB.
	FetchMaxBytes int32
	// FetchMemoryBytes bounds the record bytes fetches hold across all
	// connections, from reading them until their response is written. A
	// fetch takes what it may read from this budget before reading; when
	// the budget is short it reads less, and a fetch that has nothing yet
	// waits for at least a little (membudget.ReadGrantMin). ShareFetch
	// draws from the same budget. 0 means the default,
	// 256 MiB; negative means no bound.
	FetchMemoryBytes int64
	// Cleaner configures the log cleaner (cleanup.policy=compact): its
	// threads (0 means 1; negative disables it), key map memory, I/O
	// throttle and backoff.
	Cleaner cleaner.Config
	// Logger receives the broker's logs; nil discards them. Each
	// component logs through its own logger of LogLevels, built over
	// Logger's handler when LogLevels is nil.
	Logger *slog.Logger
	// LogLevels holds the per-component loggers and their levels (the
	// BROKER_LOGGER resource). The process builds it over a handler at
	// the lowest level, so that a level raised at run time shows more;
	// nil: built from Logger, with its handler's level as the root's.
	LogLevels *loglevel.Levels
	// StaticConfigs are the broker configs (Kafka's names) set explicitly
	// at start, by a flag: DescribeConfigs gives them the source
	// STATIC_BROKER_CONFIG. A value is used as is; an empty value stands
	// for the value of the Config field the flag set.
	StaticConfigs map[string]string
}

// Defaults of the fetch memory settings.
const (
	// DefaultFetchMaxBytes is Kafka's fetch.max.bytes default, 55 MiB.
	DefaultFetchMaxBytes = 57671680
	// DefaultFetchMemoryBytes is FetchMemoryBytes' default: four maximal
	// fetch responses at a time, more when they are smaller.
	DefaultFetchMemoryBytes = 256 << 20
)

// withDefaults fills unset fields.
func (c Config) withDefaults() Config {
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.NodeID == 0 {
		c.NodeID = 1
	}
	if c.SyncInterval <= 0 {
		c.SyncInterval = time.Second
	}
	if c.RetentionCheckInterval <= 0 {
		c.RetentionCheckInterval = 30 * time.Second
	}
	if c.DefaultPartitions <= 0 {
		c.DefaultPartitions = 1
	}
	if c.FetchMaxBytes <= 0 {
		c.FetchMaxBytes = DefaultFetchMaxBytes
	}
	if c.FetchMemoryBytes == 0 {
		c.FetchMemoryBytes = DefaultFetchMemoryBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.LogLevels == nil {
		c.LogLevels = loglevel.FromLogger(c.Logger)
	}
	// Everything the broker package logs goes through its component.
	c.Logger = c.LogLevels.Logger(loggerBroker)
	if c.Cleaner.Threads == 0 {
		c.Cleaner.Threads = cleaner.DefaultThreads
	}
	if c.Cleaner.Logger == nil {
		c.Cleaner.Logger = c.LogLevels.Logger(loggerCleaner)
	}
	if c.MaxPartitions <= 0 {
		c.MaxPartitions = defaultMaxPartitions()
	}
	if c.AutoCreateTopicsPerRequest <= 0 {
		c.AutoCreateTopicsPerRequest = 20
	}
	if c.GroupProtocols == nil {
		c.GroupProtocols = slices.Clone(AllGroupProtocols)
	}
	return c
}

// AllGroupProtocols are the group protocols Courier implements, in
// Kafka's names: GroupProtocols' default.
var AllGroupProtocols = []string{GroupProtocolClassic, GroupProtocolConsumer, GroupProtocolShare}

// The group protocols (GroupProtocols).
const (
	GroupProtocolClassic  = "classic"
	GroupProtocolConsumer = "consumer"
	GroupProtocolShare    = "share"
)

// ParseGroupProtocols checks a group.coordinator.rebalance.protocols list
// as Kafka does: known names only, and classic among them.
func ParseGroupProtocols(list []string) ([]string, error) {
	var out []string
	for _, p := range list {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if !slices.Contains(AllGroupProtocols, p) {
			return nil, fmt.Errorf("group protocol %q: want classic, consumer or share", p)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if !slices.Contains(out, GroupProtocolClassic) {
		return nil, fmt.Errorf("group protocols %q: classic must be among them (Kafka's group.coordinator.rebalance.protocols requires it)", strings.Join(list, ","))
	}
	return out, nil
}

// consumerAssignors is ConsumerGroupAssignors or its default.
func (c *Config) consumerAssignors() []string {
	if len(c.ConsumerGroupAssignors) == 0 {
		return []string{"uniform", "range"}
	}
	return c.ConsumerGroupAssignors
}

// groupProtocolEnabled reports whether the broker serves protocol p.
func (c *Config) groupProtocolEnabled(p string) bool {
	return slices.Contains(c.GroupProtocols, p)
}

// SplitHostPort parses "host:port" into an advertised host and port.
func SplitHostPort(addr string) (string, int32, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", addr, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: bad port: %w", addr, err)
	}
	return host, int32(port), nil
}
