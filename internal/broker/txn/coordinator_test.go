package txn

// coordinator_test.go checks the coordinator's requests one behaviour at a
// time: a whole transaction, Kafka's error codes, fencing, KIP-360 bumps,
// epoch exhaustion, timeouts, expiry, recovery of prepared transactions,
// marker retries and a disk that fails.

import (
	"context"
	"math"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/journal"
	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kerr"
)

var bg = context.Background()

func TestCommitWritesMarkersAndCompletesGroups(t *testing.T) {
	h := newHarness(t, nil)
	pid, epoch := h.init("tx")
	if epoch != 0 {
		t.Fatalf("new id: epoch %d, want 0", epoch)
	}
	h.add("tx", pid, epoch, 0, tp("b", 1), tp("a", 0), tp("a", 0))
	if code := h.c.AddOffsets(bg, "tx", pid, epoch, "g"); code != 0 {
		t.Fatalf("AddOffsets: %d", code)
	}
	if got := h.c.VerifyPartitions("tx", pid, epoch, []Partition{tp("a", 0), tp("c", 0)}); got[tp("a", 0)] != 0 || got[tp("c", 0)] != kerr.InvalidTxnState.Code {
		t.Fatalf("VerifyPartitions: %v", got)
	}
	if code := h.c.VerifyGroup("tx", pid, epoch, "g"); code != 0 {
		t.Fatalf("VerifyGroup: %d", code)
	}
	info, _ := h.c.Describe("tx")
	if info.State != "Ongoing" || !info.StartTime.Equal(t0) || len(info.Partitions) != 2 {
		t.Fatalf("Describe: %+v", info)
	}
	if code := h.c.EndTxn(bg, "tx", pid, epoch, true); code != 0 {
		t.Fatalf("EndTxn: %d", code)
	}
	// EndTxn waited for the markers: the transaction is complete.
	info, _ = h.c.Describe("tx")
	if info.State != "CompleteCommit" || len(info.Partitions) != 0 {
		t.Fatalf("after EndTxn: %+v", info)
	}
	got, want := h.markers.Take(), markersOf(pid, epoch, true, []Partition{tp("a", 0), tp("b", 1)}, "g")
	if !slices.Equal(got, want) {
		t.Fatalf("markers %v, want %v", got, want)
	}
	// The next transaction starts at once.
	h.add("tx", pid, epoch, 0, tp("a", 0))
}

func TestRequestCodes(t *testing.T) {
	h := newHarness(t, nil)
	pid, epoch := h.init("tx")
	long := int32((h.c.opts.MaxTimeout + time.Millisecond) / time.Millisecond)
	for _, tc := range []struct {
		name string
		do   func() int16
		want int16
	}{
		{"init empty id", func() int16 { _, _, c := h.c.InitProducerID(bg, "", 1000, -1, -1); return c }, kerr.InvalidRequest.Code},
		{"init non-UTF-8 id", func() int16 { _, _, c := h.c.InitProducerID(bg, "\xff", 1000, -1, -1); return c }, kerr.InvalidRequest.Code},
		{"init zero timeout", func() int16 { _, _, c := h.c.InitProducerID(bg, "x", 0, -1, -1); return c }, kerr.InvalidTransactionTimeout.Code},
		{"init timeout over max", func() int16 { _, _, c := h.c.InitProducerID(bg, "x", long, -1, -1); return c }, kerr.InvalidTransactionTimeout.Code},
		{"init pid without epoch", func() int16 { _, _, c := h.c.InitProducerID(bg, "x", 1000, 5, -1); return c }, kerr.InvalidRequest.Code},
		{"add unknown id", func() int16 { return h.c.AddOffsets(bg, "nope", pid, epoch, "g") }, kerr.InvalidProducerIDMapping.Code},
		{"add other pid", func() int16 { return h.c.AddOffsets(bg, "tx", pid+1, epoch, "g") }, kerr.InvalidProducerIDMapping.Code},
		{"add stale epoch", func() int16 { return h.c.AddOffsets(bg, "tx", pid, epoch+1, "g") }, kerr.ProducerFenced.Code},
		{"add empty group", func() int16 { return h.c.AddOffsets(bg, "tx", pid, epoch, "") }, kerr.InvalidGroupID.Code},
		{"add bad partition", func() int16 { return h.c.AddPartitions(bg, "tx", pid, epoch, []Partition{tp("a", -1)})[tp("a", -1)] }, kerr.InvalidRequest.Code},
		{"add no topic", func() int16 { return h.c.AddPartitions(bg, "tx", pid, epoch, []Partition{tp("", 0)})[tp("", 0)] }, kerr.InvalidRequest.Code},
		{"end with nothing begun", func() int16 { return h.c.EndTxn(bg, "tx", pid, epoch, true) }, kerr.InvalidTxnState.Code},
		{"end unknown id", func() int16 { return h.c.EndTxn(bg, "nope", pid, epoch, true) }, kerr.InvalidProducerIDMapping.Code},
		{"end empty id", func() int16 { return h.c.EndTxn(bg, "", pid, epoch, true) }, kerr.InvalidRequest.Code},
		{"verify unknown id", func() int16 { return h.c.VerifyGroup("nope", pid, epoch, "g") }, kerr.InvalidProducerIDMapping.Code},
		{"verify not in txn", func() int16 { return h.c.VerifyGroup("tx", pid, epoch, "g") }, kerr.InvalidTxnState.Code},
	} {
		if got := tc.do(); got != tc.want {
			t.Errorf("%s: code %d, want %d", tc.name, got, tc.want)
		}
	}
	if _, ok := h.c.Describe("x"); ok {
		t.Fatal("a refused InitProducerId created the id")
	}

	// EndTxn's retries: the same outcome succeeds, the other is refused.
	h.add("tx", pid, epoch, 0, tp("a", 0))
	for i, tc := range []struct {
		commit bool
		want   int16
	}{{true, 0}, {true, 0}, {false, kerr.InvalidTxnState.Code}} {
		if got := h.c.EndTxn(bg, "tx", pid, epoch, tc.commit); got != tc.want {
			t.Errorf("EndTxn #%d commit=%v: %d, want %d", i, tc.commit, got, tc.want)
		}
	}
}

func TestInitProducerIDFencesOngoingTransaction(t *testing.T) {
	h := newHarness(t, nil)
	pid, epoch := h.init("tx")
	h.add("tx", pid, epoch, 0, tp("a", 0))
	// A second producer with the same id: the transaction is aborted
	// first, with the epoch bumped, and the client must retry.
	if _, _, code := h.c.InitProducerID(bg, "tx", 60_000, -1, -1); code != kerr.ConcurrentTransactions.Code {
		t.Fatalf("InitProducerID during a transaction: %d, want CONCURRENT_TRANSACTIONS", code)
	}
	h.settle()
	if got, want := h.markers.Take(), []marker{{pid: pid, epoch: epoch + 1, commit: false, part: tp("a", 0)}}; !slices.Equal(got, want) {
		t.Fatalf("fence markers %v, want %v", got, want)
	}
	pid2, epoch2 := h.init("tx")
	if pid2 != pid || epoch2 != epoch+2 {
		t.Fatalf("retry: %d/%d, want %d/%d", pid2, epoch2, pid, epoch+2)
	}
	// The first producer is fenced everywhere.
	h.add("tx", pid, epoch, kerr.ProducerFenced.Code, tp("a", 0))
	if code := h.c.EndTxn(bg, "tx", pid, epoch, true); code != kerr.ProducerFenced.Code {
		t.Fatalf("fenced EndTxn: %d", code)
	}
	if code := h.c.VerifyGroup("tx", pid, epoch, "g"); code != kerr.ProducerFenced.Code {
		t.Fatalf("fenced verify: %d", code)
	}
}

func TestInitProducerIDWithProducer(t *testing.T) {
	h := newHarness(t, nil)
	pid, e0 := h.init("tx")
	// KIP-360: the current producer bumps its own epoch.
	p, e1, code := h.c.InitProducerID(bg, "tx", 60_000, pid, e0)
	if code != 0 || p != pid || e1 != e0+1 {
		t.Fatalf("bump: %d/%d code %d", p, e1, code)
	}
	// A retry of that request (its response lost) gets the same answer.
	if p, e, code := h.c.InitProducerID(bg, "tx", 60_000, pid, e0); code != 0 || p != pid || e != e1 {
		t.Fatalf("retry: %d/%d code %d, want %d/%d", p, e, code, pid, e1)
	}
	// Another producer takes the id: the previous epoch is forgotten.
	_, e2 := h.init("tx")
	for _, stale := range []int16{e0, e1} {
		if _, _, code := h.c.InitProducerID(bg, "tx", 60_000, pid, stale); code != kerr.ProducerFenced.Code {
			t.Fatalf("stale epoch %d (current %d): code %d, want PRODUCER_FENCED", stale, e2, code)
		}
	}
	if _, _, code := h.c.InitProducerID(bg, "tx", 60_000, pid+100, 0); code != kerr.ProducerFenced.Code {
		t.Fatalf("other producer id: code %d, want PRODUCER_FENCED", code)
	}
	// An unknown id with a producer (the id expired): a new producer id.
	if p, e, code := h.c.InitProducerID(bg, "new", 60_000, 77, 3); code != 0 || p == pid || e != 0 {
		t.Fatalf("unknown id with producer: %d/%d code %d", p, e, code)
	}
}

// writeJournal writes recs as the coordinator's journal on fs.
func writeJournal(t testing.TB, fs vfs.FS, recs ...[]byte) {
	t.Helper()
	jl, err := journal.Open(testPath, journal.Options{FS: fs,
		Replay: func([]byte) error { return nil }, Snapshot: func(func([]byte)) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	if err := jl.Append(recs, func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	jl.Close()
}

func TestEpochExhaustionRotatesProducerID(t *testing.T) {
	h := newHarness(t, nil)
	h.c.Close()
	exhausted := meta{pid: 500, lastPID: noPID, epoch: math.MaxInt16 - 1, lastEpoch: noEpoch, timeoutMs: 1000,
		state: stateCompleteCommit, start: t0, lastUpdate: t0}
	ongoing := exhausted
	ongoing.pid, ongoing.epoch, ongoing.state, ongoing.parts = 600, math.MaxInt16-1, stateOngoing, []Partition{tp("a", 0)}
	writeJournal(t, h.fs, encodeTxn("old", exhausted), encodeTxn("busy", ongoing))
	h.open(h.fs)

	p, e, code := h.c.InitProducerID(bg, "old", 1000, 500, math.MaxInt16-1)
	if code != 0 || p == 500 || e != 0 {
		t.Fatalf("exhausted epoch: %d/%d code %d, want a new producer id at epoch 0", p, e, code)
	}
	// The retry of the rotation is answered the same.
	if p2, e2, code := h.c.InitProducerID(bg, "old", 1000, 500, math.MaxInt16-1); code != 0 || p2 != p || e2 != 0 {
		t.Fatalf("rotation retry: %d/%d code %d, want %d/0", p2, e2, code, p)
	}

	// Fencing an ongoing transaction at the last usable epoch uses the
	// reserved one; the retry rotates.
	if _, _, code := h.c.InitProducerID(bg, "busy", 1000, -1, -1); code != kerr.ConcurrentTransactions.Code {
		t.Fatalf("fence: %d", code)
	}
	h.settle()
	if got := h.markers.Take(); len(got) != 1 || got[0].epoch != math.MaxInt16 || got[0].commit {
		t.Fatalf("fence markers %v", got)
	}
	h.add("busy", 600, math.MaxInt16, kerr.ProducerFenced.Code, tp("a", 0))
	if p, e, code := h.c.InitProducerID(bg, "busy", 1000, -1, -1); code != 0 || p == 600 || e != 0 {
		t.Fatalf("after fence at the last epoch: %d/%d code %d", p, e, code)
	}
}

func TestTimedOutTransactionIsAbortedAndFenced(t *testing.T) {
	h := newHarness(t, nil)
	pid, epoch, code := h.c.InitProducerID(bg, "tx", 30_000, -1, -1)
	if code != 0 {
		t.Fatal(code)
	}
	h.add("tx", pid, epoch, 0, tp("a", 0))
	h.clock.Advance(29 * time.Second)
	if info, _ := h.c.Describe("tx"); info.State != "Ongoing" {
		t.Fatalf("before the timeout: %s", info.State)
	}
	h.clock.Advance(h.c.opts.AbortInterval + time.Second)
	h.settle()
	info, _ := h.c.Describe("tx")
	if info.State != "CompleteAbort" || info.ProducerEpoch != epoch+1 {
		t.Fatalf("after the timeout: %+v", info)
	}
	if got, want := h.markers.Take(), []marker{{pid: pid, epoch: epoch + 1, part: tp("a", 0)}}; !slices.Equal(got, want) {
		t.Fatalf("markers %v, want %v", got, want)
	}
	if code := h.c.EndTxn(bg, "tx", pid, epoch, true); code != kerr.ProducerFenced.Code {
		t.Fatalf("silent producer's EndTxn: %d, want PRODUCER_FENCED", code)
	}
	if st := h.c.Stats(); st.TimedOut != 1 || st.Aborted != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestIdleIDsExpire(t *testing.T) {
	h := newHarness(t, nil)
	h.init("idle")
	pid, epoch := h.init("busy")
	h.clock.Advance(DefaultIDExpiration - time.Hour)
	h.add("busy", pid, epoch, 0, tp("a", 0)) // an open transaction never expires
	h.clock.Advance(2 * time.Hour)
	h.settle()
	if _, ok := h.c.Describe("idle"); ok {
		t.Fatal("idle id not expired")
	}
	if _, ok := h.c.Describe("busy"); !ok {
		t.Fatal("id with an open transaction expired")
	}
	h.crash()
	if _, ok := h.c.Describe("idle"); ok {
		t.Fatal("expired id back after a restart")
	}
	if h.c.Stats().IDs != 1 {
		t.Fatalf("stats %+v", h.c.Stats())
	}
}

func TestPreparedTransactionFinishesAfterCrash(t *testing.T) {
	for _, commit := range []bool{true, false} {
		h := newHarness(t, nil)
		pid, epoch := h.init("tx")
		h.add("tx", pid, epoch, 0, tp("a", 0), tp("a", 1))
		if code := h.c.AddOffsets(bg, "tx", pid, epoch, "g"); code != 0 {
			t.Fatal(code)
		}
		h.markers.Hold()
		res := make(chan int16, 1)
		go func() { res <- h.c.EndTxn(bg, "tx", pid, epoch, commit) }()
		// EndTxn answers once its bound passes, markers or not.
		var code int16
		h.advanceUntil(res, &code)
		if code != 0 {
			t.Fatalf("EndTxn: %d", code)
		}
		h.crash()
		h.markers.Release()
		h.settle()
		info, _ := h.c.Describe("tx")
		if want := map[bool]string{true: "CompleteCommit", false: "CompleteAbort"}[commit]; info.State != want {
			t.Fatalf("after recovery: %s, want %s", info.State, want)
		}
		// Compared as sets: settle may time an attempt out and retry.
		got, want := sortMarkers(h.markers.Take()), sortMarkers(markersOf(pid, epoch, commit, []Partition{tp("a", 0), tp("a", 1)}, "g"))
		if !slices.Equal(got, want) {
			t.Fatalf("markers after recovery %v, want %v", got, want)
		}
		if h.c.Epoch() != 2 {
			t.Fatalf("coordinator epoch %d, want 2", h.c.Epoch())
		}
	}
}

// advanceUntil moves the clock until res has a value, stored in *got.
func (h *harness) advanceUntil(res chan int16, got *int16) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case *got = <-res:
			return
		case <-time.After(time.Millisecond):
			h.clock.Advance(100 * time.Millisecond)
		}
	}
	h.t.Fatal("request did not return")
}

func TestFailingMarkersAreRetried(t *testing.T) {
	h := newHarness(t, nil)
	var mu sync.Mutex
	failures := map[string]int{}
	h.markers.fail = func(m marker) bool {
		mu.Lock()
		defer mu.Unlock()
		failures[m.String()]++
		return failures[m.String()] <= 3 && (m.part.Partition == 1 || m.group != "")
	}
	pid, epoch := h.init("tx")
	h.add("tx", pid, epoch, 0, tp("a", 0), tp("a", 1))
	h.c.AddOffsets(bg, "tx", pid, epoch, "g")
	res := make(chan int16, 1)
	go func() { res <- h.c.EndTxn(bg, "tx", pid, epoch, true) }()
	var code int16
	h.advanceUntil(res, &code)
	h.settle()
	got := sortMarkers(h.markers.Take())
	want := sortMarkers(markersOf(pid, epoch, true, []Partition{tp("a", 0), tp("a", 1)}, "g"))
	if code != 0 || !slices.Equal(got, want) {
		t.Fatalf("EndTxn %d, markers %v, want %v", code, got, want)
	}
	if st := h.c.Stats(); st.MarkerRetries < 3 || st.Committed != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStorageFailureLeavesStateAndAnswersNotCoordinator(t *testing.T) {
	h, efs := newErrorHarness(t)
	pid, epoch := h.init("tx")
	efs.Inject(syscall.ENOSPC, vfs.OpWrite|vfs.OpSync)
	if got := h.c.AddPartitions(bg, "tx", pid, epoch, []Partition{tp("a", 0)}); got[tp("a", 0)] != kerr.NotCoordinator.Code {
		t.Fatalf("AddPartitions on a full disk: %v", got)
	}
	if _, _, code := h.c.InitProducerID(bg, "other", 1000, -1, -1); code != kerr.NotCoordinator.Code {
		t.Fatalf("InitProducerID on a full disk: %d", code)
	}
	if info, _ := h.c.Describe("tx"); info.State != "Empty" {
		t.Fatalf("state changed by a failed write: %+v", info)
	}
	if _, ok := h.c.Describe("other"); ok {
		t.Fatal("failed InitProducerID left the id")
	}
	efs.Heal()
	var got map[Partition]int16
	for range 50 { // the journal repairs itself after a back-off
		if got = h.c.AddPartitions(bg, "tx", pid, epoch, []Partition{tp("a", 0)}); got[tp("a", 0)] == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got[tp("a", 0)] != 0 {
		t.Fatalf("after healing: %v", got)
	}
	if h.c.Stats().WriteFailures == 0 {
		t.Fatal("write failures not counted")
	}
}

func TestConcurrentEndTxn(t *testing.T) {
	h := newHarness(t, nil)
	pid, epoch := h.init("tx")
	h.add("tx", pid, epoch, 0, tp("a", 0))
	var wg sync.WaitGroup
	codes := make([]int16, 2)
	for i := range codes {
		wg.Add(1)
		go func() { defer wg.Done(); codes[i] = h.c.EndTxn(bg, "tx", pid, epoch, true) }()
	}
	wg.Wait()
	h.settle()
	slices.Sort(codes)
	if codes[0] != 0 || (codes[1] != 0 && codes[1] != kerr.ConcurrentTransactions.Code) {
		t.Fatalf("codes %v, want one 0 and one 0 or CONCURRENT_TRANSACTIONS", codes)
	}
	if got := h.markers.Take(); len(got) != 1 {
		t.Fatalf("markers %v, want one", got)
	}
}

func TestListFilters(t *testing.T) {
	h := newHarness(t, nil)
	pa, ea := h.init("a")
	pb, _ := h.init("b")
	h.add("a", pa, ea, 0, tp("t", 0))
	h.clock.Advance(time.Minute)
	names := func(infos []TxnInfo) []string {
		var out []string
		for _, i := range infos {
			out = append(out, i.ID)
		}
		return out
	}
	for _, tc := range []struct {
		states   []string
		pids     []int64
		duration time.Duration
		want     []string
	}{
		{nil, nil, -1, []string{"a", "b"}},
		{[]string{"Ongoing"}, nil, -1, []string{"a"}},
		{[]string{"Bogus"}, nil, -1, nil},
		{nil, []int64{pb}, -1, []string{"b"}},
		{nil, nil, 30 * time.Second, []string{"a"}},
		{nil, nil, 2 * time.Minute, nil},
	} {
		if got := names(h.c.List(tc.states, tc.pids, tc.duration)); !slices.Equal(got, tc.want) {
			t.Errorf("List(%v, %v, %v) = %v, want %v", tc.states, tc.pids, tc.duration, got, tc.want)
		}
	}
	if !KnownState("PrepareEpochFence") || KnownState("Bogus") {
		t.Fatal("KnownState")
	}
}

func TestCompleteRecordRetriedAfterWriteFailure(t *testing.T) {
	h, efs := newErrorHarness(t)
	pid, epoch := h.init("tx")
	h.add("tx", pid, epoch, 0, tp("a", 0))
	h.markers.Hold()
	res := make(chan int16, 1)
	go func() { res <- h.c.EndTxn(bg, "tx", pid, epoch, true) }()
	var code int16
	h.advanceUntil(res, &code) // answered after the Prepare record, markers held
	if code != 0 {
		t.Fatalf("EndTxn: %d", code)
	}
	// The disk fills before the Complete record: the markers are
	// durable, the record is retried until the journal repairs itself.
	efs.Inject(syscall.ENOSPC, vfs.OpWrite|vfs.OpSync|vfs.OpCreate)
	h.markers.Release()
	testwait.For(t, 10*time.Second, "a failed Complete record", func() string {
		h.clock.Advance(time.Second)
		if h.c.Stats().WriteFailures == 0 {
			return "no write failed yet"
		}
		return ""
	})
	if info, _ := h.c.Describe("tx"); info.State != "PrepareCommit" {
		t.Fatalf("state after a failed Complete record: %s", info.State)
	}
	efs.Heal()
	h.settle()
	if info, _ := h.c.Describe("tx"); info.State != "CompleteCommit" {
		t.Fatalf("after healing: %s", info.State)
	}
	h.crash()
	if info, _ := h.c.Describe("tx"); info.State != "CompleteCommit" {
		t.Fatalf("after a restart: %s", info.State)
	}
}

func TestCompactedJournalKeepsState(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.CompactBytes = 1 })
	for _, id := range []string{"a", "b", "c"} {
		pid, epoch := h.init(id)
		h.add(id, pid, epoch, 0, tp(id, 0))
		if id != "b" {
			h.c.EndTxn(bg, id, pid, epoch, id == "a")
		}
	}
	h.settle()
	before := h.c.List(nil, nil, -1)
	if h.c.JournalStats().Compactions == 0 {
		t.Fatal("no compaction happened")
	}
	h.crash()
	after := h.c.List(nil, nil, -1)
	if len(after) != len(before) {
		t.Fatalf("after a restart %+v, want %+v", after, before)
	}
	for i := range before {
		b, a := before[i], after[i]
		if a.ID != b.ID || a.State != b.State || a.ProducerID != b.ProducerID || a.ProducerEpoch != b.ProducerEpoch ||
			!slices.Equal(a.Partitions, b.Partitions) || !a.StartTime.Equal(b.StartTime) {
			t.Fatalf("after a restart %+v, want %+v", a, b)
		}
	}
	if h.c.Epoch() != 2 {
		t.Fatalf("coordinator epoch %d after one restart, want 2", h.c.Epoch())
	}
}
