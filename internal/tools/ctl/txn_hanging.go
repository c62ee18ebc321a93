package ctl

// txn_hanging.go finds hanging transactions, as kafka-transactions.sh
// find-hanging does: transactions a partition's leader still holds open but
// that their coordinator will never finish, so that the partition's last
// stable offset, and every read_committed consumer of it, is stuck until
// someone aborts them (txn_abort.go).
//
// The search: the leaders report the producers with an open transaction
// (DescribeProducers); those that last wrote longer ago than the longest
// transaction timeout allowed are candidates (a transaction that old
// should have been ended by its coordinator). Each candidate's producer ID
// is looked up among the coordinators' transactional IDs
// (ListTransactions), and those are described (DescribeTransactions). The
// decision, pure and tested on its own, is hanging.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// DefaultMaxTxnTimeout is find-hanging's default bound on transaction
// timeouts: Kafka's default transaction.max.timeout.ms, the longest
// timeout a producer may ask for.
const DefaultMaxTxnTimeout = 15 * time.Minute

// describeProducersBatch caps the partitions of one DescribeProducers
// request, so that a search of a large cluster does not send one giant
// request (Kafka's tool uses the same bound).
const describeProducersBatch = 500

// HangingSpec says where FindHanging looks.
type HangingSpec struct {
	Topic     string // Topic limits the search to one topic; "" searches every topic but the internal ones.
	Partition int32  // Partition limits it to one partition of Topic; -1 searches all.
	// MaxTimeout is the longest transaction timeout producers use
	// (default DefaultMaxTxnTimeout): open transactions whose producer
	// wrote more recently are not candidates.
	MaxTimeout time.Duration
	Now        time.Time // Now is the time the search compares with; zero means time.Now().
}

// FindHanging returns the hanging transactions spec's partitions hold,
// sorted by topic, partition and producer ID: none is a nil slice and no
// error. Partitions that could not be searched are named in the error,
// returned with what the others held.
func (a *Admin) FindHanging(ctx context.Context, spec HangingSpec) ([]ProducerState, error) {
	switch {
	case spec.Partition >= 0 && spec.Topic == "":
		return nil, errors.New("find hanging transactions: --partition needs --topic")
	case spec.MaxTimeout < 0:
		return nil, fmt.Errorf("find hanging transactions: max transaction timeout %s < 0", spec.MaxTimeout)
	}
	if spec.MaxTimeout == 0 {
		spec.MaxTimeout = DefaultMaxTxnTimeout
	}
	if spec.Now.IsZero() {
		spec.Now = time.Now()
	}
	sets, err := a.hangingSearchSets(ctx, spec)
	if err != nil {
		return nil, err
	}
	var (
		pps      []PartitionProducers
		unsearch []string
	)
	for _, set := range sets {
		got, err := a.describeProducers(ctx, set)
		if got == nil && err != nil {
			return nil, fmt.Errorf("find hanging transactions: %w", err)
		}
		for _, pp := range got {
			if pp.Err != nil {
				unsearch = append(unsearch, fmt.Sprintf("%s: %v", TopicPartition{pp.Topic, pp.Partition}, pp.Err))
			}
		}
		pps = append(pps, got...)
	}
	var searchErr error
	if len(unsearch) > 0 {
		searchErr = fmt.Errorf("find hanging transactions: %d partitions could not be searched: %s", len(unsearch), strings.Join(unsearch, "; "))
	}
	cands := staleOpenTxns(pps, spec.Now, spec.MaxTimeout)
	if len(cands) == 0 {
		return nil, searchErr
	}
	owners, txns, err := a.candidateTxns(ctx, cands)
	if err != nil {
		return nil, errors.Join(err, searchErr)
	}
	return hanging(cands, owners, txns), searchErr
}

// hangingSearchSets returns the partitions to search, in batches of at
// most describeProducersBatch.
func (a *Admin) hangingSearchSets(ctx context.Context, spec HangingSpec) ([]kadm.TopicsSet, error) {
	var all []TopicPartition
	if spec.Topic != "" {
		parts, err := a.topicPartitions(ctx, "find hanging transactions in", spec.Topic, spec.Partition)
		if err != nil {
			return nil, err
		}
		for _, p := range parts {
			all = append(all, TopicPartition{spec.Topic, p})
		}
	} else {
		tds, err := a.adm.ListTopics(ctx)
		if err != nil {
			return nil, fmt.Errorf("find hanging transactions: list topics: %w", err)
		}
		for _, td := range tds.Sorted() {
			if td.Err != nil {
				return nil, fmt.Errorf("find hanging transactions: %w", topicErr("list", td.Topic, td.Err, ""))
			}
			for _, p := range td.Partitions.Sorted() {
				all = append(all, TopicPartition{td.Topic, p.Partition})
			}
		}
	}
	var sets []kadm.TopicsSet
	for batch := range slices.Chunk(all, describeProducersBatch) {
		set := kadm.TopicsSet{}
		for _, tp := range batch {
			set.Add(tp.Topic, tp.Partition)
		}
		sets = append(sets, set)
	}
	return sets, nil
}

// staleOpenTxns returns the candidates for hanging among the producers the
// leaders described: those with an open transaction (a start offset) that
// last wrote more than maxTimeout before now.
func staleOpenTxns(pps []PartitionProducers, now time.Time, maxTimeout time.Duration) []ProducerState {
	var out []ProducerState
	for _, pp := range pps {
		for _, p := range pp.Producers {
			if p.TxnStartOffset >= 0 && now.Sub(time.UnixMilli(p.LastTimestamp)) > maxTimeout {
				out = append(out, p)
			}
		}
	}
	return out
}

// candidateTxns looks up, for the candidates' producer IDs, the
// transactional IDs that use them (owners) and what their coordinators say
// about those (txns; an id its coordinator does not know is left out). Any
// failure fails the search: a transactional ID missing from an incomplete
// answer would make its healthy transaction look hanging.
func (a *Admin) candidateTxns(ctx context.Context, cands []ProducerState) (map[int64]string, map[string]TxnDescription, error) {
	pids := make([]int64, 0, len(cands))
	for _, c := range cands {
		if !slices.Contains(pids, c.ProducerID) {
			pids = append(pids, c.ProducerID)
		}
	}
	listed, err := a.adm.ListTransactions(ctx, pids, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("find hanging transactions: list the transactions of %d producer ids: %w", len(pids), optionalErr("ListTransactions", err))
	}
	owners := make(map[int64]string)
	for _, l := range listed {
		if slices.Contains(pids, l.ProducerID) { // a broker may ignore the filter
			owners[l.ProducerID] = l.TxnID
		}
	}
	txns := make(map[string]TxnDescription)
	if len(owners) == 0 {
		return owners, txns, nil
	}
	ids := slices.Sorted(maps.Values(owners))
	described, err := a.adm.DescribeTransactions(ctx, ids...)
	if err != nil {
		return nil, nil, fmt.Errorf("find hanging transactions: describe %d transactions: %w", len(ids), optionalErr("DescribeTransactions", err))
	}
	for _, id := range ids {
		d, ok := described[id]
		switch {
		case !ok:
			return nil, nil, fmt.Errorf("find hanging transactions: describe transaction %s: the coordinator's response did not mention it", id)
		case errors.Is(d.Err, kerr.TransactionalIDNotFound):
			// Gone since it was listed: its transaction will not be finished.
		case d.Err != nil:
			return nil, nil, fmt.Errorf("find hanging transactions: %w", txnErr("describe", id, d.Err))
		default:
			txns[id] = describedTxn(d)
		}
	}
	return owners, txns, nil
}

// hanging decides which candidates hang, given the transactional ID that
// uses each candidate's producer ID (owners) and the coordinators'
// descriptions of those (txns). A candidate hangs, because its coordinator
// will never write the marker that closes it, if
//   - no transactional ID uses its producer ID, or its coordinator does
//     not know that ID (any more), or the ID moved to another producer ID;
//   - the transactional ID has no transaction in progress: its state is
//     none of Ongoing, PrepareCommit, PrepareAbort and PrepareEpochFence;
//   - the coordinator's epoch for the producer differs from the one of
//     the open transaction, but for one case: an abort the coordinator
//     itself started (on timeout, or fencing an old producer) bumps the
//     epoch by one and writes its markers with it, so a PrepareAbort or
//     PrepareEpochFence one epoch ahead is still finishing the
//     transaction;
//   - the partition is not among the transaction's partitions (those
//     still waiting for a marker), so no marker will be written to it.
//
// The result is sorted by topic, partition and producer ID.
func hanging(cands []ProducerState, owners map[int64]string, txns map[string]TxnDescription) []ProducerState {
	var out []ProducerState
	for _, c := range cands {
		if txnHangs(c, owners, txns) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(x, y ProducerState) int {
		return cmp.Or(strings.Compare(x.Topic, y.Topic), cmp.Compare(x.Partition, y.Partition), cmp.Compare(x.ProducerID, y.ProducerID))
	})
	return out
}

// txnHangs is hanging's rule for one candidate.
func txnHangs(c ProducerState, owners map[int64]string, txns map[string]TxnDescription) bool {
	id, ok := owners[c.ProducerID]
	if !ok {
		return true
	}
	d, ok := txns[id]
	if !ok || d.ProducerID != c.ProducerID {
		return true
	}
	aborting := d.State == "PrepareAbort" || d.State == "PrepareEpochFence"
	switch {
	case d.State != "Ongoing" && d.State != "PrepareCommit" && !aborting:
		return true
	case d.ProducerEpoch != c.ProducerEpoch && !(aborting && int(d.ProducerEpoch) == int(c.ProducerEpoch)+1):
		return true
	}
	return !slices.Contains(d.Partitions, TopicPartition{c.Topic, c.Partition})
}
