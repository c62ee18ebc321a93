package group

// consumer_fuzz_test.go fuzzes the consumer group records: decoding
// refuses what breaks their rules (TestConsumerRecordValidation), and any
// sequence of consumer group, member and classic records folds into a
// state whose snapshot replays to the same state and restores into a
// group that keeps the ownership invariant, whatever the records claim
// (FuzzConsumerReplay).

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestConsumerRecordValidation(t *testing.T) {
	member := func(mod func(b []byte) []byte, state byte, assigned []int32) []byte {
		b := appendString([]byte{byte(kindConsumerMember)}, "g")
		b = appendString(b, "m")
		b = appendNullableString(b, nil)
		b = appendNullableString(b, nil)
		b = appendString(b, "c")
		b = appendString(b, "/h")
		b = binary.AppendVarint(b, 1000)
		b = appendStrings(b, nil)
		b = appendString(b, "")
		b = appendString(b, "")
		b = binary.AppendVarint(b, 3)
		b = binary.AppendVarint(b, 2)
		b = append(b, state)
		b = binary.AppendUvarint(b, 1)
		b = append(b, make([]byte, 16)...)
		b = binary.AppendUvarint(b, uint64(len(assigned)))
		for _, p := range assigned {
			b = binary.AppendVarint(b, int64(p))
		}
		b = binary.AppendUvarint(b, 0) // revoking
		b = append(b, 0)               // not a classic member
		if mod != nil {
			b = mod(b)
		}
		return b
	}
	group := func(epoch, assignEpoch int64) []byte {
		b := appendString([]byte{byte(kindConsumerGroup)}, "g")
		b = binary.AppendVarint(b, epoch)
		b = binary.AppendVarint(b, assignEpoch)
		b = binary.AppendUvarint(b, 0)
		b = binary.AppendUvarint(b, 0)
		return binary.AppendUvarint(b, 0)
	}
	for _, tc := range []struct {
		name string
		body []byte
		ok   bool
	}{
		{"member", member(nil, 0, []int32{0, 2}), true},
		{"member, unknown state", member(nil, 3, []int32{0}), false},
		{"member, partitions out of order", member(nil, 0, []int32{2, 0}), false},
		{"member, repeated partition", member(nil, 0, []int32{1, 1}), false},
		{"member, negative partition", member(nil, 0, []int32{-1}), false},
		{"member, topic with no partitions", member(nil, 0, nil), false},
		{"member, trailing byte", member(func(b []byte) []byte { return append(b, 0) }, 0, []int32{0}), false},
		{"member, cut short", member(nil, 0, []int32{0})[:20], false},
		{"classic member", member(func(b []byte) []byte {
			b[len(b)-1] = 1
			b = binary.AppendVarint(b, 10000)
			b = binary.AppendUvarint(b, 1)
			return appendBytes(appendString(b, "range"), []byte{0, 1})
		}, 0, []int32{0}), true},
		{"classic member without protocols", member(func(b []byte) []byte {
			b[len(b)-1] = 1
			return binary.AppendUvarint(binary.AppendVarint(b, 10000), 0)
		}, 0, []int32{0}), false},
		{"member, classic flag 2", member(func(b []byte) []byte { b[len(b)-1] = 2; return b }, 0, []int32{0}), false},
		{"group", group(5, 4), true},
		{"group, assignment epoch past group epoch", group(4, 5), false},
		{"group, negative epoch", group(-1, -1), false},
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

// FuzzConsumerReplay folds consumer records drawn from the fuzzer's bytes
// (three per record: what, which group and member, and which partitions
// and epochs), interleaved with classic group records and deletions,
// then replays the state's snapshot (it must fold to the same state), and
// restores every consumer group: no partition may be owned twice, and the
// owners index must be exactly the members' partitions, however
// contradictory the records were.
func FuzzConsumerReplay(f *testing.F) {
	f.Add([]byte{0, 0, 3, 1, 1, 5, 1, 2, 5})
	f.Add([]byte{1, 1, 1, 1, 2, 1, 3, 0, 0, 1, 1, 7})
	f.Add([]byte{0, 0, 9, 4, 0, 0, 1, 1, 255, 2, 1, 0, 5, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 600 {
			ops = ops[:600]
		}
		var recs []record
		for i := 0; i+2 < len(ops); i += 3 {
			what, who, bits := ops[i], ops[i+1], ops[i+2]
			g := []string{"a", "b"}[who&1]
			mid := fmt.Sprintf("m%d", who>>1&3)
			parts := assignment{}
			for p := range int32(4) {
				if bits>>p&1 == 1 {
					parts[TopicID{1}] = append(parts[TopicID{1}], p)
				}
			}
			switch what % 6 {
			case 0:
				epoch := int32(bits >> 4)
				recs = append(recs, record{kind: kindConsumerGroup, group: g, cgroup: &consumerGroupRec{
					epoch: epoch + 1, assignmentEpoch: epoch,
					subscription: []subscribedTopic{{name: "t", id: TopicID{1}, partitions: 4}},
					target:       map[string]assignment{mid: parts},
					regexes:      map[string][]string{},
				}})
			case 1, 2:
				var inst *string
				if who&8 != 0 {
					s := "i"
					inst = &s
				}
				var classic *classicMember
				if what&32 != 0 {
					classic = &classicMember{sessionTimeout: time.Second, protocols: []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{bits}}}}
				}
				recs = append(recs, record{kind: kindConsumerMember, group: g, cmember: &consumerMemberRec{
					id: mid, instanceID: inst, rebalanceTimeout: time.Second, names: []string{"t"},
					epoch: int32(bits>>4) - 2, prevEpoch: -2, state: memberState(what % 3),
					assigned: parts, revoking: parts.filter(func(TopicID, int32) bool { return what&16 != 0 }),
					classic: classic,
				}})
			case 3:
				recs = append(recs, record{kind: kindConsumerMemberDelete, group: g, memberID: mid})
			case 4:
				recs = append(recs, record{kind: kindGroup, group: g, meta: &groupMeta{protocolType: "consumer", stateTime: time.UnixMilli(0)}})
			default:
				recs = append(recs, record{kind: kindGroupDelete, group: g})
			}
		}
		a := newState()
		foldEncoded(t, a, recs)
		b := newState()
		foldEncoded(t, b, a.records())
		if !reflect.DeepEqual(a.consumers, b.consumers) || !reflect.DeepEqual(a.groups, b.groups) {
			t.Fatalf("replayed snapshot differs:\n%+v\n%+v", a.consumers, b.consumers)
		}
		cfg := defaultConfig()
		for id, cd := range a.consumers {
			g := newGroup(id, &cfg, t0)
			g.restoreConsumer(cd, t0)
			owners := map[tpKey]string{}
			for _, m := range g.cg.members {
				m.owns().each(func(tid TopicID, p int32) {
					if o, dup := owners[tpKey{tid, p}]; dup {
						t.Fatalf("group %s restored with %v-%d owned by %s and %s", id, tid, p, o, m.id)
					}
					owners[tpKey{tid, p}] = m.id
				})
			}
			if !reflect.DeepEqual(owners, g.cg.owners) {
				t.Fatalf("group %s owners index %v, members own %v", id, g.cg.owners, owners)
			}
			for mid := range g.cg.target {
				if g.cg.members[mid] == nil {
					t.Fatalf("group %s restored a target for %s, who is not a member", id, mid)
				}
			}
		}
	})
}
