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
	"regexp"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testlog"
	"github.com/courier-dev/courier/internal/testkit/testtxn"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	// txnKills is how many times the broker is killed per --fsync mode.
	txnKills = 12
	// txnProducers is how many transactional producers run at once.
	txnProducers = 3
	// txnKillEvery bounds how many transactions commit between kills.
	txnKillEvery = 10
)

func TestKillDuringTransactions(t *testing.T) {
	seed := crashSeed(t)
	t.Logf("seed %d (set COURIER_CRASH_SEED to replay the kill timings)", seed)
	for i, fsync := range []string{"always", "interval"} {
		t.Run("fsync="+fsync, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, seed^uint64(0x7a11+i)))
			// A short transaction timeout: a transaction whose producer
			// lost its broker mid-way is aborted soon after the restart.
			var out testlog.Buffer
			b := brokerproc.StartT(t, courierBin, t.TempDir(), brokerproc.Fsync(fsync), brokerproc.Output(&out),
				brokerproc.Args("--group-initial-rebalance-delay", "0s"))
			// Small input batches and fetches: some ten records per
			// transaction, hundreds of transactions.
			w := testtxn.Workload{Addr: b.Addr(), In: "txn-in", Out: "txn-out", Group: "txn-etl", Records: 4000, Partitions: 4,
				SeedBatch: 10, Pause: 10 * time.Millisecond}
			testtxn.Seed(t, w)
			s := testtxn.StartSessions(t, w, "etl-"+fsync, txnProducers,
				kgo.TransactionTimeout(10*time.Second),
				kgo.RetryTimeout(30*time.Second),
				kgo.SessionTimeout(6*time.Second),
				kgo.RequestRetries(50),
				// Small polls: many transactions, so kills land in every
				// phase of one.
				kgo.FetchMaxBytes(1024), kgo.FetchMaxPartitionBytes(512),
			)
			// Each kill comes a few transactions after the producers got
			// going again, at a random moment: inside the work, in any
			// phase of a transaction.
			waitCommits(t, s, 5)
			before := s.Commits.Load()
			for k := range txnKills {
				waitCommits(t, s, s.Commits.Load()+int64(1+rng.IntN(txnKillEvery)))
				time.Sleep(time.Duration(rng.IntN(50)) * time.Millisecond)
				if err := b.Kill(); err != nil {
					t.Fatalf("kill %d: %v", k+1, err)
				}
				if err := b.Restart(); err != nil {
					t.Fatalf("restart after kill %d: %v", k+1, err)
				}
			}
			during := s.Commits.Load() - before
			if err := s.Wait(t, 3*time.Minute); err != nil {
				t.Fatal(err)
			}
			if during == 0 || s.Commits.Load() == before+during {
				t.Fatalf("the kills did not fall inside the work: %d transactions committed before them, %d while they came, %d after", before, during, s.Commits.Load()-before-during)
			}
			// What the restarts found: transactions a kill left open, and
			// decided but not yet marked everywhere.
			logs := out.String()
			t.Logf("restarts found open transactions %d times, prepared ones (finished by the restart) %d times",
				len(regexp.MustCompile(`transaction coordinator loaded.* ongoing=[1-9]`).FindAllString(logs, -1)),
				len(regexp.MustCompile(`transaction coordinator loaded.* prepared_to_finish=[1-9]`).FindAllString(logs, -1)))
			t.Logf("%d kills; %d transactions committed (%d while the kills came), %d aborted, %d errors the producers carried on after (last: %v)",
				txnKills, s.Commits.Load(), during, s.Aborts.Load(), s.Errors.Load(), s.LastError())
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

// waitCommits waits until the producers have committed n transactions.
func waitCommits(t *testing.T, s *testtxn.Sessions, n int64) {
	t.Helper()
	testwait.For(t, time.Minute, fmt.Sprintf("%d transactions committed", n), func() string {
		if got := s.Commits.Load(); got < n {
			return fmt.Sprintf("%d so far (%d errors, last %v)", got, s.Errors.Load(), s.LastError())
		}
		return ""
	})
}
