package group

// config.go holds the coordinator's settings as functional options, with
// Kafka's defaults.

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"math"
	"time"

	"github.com/courier-dev/courier/internal/broker/journal"
	"github.com/courier-dev/courier/internal/broker/vfs"
)

// Opt configures a Coordinator.
type Opt func(*config)

type config struct {
	clock            Clock
	logger           *slog.Logger
	initialDelay     time.Duration
	minSession       time.Duration
	maxSession       time.Duration
	maxGroupSize     int
	maxMetadataBytes int
	retention        time.Duration
	retentionCheck   time.Duration
	compactBytes     int64
	fs               vfs.FS
	newMemberID      func(clientID string) string
	onPanic          func(task string)

	// KIP-848 consumer groups (consumer*.go).
	topics            Topics
	consumerSession   time.Duration
	consumerHeartbeat time.Duration
	// groupTimeouts, if set, gives a group's own consumer.session.timeout.ms
	// and consumer.heartbeat.interval.ms (0: the defaults above).
	groupTimeouts   func(group string) (session, heartbeat time.Duration)
	assignors       []string
	consumerMaxSize int
	regexRefresh    time.Duration
	migration       string
	stats           *consumerStats

	// tuneJournal, set by tests, adjusts the journal's options (its
	// repair back-off, which runs on the wall clock).
	tuneJournal func(*journal.Options)
}

func defaultConfig() config {
	return config{
		clock:            RealClock{},
		logger:           slog.New(slog.DiscardHandler),
		initialDelay:     3 * time.Second,
		minSession:       6 * time.Second,
		maxSession:       30 * time.Minute,
		maxGroupSize:     1 << 30,
		maxMetadataBytes: 4096,
		retention:        7 * 24 * time.Hour,
		retentionCheck:   10 * time.Minute,
		compactBytes:     16 << 20,
		fs:               vfs.Default,
		newMemberID:      randomMemberID,

		topics:            noTopics{},
		consumerSession:   45 * time.Second,
		consumerHeartbeat: DefaultConsumerHeartbeatInterval,
		assignors:         []string{AssignorUniform, AssignorRange},
		consumerMaxSize:   math.MaxInt32,
		regexRefresh:      time.Second,
		migration:         MigrationBidirectional,
		stats:             &consumerStats{},
	}
}

// DefaultConsumerHeartbeatInterval is ConsumerHeartbeatInterval's default.
// Kafka's is 5s; Courier answers with 1s because under KIP-848 a partition
// moving between members waits for the new owner's next heartbeat after
// the old owner released it, so the interval is what each step of a
// rebalance costs (franz-go's TestGroupETL, KIP-848 cases: 15-21s at 5s,
// 7-12s at 1s). A heartbeat costs the broker microseconds, and a member
// still only needs one per session timeout (45s) to stay in the group.
const DefaultConsumerHeartbeatInterval = time.Second

// WithTopics gives the coordinator the broker's topics, which KIP-848
// consumer groups assign on the broker. Without it no topic exists for
// them.
func WithTopics(t Topics) Opt {
	return func(cfg *config) {
		if t != nil {
			cfg.topics = t
		}
	}
}

// ConsumerSessionTimeout is group.consumer.session.timeout.ms (default
// 45s): a consumer group member that does not heartbeat for this long is
// fenced, its partitions given to others.
func ConsumerSessionTimeout(d time.Duration) Opt {
	return func(cfg *config) { cfg.consumerSession = d }
}

// ConsumerHeartbeatInterval is group.consumer.heartbeat.interval.ms, the
// interval consumer group members are told to heartbeat at (default
// DefaultConsumerHeartbeatInterval).
func ConsumerHeartbeatInterval(d time.Duration) Opt {
	return func(cfg *config) { cfg.consumerHeartbeat = d }
}

// ConsumerGroupTimeouts gives each consumer group's own session timeout
// and heartbeat interval (Kafka's group configs consumer.session.timeout.ms
// and consumer.heartbeat.interval.ms); a zero from it means the
// coordinator's default (ConsumerSessionTimeout, ConsumerHeartbeatInterval).
func ConsumerGroupTimeouts(f func(group string) (session, heartbeat time.Duration)) Opt {
	return func(cfg *config) { cfg.groupTimeouts = f }
}

// ConsumerAssignors is group.consumer.assignors (see ParseAssignors): the
// server assignors members may name; the first is the default.
func ConsumerAssignors(names []string) Opt {
	return func(cfg *config) {
		if len(names) > 0 {
			cfg.assignors = names
		}
	}
}

// ConsumerMaxGroupSize is group.consumer.max.size (default unlimited):
// joins beyond it get GROUP_MAX_SIZE_REACHED.
func ConsumerMaxGroupSize(n int) Opt { return func(cfg *config) { cfg.consumerMaxSize = n } }

// RegexRefreshInterval bounds how often a consumer group resolves its
// members' subscription regexes again after topics changed (default 1s;
// Kafka batches the same way, every 10s). A new regex is resolved at once.
func RegexRefreshInterval(d time.Duration) Opt { return func(cfg *config) { cfg.regexRefresh = d } }

// WithClock replaces the wall clock, e.g. with a FakeClock in tests.
func WithClock(c Clock) Opt { return func(cfg *config) { cfg.clock = c } }

// WithLogger sets where the coordinator logs; the default discards.
func WithLogger(l *slog.Logger) Opt {
	return func(cfg *config) {
		if l != nil {
			cfg.logger = l
		}
	}
}

// InitialRebalanceDelay is Kafka's group.initial.rebalance.delay.ms: when
// the first member joins an empty group the coordinator waits this long
// (again for each member that joins meanwhile, up to the rebalance
// timeout) so that members starting together land in one generation.
// Default 3s; 0 disables the wait, which tests want.
func InitialRebalanceDelay(d time.Duration) Opt {
	return func(cfg *config) { cfg.initialDelay = max(d, 0) }
}

// SessionTimeoutBounds are group.min.session.timeout.ms and
// group.max.session.timeout.ms (default 6s and 30m): joins asking for a
// session timeout outside them get INVALID_SESSION_TIMEOUT.
func SessionTimeoutBounds(minimum, maximum time.Duration) Opt {
	return func(cfg *config) { cfg.minSession, cfg.maxSession = minimum, maximum }
}

// MaxGroupSize is group.max.size (default unlimited): joins beyond it get
// GROUP_MAX_SIZE_REACHED.
func MaxGroupSize(n int) Opt { return func(cfg *config) { cfg.maxGroupSize = n } }

// MaxOffsetMetadataBytes is offset.metadata.max.bytes (default 4096):
// commits with longer metadata get OFFSET_METADATA_TOO_LARGE.
func MaxOffsetMetadataBytes(n int) Opt { return func(cfg *config) { cfg.maxMetadataBytes = n } }

// OffsetsRetention is offsets.retention.minutes (default 7 days): the
// offsets of a group that has been empty this long, and not committed to
// for this long, are deleted, and the group with them.
func OffsetsRetention(d time.Duration) Opt { return func(cfg *config) { cfg.retention = d } }

// RetentionCheckInterval is offsets.retention.check.interval.ms (default
// 10 minutes): how often expired offsets are looked for.
func RetentionCheckInterval(d time.Duration) Opt {
	return func(cfg *config) { cfg.retentionCheck = d }
}

// CompactBytes is how large the offsets log may grow (and at least twice
// its last snapshot) before it is rewritten as a snapshot. Default 16 MiB.
func CompactBytes(n int64) Opt { return func(cfg *config) { cfg.compactBytes = n } }

// OnPanic sets a function called (after logging) when a panic is
// recovered in a coordinator timer (a group's deadline, offsets expiry),
// e.g. to count it in a metric.
func OnPanic(f func(task string)) Opt { return func(cfg *config) { cfg.onPanic = f } }

// WithFS replaces the file system the offsets log is kept on: tests pass
// a vfs.ErrorFS to fill the disk, or a vfs.MemFS to pull the plug.
func WithFS(fs vfs.FS) Opt {
	return func(cfg *config) {
		if fs != nil {
			cfg.fs = fs
		}
	}
}

// randomMemberID is Kafka's member id: the client id, a dash, a UUID.
func randomMemberID(clientID string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return clientID + "-" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
