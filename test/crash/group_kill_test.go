package crash

// group_kill_test.go SIGKILLs the broker under a consumer group member that
// commits offsets, and checks that the group's committed offsets survive
// exactly: an acknowledged commit is on disk (the offsets log is fsynced
// before the answer, whatever --fsync says for records), and a new member
// resumes from it.
//
// Rounds alternate between two kills:
//   - right after a commit was acknowledged, with nothing in flight: the
//     offsets after the restart must be exactly the last acknowledged ones;
//   - at a random moment while the member commits one record after another:
//     each partition's offset must be at least the last acknowledged one
//     and at most the last one sent.
//
// The broker runs with --fsync interval, so only the offsets log's own
// fsync stands behind the commits.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	// commitRounds is how many times the broker is killed.
	commitRounds = 6
	// commitPartitions and commitRecords shape the consumed topic.
	commitPartitions = 3
	commitRecords    = 150 // per partition
	commitGroup      = "crash-commits"
)

// commitState is what one member committed: per partition, the last
// offset the broker acknowledged and the last one sent.
type commitState struct {
	mu        sync.Mutex
	acked     map[int32]int64
	attempted map[int32]int64
	n         int // acknowledged commits this round
}

func TestKillBetweenCommits(t *testing.T) {
	seed := crashSeed(t)
	t.Logf("seed %d (set COURIER_CRASH_SEED to replay the kill timings)", seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))

	b := brokerproc.StartT(t, courierBin, t.TempDir(), brokerproc.Fsync("interval"),
		brokerproc.Args("--group-initial-rebalance-delay=100ms"))
	const topic = "committed"
	testclient.CreateTopic(t, b.Addr(), topic, commitPartitions, nil)
	produceForCommits(t, b.Addr(), topic)

	// committed is the group's offsets as the test knows them: what the
	// broker must hold, and where the next member must start.
	committed := map[int32]int64{}
	for round := range commitRounds + 1 {
		last := round == commitRounds
		inFlight := round%2 == 1
		m := startCommitMember(t, b.Addr(), topic)
		st := &commitState{acked: map[int32]int64{}, attempted: map[int32]int64{}}
		for p, o := range committed {
			st.acked[p], st.attempted[p] = o, o
		}
		target := 5 + rng.IntN(20) // acknowledged commits before the kill
		switch {
		case last:
			// Read and commit everything left: every partition resumes.
			target = 0
			for p := range int32(commitPartitions) {
				target += commitRecords - int(committed[p])
			}
		case inFlight:
			target = commitPartitions * commitRecords // more than can happen before the kill
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		loopDone := make(chan error, 1)
		go func() {
			loopDone <- consumeAndCommit(ctx, m, topic, committed, st, target, func() {
				if !inFlight && !last {
					// Nothing is in flight: this loop sends commits one
					// at a time and the last one was just acknowledged.
					if err := b.Kill(); err != nil {
						t.Error(err)
					}
				}
			})
		}()
		var err error
		if inFlight && !last {
			// Kill at a random moment once commits are flowing.
			tick := time.NewTicker(5 * time.Millisecond)
			for st.count() < 3 && err == nil {
				select {
				case err = <-loopDone:
					if err == nil {
						err = errors.New("the commit loop ended before the kill")
					}
				case <-tick.C:
				}
			}
			tick.Stop()
			if err != nil {
				cancel()
				t.Fatalf("round %d: %v", round, err)
			}
			time.Sleep(time.Duration(rng.IntN(60)) * time.Millisecond)
			if err := b.Kill(); err != nil {
				t.Fatal(err)
			}
			cancel()
			<-loopDone // an error: its broker is gone or its context canceled
		} else if err = <-loopDone; err != nil {
			cancel()
			t.Fatalf("round %d: %v", round, err)
		}
		cancel()
		if last {
			closeBounded(t, m)
			got := fetchCommitted(t, b.Addr(), topic)
			for p := range int32(commitPartitions) {
				if got[p] != commitRecords {
					t.Fatalf("after the last member read everything: partition %d committed %d, want %d", p, got[p], commitRecords)
				}
			}
			break
		}
		if err := b.Restart(); err != nil {
			t.Fatal(err)
		}
		got := fetchCommitted(t, b.Addr(), topic)
		st.mu.Lock()
		for p := int32(0); p < commitPartitions; p++ {
			g, have := got[p]
			a, acked := st.acked[p]
			switch {
			case !inFlight && (have != acked || g != a):
				t.Fatalf("round %d (killed after an acknowledged commit): partition %d committed %d (present %v) after the restart, want exactly %d (present %v)", round, p, g, have, a, acked)
			case inFlight && have && (g < a || g > st.attempted[p]):
				t.Fatalf("round %d (killed during commits): partition %d committed %d after the restart; acknowledged %d, last sent %d", round, p, g, a, st.attempted[p])
			case inFlight && !have && acked:
				t.Fatalf("round %d (killed during commits): partition %d has no committed offset after the restart; %d was acknowledged", round, p, a)
			}
		}
		t.Logf("round %d: killed after %d acknowledged commits (in flight: %v); committed after restart %v", round, st.n, inFlight, got)
		st.mu.Unlock()
		committed = got
		// The killed member's client reconnects to the restarted broker,
		// which restored it as a member; closing it leaves the group.
		closeBounded(t, m)
	}
}

// produceForCommits writes commitRecords records to each partition.
func produceForCommits(t *testing.T, addr, topic string) {
	t.Helper()
	cl := testclient.New(t, addr, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	defer cl.Close()
	var rs []*kgo.Record
	for n := range commitPartitions * commitRecords {
		rs = append(rs, &kgo.Record{Partition: int32(n % commitPartitions), Value: []byte(value(n))})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// startCommitMember joins the group without auto-commit: the test commits.
func startCommitMember(t *testing.T, addr, topic string) *kgo.Client {
	t.Helper()
	return testclient.New(t, addr,
		kgo.ConsumerGroup(commitGroup),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.SessionTimeout(6*time.Second),
		kgo.RebalanceTimeout(6*time.Second),
		kgo.HeartbeatInterval(200*time.Millisecond),
		kgo.FetchMaxWait(100*time.Millisecond),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }),
		kgo.MetadataMinAge(100*time.Millisecond),
	)
}

func (st *commitState) count() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.n
}

// consumeAndCommit polls records and commits each one (its offset + 1)
// before the next, until target commits were acknowledged (then it calls
// afterLast and returns) or ctx ends. The first record of each partition
// must be at the offset committed before (0 if none): the member resumes
// exactly where the group left off.
func consumeAndCommit(ctx context.Context, cl *kgo.Client, topic string, resume map[int32]int64, st *commitState, target int, afterLast func()) error {
	started := map[int32]bool{}
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) { ferr = fmt.Errorf("fetch %s-%d: %w", t, p, err) })
		if ferr != nil {
			return ferr
		}
		for _, r := range fs.Records() {
			if !started[r.Partition] {
				started[r.Partition] = true
				if want := resume[r.Partition]; r.Offset != want {
					return fmt.Errorf("the member started partition %d at offset %d; the group had committed %d", r.Partition, r.Offset, want)
				}
			}
			if string(r.Value) != value(int(r.Offset)*commitPartitions+int(r.Partition)) {
				return fmt.Errorf("%d@%d holds %q", r.Partition, r.Offset, r.Value)
			}
			next := r.Offset + 1
			st.mu.Lock()
			st.attempted[r.Partition] = next
			st.mu.Unlock()
			var cerr error
			cl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{topic: {r.Partition: {Epoch: -1, Offset: next}}},
				func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
					cerr = err
					if resp == nil {
						return
					}
					for _, t := range resp.Topics {
						for _, p := range t.Partitions {
							if err := kerr.ErrorForCode(p.ErrorCode); err != nil && cerr == nil {
								cerr = err
							}
						}
					}
				})
			if cerr != nil {
				return fmt.Errorf("commit %d@%d: %w", r.Partition, next, cerr)
			}
			st.mu.Lock()
			st.acked[r.Partition] = next
			st.n++
			done := st.n >= target
			st.mu.Unlock()
			if done {
				afterLast()
				return nil
			}
		}
	}
}

// fetchCommitted returns the group's committed offsets of topic.
func fetchCommitted(t *testing.T, addr, topic string) map[int32]int64 {
	t.Helper()
	cl := testclient.New(t, addr)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := kadm.NewClient(cl).FetchOffsets(ctx, commitGroup)
	if err == nil {
		err = got.Error()
	}
	if err != nil {
		t.Fatalf("fetch committed offsets: %v", err)
	}
	out := map[int32]int64{}
	for p, o := range got[topic] {
		out[p] = o.At
	}
	return out
}

// closeBounded closes a member (leaving the group), failing the test if
// that takes over 15s.
func closeBounded(t *testing.T, cl *kgo.Client) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		cl.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal(errors.New("closing the group member took over 15s"))
	}
}
