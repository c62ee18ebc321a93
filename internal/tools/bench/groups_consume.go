package bench

// groups_consume.go is one consumer of the group throughput benchmark: a
// share-group member that accepts each record and waits for the broker's
// confirmation, or a classic group member that commits each poll.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// shareAnswers collects the partitions whose acknowledgements the broker
// refused since the last reset. Each poll's acknowledgements are flushed
// (every answer in) before the next poll, so the answers between two
// resets are those of one poll's records.
type shareAnswers struct {
	mu     sync.Mutex
	failed map[int32]bool
}

func (a *shareAnswers) note(_ *kgo.Client, rs kgo.ShareAckResults) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range rs {
		if r.Err != nil {
			a.failed[r.Partition] = true
		}
	}
}

// reset returns the partitions refused since the last reset and clears them.
func (a *shareAnswers) reset() map[int32]bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.failed
	a.failed = map[int32]bool{}
	return f
}

// consumeGroup runs one consumer of proto in group until ctx ends or tr
// has every record, and returns the records it acknowledged.
func consumeGroup(ctx context.Context, clientOpts []kgo.Opt, proto, group, topic string, tr *ackTracker) (int, error) {
	answers := &shareAnswers{failed: map[int32]bool{}}
	opts := []kgo.Opt{kgo.ConsumeTopics(topic), kgo.FetchMaxWait(500 * time.Millisecond)}
	if proto == ProtocolShare {
		opts = append(opts, kgo.ShareGroup(group), kgo.ShareMaxRecords(groupsPoll), kgo.ShareAckCallback(answers.note))
	} else {
		opts = append(opts, kgo.ConsumerGroup(group), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	}
	cl, err := kgo.NewClient(append(clientOpts[:len(clientOpts):len(clientOpts)], opts...)...)
	if err != nil {
		return 0, fmt.Errorf("%s consumer: %w", proto, err)
	}
	defer cl.Close()
	acked := 0
	for {
		select {
		case <-tr.done:
			return acked, nil
		default:
		}
		fs := cl.PollRecords(ctx, groupsPoll)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return acked, nil
		}
		recs := fs.Records()
		if len(recs) == 0 {
			continue
		}
		tr.received(len(recs))
		if proto == ProtocolShare {
			answers.reset()
			for _, r := range recs {
				r.Ack(kgo.AckAccept)
			}
			if err := cl.FlushAcks(ctx); err != nil {
				continue
			}
			// A refused acknowledgement is not counted: its record
			// comes back, to this consumer or another.
			if failed := answers.reset(); len(failed) > 0 {
				recs = slices.DeleteFunc(recs, func(r *kgo.Record) bool { return failed[r.Partition] })
			}
		} else if err := cl.CommitRecords(ctx, recs...); err != nil {
			continue // a rebalance: the partition's new owner reads them again
		}
		tr.ack(recs)
		acked += len(recs)
	}
}
