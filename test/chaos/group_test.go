package chaos

// group_test.go runs the consumer group: members that poll the main
// topics and commit what they read after every poll, recording each
// acknowledged commit in the ledger.
//
// Rebalances are held off while a member works on a poll
// (BlockRebalanceOnPoll) and every commit is synchronous, so a partition's
// commits are acknowledged in the order the broker applied them, whichever
// member made them: the last acknowledged commit is the one the broker
// must still hold. A member that is given a partition starts where the
// group's commit says; starting below the last acknowledged commit would
// show a rolled-back commit at once, and is reported.

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// group is the consumer group's name.
const group = "chaos-group"

// member is one group member and its loop.
type member struct {
	t    *testing.T
	name string
	cl   *kgo.Client
	led  *ledger

	mu    sync.Mutex
	fresh map[topicPartition]bool // assigned, no record polled since

	consumed atomic.Int64
	cancel   context.CancelFunc
	done     chan struct{}
}

// startMember joins the group on topics and starts polling and committing.
func startMember(t *testing.T, addr, name string, topics []string, led *ledger) (*member, error) {
	m := &member{t: t, name: name, led: led, fresh: make(map[topicPartition]bool), done: make(chan struct{})}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.ClientID(name),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(m.assigned),
		kgo.SessionTimeout(10*time.Second),
		kgo.RebalanceTimeout(10*time.Second),
		kgo.HeartbeatInterval(500*time.Millisecond),
		kgo.FetchMaxWait(200*time.Millisecond),
		kgo.RetryBackoffFn(func(int) time.Duration { return 100 * time.Millisecond }),
		kgo.MetadataMinAge(100*time.Millisecond),
	)
	if err != nil {
		return nil, fmt.Errorf("member %s: %w", name, err)
	}
	m.cl = cl
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go m.run(ctx)
	return m, nil
}

// assigned marks newly assigned partitions: their first record shows
// where the group's commit made the member start.
func (m *member) assigned(_ context.Context, _ *kgo.Client, added map[string][]int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for topic, ps := range added {
		for _, p := range ps {
			m.fresh[topicPartition{topic, p}] = true
		}
	}
}

// run polls, checks and commits until ctx ends. Errors of polls and
// commits are retried by polling again: they are the faults at work.
func (m *member) run(ctx context.Context) {
	defer close(m.done)
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := m.cl.PollRecords(pctx, 2000)
		cancel()
		rs := fs.Records()
		for _, r := range rs {
			m.check(r)
		}
		m.consumed.Add(int64(len(rs)))
		if len(rs) > 0 {
			m.commit(ctx, rs)
		}
		m.cl.AllowRebalance()
	}
}

// check reports a record that is not one the producers made for its topic,
// and a partition that starts below its last acknowledged commit.
func (m *member) check(r *kgo.Record) {
	if topic, _, ok := parseValue(r.Value); !ok || topic != r.Topic {
		m.t.Errorf("member %s read %s[%d]@%d = %q: not a record produced to that topic", m.name, r.Topic, r.Partition, r.Offset, r.Value)
	}
	tp := topicPartition{r.Topic, r.Partition}
	m.mu.Lock()
	fresh := m.fresh[tp]
	delete(m.fresh, tp)
	m.mu.Unlock()
	if !fresh {
		return
	}
	if last, ok := m.led.lastCommit(group, tp); ok && r.Offset < last {
		m.t.Errorf("member %s was given %s and started at offset %d, below the last acknowledged commit %d (a commit was rolled back)", m.name, tp, r.Offset, last)
	}
}

// commit commits, per partition, the offset after the last record polled,
// and records what the broker acknowledged.
func (m *member) commit(ctx context.Context, rs []*kgo.Record) {
	offsets := make(map[string]map[int32]kgo.EpochOffset)
	for _, r := range rs {
		if offsets[r.Topic] == nil {
			offsets[r.Topic] = make(map[int32]kgo.EpochOffset)
		}
		offsets[r.Topic][r.Partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	m.cl.CommitOffsetsSync(cctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil || resp == nil {
			return
		}
		acked := 0
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if kerr.ErrorForCode(p.ErrorCode) != nil {
					continue
				}
				if eo, ok := offsets[t.Topic][p.Partition]; ok {
					m.led.committed(group, topicPartition{t.Topic, p.Partition}, eo.Offset)
					acked++
				}
			}
		}
		if acked > 0 {
			m.led.commitDone()
		}
	})
}

// stop ends the loop and closes the client (leaving the group), bounded by
// timeout.
func (m *member) stop(timeout time.Duration) error {
	m.cancel()
	closed := make(chan struct{})
	go func() {
		<-m.done
		m.cl.Close()
		close(closed)
	}()
	select {
	case <-closed:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("member %s did not stop within %v", m.name, timeout)
	}
}
