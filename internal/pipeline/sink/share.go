package sink

// share.go is the sink's share-group mode (Config.ShareGroup, KIP-932):
// the sinks share the topic's partitions record by record instead of
// splitting them, so more sinks than partitions all write. A record is
// acknowledged only after the database transaction that wrote it
// committed: ACCEPT once written, REJECT if it is not a valid update (the
// broker archives it), RELEASE if the sink stops before the write
// succeeded (another sink gets it at once). A record written whose
// acknowledgement is lost (the sink dies between the database commit and
// the acknowledgement, or its acquisition lock lapsed during a slow write)
// is delivered again and recognised by its (topic, partition, offset) key
// with the same leader epoch: the database still holds it once.
//
// franz-go auto-accepts, at the next poll, every record of the previous
// poll left unacknowledged; so in this mode a batch is what one poll
// returns (at most BatchRows; BatchDelay does not apply) and it is written
// and acknowledged before the next poll.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/courier-dev/courier/internal/tools/reach"
	"github.com/twmb/franz-go/pkg/kgo"
)

// configRetryMax bounds the backoff between attempts to set the share
// group's start offset while the cluster cannot be reached.
const configRetryMax = 5 * time.Second

// shareClient builds the share-group consumer.
func (s *Sink) shareClient() (*kgo.Client, error) {
	opts := []kgo.Opt{
		kgo.ShareGroup(s.cfg.ShareGroup),
		kgo.ConsumeTopics(s.cfg.Topic),
		kgo.ShareMaxRecords(int32(min(s.cfg.BatchRows, 1<<30))),
		kgo.ShareAckCallback(s.onAcks),
		kgo.FetchMaxWait(time.Second),
		kgo.WithHooks(reach.NewMonitor(s.cfg.UnreachableLogEvery, 0, s.reachEvent)),
	}
	cl, err := kgo.NewClient(append(opts, s.cfg.ClientOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("sink: kafka client: %w", err)
	}
	return cl, nil
}

// runShare is Run in share-group mode.
func (s *Sink) runShare(ctx context.Context) error {
	// Before the consuming client exists: its first fetch of a partition
	// fixes where the group starts on it.
	if err := s.startEarliest(ctx); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil // stopped before the cluster could be reached
	}
	cl, err := s.shareClient()
	if err != nil {
		return err
	}
	defer func() {
		// Send what was acknowledged now; Close releases anything
		// fetched and not acknowledged, for another sink.
		fctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
		if err := cl.FlushAcks(fctx); err != nil {
			s.log.Warn("acknowledgements not sent before leaving the share group; the records will be delivered again", "err", err)
		}
		cancel()
		cl.Close()
	}()
	wctx, stopW := afterStop(ctx, shutdownFlush)
	defer stopW()
	s.log.Info("sink started in share group", "batch_rows", s.cfg.BatchRows)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := cl.PollRecords(pctx, s.cfg.BatchRows)
		cancel()
		if fs.IsClientClosed() {
			return errors.New("sink: kafka client closed")
		}
		fs.EachError(s.fetchError)
		// Records polled as the stop came are still written (under
		// wctx) or released.
		if batch := fs.Records(); len(batch) > 0 {
			s.flushShare(wctx, batch)
		}
		if ctx.Err() != nil {
			s.log.Info("sink stopped")
			return nil
		}
	}
}

// startEarliest sets the share group to start at the earliest offset of
// partitions it has not read yet, as a classic sink group starts, through
// a client of its own, retrying while the cluster cannot be reached or
// refuses. It returns nil once set or when ctx ends.
func (s *Sink) startEarliest(ctx context.Context) error {
	cl, err := kgo.NewClient(s.cfg.ClientOpts...)
	if err != nil {
		return fmt.Errorf("sink: kafka client: %w", err)
	}
	defer cl.Close()
	backoff := retryMin
	for {
		err := ctl.ShareStartEarliest(ctx, cl, s.cfg.ShareGroup)
		if err == nil || ctx.Err() != nil {
			return nil
		}
		s.log.Warn("cannot set the share group's share.auto.offset.reset to earliest; retrying", "retry_in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, configRetryMax)
	}
}

// flushShare writes one poll's records and then acknowledges each: ACCEPT
// if written, REJECT if invalid; or, if ctx ends before the write
// succeeded, RELEASE them all.
func (s *Sink) flushShare(ctx context.Context, batch []*kgo.Record) {
	d := s.decode(batch, func(int32) bool { return true })
	res, ok := s.write(ctx, d.updates)
	if !ok {
		for _, r := range batch {
			r.Ack(kgo.AckRelease)
		}
		s.log.Warn("batch released to the share group unwritten: stopping", "records", len(batch))
		return
	}
	committed := time.Now()
	for i, r := range batch {
		if d.isInvalid[i] {
			r.Ack(kgo.AckReject)
		} else {
			r.Ack(kgo.AckAccept)
		}
	}
	s.sawPartitions(batch, committed)
	s.account(batch, d, res, committed)
}

// onAcks counts and logs the acknowledgements the broker refused: their
// records come back (to this sink or another) and are written again
// harmlessly, counted as duplicates.
func (s *Sink) onAcks(_ *kgo.Client, rs kgo.ShareAckResults) {
	for _, r := range rs {
		if r.Err == nil || errors.Is(r.Err, kgo.ErrClientClosed) || errors.Is(r.Err, context.Canceled) {
			continue
		}
		s.ackErrors.Add(1)
		s.log.Warn("share group acknowledgement refused; its records will be delivered again", "topic", r.Topic, "partition", r.Partition, "err", r.Err)
	}
}

// sawPartitions notes the partitions of a written batch: a share group
// member is not told its assignment through franz-go's callbacks, so
// Stats.Partitions lists those it wrote records of lately.
func (s *Sink) sawPartitions(batch []*kgo.Record, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range batch {
		s.seen[r.Partition] = at
	}
}

// recentPartitions returns the partitions written within delayWindowLen
// of now, in order.
func (s *Sink) recentPartitions(now time.Time) []int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ps []int32
	for p, at := range s.seen {
		if now.Sub(at) <= delayWindowLen {
			ps = append(ps, p)
		}
	}
	slices.Sort(ps)
	return ps
}
