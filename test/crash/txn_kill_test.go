package crash

// txn_kill_test.go SIGKILLs the broker again and again while several
// transactional producers (franz-go GroupTransactSessions in one group)
// run consume-transform-produce, in both --fsync modes, and checks the
// exactly-once result afterwards (package testtxn): a read_committed
// consumer of the output sees each input record's copy exactly once and
// nothing of an aborted transaction, the group committed the whole input,
// and once the producers stop every output partition's last stable offset
// reaches its high watermark (no transaction left hanging by a crash
// between the coordinator's decision and its markers).

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testtxn"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	// txnKills is how many times the broker is killed per --fsync mode.
	txnKills = 12
	// txnProducers is how many transactional producers run at once.
	txnProducers = 3
)

func TestKillDuringTransactions(t *testing.T) {
	seed := crashSeed(t)
	t.Logf("seed %d (set COURIER_CRASH_SEED to replay the kill timings)", seed)
	for i, fsync := range []string{"always", "interval"} {
		t.Run("fsync="+fsync, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, seed^uint64(0x7a11+i)))
			// A short transaction timeout: a transaction whose producer
			// lost its broker mid-way is aborted soon after the restart.
			b := brokerproc.StartT(t, courierBin, t.TempDir(), brokerproc.Fsync(fsync),
				brokerproc.Args("--group-initial-rebalance-delay", "0s"))
			w := testtxn.Workload{Addr: b.Addr(), In: "txn-in", Out: "txn-out", Group: "txn-etl", Records: 3000, Partitions: 4}
			testtxn.Seed(t, w)
			s := testtxn.StartSessions(t, w, "etl-"+fsync, txnProducers,
				kgo.TransactionTimeout(10*time.Second),
				kgo.RetryTimeout(30*time.Second),
				kgo.SessionTimeout(6*time.Second),
				kgo.RequestRetries(50),
				// Small polls: many transactions, so kills land in every
				// phase of one.
				kgo.FetchMaxBytes(4096), kgo.FetchMaxPartitionBytes(2048),
			)
			time.Sleep(300 * time.Millisecond)
			for k := range txnKills {
				time.Sleep(time.Duration(100+rng.IntN(400)) * time.Millisecond)
				if err := b.Kill(); err != nil {
					t.Fatalf("kill %d: %v", k+1, err)
				}
				if err := b.Restart(); err != nil {
					t.Fatalf("restart after kill %d: %v", k+1, err)
				}
			}
			if err := s.Wait(t, 3*time.Minute); err != nil {
				t.Fatal(err)
			}
			t.Logf("%d kills; %d transactions committed, %d aborted, %d errors the producers carried on after (last: %v)",
				txnKills, s.Commits.Load(), s.Aborts.Load(), s.Errors.Load(), s.LastError())
			waitStable(t, w)
			testtxn.Check(t, w, fmt.Sprintf("%d GroupTransactSessions with %d kills", txnProducers, txnKills))
		})
	}
}

// waitStable waits until no output partition has a transaction open: the
// producers have stopped, and the coordinator aborts what a crash left
// open once its timeout passes.
func waitStable(t *testing.T, w testtxn.Workload) {
	t.Helper()
	testwait.For(t, time.Minute, "every output partition's last stable offset at its high watermark", func() string {
		return testtxn.Unstable(t, w.Addr, w.Out)
	})
}
