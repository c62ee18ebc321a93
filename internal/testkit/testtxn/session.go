package testtxn

// session.go is the franz-go side of the workload: GroupTransactSessions
// (franz-go's consume-transform-produce helper, KIP-447) transforming the
// input until the group has committed all of it, robust to a broker that
// is killed and restarted under them.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Sessions are running transformers; Wait stops them.
type Sessions struct {
	w      Workload
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// Commits and Aborts count the transactions that ended each way;
	// Errors the failures the loops carried on after (expected while a
	// broker is down).
	Commits, Aborts, Errors atomic.Int64
	lastErr                 atomic.Pointer[error]
}

// StartSessions starts n GroupTransactSessions with transactional ids
// PREFIX-0..n-1 in w's group. Each aborts its first transaction on purpose
// after writing AbortedPrefix copies of what it polled; later
// transactions write Transform of each input and commit. opts are added to
// each session's client (timeouts, say).
func StartSessions(t testing.TB, w Workload, prefix string, n int, opts ...kgo.Opt) *Sessions {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sessions{w: w, cancel: cancel}
	for i := range n {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.run(ctx, fmt.Sprintf("%s-%d", prefix, i), opts)
		}()
	}
	return s
}

// fail records an error the loop goes on after.
func (s *Sessions) fail(err error) {
	s.Errors.Add(1)
	s.lastErr.Store(&err)
}

// LastError is the latest error a loop carried on after, or nil.
func (s *Sessions) LastError() error {
	if p := s.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// run is one transformer: a session, rebuilt if it cannot go on.
func (s *Sessions) run(ctx context.Context, id string, opts []kgo.Opt) {
	aborted := false
	for ctx.Err() == nil {
		sess, err := kgo.NewGroupTransactSession(append([]kgo.Opt{
			kgo.SeedBrokers(s.w.Addr),
			kgo.TransactionalID(id),
			kgo.FetchIsolationLevel(kgo.ReadCommitted()),
			kgo.ConsumerGroup(s.w.Group),
			kgo.ConsumeTopics(s.w.In),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.RecordPartitioner(kgo.ManualPartitioner()),
		}, opts...)...)
		if err != nil {
			s.fail(err)
			return
		}
		s.loop(ctx, sess, &aborted)
		sess.Close()
	}
}

// loop runs transactions on sess until ctx ends or sess fails for good.
func (s *Sessions) loop(ctx context.Context, sess *kgo.GroupTransactSession, aborted *bool) {
	for ctx.Err() == nil {
		fs := sess.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		fs.EachError(func(_ string, _ int32, err error) { s.fail(err) })
		if fs.NumRecords() == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			s.fail(err)
			return // rebuild the session
		}
		doom := !*aborted
		var produceErr atomic.Pointer[error]
		fs.EachRecord(func(r *kgo.Record) {
			v := Transform(string(r.Value))
			if doom {
				v = AbortedPrefix + v
			}
			sess.Produce(ctx, &kgo.Record{Topic: s.w.Out, Partition: r.Partition, Key: r.Key, Value: []byte(v)}, func(_ *kgo.Record, err error) {
				if err != nil {
					produceErr.Store(&err)
				}
			})
		})
		how := kgo.TryCommit
		if doom {
			// Ending with an abort drops what is still buffered in the
			// client: flush first, so that the aborted records really
			// reach the partitions and readers must skip them.
			how = kgo.TryAbort
			if err := sess.Client().Flush(ctx); err != nil {
				s.fail(err)
			}
		}
		endCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		committed, err := sess.End(endCtx, how)
		cancel()
		switch {
		case err != nil:
			s.fail(err)
			if errors.Is(err, kgo.ErrClientClosed) {
				return
			}
		case doom:
			*aborted = true
			s.Aborts.Add(1)
		case committed:
			s.Commits.Add(1)
			if s.w.Pause > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(s.w.Pause):
				}
			}
		default:
			s.Aborts.Add(1)
			if p := produceErr.Load(); p != nil {
				s.fail(*p)
			}
		}
	}
}

// Wait waits until the group has committed the whole input (or timeout
// passes: an error), then stops the sessions; their open transactions
// are aborted as they close.
func (s *Sessions) Wait(t testing.TB, timeout time.Duration) error {
	t.Helper()
	defer func() {
		s.cancel()
		s.wg.Wait()
	}()
	adm := kadm.NewClient(testclient.New(t, s.w.Addr))
	deadline := time.Now().Add(timeout)
	for {
		if done, err := inputCommitted(adm, s.w); done {
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("the group did not commit the whole input within %v (%d commits, %d aborts, %d errors; last %v; %v)",
				timeout, s.Commits.Load(), s.Aborts.Load(), s.Errors.Load(), s.LastError(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// inputCommitted reports whether w's group committed the end of every
// input partition.
func inputCommitted(adm *kadm.Client, w Workload) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, w.In)
	if err != nil {
		return false, err
	}
	offs, err := adm.FetchOffsets(ctx, w.Group)
	if err != nil {
		return false, err
	}
	done := true
	ends.Each(func(e kadm.ListedOffset) {
		if o, ok := offs.Lookup(w.In, e.Partition); !ok || o.At < e.Offset {
			done = false
		}
	})
	return done, nil
}
