package crash

// share_kill_test.go runs a share group (KIP-932) through deaths: eight
// consumers on a two-partition topic of 100,000 records (10,000 with
// -short), killed abruptly and restarted at random, rejecting and
// releasing some records (and releasing a few on every delivery, until the
// delivery limit archives them), while the broker is SIGKILLed and
// restarted. At the end the broker must offer nothing more (every
// share-partition's start offset at its end), and the ledger of every
// delivery and acknowledgement (share_ledger_test.go) must show each record
// accepted exactly once (counting only acknowledgements the broker
// confirmed), or rejected, or archived after the delivery limit; none
// delivered again after a confirmed acknowledgement; none lost.
//
// COURIER_SHARE_PEER=kfake runs the same consumers against franz-go's
// in-memory cluster (no broker kill), to check the test itself.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	shareConsumers  = 8
	sharePartitions = 2
	shareTopic      = "share-crash"
	shareGroupID    = "crash-share"
	// shareLimit is the delivery limit the test sets for the group
	// (share.delivery.count.limit; Kafka's default is 5).
	shareLimit = 4
	// shareChaos bounds the phase of kills; shareDrain the phase after,
	// in which the consumers finish what is left.
	shareChaos = 25 * time.Second
	shareDrain = 25 * time.Second
	// shareWorkFor is about how long the consumers take, together, to work
	// through the records (each record costs its consumer work, as its
	// processing would), so that the kills fall while records flow.
	shareWorkFor      = 10 * time.Second
	shareWorkForShort = 4 * time.Second
)

// sharePolicy of the test: a few records are released on every delivery
// (archived at the limit), some rejected and some released on their first
// delivery, the rest accepted.
func testSharePolicy(k int, dc int32) kgo.AckStatus {
	switch {
	case k%1000 == 7:
		return kgo.AckRelease
	case k%97 == 0 && dc == 1:
		return kgo.AckReject
	case k%13 == 0 && dc == 1:
		return kgo.AckRelease
	default:
		return kgo.AckAccept
	}
}

// shareTarget is the broker under test: its address, how to SIGKILL and
// restart it (nil for a peer that cannot be killed), and the process (nil
// for a peer), whose metrics explain what it did.
type shareTarget struct {
	addr        string
	killRestart func() error
	proc        *brokerproc.Broker
}

func newShareTarget(t *testing.T) shareTarget {
	t.Helper()
	if os.Getenv("COURIER_SHARE_PEER") == "kfake" {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return shareTarget{addr: c.ListenAddrs()[0]}
	}
	b := brokerproc.StartT(t, courierBin, t.TempDir(), brokerproc.Fsync("interval"))
	return shareTarget{addr: b.Addr(), proc: b, killRestart: func() error {
		if err := b.Kill(); err != nil {
			return err
		}
		return b.Restart()
	}}
}

func TestShareGroupKill(t *testing.T) {
	seed := crashSeed(t)
	t.Logf("seed %d (set COURIER_CRASH_SEED to replay the kill timings)", seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d))
	n, workFor := 100_000, shareWorkFor
	if testing.Short() {
		n, workFor = 10_000, shareWorkForShort
	}
	work := workFor * shareConsumers / time.Duration(n)
	start := time.Now()
	target := newShareTarget(t)
	testclient.CreateTopic(t, target.addr, shareTopic, sharePartitions, nil)
	produceShareRecords(t, target.addr, n)
	limit := setShareConfigs(t, target.addr)
	t.Logf("%d records produced, delivery limit %d (%s)", n, limit, time.Since(start).Round(time.Millisecond))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := newShareLedger(n)
	slots := make([]*shareConsumer, shareConsumers)
	incs := 0
	startSlot := func(s int) {
		c, err := startShareConsumer(ctx, target.addr, shareGroupID, shareTopic, s+shareConsumers*incs, l, testSharePolicy, work)
		if err != nil {
			t.Fatal(err)
		}
		slots[s] = c
	}
	for s := range slots {
		startSlot(s)
	}
	incs++
	defer func() {
		for _, c := range slots {
			c.kill()
		}
	}()

	// Chaos: a consumer killed and restarted every few hundred
	// milliseconds, the broker SIGKILLed once a quarter of the records
	// settled (and again at two thirds, without -short).
	kills, brokerKills := 0, 0
	brokerKillAt := []int{n / 4, 2 * n / 3}
	if testing.Short() {
		brokerKillAt = brokerKillAt[:1]
	}
	chaosEnd := time.Now().Add(shareChaos)
	for time.Now().Before(chaosEnd) && l.progress() < n*9/10 {
		time.Sleep(time.Duration(100+rng.IntN(300)) * time.Millisecond)
		if target.killRestart != nil && brokerKills < len(brokerKillAt) && l.progress() >= brokerKillAt[brokerKills] {
			t.Logf("SIGKILL the broker at %d settled records (%s)", l.progress(), time.Since(start).Round(time.Millisecond))
			if err := target.killRestart(); err != nil {
				t.Fatal(err)
			}
			brokerKills++
			continue
		}
		s := rng.IntN(shareConsumers)
		slots[s].kill()
		kills++
		time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
		startSlot(s)
		incs++
	}
	t.Logf("chaos over: %d consumer kills, %d broker kills, %d of %d records settled (%s)", kills, brokerKills, l.progress(), n, time.Since(start).Round(time.Millisecond))
	if target.killRestart != nil && brokerKills == 0 {
		t.Fatalf("the broker was never killed: only %d records settled in %s", l.progress(), shareChaos)
	}

	// Drain: the consumers, left alone, settle the rest, until the broker
	// offers nothing more.
	drainEnd := time.Now().Add(shareDrain)
	for {
		left, err := shareLeft(target.addr)
		if err == nil && left == "" {
			break
		}
		if time.Now().After(drainEnd) {
			t.Fatalf("the share group did not finish within %s of the chaos: %s %v", shareDrain, left, err)
		}
		if testing.Verbose() && time.Now().Second()%3 == 0 {
			t.Logf("draining: %d settled; left: %s %v", l.progress(), left, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	for _, c := range slots {
		c.stop()
		if c.err != nil {
			t.Errorf("consumer %d: %v", c.inc, c.err)
		}
	}
	v := l.check(limit)
	t.Logf("after %s: %d deliveries; %d records accepted, %d rejected, %d archived at the delivery limit, %d in doubt (a terminal acknowledgement whose answer was lost), %d archived after deliveries no consumer received; %d delivered more than once",
		time.Since(start).Round(time.Millisecond), v.deliveries, v.accepted, v.rejected, v.archived, v.inDoubt, v.unseen, v.redelivered)
	for _, s := range v.violations {
		t.Error(s)
	}
	for _, s := range v.unseenSome {
		t.Log("archived unseen: " + s)
	}
	if target.proc != nil {
		m, err := target.proc.MetricLines("courier_share_lock_expiries_total", "courier_share_records_archived_at_limit_total", "courier_share_acknowledgements_total")
		t.Logf("the broker's share metrics since its last restart: %s %v", m, err)
	}
	// Only a kill can lose the answer to an acknowledgement (at most the
	// records of the poll in hand of the consumer killed, or of every
	// consumer when the broker dies), or a fetch response (at most one per
	// consumer killed, or per consumer when the broker dies, each of up
	// to shareMaxPoll records of each partition).
	inFlight := kills + brokerKills*shareConsumers
	if bound := inFlight * shareMaxPoll; v.inDoubt > bound {
		t.Errorf("%d records in doubt; %d kills and %d broker kills can leave at most %d", v.inDoubt, kills, brokerKills, bound)
	}
	if bound := inFlight * shareMaxPoll * sharePartitions; v.unseen > bound {
		t.Errorf("%d records archived below the delivery limit after deliveries no consumer received; %d kills and %d broker kills can account for at most %d", v.unseen, kills, brokerKills, bound)
	}
	if got := l.consumersThatReceived(shareConsumers); len(got) != shareConsumers {
		t.Errorf("only the consumers %v received records; want all %d", got, shareConsumers)
	}
	if v.archived+v.unseen < n/1000 || v.rejected == 0 {
		t.Errorf("%d archived (want at least the %d always released), %d rejected", v.archived+v.unseen, n/1000, v.rejected)
	}
}

// produceShareRecords writes records numbered 0..n-1, record k to
// partition k % sharePartitions.
func produceShareRecords(t *testing.T, addr string, n int) {
	t.Helper()
	cl := testclient.New(t, addr, kgo.DefaultProduceTopic(shareTopic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rs := make([]*kgo.Record, n)
	for k := range rs {
		rs[k] = &kgo.Record{Partition: int32(k % sharePartitions), Value: []byte(strconv.Itoa(k))}
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// setShareConfigs makes the group start at the earliest offset, with a
// delivery limit of shareLimit and the shortest acquisition lock Kafka
// allows (15 s: the records of a consumer whose connection did not close
// come back sooner; a closed connection releases them at once), and
// returns the delivery limit in force.
func setShareConfigs(t *testing.T, addr string) int32 {
	t.Helper()
	cl := testclient.New(t, addr)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := testclient.SetGroupConfigs(ctx, cl, shareGroupID, map[string]string{
		"share.auto.offset.reset":       "earliest",
		"share.delivery.count.limit":    strconv.Itoa(shareLimit),
		"share.record.lock.duration.ms": "15000",
	})
	if err != nil {
		t.Fatal(err)
	}
	dreq := kmsg.NewPtrDescribeConfigsRequest()
	dres := kmsg.NewDescribeConfigsRequestResource()
	dres.ResourceType, dres.ResourceName = kmsg.ConfigResourceTypeGroupConfig, shareGroupID
	dres.ConfigNames = []string{"share.delivery.count.limit"}
	dreq.Resources = append(dreq.Resources, dres)
	dresp, err := dreq.RequestWith(ctx, cl)
	if err == nil && len(dresp.Resources) == 1 {
		for _, c := range dresp.Resources[0].Configs {
			if c.Name == "share.delivery.count.limit" && c.Value != nil {
				if v, err := strconv.Atoi(*c.Value); err == nil {
					return int32(v)
				}
			}
		}
	}
	t.Fatalf("the share group's share.delivery.count.limit is not described: %v", err)
	return 0
}

// shareLeft returns "" once every share-partition's start offset is at the
// partition's end (every record acknowledged or archived), else what is
// left.
func shareLeft(addr string) (string, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return "", err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, shareTopic)
	if err != nil {
		return "", err
	}
	offs, err := adm.DescribeShareGroupOffsets(ctx, shareGroupID)
	if err != nil {
		return "", err
	}
	left := ""
	ends.Each(func(e kadm.ListedOffset) {
		o, ok := offs[shareGroupID].Offsets.Lookup(shareTopic, e.Partition)
		if !ok || o.StartOffset != e.Offset {
			left += fmt.Sprintf("partition %d at %d of %d (lag %d); ", e.Partition, o.StartOffset, e.Offset, o.Lag)
		}
	})
	return left, nil
}
