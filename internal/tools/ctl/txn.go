package ctl

// txn.go lists and describes the transactions of a cluster and the
// producers writing to a topic's partitions, as kafka-transactions.sh's
// list, describe and describe-producers do (KIP-664): ListTransactions,
// DescribeTransactions and DescribeProducers through kadm.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// txnStates are the transaction states in Kafka's spelling (the names
// ListTransactions filters by and DescribeTransactions reports). A state
// filter is matched against them case-insensitively.
var txnStates = []string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"}

// TxnSummary is one line of a transaction listing.
type TxnSummary struct {
	TransactionalID string // TransactionalID is the producer's transactional.id.
	Coordinator     int32  // Coordinator is the broker ID of the transaction coordinator that owns it.
	ProducerID      int64  // ProducerID is the producer ID the transactional ID currently uses.
	State           string // State is Empty, Ongoing, PrepareCommit, ... (txnStates).
}

// ListTransactions returns the cluster's transactional IDs sorted by id.
// With states, only those in one of these states (case-insensitive; a name
// that is no transaction state is an error); with producerIDs, only those
// using one of these producer IDs. The filters are sent to the brokers
// (states need ListTransactions v1, Kafka 3.0+) and applied again here,
// for brokers that ignore them.
//
// With several brokers, one that fails leaves its transactions out: those
// of the others are returned together with an error saying the listing is
// incomplete.
func (a *Admin) ListTransactions(ctx context.Context, states []string, producerIDs []int64) ([]TxnSummary, error) {
	want := make([]string, len(states))
	for i, s := range states {
		c, ok := canonicalName(txnStates, s)
		if !ok {
			return nil, fmt.Errorf("list transactions: unknown transaction state %q: want one of %s", s, strings.Join(txnStates, ", "))
		}
		want[i] = c
	}
	for _, id := range producerIDs {
		if id < 0 {
			return nil, fmt.Errorf("list transactions: producer id %d: want a number from 0", id)
		}
	}
	listed, err := a.adm.ListTransactions(ctx, producerIDs, want)
	if err != nil && !partial(err) {
		return nil, fmt.Errorf("list transactions: %w", optionalErr("ListTransactions", err))
	}
	out := make([]TxnSummary, 0, len(listed))
	for _, l := range listed.Sorted() {
		if len(want) > 0 && !containsFold(want, l.State) || len(producerIDs) > 0 && !slices.Contains(producerIDs, l.ProducerID) {
			continue
		}
		out = append(out, TxnSummary{TransactionalID: l.TxnID, Coordinator: l.Coordinator, ProducerID: l.ProducerID, State: l.State})
	}
	if err != nil {
		return out, fmt.Errorf("list transactions: some brokers did not answer, the listing is incomplete: %w", err)
	}
	return out, nil
}

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// String renders the partition as Kafka's tools do: "topic-0".
func (tp TopicPartition) String() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

// TxnDescription is what the coordinator of a transactional ID says about
// it (DescribeTransactions).
type TxnDescription struct {
	CoordinatorID   int32  // CoordinatorID is the broker ID of the coordinator that answered.
	TransactionalID string // TransactionalID is the id described.
	ProducerID      int64  // ProducerID is the producer ID the id currently uses.
	ProducerEpoch   int16  // ProducerEpoch is that producer's current epoch.
	State           string // State is Empty, Ongoing, PrepareCommit, ... (txnStates).
	TimeoutMs       int32  // TimeoutMs is the transaction timeout the producer asked for.
	// StartMs is when the current transaction started, in Unix
	// milliseconds, or -1 if none is open.
	StartMs int64
	// Partitions are the partitions of the open transaction, sorted; while
	// it is being committed or aborted, only those still without a marker.
	Partitions []TopicPartition
}

// DescribeTransaction asks the coordinator of the transactional ID id about
// it. An id the coordinator does not know fails with a *TxnError ("no
// transactional id X") that matches kerr.TransactionalIDNotFound.
func (a *Admin) DescribeTransaction(ctx context.Context, id string) (TxnDescription, error) {
	if id == "" {
		return TxnDescription{}, errors.New("describe transaction: empty transactional id")
	}
	described, err := a.adm.DescribeTransactions(ctx, id)
	if err != nil {
		return TxnDescription{}, txnErr("describe", id, optionalErr("DescribeTransactions", err))
	}
	d, ok := described[id]
	if !ok {
		return TxnDescription{}, fmt.Errorf("describe transaction %s: the coordinator's response did not mention it", id)
	}
	if d.Err != nil {
		return TxnDescription{}, txnErr("describe", id, d.Err)
	}
	return describedTxn(d), nil
}

// describedTxn converts kadm's description.
func describedTxn(d kadm.DescribedTransaction) TxnDescription {
	out := TxnDescription{
		CoordinatorID:   d.Coordinator,
		TransactionalID: d.TxnID,
		ProducerID:      d.ProducerID,
		ProducerEpoch:   d.ProducerEpoch,
		State:           d.State,
		TimeoutMs:       d.TimeoutMillis,
		StartMs:         d.StartTimestamp,
	}
	if out.StartMs <= 0 {
		out.StartMs = -1 // brokers say "none" with -1; 0 is no real start either
	}
	for t, ps := range d.Topics {
		for p := range ps {
			out.Partitions = append(out.Partitions, TopicPartition{Topic: t, Partition: p})
		}
	}
	sort.Slice(out.Partitions, func(i, j int) bool {
		x, y := out.Partitions[i], out.Partitions[j]
		return x.Topic < y.Topic || x.Topic == y.Topic && x.Partition < y.Partition
	})
	return out
}

// ProducerState is what a partition's leader knows about one producer
// writing to it (DescribeProducers).
type ProducerState struct {
	Topic         string // Topic is the topic written to.
	Partition     int32  // Partition is the partition written to.
	ProducerID    int64  // ProducerID is the producer's ID.
	ProducerEpoch int16  // ProducerEpoch is the epoch of its last write.
	LastSequence  int32  // LastSequence is the sequence number of its last record, or -1.
	// LastTimestamp is when it last wrote, in Unix milliseconds, or -1.
	LastTimestamp int64
	// CoordinatorEpoch is the epoch of the transaction coordinator that
	// wrote its last marker on the partition, or -1 if none did.
	CoordinatorEpoch int32
	// TxnStartOffset is the offset of the first record of its open
	// transaction on the partition, or -1 if it has none open.
	TxnStartOffset int64
}

// PartitionProducers are the producers a partition's leader reports.
type PartitionProducers struct {
	Topic     string          // Topic is the topic.
	Partition int32           // Partition is the partition number.
	Leader    int32           // Leader is the broker that answered.
	Producers []ProducerState // Producers are sorted by producer ID.
	Err       error           // Err is why the partition could not be described.
}

// DescribeProducers asks the leaders of the topic's partitions (all, or
// only partition if it is not -1) which producers write to them. An unknown
// topic or partition is an error; a partition whose leader refused has its
// Err set, and the returned error says how many did.
func (a *Admin) DescribeProducers(ctx context.Context, topic string, partition int32) ([]PartitionProducers, error) {
	if topic == "" {
		return nil, errors.New("describe producers: empty topic name")
	}
	parts, err := a.topicPartitions(ctx, "describe producers of", topic, partition)
	if err != nil {
		return nil, err
	}
	set := kadm.TopicsSet{}
	set.Add(topic, parts...)
	out, err := a.describeProducers(ctx, set)
	if err != nil {
		return out, fmt.Errorf("describe producers of topic %s: %w", topic, err)
	}
	return out, nil
}

// describeProducers describes the producers of the partitions in set, and
// returns them sorted by topic and partition. Every partition asked for
// appears, with its Err set if it could not be described; the error
// counts those.
func (a *Admin) describeProducers(ctx context.Context, set kadm.TopicsSet) ([]PartitionProducers, error) {
	described, err := a.adm.DescribeProducers(ctx, set)
	if err != nil && !partial(err) {
		return nil, optionalErr("DescribeProducers", err)
	}
	var (
		out    []PartitionProducers
		failed int
	)
	for _, tp := range set.Sorted() {
		for _, p := range tp.Partitions {
			pp := PartitionProducers{Topic: tp.Topic, Partition: p, Leader: -1}
			d, ok := described[tp.Topic].Partitions[p]
			switch {
			case !ok:
				pp.Err = errors.New("its leader did not answer")
				if err != nil {
					pp.Err = fmt.Errorf("its leader did not answer: %w", firstShardErr(err))
				}
			case d.Err != nil:
				pp.Leader, pp.Err = d.Leader, d.Err
				if d.ErrMessage != "" && !standardText(d.Err, d.ErrMessage) {
					pp.Err = fmt.Errorf("%w: %s", d.Err, d.ErrMessage)
				}
			default:
				pp.Leader = d.Leader
				for _, s := range d.ActiveProducers.Sorted() {
					pp.Producers = append(pp.Producers, ProducerState{
						Topic: s.Topic, Partition: s.Partition,
						ProducerID: s.ProducerID, ProducerEpoch: s.ProducerEpoch,
						LastSequence: s.LastSequence, LastTimestamp: s.LastTimestamp,
						CoordinatorEpoch: s.CoordinatorEpoch, TxnStartOffset: s.CurrentTxnStartOffset,
					})
				}
			}
			if pp.Err != nil {
				failed++
			}
			out = append(out, pp)
		}
	}
	if failed > 0 {
		return out, fmt.Errorf("%d of %d partitions could not be described", failed, len(out))
	}
	return out, nil
}

// TxnError is a transaction operation that the cluster refused or that
// could not be completed. Its message names the transactional ID and, for
// the common Kafka error codes, says what went wrong in plain words; Unwrap
// returns the cause (usually a *kerr.Error) for errors.Is.
type TxnError struct {
	Op              string // Op is the verb of the failed operation: "describe".
	TransactionalID string // TransactionalID is the id operated on.
	Err             error  // Err is the cause.
}

// Error renders the error for a person.
func (e *TxnError) Error() string {
	switch {
	case errors.Is(e.Err, kerr.TransactionalIDNotFound):
		return fmt.Sprintf("no transactional id %s", e.TransactionalID)
	case errors.Is(e.Err, kerr.TransactionalIDAuthorizationFailed):
		return fmt.Sprintf("%s transaction %s: not authorized (it needs DESCRIBE on the transactional id)", e.Op, e.TransactionalID)
	case errors.Is(e.Err, kerr.CoordinatorNotAvailable), errors.Is(e.Err, kerr.NotCoordinator),
		errors.Is(e.Err, kerr.CoordinatorLoadInProgress):
		return fmt.Sprintf("%s transaction %s: its coordinator is not available (%s); retry shortly", e.Op, e.TransactionalID, codeName(e.Err))
	default:
		return fmt.Sprintf("%s transaction %s: %v", e.Op, e.TransactionalID, e.Err)
	}
}

// Unwrap returns the cause.
func (e *TxnError) Unwrap() error { return e.Err }

// txnErr returns a *TxnError for op on the transactional ID id.
func txnErr(op, id string, err error) error {
	return &TxnError{Op: op, TransactionalID: id, Err: err}
}
