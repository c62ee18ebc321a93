package bench

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/courier-dev/courier/internal/tools/console"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Defaults used by [Config] fields left at their zero value.
const (
	DefaultRecords           = 1_000_000
	DefaultSize              = 100
	DefaultPartitions        = 6
	DefaultReplicationFactor = 1
	DefaultProducers         = 1
	DefaultBufferBytes       = 4 << 20
	DefaultIdleTimeout       = 30 * time.Second
	// DefaultTxnInterval is how long a transactional run's transactions
	// last when neither TxnRecords nor TxnInterval is set.
	DefaultTxnInterval = 100 * time.Millisecond

	// batchMaxBytes caps a produced record batch: 1 MiB fits under Kafka's
	// default message.max.bytes (1 MiB + 12) yet is large enough that the
	// batch size, not the request count, bounds throughput.
	batchMaxBytes = 1 << 20
	// fetchMaxBytes lets one fetch response carry every partition's share.
	fetchMaxBytes = 64 << 20
	// fetchMaxPartitionBytes stays at Kafka's 1 MiB default: larger
	// responses (4 and 8 MiB per partition were measured) halve consume
	// throughput, because the broker reads, the network carries and the
	// client decodes one huge response in turn instead of overlapping
	// smaller ones.
	fetchMaxPartitionBytes = 1 << 20
	// minPoolRecords keeps a few batches' worth of records in flight even
	// when values are large; with the largest values it costs 64 MiB.
	minPoolRecords = 64
)

// Config describes one benchmark run. The zero value of every field but
// ClientOpts means its default.
type Config struct {
	// ClientOpts are the kgo options every client of the run starts from:
	// at least kgo.SeedBrokers. The benchmark appends its own producer and
	// consumer options after them.
	ClientOpts []kgo.Opt

	// Topic is the topic to create; empty means a fresh
	// "courier-bench-<time>" name. The topic must not exist yet.
	Topic string
	// Records is how many records to produce (default 1,000,000).
	Records int
	// Size is the value size in bytes (default 100, at least [HeaderSize]).
	Size int
	// Partitions is the partition count of the topic (default 6).
	Partitions int32
	// ReplicationFactor of the topic (default 1; -1 asks for the broker's
	// default, which needs CreateTopics v4).
	ReplicationFactor int16
	// Producers is how many producer clients share the Records (default 1).
	// Each has its own connections, producer ID and buffer.
	Producers int
	// Compression names the produce codec: none (default), gzip, snappy,
	// lz4 or zstd. Values are random, so compression only costs CPU.
	Compression string
	// BufferBytes bounds the value bytes each producer keeps in flight
	// (default 4 MiB, at least 64 records): more hides round trips,
	// less lowers end-to-end latency at saturation.
	BufferBytes int
	// Keys, if positive, gives record seq the key "key-<seq % Keys>", so
	// the run writes Keys distinct keys; 0 (the default) produces records
	// without a key. Keys are not counted in the byte rates. On a compacted
	// topic the consumers check less: see keys.go.
	Keys int
	// TopicConfigs are the configs of the created topic (e.g.
	// cleanup.policy=compact; see ctl.ParseConfigs for a parser of
	// key=value flags). nil means the broker's defaults.
	TopicConfigs map[string]*string
	// Keep leaves the topic in place after the run.
	Keep bool
	// Transactional makes every producer transactional (a transactional
	// id per producer, derived from the topic) and has both consumers
	// read with isolation read_committed. Each producer ends a
	// transaction, with a flush and a commit, every TxnRecords of its
	// records or, if TxnRecords is 0, every TxnInterval (default
	// DefaultTxnInterval); the run reports the commits' latency.
	Transactional bool
	TxnRecords    int
	TxnInterval   time.Duration
	// IdleTimeout is how long a consumer waits without receiving anything,
	// once production is over, before it gives up and reports the records
	// it never saw as missing (default 30s).
	IdleTimeout time.Duration
	// Progress receives progress bars; nil means none.
	Progress io.Writer
}

// withDefaults returns c with zero fields set to their defaults, and checks
// it.
func (c Config) withDefaults() (Config, error) {
	if c.Records == 0 {
		c.Records = DefaultRecords
	}
	if c.Size == 0 {
		c.Size = DefaultSize
	}
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = DefaultReplicationFactor
	}
	if c.Producers == 0 {
		c.Producers = DefaultProducers
	}
	if c.Compression == "" {
		c.Compression = "none"
	}
	if c.BufferBytes == 0 {
		c.BufferBytes = DefaultBufferBytes
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.Topic == "" {
		c.Topic = fmt.Sprintf("courier-bench-%d", time.Now().UnixNano())
	}
	if c.Transactional && c.TxnRecords == 0 && c.TxnInterval == 0 {
		c.TxnInterval = DefaultTxnInterval
	}
	switch {
	case len(c.ClientOpts) == 0:
		return c, errors.New("bench: no client options (seed brokers)")
	case c.Records < 0:
		return c, fmt.Errorf("bench: records %d < 0", c.Records)
	case c.Size < HeaderSize:
		return c, fmt.Errorf("bench: size %d is smaller than the %d-byte header every value carries", c.Size, HeaderSize)
	case c.Size > batchMaxBytes-1024:
		return c, fmt.Errorf("bench: size %d does not fit a %d-byte batch", c.Size, batchMaxBytes)
	case c.Partitions < 1:
		return c, fmt.Errorf("bench: partitions %d < 1", c.Partitions)
	case c.ReplicationFactor < -1:
		return c, fmt.Errorf("bench: replication factor %d < -1", c.ReplicationFactor)
	case c.Producers < 1:
		return c, fmt.Errorf("bench: producers %d < 1", c.Producers)
	case c.Producers > c.Records:
		return c, fmt.Errorf("bench: %d producers for %d records", c.Producers, c.Records)
	case c.Keys < 0:
		return c, fmt.Errorf("bench: keys %d < 0", c.Keys)
	case c.BufferBytes < 0:
		return c, fmt.Errorf("bench: buffer bytes %d < 0", c.BufferBytes)
	case c.IdleTimeout < 0:
		return c, fmt.Errorf("bench: idle timeout %v < 0", c.IdleTimeout)
	case c.TxnRecords < 0:
		return c, fmt.Errorf("bench: transaction records %d < 0", c.TxnRecords)
	case c.TxnInterval < 0:
		return c, fmt.Errorf("bench: transaction interval %v < 0", c.TxnInterval)
	case !c.Transactional && (c.TxnRecords > 0 || c.TxnInterval > 0):
		return c, errors.New("bench: transaction records or interval without a transactional run")
	case c.TxnRecords > 0 && c.TxnInterval > 0:
		return c, errors.New("bench: end transactions either every N records or every interval, not both")
	}
	if _, err := codec(c.Compression); err != nil {
		return c, err
	}
	if c.compacted() && c.Keys == 0 {
		// Kafka refuses records without a key on a compacted topic.
		return c, errors.New("bench: a topic with cleanup.policy compact needs keyed records (set keys)")
	}
	return c, nil
}

// Validate reports the first setting Run would refuse, ClientOpts aside,
// so that a caller can check its flags before it connects to anything.
func (c Config) Validate() error {
	if len(c.ClientOpts) == 0 {
		c.ClientOpts = []kgo.Opt{kgo.SeedBrokers()} // Run checks the real ones
	}
	_, err := c.withDefaults()
	return err
}

// compacted reports whether the run's topic is created with a
// cleanup.policy that compacts: its log may lose superseded records while
// the run reads it.
func (c Config) compacted() bool {
	p, ok := c.TopicConfigs["cleanup.policy"]
	return ok && p != nil && compacts(*p)
}

// txnFull reports whether a transaction that holds n records and began
// age nanoseconds ago is to be committed before the next record.
func (c Config) txnFull(n int, age int64) bool {
	if c.TxnRecords > 0 {
		return n >= c.TxnRecords
	}
	return age >= int64(c.TxnInterval)
}

// isolation is the consumers' isolation level: read_committed in a
// transactional run, so that they see what a transactional application's
// consumers see, when they see it.
func (c Config) isolation() kgo.IsolationLevel {
	if c.Transactional {
		return kgo.ReadCommitted()
	}
	return kgo.ReadUncommitted()
}

// keyCap is the key room each pooled record needs.
func (c Config) keyCap() int {
	if c.Keys > 0 {
		return maxKeyLen
	}
	return 0
}

// poolRecords is how many records one producer keeps in flight.
func (c Config) poolRecords(records int) int {
	return min(max(c.BufferBytes/c.Size, minPoolRecords), records)
}

// codec maps a compression name to its kgo codec: the client tools' one
// parser (console.ParseCompression), its error named for the benchmark.
func codec(name string) (kgo.CompressionCodec, error) {
	c, err := console.ParseCompression(name)
	if err != nil {
		return c, fmt.Errorf("bench: %w", err)
	}
	return c, nil
}
