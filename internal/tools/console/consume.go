package console

// consume.go prints records from a topic until told to stop, after a set
// number of records, or when a timeout expires.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrTimeout is wrapped by Consume's error when ConsumeConfig.Timeout
// expired before MaxRecords records were printed.
var ErrTimeout = errors.New("timed out")

// ConsumeConfig describes a consume run. The zero value of every field but
// Topic is a sensible default: all partitions, from the end, "%v\n", no
// limit, no timeout, no group.
type ConsumeConfig struct {
	Topic         string        // Topic is read.
	Partition     int32         // Partition restricts reading to one partition; -1 reads all.
	FromBeginning bool          // FromBeginning starts at the earliest offset.
	Offset        string        // Offset is "", "earliest", "latest" or a number (the latter needs Partition); see StartOffset.
	Group         string        // Group, if set, joins this consumer group and commits the printed records.
	Format        string        // Format is the output template; "" means DefaultFormat.
	MaxRecords    int           // MaxRecords stops after this many records; 0 means no limit.
	Timeout       time.Duration // Timeout stops the run after this long; 0 means none.
	Warnings      io.Writer     // Warnings receives non-fatal notices (e.g. data loss); nil discards them.
}

// Consume prints the records of cfg.Topic to out through cfg.Format, using a
// new client built from clientOpts (seed brokers, client ID) plus the
// options cfg implies. It returns the number of records printed. It stops
// without error when ctx ends (Ctrl-C) or MaxRecords are printed; it fails if
// the topic or partition does not exist, on a client error it cannot
// recover from, or with ErrTimeout if Timeout expires before MaxRecords.
func Consume(ctx context.Context, clientOpts []kgo.Opt, cfg ConsumeConfig, out io.Writer) (int, error) {
	if cfg.Topic == "" {
		return 0, errors.New("consume: empty topic name")
	}
	opts, format, err := cfg.clientOpts()
	if err != nil {
		return 0, fmt.Errorf("consume %s: %w", cfg.Topic, err)
	}
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, cfg.Timeout, ErrTimeout)
		defer cancel()
	}
	// Java's default fetch wait (kgo's is 5s): an idle partition sharing a
	// fetch with a busy one does not hold it back for long.
	opts = append(opts, kgo.FetchMaxWait(500*time.Millisecond))
	cl, err := kgo.NewClient(append(clientOpts[:len(clientOpts):len(clientOpts)], opts...)...)
	if err != nil {
		return 0, fmt.Errorf("consume %s: create Kafka client: %w", cfg.Topic, err)
	}
	defer cl.Close()

	if err := checkTopic(ctx, cl, cfg.Topic, cfg.Partition); err != nil {
		if errors.Is(context.Cause(ctx), context.Canceled) {
			return 0, nil // interrupted before the first poll
		}
		if errors.Is(context.Cause(ctx), ErrTimeout) {
			err = fmt.Errorf("%w after %s: %w", ErrTimeout, cfg.Timeout, err)
		}
		return 0, fmt.Errorf("consume %s: %w", cfg.Topic, err)
	}

	n, err := cfg.loop(ctx, cl, format, out)
	if err != nil {
		return n, fmt.Errorf("consume %s: %w", cfg.Topic, err)
	}
	if cfg.Group != "" {
		// The run's context may be over (Ctrl-C); the commit gets its own.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := cl.CommitMarkedOffsets(cctx); err != nil {
			return n, fmt.Errorf("consume %s: commit offsets of group %s: %w", cfg.Topic, cfg.Group, err)
		}
	}
	return n, cfg.stopped(ctx, n)
}

// loop polls and prints until ctx ends, MaxRecords are printed, or the
// client reports a fatal error.
func (cfg ConsumeConfig) loop(ctx context.Context, cl *kgo.Client, format *Format, out io.Writer) (int, error) {
	w := bufio.NewWriterSize(out, 64<<10)
	var buf []byte
	n := 0
	for ctx.Err() == nil && (cfg.MaxRecords <= 0 || n < cfg.MaxRecords) {
		var fetches kgo.Fetches
		if cfg.MaxRecords > 0 {
			fetches = cl.PollRecords(ctx, cfg.MaxRecords-n)
		} else {
			fetches = cl.PollFetches(ctx)
		}
		if fetches.IsClientClosed() {
			break
		}
		fatal := cfg.checkErrors(fetches)
		for it := fetches.RecordIter(); !it.Done(); {
			r := it.Next()
			buf = format.Append(buf[:0], r)
			if _, err := w.Write(buf); err != nil {
				return n, fmt.Errorf("write output: %w", err)
			}
			n++
			if cfg.Group != "" {
				cl.MarkCommitRecords(r)
			}
		}
		if err := w.Flush(); err != nil {
			return n, fmt.Errorf("write output: %w", err)
		}
		if fatal != nil {
			return n, fatal
		}
	}
	return n, nil
}

// checkErrors returns the first error in fetches that the client will not
// recover from by itself. Context ends are left to the loop; data loss and
// retriable Kafka errors go to Warnings.
func (cfg ConsumeConfig) checkErrors(fetches kgo.Fetches) error {
	for _, fe := range fetches.Errors() {
		var loss *kgo.ErrDataLoss
		switch {
		case errors.Is(fe.Err, context.Canceled), errors.Is(fe.Err, context.DeadlineExceeded),
			errors.Is(fe.Err, kgo.ErrClientClosed):
		case errors.As(fe.Err, &loss), kerr.IsRetriable(fe.Err):
			cfg.warn("warning: %v\n", fetchErr(fe))
		default:
			return fetchErr(fe)
		}
	}
	return nil
}

// fetchErr adds to a fetch error where it came from.
func fetchErr(fe kgo.FetchError) error {
	if fe.Topic == "" {
		return fmt.Errorf("client: %w", fe.Err) // group management errors carry no partition
	}
	return fmt.Errorf("partition %d: %w", fe.Partition, fe.Err)
}

// warn writes a notice to cfg.Warnings, if set.
func (cfg ConsumeConfig) warn(format string, args ...any) {
	if cfg.Warnings != nil {
		fmt.Fprintf(cfg.Warnings, format, args...)
	}
}

// stopped returns the error for a run that ended with n records printed:
// nil, unless the timeout expired before MaxRecords.
func (cfg ConsumeConfig) stopped(ctx context.Context, n int) error {
	if !errors.Is(context.Cause(ctx), ErrTimeout) || cfg.MaxRecords <= 0 || n >= cfg.MaxRecords {
		return nil
	}
	return fmt.Errorf("consume %s: %w after %s: got %d of %d records", cfg.Topic, ErrTimeout, cfg.Timeout, n, cfg.MaxRecords)
}

// clientOpts validates cfg and returns the kgo options and format it implies.
func (cfg ConsumeConfig) clientOpts() ([]kgo.Opt, *Format, error) {
	if cfg.MaxRecords < 0 {
		return nil, nil, fmt.Errorf("record count must not be negative, got %d", cfg.MaxRecords)
	}
	if cfg.Timeout < 0 {
		return nil, nil, fmt.Errorf("timeout must not be negative, got %s", cfg.Timeout)
	}
	fs := cfg.Format
	if fs == "" {
		fs = DefaultFormat
	}
	format, err := ParseFormat(fs)
	if err != nil {
		return nil, nil, err
	}
	start, err := StartOffset(cfg.FromBeginning, cfg.Offset, cfg.Partition)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case cfg.Group != "" && cfg.Partition >= 0:
		return nil, nil, errors.New("a group assigns partitions itself; drop --partition or --group")
	case cfg.Group != "":
		// Commit only what was printed: marks are committed periodically,
		// on rebalance, and once more when the run ends.
		return []kgo.Opt{
			kgo.ConsumeTopics(cfg.Topic),
			kgo.ConsumerGroup(cfg.Group),
			kgo.ConsumeResetOffset(start),
			kgo.AutoCommitMarks(),
		}, format, nil
	case cfg.Partition >= 0:
		return []kgo.Opt{
			kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{cfg.Topic: {cfg.Partition: start}}),
		}, format, nil
	default:
		return []kgo.Opt{kgo.ConsumeTopics(cfg.Topic), kgo.ConsumeResetOffset(start)}, format, nil
	}
}

// checkTopic fails with a clear message if the topic, or the partition when
// one is given (partition >= 0), does not exist. Without this the client
// would wait quietly for the topic to appear.
func checkTopic(ctx context.Context, cl *kgo.Client, topic string, partition int32) error {
	tds, err := kadm.NewClient(cl).ListTopicsWithInternal(ctx, topic)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	td, ok := tds[topic]
	switch {
	case !ok, errors.Is(td.Err, kerr.UnknownTopicOrPartition):
		return fmt.Errorf("unknown topic %s", topic)
	case td.Err != nil && !kerr.IsRetriable(td.Err):
		return fmt.Errorf("metadata: %w", td.Err)
	case td.Err != nil:
		return nil // e.g. a leader election under way; the client waits it out
	}
	if _, ok := td.Partitions[partition]; partition >= 0 && !ok {
		return fmt.Errorf("partition %d does not exist: topic %s has %d partitions", partition, topic, len(td.Partitions))
	}
	return nil
}
