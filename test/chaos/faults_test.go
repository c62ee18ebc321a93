package chaos

// faults_test.go draws the schedule of faults from the seed and carries it
// out: SIGKILLs followed by restarts, and disk-full episodes, one at a
// time. After every fault the broker must take a produce and a commit
// again (probe); after a disk-full episode without a kill, that proves it
// recovered by itself.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// faultKind is what a fault does.
type faultKind int

const (
	faultKill          faultKind = iota // SIGKILL, restart
	faultDiskFull                       // fill the disk, hold, free it
	faultKillWhileFull                  // fill, SIGKILL midway, free, restart
)

func (k faultKind) String() string {
	return [...]string{"kill", "disk-full", "kill-while-full"}[k]
}

// fault is one scheduled fault.
type fault struct {
	kind  faultKind
	pause time.Duration // before it, from the end of the previous fault
	hold  time.Duration // how long the disk stays full
	mode  string        // --fsync of the restart that follows a kill
	// again is, for a kill, when to kill the restarted broker a second
	// time, before it has settled (0: not at all).
	again time.Duration
}

func (f fault) String() string {
	s := fmt.Sprintf("%s after %v", f.kind, f.pause)
	if f.kind != faultKill {
		s += fmt.Sprintf(", full for %v", f.hold)
	}
	if f.kind != faultDiskFull {
		s += ", restart with --fsync " + f.mode
	}
	if f.again > 0 {
		s += fmt.Sprintf(", kill again %v after the restart", f.again)
	}
	return s
}

// recoveryTimeout bounds the wait, after a fault, for a produce and a
// commit to succeed: generous, as the machine may be loaded.
const recoveryTimeout = 60 * time.Second

// schedule draws faults from seed until their pauses and holds fill
// duration (run stops at duration, so the last ones may not happen). Each
// kind occurs at least once when there are three faults or more.
func schedule(seed uint64, duration time.Duration) []fault {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var out []fault
	for spent := time.Duration(0); spent < duration; {
		f := fault{
			pause: 3*time.Second + time.Duration(rng.IntN(5000))*time.Millisecond,
			hold:  2*time.Second + time.Duration(rng.IntN(3000))*time.Millisecond,
			mode:  "always",
		}
		switch r := rng.IntN(100); {
		case r < 50:
			f.kind = faultKill
		case r < 85:
			f.kind = faultDiskFull
		default:
			f.kind = faultKillWhileFull
		}
		if rng.IntN(3) == 0 {
			f.mode = "interval"
		}
		if again := rng.IntN(400); f.kind == faultKill && again < 100 {
			f.again = time.Duration(1+again*3) * time.Millisecond
		}
		spent += f.pause
		if f.kind != faultKill {
			spent += f.hold
		}
		out = append(out, f)
	}
	if len(out) >= 3 {
		for kind := range faultKillWhileFull + 1 {
			if !hasKind(out, kind) {
				for {
					i := rng.IntN(len(out))
					if n := countKind(out, out[i].kind); n > 1 {
						out[i].kind = kind
						break
					}
				}
			}
		}
	}
	return out
}

func hasKind(fs []fault, k faultKind) bool { return countKind(fs, k) > 0 }

func countKind(fs []fault, k faultKind) int {
	n := 0
	for _, f := range fs {
		if f.kind == k {
			n++
		}
	}
	return n
}

// faults carries out the schedule against one broker. Its methods run on
// the test's goroutine (they may call t.Fatal), except generation.
type faults struct {
	t    *testing.T
	b    *brokerproc.Broker
	root string // the tmpfs
	size int64  // the tmpfs's size
	led  *ledger

	// gen changes before every kill and after every restart: an operation
	// that saw it change had the broker crash under it.
	gen atomic.Int64

	probeCl *kgo.Client
	probeN  int

	kills, killsWhileFull, episodes, restarts int
	modes                                     map[string]int // restarts by --fsync mode
	filled                                    []int64        // bytes each episode's filler took
	ackedWhileFull                            []int          // records acknowledged during each episode
	recovery                                  []time.Duration
	startup, runtime                          totals
}

// probeTopic gets the probe's records (one partition); probeGroup its
// commits.
const (
	probeTopic = "chaos-probe"
	probeGroup = "chaos-probe"
)

// generation is the crash generation, safe to call from any goroutine.
func (f *faults) generation() int64 { return f.gen.Load() }

// run carries out the schedule until duration has passed since start: a
// fault whose pause would end past it is not carried out, the load runs on
// to the end instead.
func (f *faults) run(plan []fault, start time.Time, duration time.Duration) {
	for i, fl := range plan {
		if rest := duration - time.Since(start); fl.pause >= rest {
			time.Sleep(max(rest, 0))
			return
		}
		time.Sleep(fl.pause) // the schedule's pause, not a wait for a condition
		began := time.Now()
		switch fl.kind {
		case faultKill:
			f.kill(fl.mode)
			if fl.again > 0 {
				time.Sleep(fl.again)
				f.kill(fl.mode)
			}
		case faultDiskFull, faultKillWhileFull:
			f.diskFull(fl)
		}
		took := time.Since(began)
		d := f.probe(fmt.Sprintf("fault %d (%s)", i+1, fl.kind))
		f.t.Logf("fault %d: %s: done in %v, produce and commit again %v later", i+1, fl, took.Round(time.Millisecond), d.Round(time.Millisecond))
	}
}

// kill SIGKILLs the broker and restarts it with --fsync mode.
func (f *faults) kill(mode string) {
	f.t.Helper()
	f.scrapeRuntime()
	f.gen.Add(1)
	if err := f.b.Kill(); err != nil {
		f.t.Fatalf("kill %d: %v", f.kills+1, err)
	}
	f.kills++
	f.restart(mode)
}

// restart starts the broker again; a failure fails the test with the
// broker's log.
func (f *faults) restart(mode string) {
	f.t.Helper()
	if err := f.b.RestartWith(brokerproc.Fsync(mode)); err != nil {
		f.t.Fatalf("restart %d (--fsync %s) failed: %v", f.restarts+1, mode, err)
	}
	f.gen.Add(1)
	f.restarts++
	f.modes[mode]++
	s, err := scrapeRetry(f.b.HTTPAddr(), 10*time.Second)
	if err != nil {
		f.t.Fatalf("metrics after restart %d: %v", f.restarts, err)
	}
	f.startup.add(s, startupFamilies)
}

// scrapeRuntime adds the runtime counters of the running broker to the
// totals, before it is killed or stopped. A failed scrape is skipped:
// these are for the summary only.
func (f *faults) scrapeRuntime() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if s, err := scrape(ctx, f.b.HTTPAddr()); err == nil {
		f.runtime.add(s, runtimeFamilies)
	}
}

// diskFull fills the tmpfs, keeps it full for fl.hold (killing the broker
// midway for faultKillWhileFull), then frees it, restarting the broker if
// it was killed. The restart comes after the space is back: a broker
// cannot start on a full disk (it records a new leader epoch first).
func (f *faults) diskFull(fl fault) {
	f.t.Helper()
	fill, err := newFiller(filepath.Join(f.root, "filler"), f.size)
	if err != nil {
		f.t.Fatal(err)
	}
	ackedBefore, _, _ := f.led.counts()
	start := time.Now()
	killed := false
	// full says whether the disk was ever seen full right after a top-up;
	// the broker frees space now and then (a failed write cut back, a
	// topic deleted), so one look could miss it.
	full := false
	for first := true; first || time.Since(start) < fl.hold; first = false {
		if _, err := fill.topUp(); err != nil {
			fill.remove()
			f.t.Fatal(err)
		}
		if free, err := freeBytes(f.root); err == nil && free < 64<<10 {
			full = true
		}
		if fl.kind == faultKillWhileFull && !killed && time.Since(start) >= fl.hold/2 {
			f.scrapeRuntime()
			f.gen.Add(1)
			if err := f.b.Kill(); err != nil {
				fill.remove()
				f.t.Fatalf("kill while the disk is full: %v", err)
			}
			f.kills++
			f.killsWhileFull++
			killed = true
		}
		time.Sleep(100 * time.Millisecond) // top up ten times a second
	}
	ackedAfter, _, _ := f.led.counts()
	f.ackedWhileFull = append(f.ackedWhileFull, ackedAfter-ackedBefore)
	f.filled = append(f.filled, fill.size)
	if err := fill.remove(); err != nil {
		f.t.Fatal(err)
	}
	f.episodes++
	if !full {
		f.t.Errorf("disk-full episode %d: more than 64 KiB stayed free after every top-up: the filler did not fill the disk", f.episodes)
	}
	if killed {
		f.restart(fl.mode)
	}
}

// probe waits until the broker acknowledges a produce and a commit, and
// returns how long that took. Each attempt is a new record and a higher
// committed offset, recorded in the ledger when acknowledged.
func (f *faults) probe(what string) time.Duration {
	f.t.Helper()
	start := time.Now()
	adm := kadm.NewClient(f.probeCl)
	testwait.For(f.t, recoveryTimeout, "a produce and a commit to succeed after "+what, func() string {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		f.probeN++
		n := f.probeN
		r := &kgo.Record{Topic: probeTopic, Value: recordValue(probeTopic, n)}
		err := f.probeCl.ProduceSync(ctx, r).FirstErr()
		f.led.produced(recordKey{probeTopic, n}, position{r.Partition, r.Offset}, err)
		if err != nil {
			return "produce: " + err.Error()
		}
		offs := kadm.Offsets{}
		offs.Add(kadm.Offset{Topic: probeTopic, Partition: 0, At: int64(n), LeaderEpoch: -1})
		resp, err := adm.CommitOffsets(ctx, probeGroup, offs)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return "commit: " + err.Error()
		}
		f.led.committed(probeGroup, topicPartition{probeTopic, 0}, int64(n))
		f.led.commitDone()
		return ""
	})
	d := time.Since(start)
	f.recovery = append(f.recovery, d)
	return d
}

// summary describes the faults carried out.
func (f *faults) summary() string {
	var worst time.Duration
	for _, d := range f.recovery {
		worst = max(worst, d)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "kills %d (%d while the disk was full), restarts %d %v, disk-full episodes %d (filler bytes %v, records acknowledged while full %v), slowest return to service %v",
		f.kills, f.killsWhileFull, f.restarts, f.modes, f.episodes, f.filled, f.ackedWhileFull, worst.Round(time.Millisecond))
	return sb.String()
}
