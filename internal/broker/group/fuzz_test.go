package group

// fuzz_test.go fuzzes the group records' decoder: any bytes decode or are
// refused without panicking, and what decodes encodes back to a record
// that decodes the same. A state folded from decoded records snapshots to
// records that fold to the same state. (The journal's framing and
// recovery have their own fuzz targets in internal/journal.)

import (
	"bytes"
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
		{kind: kindOffsetDelete, group: "g", tp: TopicPartition{"t", 1}},
		{kind: kindGroupDelete, group: "h"},
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
	if len(s.offsets) != 0 || len(s.groups) != 1 {
		t.Fatalf("state %+v", s)
	}
	m := s.groups["g"]
	if m.generation != 3 || len(m.members) != 1 || *m.members[0].instanceID != "i" || m.members[0].rebalanceTimeout != time.Minute {
		t.Fatalf("group %+v", m)
	}
	if _, err := decodeBody([]byte{99, 1, 'g'}); err == nil {
		t.Fatal("unknown kind decoded")
	}
}
