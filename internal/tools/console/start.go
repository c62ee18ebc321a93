package console

// start.go checks, before anything is consumed or after a produce failed,
// that the topic and partition exist, and where in a partition's log a
// consumer given a numeric offset starts.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// errNoTopic and errNoPartition are what checkTopic's errors wrap.
var (
	errNoTopic     = errors.New("unknown topic")
	errNoPartition = errors.New("unknown partition")
)

// checkTopic fails with a clear message if the topic, or the partition when
// one is given (partition >= 0), does not exist: "unknown topic T"
// (wrapping errNoTopic) or "partition P does not exist: topic T has N
// partitions" (wrapping errNoPartition). Without this a consumer would
// wait quietly for the topic to appear.
func checkTopic(ctx context.Context, cl *kgo.Client, topic string, partition int32) error {
	tds, err := kadm.NewClient(cl).ListTopicsWithInternal(ctx, topic)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	td, ok := tds[topic]
	switch {
	case !ok, errors.Is(td.Err, kerr.UnknownTopicOrPartition):
		return &plainError{"unknown topic " + topic, errNoTopic}
	case td.Err != nil && !kerr.IsRetriable(td.Err):
		return fmt.Errorf("metadata: %w", td.Err)
	case td.Err != nil:
		return nil // e.g. a leader election under way; the client waits it out
	}
	if _, ok := td.Partitions[partition]; partition >= 0 && !ok {
		return &plainError{fmt.Sprintf("partition %d does not exist: topic %s has %d partitions", partition, topic, len(td.Partitions)), errNoPartition}
	}
	return nil
}

// startAt returns where consuming cfg.Partition starts. A numeric offset
// outside the partition's log is moved into it, with a note on Warnings,
// as Kafka's consumers reset an out-of-range offset: past the end (the
// high watermark) it starts at the end and waits for new records; before
// the log start (records deleted by retention) it starts at the log start.
// Left to the client, an offset past the end would silently restart at the
// beginning.
func (cfg ConsumeConfig) startAt(ctx context.Context, cl *kgo.Client) (kgo.Offset, error) {
	start, err := StartOffset(cfg.FromBeginning, cfg.Offset, cfg.Partition)
	if err != nil {
		return kgo.Offset{}, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(cfg.Offset), 10, 64)
	if err != nil {
		return start, nil // earliest or latest: always in the log
	}
	adm := kadm.NewClient(cl)
	end, err := cfg.listed(ctx, adm.ListEndOffsets)
	if err != nil {
		return kgo.Offset{}, err
	}
	if n > end {
		cfg.warn("consume %s: offset %d is beyond the end of partition %d (high watermark %d): waiting for new records from offset %d\n",
			cfg.Topic, n, cfg.Partition, end, end)
		return kgo.NewOffset().At(end), nil
	}
	first, err := cfg.listed(ctx, adm.ListStartOffsets)
	if err != nil {
		return kgo.Offset{}, err
	}
	if n < first {
		cfg.warn("consume %s: offset %d is before the start of partition %d (log start offset %d; older records were deleted): starting at %d\n",
			cfg.Topic, n, cfg.Partition, first, first)
		return kgo.NewOffset().At(first), nil
	}
	return start, nil
}

// listed returns cfg.Partition's offset from list (kadm's ListEndOffsets or
// ListStartOffsets).
func (cfg ConsumeConfig) listed(ctx context.Context, list func(context.Context, ...string) (kadm.ListedOffsets, error)) (int64, error) {
	offsets, err := list(ctx, cfg.Topic)
	if err != nil {
		return 0, fmt.Errorf("list offsets of partition %d: %w", cfg.Partition, err)
	}
	o, ok := offsets.Lookup(cfg.Topic, cfg.Partition)
	if !ok || o.Err != nil {
		return 0, fmt.Errorf("list offsets of partition %d: %w", cfg.Partition, lookupErr(o.Err))
	}
	return o.Offset, nil
}

// lookupErr is the error of a partition missing from a ListOffsets answer.
func lookupErr(err error) error {
	if err == nil {
		return errors.New("the cluster did not answer for it")
	}
	return err
}
