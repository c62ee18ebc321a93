package group

// fuzz_test.go fuzzes the offsets log decoder and its recovery: any bytes
// must replay without panicking to a whole-record prefix whose snapshot
// replays to the same state.

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func seedLog() []byte {
	meta := "meta"
	inst := "i"
	var b []byte
	b = appendFrame(b, record{kind: kindOffset, group: "g", tp: TopicPartition{"t", 1}, offset: Offset{Offset: 42, LeaderEpoch: 2, Metadata: &meta, CommitTime: time.UnixMilli(1000)}})
	b = appendFrame(b, record{kind: kindGroup, group: "g", meta: &groupMeta{
		protocolType: "consumer", protocol: "range", generation: 3, leader: "m1", stateTime: time.UnixMilli(2000),
		members: []memberMeta{{id: "m1", instanceID: &inst, clientID: "c", clientHost: "/h", sessionTimeout: time.Second, rebalanceTimeout: time.Minute,
			protocols: []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{1, 2}}}, assignment: []byte{3}}},
	}})
	b = appendFrame(b, record{kind: kindOffsetDelete, group: "g", tp: TopicPartition{"t", 1}})
	b = appendFrame(b, record{kind: kindGroupDelete, group: "h"})
	return b
}

func FuzzReplay(f *testing.F) {
	seed := seedLog()
	f.Add(seed)
	f.Add(seed[:len(seed)-5])
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newState()
		n, err := replay(data, s)
		if n < 0 || n > len(data) {
			t.Fatalf("prefix %d of %d bytes", n, len(data))
		}
		if err != nil {
			return
		}
		// The whole-record prefix replays alone to the same state ...
		again := newState()
		if m, err := replay(data[:n], again); err != nil || m != n || !reflect.DeepEqual(s, again) {
			t.Fatalf("prefix replay: %d %v", m, err)
		}
		// ... and so does its snapshot, which is stable.
		var snap []byte
		for _, r := range s.records() {
			snap = appendFrame(snap, r)
		}
		fromSnap := newState()
		if m, err := replay(snap, fromSnap); err != nil || m != len(snap) {
			t.Fatalf("snapshot replay: %d/%d %v", m, len(snap), err)
		}
		var snap2 []byte
		for _, r := range fromSnap.records() {
			snap2 = appendFrame(snap2, r)
		}
		if !bytes.Equal(snap, snap2) {
			t.Fatal("snapshot of a replayed snapshot differs")
		}
	})
}

func TestRecordRoundTrip(t *testing.T) {
	s := newState()
	data := seedLog()
	if n, err := replay(data, s); err != nil || n != len(data) {
		t.Fatalf("replay %d/%d: %v", n, len(data), err)
	}
	if len(s.offsets) != 0 || len(s.groups) != 1 {
		t.Fatalf("state %+v", s)
	}
	m := s.groups["g"]
	if m.generation != 3 || len(m.members) != 1 || *m.members[0].instanceID != "i" || m.members[0].rebalanceTimeout != time.Minute {
		t.Fatalf("group %+v", m)
	}
}
