package share

// fuzz_test.go fuzzes the record decoder and the recovery path (no input
// panics, whatever decodes is a state the coordinator could have written,
// and whatever Open accepts is kept by the next Open), acknowledgements
// against a share-partition's state (checked against a model), and
// ShareFetch and ShareAcknowledge requests decoded from arbitrary bytes.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/journal"
	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func FuzzDecodeRecord(f *testing.F) {
	for _, r := range sampleRecords() {
		f.Add(r)
	}
	f.Add([]byte{kindPartition, '{', '}'})
	f.Add([]byte(`\x03{"group":"g","topic":"t","topic_id":"00000000000000000000000000000000","partition":0,"ranges":[[0,1099511627776,0,0]]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("error %v does not wrap errCorrupt", err)
			}
			return
		}
		if r.kind == kindPartition {
			if err := r.delta.Validate(); err != nil {
				t.Fatalf("decoded an invalid delta: %v", err)
			}
			var p Partition
			if err := p.Apply(r.delta); err != nil {
				t.Fatalf("a decoded delta does not apply: %v", err)
			}
		}
		again, err := decodeRecord(r.encode())
		if err != nil || fmt.Sprint(again) != fmt.Sprint(r) {
			t.Fatalf("round trip: %+v (%v), want %+v", again, err, r)
		}
	})
}

// FuzzReplay opens the coordinator on a damaged journal file: Open either
// refuses it with the journal's DamageError or yields a state that a
// second Open (from the compacted or repaired file) yields again.
func FuzzReplay(f *testing.F) {
	fs := vfs.NewMem()
	writeJournal(f, fs, sampleRecords()...)
	valid, err := vfs.ReadFile(fs, testPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(append(append([]byte{}, valid...), valid[:20]...))
	flipped := append([]byte{}, valid...)
	flipped[len(flipped)/3] ^= 0x40
	f.Add(flipped)
	f.Fuzz(func(t *testing.T, data []byte) {
		fs := vfs.NewMem()
		if err := vfs.MkdirAllDurable(fs, "/data/meta/share", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := vfs.WriteAtomic(fs, testPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
		opts := Options{Path: testPath, FS: fs, Clock: group.NewFakeClock(t0), Topics: testTopics()}
		c, err := Open(opts)
		if err != nil {
			if !errors.Is(err, journal.ErrDamaged) {
				t.Fatalf("Open refused with %v, want a DamageError", err)
			}
			return
		}
		first := stateOf(c)
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		c, err = Open(opts)
		if err != nil {
			t.Fatalf("second Open: %v", err)
		}
		defer c.Close()
		if again := stateOf(c); again != first {
			t.Fatalf("state changed across reopen:\n%s\nthen\n%s", first, again)
		}
	})
}

// stateOf renders every group's share-partitions.
func stateOf(c *Coordinator) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out string
	for _, id := range slices.Sorted(maps.Keys(c.groups)) {
		out += "group " + id + "\n"
		g := c.groups[id]
		keys := slices.SortedFunc(maps.Keys(g.parts), func(a, b TopicPartition) int {
			return strings.Compare(fmt.Sprint(a.TopicID, a.Partition), fmt.Sprint(b.TopicID, b.Partition))
		})
		for _, tp := range keys {
			out += fmt.Sprintf("  %s-%d: %+v\n", g.parts[tp].topic, tp.Partition, g.parts[tp].p.fullDelta())
		}
	}
	return out
}

// FuzzAcknowledge acknowledges arbitrary batches against a partition
// whose offsets members hold in a state built from seed: Acknowledge must
// refuse exactly what a model written apart from it refuses (with
// INVALID_REQUEST or INVALID_RECORD_STATE, changing nothing), apply the
// rest as the types say, take no longer for a batch of 0..MaxInt64 than
// for a small one, and leave a delta that brings a durable copy to the
// same state.
func FuzzAcknowledge(f *testing.F) {
	f.Add(int64(1), uint8(0), false, encodeAcks(AckBatch{0, 3, []int8{AckAccept}}))
	f.Add(int64(2), uint8(1), true, encodeAcks(AckBatch{2, 4, []int8{AckRenew, AckRelease, AckReject}}, AckBatch{6, 6, []int8{AckGap}}))
	f.Add(int64(3), uint8(2), false, encodeAcks(AckBatch{0, math.MaxInt64, []int8{AckAccept}}))
	f.Add(int64(4), uint8(0), false, encodeAcks(AckBatch{5, 1, []int8{AckAccept}}, AckBatch{-1, 2, nil}))
	f.Fuzz(func(t *testing.T, seed int64, who uint8, renew bool, raw []byte) {
		lim := Limits{DeliveryLimit: 3, MaxLocks: 64, LockDuration: 30 * time.Second}
		now := time.Unix(1_700_000_000, 0)
		p, members := fuzzPartition(seed, lim, now)
		member := members[int(who)%len(members)]
		batches := decodeAcks(raw)
		durable := p.Clone() // as stored so far
		p.TakeDelta()
		before := p.Clone()
		wantErr := modelCheckAcks(before, member, batches, renew)
		_, err := p.Acknowledge(member, batches, renew, now.Add(time.Second), lim)
		switch {
		case (err == nil) != (wantErr == nil):
			t.Fatalf("Acknowledge(%s, %+v) = %v, the model says %v", member, batches, err, wantErr)
		case err != nil && !errors.Is(err, wantErr):
			t.Fatalf("Acknowledge(%s, %+v) = %v, want %v", member, batches, err, wantErr)
		case err != nil:
			if !reflect.DeepEqual(p, before) {
				t.Fatalf("a refused acknowledgement changed the partition:\n%+v\n%+v", before, p)
			}
			return
		}
		for _, b := range batches {
			for o := b.First; o <= b.Last; o++ {
				typ := b.Types[0]
				if len(b.Types) > 1 {
					typ = b.Types[o-b.First]
				}
				st, _ := p.StateAt(o)
				_, count := before.StateAt(o)
				want := map[int8]State{AckAccept: Acknowledged, AckReject: Archived, AckGap: Archived, AckRenew: Acquired, AckRelease: Available}[typ]
				if typ == AckRelease && count >= lim.DeliveryLimit {
					want = Archived
				}
				if st != want && !(o < p.SPSO() && want.finished()) {
					t.Fatalf("offset %d acknowledged %d is %s, want %s", o, typ, st, want)
				}
			}
		}
		if d, ok := p.TakeDelta(); ok {
			if err := durable.Apply(d); err != nil {
				t.Fatalf("the acknowledgement's delta: %v", err)
			}
		}
		if got, want := fmt.Sprint(durable.fullDelta()), fmt.Sprint(p.fullDelta()); got != want {
			t.Fatalf("the durable copy is %s, the partition %s", got, want)
		}
	})
}

// fuzzPartition builds a partition over a log of 40 offsets in which
// three members acquired, acknowledged and released records at random.
func fuzzPartition(seed int64, lim Limits, now time.Time) (*Partition, []string) {
	r := rand.New(rand.NewSource(seed))
	members := []string{"a", "b", "c"}
	log := newSimLog(r, 40)
	p := NewPartition(0)
	for range 12 {
		m := members[r.Intn(len(members))]
		if from, ok := p.FetchOffset(log.end(), lim); ok {
			p.Acquire(m, from, log.read(from, 1+r.Intn(3)), 1+r.Intn(10), now, lim)
		}
		if r.Intn(3) == 0 {
			p.ReleaseMember(members[r.Intn(len(members))], lim)
		}
	}
	return p, members
}

// encodeAcks encodes batches as FuzzAcknowledge's input: first and last
// (8 bytes each, big endian), the number of types (1 byte), the types.
func encodeAcks(bs ...AckBatch) []byte {
	var out []byte
	for _, b := range bs {
		out = binary.BigEndian.AppendUint64(out, uint64(b.First))
		out = binary.BigEndian.AppendUint64(out, uint64(b.Last))
		out = append(out, byte(len(b.Types)))
		for _, t := range b.Types {
			out = append(out, byte(t))
		}
	}
	return out
}

func decodeAcks(raw []byte) []AckBatch {
	var out []AckBatch
	for len(raw) >= 17 {
		b := AckBatch{First: int64(binary.BigEndian.Uint64(raw)), Last: int64(binary.BigEndian.Uint64(raw[8:]))}
		n := min(int(raw[16]), len(raw)-17)
		for _, t := range raw[17 : 17+n] {
			b.Types = append(b.Types, int8(t))
		}
		out = append(out, b)
		raw = raw[17+n:]
	}
	return out
}

// modelCheckAcks says whether member may acknowledge batches, and with
// which error not, from Kafka's rules and the partition's offsets alone.
func modelCheckAcks(p *Partition, member string, batches []AckBatch, renew bool) error {
	maxType := AckReject
	if renew {
		maxType = AckRenew
	}
	for i, b := range batches {
		if b.First < 0 || b.Last < b.First || (i > 0 && b.First <= batches[i-1].Last) || len(b.Types) == 0 {
			return kerr.InvalidRequest
		}
		if len(b.Types) > 1 && uint64(len(b.Types)-1) != uint64(b.Last)-uint64(b.First) {
			return kerr.InvalidRequest
		}
		for _, t := range b.Types {
			if t < 0 || t > maxType {
				return kerr.InvalidRequest
			}
		}
		// Offsets are looked at one by one only within the window.
		if b.First < p.SPSO() || b.Last >= p.End() {
			return kerr.InvalidRecordState
		}
		for o := b.First; o <= b.Last; o++ {
			if st, _ := p.StateAt(o); st != Acquired || p.Owner(o) != member {
				return kerr.InvalidRecordState
			}
		}
	}
	return nil
}

// FuzzShareRequests decodes ShareFetch and ShareAcknowledge requests of
// any version from arbitrary bytes and sends them to a coordinator where
// a member holds records: no request panics or hangs, each partition is
// answered at most once, and the partition's state stays one the
// coordinator could have written.
func FuzzShareRequests(f *testing.F) {
	ack := shareAck("a", 1, fetchPart{tpT, []AckBatch{{0, 2, []int8{AckAccept}}}})
	fetch := shareFetch("a", 1, fetchPart{tpT, []AckBatch{{0, 1, []int8{AckRelease}}, {2, 9, []int8{AckReject}}}})
	for v := range int16(3) {
		ack.Version, fetch.Version = v, v
		f.Add(byte(79), byte(v), ack.AppendTo(nil))
		f.Add(byte(78), byte(v), fetch.AppendTo(nil))
	}
	f.Fuzz(func(t *testing.T, key, version byte, body []byte) {
		cfg := earliest()
		h := logHarness(t, cfg, func(o *Options) { o.MaxSessions = 4 }, 4, 6)
		h.heartbeat("g", "a", 0, "t")
		if r := fetchNow(context.Background(), h.c.ShareFetch(shareFetch("a", 0, fetchPart{tp: tpT}), Conn{ID: 1}, allReadable)); r.ErrorCode != 0 {
			t.Fatalf("open: %v", kerr.ErrorForCode(r.ErrorCode))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var answered []TopicPartition
		switch key {
		case 78:
			req := kmsg.NewPtrShareFetchRequest()
			req.Version = int16(version % 3)
			if req.ReadFrom(body) != nil {
				return
			}
			req.MaxWaitMillis = 0 // a long poll is the reply's business, not the fuzzer's
			resp := fetchNow(ctx, h.c.ShareFetch(req, Conn{ID: 2}, allReadable))
			for _, rt := range resp.Topics {
				for _, rp := range rt.Partitions {
					answered = append(answered, TopicPartition{rt.TopicID, rp.Partition})
				}
			}
		default:
			req := kmsg.NewPtrShareAcknowledgeRequest()
			req.Version = int16(version % 3)
			if req.ReadFrom(body) != nil {
				return
			}
			h.c.ShareAcknowledge(req, allReadable)(ctx)
		}
		if ctx.Err() != nil {
			t.Fatal("the request did not finish")
		}
		seen := map[TopicPartition]bool{}
		for _, tp := range answered {
			if seen[tp] {
				t.Fatalf("partition %v answered twice", tp)
			}
			seen[tp] = true
		}
		h.c.mu.Lock()
		defer h.c.mu.Unlock()
		for _, g := range h.c.groups {
			for _, sp := range g.parts {
				if err := sp.p.fullDelta().Validate(); err != nil {
					t.Fatalf("state: %v", err)
				}
				if sp.p.End()-sp.p.SPSO() > int64(cfg.MaxLocks) {
					t.Fatalf("window %d-%d beyond %d locks", sp.p.SPSO(), sp.p.End(), cfg.MaxLocks)
				}
			}
		}
		if n := h.c.sessions; n > 4 {
			t.Fatalf("%d sessions, limit 4", n)
		}
	})
}
