package console

// consume.go prints records from a topic until told to stop, after a set
// number of records, or when a timeout expires.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrTimeout is wrapped by Consume's error when ConsumeConfig.Timeout
// expired before MaxRecords records were printed.
var ErrTimeout = errors.New("timed out")

// ConsumeConfig describes a consume run. The zero value of every field but
// Topic is a sensible default: all partitions, from the end, "%v\n", no
// limit, no timeout, no group.
//
// A consumer group (Group) splits the partitions between its members and
// commits what was printed; a share group (ShareGroup, KIP-932) lets any
// number of members read the same partitions, each record delivered to one
// of them and acknowledged on its own: accepted once printed, or rejected
// or released as RejectEvery and ReleaseEvery say.
type ConsumeConfig struct {
	Topic         string // Topic is read.
	Partition     int32  // Partition restricts reading to one partition; -1 reads all.
	FromBeginning bool   // FromBeginning starts at the earliest offset.
	Offset        string // Offset is "", "earliest", "latest" or a number (the latter needs Partition); see StartOffset.
	Group         string // Group, if set, joins this consumer group and commits the printed records.
	// Protocol is how a Group member joins: "classic" ("" too) or
	// "consumer" (KIP-848: the broker assigns the partitions; the cluster
	// must support it, Consume fails otherwise).
	Protocol string
	// ShareGroup, if set, joins this share group (KIP-932) and acknowledges
	// each printed record. With FromBeginning, the group's
	// share.auto.offset.reset is set to earliest first.
	ShareGroup string
	// RejectEvery rejects every RejectEvery-th record printed in a share
	// group (it is archived, never delivered again); ReleaseEvery releases
	// every ReleaseEvery-th (it is delivered again, its delivery count one
	// higher, until share.delivery.count.limit archives it). 0 disables
	// either.
	RejectEvery, ReleaseEvery int
	Format                    string        // Format is the output template; "" means DefaultFormat.
	MaxRecords                int           // MaxRecords stops after this many records; 0 means no limit.
	Timeout                   time.Duration // Timeout stops the run after this long; 0 means none.
	Warnings                  io.Writer     // Warnings receives non-fatal notices (e.g. data loss); nil discards them.
	// Isolation is "read_uncommitted" (or "", the default, as Kafka's
	// consumers) or "read_committed": see ParseIsolation.
	Isolation string
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
	if cfg.ShareGroup != "" {
		opts = append(opts, kgo.ShareAckCallback(cfg.ackWarnings()))
	}
	// The consuming client joins its group at once: what the group
	// needs is checked and set up first, on a client of its own.
	if err := cfg.prepareGroup(ctx, clientOpts); err != nil {
		return 0, cfg.startErr(ctx, err)
	}
	cl, err := kgo.NewClient(append(clientOpts[:len(clientOpts):len(clientOpts)], opts...)...)
	if err != nil {
		return 0, fmt.Errorf("consume %s: create Kafka client: %w", cfg.Topic, err)
	}
	defer cl.Close()

	if err := checkTopic(ctx, cl, cfg.Topic, cfg.Partition); err != nil {
		return 0, cfg.startErr(ctx, err)
	}
	if cfg.Partition >= 0 {
		// One partition is added only now, once its start offset is known
		// to be in the log (see startAt).
		start, err := cfg.startAt(ctx, cl)
		if err != nil {
			return 0, cfg.startErr(ctx, err)
		}
		cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{cfg.Topic: {cfg.Partition: start}})
	}

	n, err := cfg.loop(ctx, cl, format, out)
	if cfg.Group != "" {
		// Commit what was printed, whatever ended the run (-n, --timeout,
		// Ctrl-C, an error), before leaving the group: the group's next
		// member resumes right after it, and `group describe` shows it at
		// once, not at the next periodic commit. The run's context may be
		// over; the commit gets its own.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
		if cerr := cl.CommitMarkedOffsets(cctx); cerr != nil {
			err = errors.Join(err, fmt.Errorf("commit offsets of group %s: %w", cfg.Group, cerr))
		}
		cancel()
	}
	if cfg.ShareGroup != "" {
		// Send the acknowledgements of what was printed now, not with
		// the next fetch there will not be; what was fetched but not
		// printed is released by Close, for another member.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
		if ferr := cl.FlushAcks(cctx); ferr != nil {
			err = errors.Join(err, fmt.Errorf("acknowledge records of share group %s: %w", cfg.ShareGroup, ferr))
		}
		cancel()
	}
	if err != nil {
		return n, fmt.Errorf("consume %s: %w", cfg.Topic, err)
	}
	return n, cfg.stopped(ctx, n)
}

// prepareGroup checks that the cluster speaks the group protocol asked
// for, and sets a share group's start to the earliest offset if asked,
// through a client of its own (clientOpts) that never joins the group:
// before the consuming client does, as franz-go would fall back to the
// classic protocol, and a share group's first fetch fixes its start.
func (cfg ConsumeConfig) prepareGroup(ctx context.Context, clientOpts []kgo.Opt) error {
	consumer := cfg.Group != "" && strings.EqualFold(cfg.Protocol, ProtocolConsumer)
	if cfg.ShareGroup == "" && !consumer {
		return nil
	}
	cl, err := kgo.NewClient(clientOpts...)
	if err != nil {
		return fmt.Errorf("create Kafka client: %w", err)
	}
	defer cl.Close()
	if err := checkTopic(ctx, cl, cfg.Topic, cfg.Partition); err != nil {
		return err
	}
	switch {
	case cfg.ShareGroup != "":
		if err := ctl.RequireGroupProtocol(ctx, cl, ctl.ProtocolShare); err != nil {
			return err
		}
		if cfg.FromBeginning {
			if err := ctl.ShareStartEarliest(ctx, cl, cfg.ShareGroup); err != nil {
				return err
			}
			cfg.warn("share group %s: share.auto.offset.reset set to earliest (applies to partitions the group has not read yet)\n", cfg.ShareGroup)
		}
	case consumer:
		if err := ctl.RequireGroupProtocol(ctx, cl, ctl.ProtocolConsumer); err != nil {
			return fmt.Errorf("%w (--protocol classic works with every cluster)", err)
		}
	}
	return nil
}

// groupCommitEvery is how often a group consumer commits what it printed
// while it runs: a person watching `group describe` beside it sees its
// progress within a second, not at Kafka's 5-second default; one small
// commit a second costs the broker nothing.
const groupCommitEvery = time.Second

// commitTimeout bounds the commit of the printed records at the end of a
// group consumer's run.
const commitTimeout = 10 * time.Second

// startErr is the error of a run that failed before its first poll: nil
// if it was interrupted (Ctrl-C), marked ErrTimeout if Timeout expired.
func (cfg ConsumeConfig) startErr(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), context.Canceled) {
		return nil // interrupted before the first poll
	}
	if errors.Is(context.Cause(ctx), ErrTimeout) {
		err = fmt.Errorf("%w after %s: %w", ErrTimeout, cfg.Timeout, err)
	}
	return fmt.Errorf("consume %s: %w", cfg.Topic, err)
}

// loop polls and prints until ctx ends, MaxRecords are printed, or the
// client reports a fatal error.
func (cfg ConsumeConfig) loop(ctx context.Context, cl *kgo.Client, format *Format, out io.Writer) (int, error) {
	w := bufio.NewWriterSize(out, 64<<10)
	var (
		buf     []byte
		printed []*kgo.Record
	)
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
		printed = printed[:0]
		for it := fetches.RecordIter(); !it.Done(); {
			r := it.Next()
			buf = format.Append(buf[:0], r)
			if _, err := w.Write(buf); err != nil {
				return n, fmt.Errorf("write output: %w", err)
			}
			printed = append(printed, r)
		}
		if err := w.Flush(); err != nil {
			return n, fmt.Errorf("write output: %w", err)
		}
		// Only records that reached the output are marked for the group's
		// commit, or acknowledged in a share group.
		if cfg.Group != "" {
			cl.MarkCommitRecords(printed...)
		}
		if cfg.ShareGroup != "" {
			for i, r := range printed {
				r.Ack(cfg.ackFor(n + i + 1))
			}
		}
		n += len(printed)
		if fatal != nil {
			return n, fatal
		}
	}
	return n, nil
}

// checkErrors returns the first error in fetches that the client will not
// recover from by itself. Context ends are left to the loop; data loss and
// retriable Kafka errors go to Warnings. A lost connection (a broker
// restarting) is retried by the client and is no reason to stop; it is
// not reported here, once per poll, but by the connection hook the caller
// may pass in the client options (reach.Monitor), once per outage.
func (cfg ConsumeConfig) checkErrors(fetches kgo.Fetches) error {
	for _, fe := range fetches.Errors() {
		var loss *kgo.ErrDataLoss
		switch {
		case errors.Is(fe.Err, context.Canceled), errors.Is(fe.Err, context.DeadlineExceeded),
			errors.Is(fe.Err, kgo.ErrClientClosed), connectionLost(fe.Err):
		case errors.As(fe.Err, &loss), kerr.IsRetriable(fe.Err):
			cfg.warn("warning: %v\n", fetchErr(fe))
		default:
			return fetchErr(fe)
		}
	}
	return nil
}

// connectionLost reports whether err is a failed or broken connection to a
// broker (a dial error, a reset, a connection closed mid-answer), which
// the client retries.
func connectionLost(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}

// fetchErr adds to a fetch error where it came from.
func fetchErr(fe kgo.FetchError) error {
	if fe.Topic == "" {
		return fmt.Errorf("client: %w", fe.Err) // group management errors carry no partition
	}
	return fmt.Errorf("partition %d: %w", fe.Partition, fe.Err)
}

// warn writes a notice to cfg.Warnings, if set, prefixed "courier: " as
// every line the tools write on stderr is.
func (cfg ConsumeConfig) warn(format string, args ...any) {
	if cfg.Warnings != nil {
		fmt.Fprintf(cfg.Warnings, "courier: "+format, args...)
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

// Validate reports the first setting of cfg that Consume would refuse, so
// that a caller can check the settings before it connects to anything.
func (cfg ConsumeConfig) Validate() error {
	if cfg.Topic == "" {
		return errors.New("consume: empty topic name")
	}
	if _, _, err := cfg.clientOpts(); err != nil {
		return fmt.Errorf("consume %s: %w", cfg.Topic, err)
	}
	return nil
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
	isolation, err := ParseIsolation(cfg.Isolation)
	if err != nil {
		return nil, nil, err
	}
	if err := cfg.validateGroups(); err != nil {
		return nil, nil, err
	}
	opts := []kgo.Opt{kgo.FetchIsolationLevel(isolation)}
	switch {
	case cfg.ShareGroup != "":
		// Records are acknowledged one by one as they are printed
		// (loop); a poll auto-accepts only what the previous one
		// returned and was not acknowledged, which here is nothing.
		return []kgo.Opt{kgo.ConsumeTopics(cfg.Topic), kgo.ShareGroup(cfg.ShareGroup)}, format, nil
	case cfg.Group != "" && cfg.Partition >= 0:
		return nil, nil, errors.New("a group assigns partitions itself; drop --partition or --group")
	case cfg.Group != "":
		// Commit only what was printed: marks are committed every
		// groupCommitEvery, on rebalance, and once more when the run ends.
		if strings.EqualFold(cfg.Protocol, ProtocolConsumer) {
			// KIP-848 with franz-go's default (cooperative-sticky)
			// balancer: the broker assigns.
			opts = append(opts, kgo.ServerSideBalancer())
		}
		return append(opts,
			kgo.ConsumeTopics(cfg.Topic),
			kgo.ConsumerGroup(cfg.Group),
			kgo.ConsumeResetOffset(start),
			kgo.AutoCommitMarks(),
			kgo.AutoCommitInterval(groupCommitEvery),
		), format, nil
	case cfg.Partition >= 0:
		return opts, format, nil // Consume adds the partition once its start is checked
	default:
		return append(opts, kgo.ConsumeTopics(cfg.Topic), kgo.ConsumeResetOffset(start)), format, nil
	}
}
