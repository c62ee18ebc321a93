package ctl

// txn_abort.go aborts an open transaction on one partition by writing an
// ABORT marker for its producer, as kafka-transactions.sh abort does
// (KIP-664): the way out of a hanging transaction, one whose coordinator
// will never finish it, that holds back the partition's last stable offset
// and so every read_committed consumer.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// AbortFlags are the settings of `txn abort` as given on the command line,
// nil for those not given; Spec checks them.
type AbortFlags struct {
	Topic            string
	Partition        *int32
	StartOffset      *int64
	ProducerID       *int64
	ProducerEpoch    *int16
	CoordinatorEpoch *int32
}

// AbortSpec says which open transaction to abort on one partition: the one
// starting at StartOffset, or, if StartOffset is -1, the one of the
// producer given (for brokers before Kafka 3.0, whose DescribeProducers
// does not report start offsets).
type AbortSpec struct {
	Topic     string // Topic is the topic of the partition.
	Partition int32  // Partition is the partition number.
	// StartOffset, if not -1, is the offset of the transaction's first
	// record on the partition: its producer is looked up with
	// DescribeProducers.
	StartOffset      int64
	ProducerID       int64 // ProducerID is the producer to abort for, if StartOffset is -1.
	ProducerEpoch    int16 // ProducerEpoch is its epoch, if StartOffset is -1.
	CoordinatorEpoch int32 // CoordinatorEpoch is written in the marker, if StartOffset is -1.
}

// Spec checks the flags and returns the abort they ask for. As in Kafka, a
// negative coordinator epoch (DescribeProducers shows -1 when the
// producer's transaction coordinator never wrote a marker on the
// partition) becomes 0, which no coordinator epoch is below.
func (f AbortFlags) Spec() (AbortSpec, error) {
	explicit := f.ProducerID != nil || f.ProducerEpoch != nil || f.CoordinatorEpoch != nil
	switch {
	case f.Topic == "":
		return AbortSpec{}, errors.New("--topic is required")
	case f.Partition == nil:
		return AbortSpec{}, errors.New("--partition is required")
	case *f.Partition < 0:
		return AbortSpec{}, fmt.Errorf("--partition %d: want a partition number from 0", *f.Partition)
	case f.StartOffset != nil && explicit:
		return AbortSpec{}, errors.New("give either --start-offset, or --producer-id, --producer-epoch and --coordinator-epoch, not both")
	case f.StartOffset != nil && *f.StartOffset < 0:
		return AbortSpec{}, fmt.Errorf("--start-offset %d: want an offset from 0", *f.StartOffset)
	case f.StartOffset != nil:
		return AbortSpec{Topic: f.Topic, Partition: *f.Partition, StartOffset: *f.StartOffset}, nil
	case !explicit:
		return AbortSpec{}, errors.New("name the transaction to abort with --start-offset (see `courier txn producers` or `courier txn find-hanging`), " +
			"or with --producer-id, --producer-epoch and --coordinator-epoch")
	case f.ProducerID == nil:
		return AbortSpec{}, errors.New("--producer-epoch and --coordinator-epoch need --producer-id")
	case f.ProducerEpoch == nil:
		return AbortSpec{}, errors.New("--producer-id needs --producer-epoch")
	case f.CoordinatorEpoch == nil:
		return AbortSpec{}, errors.New("--producer-id needs --coordinator-epoch (-1 if `courier txn producers` shows none)")
	case *f.ProducerID < 0:
		return AbortSpec{}, fmt.Errorf("--producer-id %d: want a producer id from 0", *f.ProducerID)
	case *f.ProducerEpoch < 0:
		return AbortSpec{}, fmt.Errorf("--producer-epoch %d: want an epoch from 0", *f.ProducerEpoch)
	}
	return AbortSpec{
		Topic: f.Topic, Partition: *f.Partition, StartOffset: -1,
		ProducerID: *f.ProducerID, ProducerEpoch: *f.ProducerEpoch, CoordinatorEpoch: max(*f.CoordinatorEpoch, 0),
	}, nil
}

// AbortedTxn is the transaction AbortTransaction aborted.
type AbortedTxn struct {
	Topic            string
	Partition        int32
	ProducerID       int64
	ProducerEpoch    int16
	CoordinatorEpoch int32
	StartOffset      int64 // StartOffset is where the transaction started, or -1 if the producer was given instead.
}

// String says what was aborted, in one line.
func (t AbortedTxn) String() string {
	s := fmt.Sprintf("aborted the transaction of producer id %d (epoch %d, coordinator epoch %d) on %s",
		t.ProducerID, t.ProducerEpoch, t.CoordinatorEpoch, TopicPartition{t.Topic, t.Partition})
	if t.StartOffset >= 0 {
		s += fmt.Sprintf(", which started at offset %d", t.StartOffset)
	}
	return s
}

// AbortTransaction writes an ABORT marker on the partition for the
// transaction spec names (WriteTxnMarkers; it needs CLUSTER_ACTION on the
// cluster). With a start offset, the producer whose open transaction
// starts there is found first; if there is none, the error lists the open
// transactions there are. The transaction's records stay in the log but
// read_committed consumers skip them, and the last stable offset moves
// past them.
//
// Abort only a transaction that hangs (find-hanging): one whose
// coordinator still runs it would commit or abort it itself, and an abort
// written under it loses what its producer meant to commit.
func (a *Admin) AbortTransaction(ctx context.Context, spec AbortSpec) (AbortedTxn, error) {
	tp := TopicPartition{spec.Topic, spec.Partition}
	t := AbortedTxn{
		Topic: spec.Topic, Partition: spec.Partition, StartOffset: spec.StartOffset,
		ProducerID: spec.ProducerID, ProducerEpoch: spec.ProducerEpoch, CoordinatorEpoch: spec.CoordinatorEpoch,
	}
	if spec.StartOffset >= 0 {
		p, err := a.openTxnAt(ctx, spec.Topic, spec.Partition, spec.StartOffset)
		if err != nil {
			return AbortedTxn{}, fmt.Errorf("abort transaction on %s: %w", tp, err)
		}
		t.ProducerID, t.ProducerEpoch, t.CoordinatorEpoch = p.ProducerID, p.ProducerEpoch, max(p.CoordinatorEpoch, 0)
	} else if _, err := a.topicPartitions(ctx, "abort a transaction on", spec.Topic, spec.Partition); err != nil {
		return AbortedTxn{}, err
	}
	set := kadm.TopicsSet{}
	set.Add(spec.Topic, spec.Partition)
	resps, err := a.adm.WriteTxnMarkers(ctx, kadm.TxnMarkers{
		ProducerID: t.ProducerID, ProducerEpoch: t.ProducerEpoch, CoordinatorEpoch: t.CoordinatorEpoch,
		Commit: false, Topics: set,
	})
	if err != nil {
		return AbortedTxn{}, fmt.Errorf("abort transaction of producer id %d on %s: %w", t.ProducerID, tp, markerErr(optionalErr("WriteTxnMarkers", err)))
	}
	r, ok := resps[t.ProducerID].Topics[spec.Topic].Partitions[spec.Partition]
	if !ok {
		return AbortedTxn{}, fmt.Errorf("abort transaction of producer id %d on %s: the broker's response did not mention the partition", t.ProducerID, tp)
	}
	if r.Err != nil {
		return AbortedTxn{}, fmt.Errorf("abort transaction of producer id %d on %s: %w", t.ProducerID, tp, markerErr(r.Err))
	}
	return t, nil
}

// openTxnAt returns the producer whose open transaction on the partition
// starts at offset, or an error listing the open transactions there.
func (a *Admin) openTxnAt(ctx context.Context, topic string, partition int32, offset int64) (ProducerState, error) {
	pps, err := a.DescribeProducers(ctx, topic, partition)
	if err != nil {
		return ProducerState{}, err
	}
	var open []string
	for _, pp := range pps {
		for _, p := range pp.Producers {
			if p.TxnStartOffset == offset {
				return p, nil
			}
			if p.TxnStartOffset >= 0 {
				open = append(open, fmt.Sprintf("%d (producer id %d, epoch %d)", p.TxnStartOffset, p.ProducerID, p.ProducerEpoch))
			}
		}
	}
	if len(open) == 0 {
		return ProducerState{}, fmt.Errorf("no open transaction starts at offset %d: the partition has no open transaction", offset)
	}
	return ProducerState{}, fmt.Errorf("no open transaction starts at offset %d; the open ones start at %s", offset, strings.Join(open, ", "))
}

// markerErr words the refusals of a marker a person can act on.
func markerErr(err error) error {
	switch {
	case errors.Is(err, kerr.ClusterAuthorizationFailed):
		return fmt.Errorf("not authorized: writing transaction markers needs CLUSTER_ACTION on the cluster: %w", err)
	case errors.Is(err, kerr.TransactionCoordinatorFenced):
		return fmt.Errorf("the coordinator epoch is older than the one of the partition's last marker (see `courier txn producers`): %w", err)
	case errors.Is(err, kerr.InvalidProducerEpoch), errors.Is(err, kerr.ProducerFenced):
		return fmt.Errorf("the producer epoch is older than the partition's: the producer has moved on (see `courier txn producers`): %w", err)
	}
	return err
}
