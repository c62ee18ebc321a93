package group

// fuzz_test.go fuzzes the group records' decoder: any bytes decode or are
// refused without panicking, and what decodes encodes back to a record
// that decodes the same. A state folded from decoded records snapshots to
// records that fold to the same state; FuzzTxnReplay checks that for any
// sequence of commits, transactional offsets, markers and deletions, and
// that the snapshot keeps the log order a later commit marker depends on.
// (The journal's framing and recovery have their own fuzz targets in
// internal/journal.)

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// seedRecords are one record of each kind.
func seedRecords() []record {
	meta := "meta"
	inst := "i"
	return []record{
		{kind: kindOffset, group: "g", tp: TopicPartition{"t", 1}, offset: Offset{Offset: 42, LeaderEpoch: 2, Metadata: &meta, CommitTime: time.UnixMilli(1000)}},
		{kind: kindGroup, group: "g", meta: &groupMeta{
			protocolType: "consumer", protocol: "range", generation: 3, leader: "m1", stateTime: time.UnixMilli(2000),
			members: []memberMeta{{id: "m1", instanceID: &inst, clientID: "c", clientHost: "/h", sessionTimeout: time.Second, rebalanceTimeout: time.Minute,
				protocols: []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{1, 2}}}, assignment: []byte{3}}},
		}},
		{kind: kindTxnOffset, group: "g", tp: TopicPartition{"t", 2}, pid: 7, epoch: 2,
			offset: Offset{Offset: 9, LeaderEpoch: 1, CommitTime: time.UnixMilli(3000)}},
		{kind: kindTxnMarker, group: "g", pid: 7, epoch: 2, commit: true},
		{kind: kindTxnOffset, group: "g", tp: TopicPartition{"t", 3}, pid: 8, epoch: 0, offset: Offset{Offset: 4, Metadata: &meta}},
		{kind: kindOffsetDelete, group: "g", tp: TopicPartition{"t", 1}},
		{kind: kindGroupDelete, group: "h"},
		{kind: kindConsumerGroup, group: "c", cgroup: &consumerGroupRec{epoch: 4, assignmentEpoch: 3,
			subscription: []subscribedTopic{{name: "t", id: TopicID{1}, partitions: 2}},
			target:       map[string]assignment{"m1": {TopicID{1}: {0, 1}}, "m2": {}},
			regexes:      map[string][]string{"t.*": {"t"}}}},
		{kind: kindConsumerMember, group: "c", cmember: &consumerMemberRec{id: "m1", instanceID: &inst, clientID: "c", clientHost: "/h",
			rebalanceTimeout: time.Minute, names: []string{"t", "u"}, regex: "x.*", assignor: "range", epoch: 3, prevEpoch: 2,
			state: memberUnrevoked, assigned: assignment{TopicID{1}: {0}}, revoking: assignment{TopicID{1}: {1}}}},
		{kind: kindConsumerMember, group: "c", cmember: &consumerMemberRec{id: "m3", names: []string{"t"}, epoch: 4, prevEpoch: 3,
			assigned: assignment{}, revoking: assignment{},
			classic: &classicMember{sessionTimeout: 10 * time.Second, protocols: []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{0, 3}}}}}},
		{kind: kindConsumerMemberDelete, group: "c", memberID: "m2"},
	}
}

func FuzzDecodeRecord(f *testing.F) {
	for _, r := range seedRecords() {
		f.Add(r.encode())
	}
	f.Add([]byte{})
	f.Add([]byte{3})
	f.Add([]byte{99, 1, 'g'})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeBody(data)
		if err != nil {
			return
		}
		again, err := decodeBody(r.encode())
		if err != nil || !reflect.DeepEqual(r, again) {
			t.Fatalf("re-encoded record decodes as %+v (%v), want %+v", again, err, r)
		}
		// Folded into a state, it snapshots stably.
		s := newState()
		s.apply(r)
		var snap []byte
		from := newState()
		for _, sr := range s.records() {
			snap = append(snap, sr.encode()...)
			dr, err := decodeBody(sr.encode())
			if err != nil {
				t.Fatalf("snapshot record does not decode: %v", err)
			}
			from.apply(dr)
		}
		var snap2 []byte
		for _, sr := range from.records() {
			snap2 = append(snap2, sr.encode()...)
		}
		if !bytes.Equal(snap, snap2) {
			t.Fatal("snapshot of a replayed snapshot differs")
		}
	})
}

func TestRecordRoundTrip(t *testing.T) {
	s := newState()
	for _, r := range seedRecords() {
		d, err := decodeBody(r.encode())
		if err != nil {
			t.Fatal(err)
		}
		s.apply(d)
	}
	if len(s.offsets) != 1 || s.offsets["g"][TopicPartition{"t", 2}].Offset != 9 || len(s.groups) != 1 {
		t.Fatalf("state %+v", s)
	}
	if p := s.txns["g"][8]; p == nil || p.offsets[TopicPartition{"t", 3}].Offset != 4 || len(s.txns["g"]) != 1 {
		t.Fatalf("pending transactional offsets %+v", s.txns)
	}
	m := s.groups["g"]
	if m.generation != 3 || len(m.members) != 1 || *m.members[0].instanceID != "i" || m.members[0].rebalanceTimeout != time.Minute {
		t.Fatalf("group %+v", m)
	}
	if _, err := decodeBody([]byte{99, 1, 'g'}); err == nil {
		t.Fatal("unknown kind decoded")
	}
}

// TestTxnRecordValidation: producer ids, epochs and transaction results
// out of their range are refused as damage, not folded.
func TestTxnRecordValidation(t *testing.T) {
	txnOffset := func(pid, epoch int64) []byte {
		b := appendString([]byte{byte(kindTxnOffset)}, "g")
		b = binary.AppendVarint(b, pid)
		b = binary.AppendVarint(b, epoch)
		return appendOffset(b, TopicPartition{"t", 0}, Offset{Offset: 1})
	}
	marker := func(pid, epoch int64, result ...byte) []byte {
		b := appendString([]byte{byte(kindTxnMarker)}, "g")
		b = binary.AppendVarint(b, pid)
		b = binary.AppendVarint(b, epoch)
		return append(b, result...)
	}
	for _, tc := range []struct {
		name string
		body []byte
		ok   bool
	}{
		{"offset", txnOffset(7, 3), true},
		{"offset, largest epoch", txnOffset(1<<40, math.MaxInt16), true},
		{"offset, negative producer id", txnOffset(-1, 0), false},
		{"offset, negative epoch", txnOffset(7, -1), false},
		{"offset, epoch past int16", txnOffset(7, math.MaxInt16+1), false},
		{"offset, cut short", txnOffset(7, 3)[:8], false},
		{"commit", marker(7, 3, 1), true},
		{"abort", marker(7, 3, 0), true},
		{"marker, result 2", marker(7, 3, 2), false},
		{"marker, no result", marker(7, 3), false},
		{"marker, trailing byte", marker(7, 3, 1, 0), false},
		{"marker, negative producer id", marker(-5, 3, 1), false},
	} {
		r, err := decodeBody(tc.body)
		if tc.ok != (err == nil) {
			t.Errorf("%s: decoded %+v, %v", tc.name, r, err)
		}
		if err != nil && !errors.Is(err, errCorrupt) {
			t.Errorf("%s: %v is not errCorrupt", tc.name, err)
		}
	}
}

// stateView is a state without its record numbers: what a client could
// see, and what is pending.
func stateView(s *state) (map[string]map[TopicPartition]Offset, map[string]map[int64]map[TopicPartition]Offset) {
	offsets := map[string]map[TopicPartition]Offset{}
	for g, m := range s.offsets {
		offsets[g] = map[TopicPartition]Offset{}
		for tp, o := range m {
			o.seq = 0
			offsets[g][tp] = o
		}
	}
	pending := map[string]map[int64]map[TopicPartition]Offset{}
	for g, ts := range s.txns {
		pending[g] = map[int64]map[TopicPartition]Offset{}
		for pid, tx := range ts {
			pending[g][pid] = map[TopicPartition]Offset{}
			for tp, o := range tx.offsets {
				o.seq = 0
				pending[g][pid][tp] = o
			}
		}
	}
	return offsets, pending
}

// foldEncoded folds recs into s through their encoding, as a replay does.
func foldEncoded(t *testing.T, s *state, recs []record) {
	t.Helper()
	for _, r := range recs {
		d, err := decodeBody(r.encode())
		if err != nil {
			t.Fatalf("record %+v does not decode: %v", r, err)
		}
		s.apply(d)
	}
}

// FuzzTxnReplay folds a sequence of records drawn from the fuzzer's bytes
// (two per record: what, and which group, partition and producer), then
// replays its snapshot: the replay shows the same offsets and pending
// offsets, and committing every open transaction afterwards gives both
// the same offsets, which holds only if the snapshot kept the log order
// of each partition's commit and transactional offsets.
func FuzzTxnReplay(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 1, 8, 2, 0})
	f.Add([]byte{0, 2, 1, 2, 1, 10, 0, 2, 2, 8, 4, 2, 3, 0})
	f.Add([]byte{1, 1, 5, 1, 1, 3, 0, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 400 {
			ops = ops[:400]
		}
		var recs []record
		for i := 0; i+1 < len(ops); i += 2 {
			what, arg := ops[i], ops[i+1]
			r := record{
				group: []string{"g", "h"}[arg&1],
				tp:    TopicPartition{"t", int32(arg >> 1 & 3)},
				pid:   int64(arg >> 3 & 3),
				epoch: int16(arg >> 5),
			}
			switch what % 8 {
			case 0, 1:
				r.kind, r.offset = kindOffset, Offset{Offset: int64(i)}
			case 2, 3:
				r.kind, r.offset = kindTxnOffset, Offset{Offset: int64(i)}
			case 4:
				r.kind, r.commit = kindTxnMarker, true
			case 5:
				r.kind = kindTxnMarker
			case 6:
				r.kind = kindOffsetDelete
			default:
				r.kind = kindGroupDelete
			}
			recs = append(recs, r)
		}
		a := newState()
		foldEncoded(t, a, recs)
		b := newState()
		foldEncoded(t, b, a.records())
		ao, ap := stateView(a)
		bo, bp := stateView(b)
		if !reflect.DeepEqual(ao, bo) || !reflect.DeepEqual(ap, bp) {
			t.Fatalf("replayed snapshot differs:\n%v %v\n%v %v", ao, ap, bo, bp)
		}
		var markers []record
		for _, g := range a.groupIDs() {
			for pid := range int64(4) {
				markers = append(markers, record{kind: kindTxnMarker, group: g, pid: pid, epoch: math.MaxInt16, commit: true})
			}
		}
		foldEncoded(t, a, markers)
		foldEncoded(t, b, markers)
		ao, ap = stateView(a)
		bo, bp = stateView(b)
		if !reflect.DeepEqual(ao, bo) || len(ap) != 0 || len(bp) != 0 {
			t.Fatalf("committing after the replay differs:\n%v %v\n%v %v", ao, ap, bo, bp)
		}
	})
}
