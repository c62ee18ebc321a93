package group

// record.go defines the group coordinator's records and their encoding;
// the journal (internal/journal) frames them, checksums them and keeps
// them in DATA/meta/groups/offsets.log.
//
// A record is kind uint8, then the kind's fields. Fields are
// uvarint-length-prefixed strings and bytes, zigzag varints for integers,
// and nullable strings with a varint length of -1 for null. Records are
// upserts and deletes keyed by group (and partition), so replaying a log,
// or a snapshot followed by a log, yields the latest state. Transactional
// offsets (kindTxnOffset) are the exception that order matters for, as in
// Kafka's __consumer_offsets: they stay pending until their producer's
// marker (kindTxnMarker), and when a COMMIT applies them a partition keeps
// whichever of its commit and its transactional offset came later in the
// log (txn.go). A marker finding nothing pending changes nothing, so a
// marker written again after a crash is harmless.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// recordKind tells records apart.
type recordKind uint8

const (
	kindOffset       recordKind = 1 // a committed offset
	kindOffsetDelete recordKind = 2 // an offset deleted or expired
	kindGroup        recordKind = 3 // a group's generation and members
	kindGroupDelete  recordKind = 4 // a group deleted with its offsets
	kindTxnOffset    recordKind = 5 // a transactional offset, pending until its marker
	kindTxnMarker    recordKind = 6 // a transaction's end: its pending offsets applied or dropped
)

// record is one change to persist.
type record struct {
	kind   recordKind
	group  string
	tp     TopicPartition // kindOffset, kindOffsetDelete, kindTxnOffset
	offset Offset         // kindOffset, kindTxnOffset
	meta   *groupMeta     // kindGroup
	pid    int64          // kindTxnOffset, kindTxnMarker: the producer id
	epoch  int16          // kindTxnOffset, kindTxnMarker: the producer epoch
	commit bool           // kindTxnMarker: COMMIT (true) or ABORT

	cgroup   *consumerGroupRec  // kindConsumerGroup
	cmember  *consumerMemberRec // kindConsumerMember
	memberID string             // kindConsumerMemberDelete

	// then, if set, is told the record's outcome once it is durable (nil)
	// or known not to be; the coordinator calls it under the group's
	// lock, after folding a durable record into the group. Not encoded.
	then func(now time.Time, err error)
}

// groupMeta is a group's persisted membership.
type groupMeta struct {
	protocolType string
	protocol     string
	generation   int32
	leader       string
	stateTime    time.Time
	members      []memberMeta
}

// memberMeta is a persisted member.
type memberMeta struct {
	id               string
	instanceID       *string
	clientID         string
	clientHost       string
	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration
	protocols        []kmsg.JoinGroupRequestProtocol
	assignment       []byte
}

// errCorrupt marks a record that cannot be decoded: a bug or a newer
// format. The journal skips it loudly and keeps a copy of the file.
var errCorrupt = errors.New("corrupt record")

// encode returns r's bytes for the journal.
func (r record) encode() []byte { return appendBody(nil, r) }

// appendBody appends r's encoding to b.
func appendBody(b []byte, r record) []byte {
	b = append(b, byte(r.kind))
	b = appendString(b, r.group)
	switch r.kind {
	case kindOffset:
		b = appendOffset(b, r.tp, r.offset)
	case kindTxnOffset:
		b = binary.AppendVarint(b, r.pid)
		b = binary.AppendVarint(b, int64(r.epoch))
		b = appendOffset(b, r.tp, r.offset)
	case kindTxnMarker:
		b = binary.AppendVarint(b, r.pid)
		b = binary.AppendVarint(b, int64(r.epoch))
		if r.commit {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	case kindOffsetDelete:
		b = appendString(b, r.tp.Topic)
		b = binary.AppendVarint(b, int64(r.tp.Partition))
	case kindGroup:
		m := r.meta
		b = appendString(b, m.protocolType)
		b = appendString(b, m.protocol)
		b = binary.AppendVarint(b, int64(m.generation))
		b = appendString(b, m.leader)
		b = binary.AppendVarint(b, m.stateTime.UnixMilli())
		b = binary.AppendUvarint(b, uint64(len(m.members)))
		for _, mm := range m.members {
			b = appendString(b, mm.id)
			b = appendNullableString(b, mm.instanceID)
			b = appendString(b, mm.clientID)
			b = appendString(b, mm.clientHost)
			b = binary.AppendVarint(b, mm.sessionTimeout.Milliseconds())
			b = binary.AppendVarint(b, mm.rebalanceTimeout.Milliseconds())
			b = binary.AppendUvarint(b, uint64(len(mm.protocols)))
			for _, p := range mm.protocols {
				b = appendString(b, p.Name)
				b = appendBytes(b, p.Metadata)
			}
			b = appendBytes(b, mm.assignment)
		}
	case kindGroupDelete:
	default:
		b = appendConsumer(b, r)
	}
	return b
}

// appendOffset appends a committed offset's fields, the same for a
// commit and a transactional commit.
func appendOffset(b []byte, tp TopicPartition, o Offset) []byte {
	b = appendString(b, tp.Topic)
	b = binary.AppendVarint(b, int64(tp.Partition))
	b = binary.AppendVarint(b, o.Offset)
	b = binary.AppendVarint(b, int64(o.LeaderEpoch))
	b = appendNullableString(b, o.Metadata)
	return binary.AppendVarint(b, o.CommitTime.UnixMilli())
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

func appendNullableString(b []byte, s *string) []byte {
	if s == nil {
		return binary.AppendVarint(b, -1)
	}
	b = binary.AppendVarint(b, int64(len(*s)))
	return append(b, *s...)
}

// decoder reads fields, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s", errCorrupt, what)
	}
	d.b = nil
}

func (d *decoder) uvarint(what string) uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint(what string) int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int32(what string) int32 {
	v := d.varint(what)
	if v < -1<<31 || v > 1<<31-1 {
		d.fail(what)
		return 0
	}
	return int32(v)
}

func (d *decoder) bytes(what string) []byte {
	n := d.uvarint(what)
	if n > uint64(len(d.b)) {
		d.fail(what)
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) string(what string) string { return string(d.bytes(what)) }

func (d *decoder) nullableString(what string) *string {
	n := d.varint(what)
	if n == -1 {
		return nil
	}
	if n < 0 || n > int64(len(d.b)) {
		d.fail(what)
		return nil
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return &s
}

func (d *decoder) millis(what string) time.Duration {
	ms := d.varint(what)
	// A timeout is never negative, and one past what a Duration holds (292
	// years) is damage: multiplying it would wrap around.
	if ms < 0 || ms > math.MaxInt64/int64(time.Millisecond) {
		d.fail(what)
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}

// offset reads the fields appendOffset writes.
func (d *decoder) offset() (TopicPartition, Offset) {
	var (
		tp TopicPartition
		o  Offset
	)
	tp.Topic = d.string("topic")
	tp.Partition = d.int32("partition")
	o.Offset = d.varint("offset")
	o.LeaderEpoch = d.int32("leader epoch")
	o.Metadata = d.nullableString("metadata")
	o.CommitTime = time.UnixMilli(d.varint("commit time"))
	return tp, o
}

// producer reads a producer id and epoch: Kafka's producer ids are never
// negative and its epochs fit 0..32767 (-1, "no epoch", is never
// written), so anything else is damage.
func (d *decoder) producer() (int64, int16) {
	pid := d.varint("producer id")
	if pid < 0 {
		d.fail("producer id")
	}
	epoch := d.varint("producer epoch")
	if epoch < 0 || epoch > math.MaxInt16 {
		d.fail("producer epoch")
	}
	if d.err != nil {
		return 0, 0
	}
	return pid, int16(epoch)
}

// flag reads a boolean byte, 0 or 1.
func (d *decoder) flag(what string) bool {
	if len(d.b) == 0 || d.b[0] > 1 {
		d.fail(what)
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}

// count reads a list length, bounded by the bytes left (each element
// takes at least one).
func (d *decoder) count(what string) int {
	n := d.uvarint(what)
	if n > uint64(len(d.b)) {
		d.fail(what)
		return 0
	}
	return int(n)
}

// decodeBody decodes a record body. Body bytes are copied, so the record
// does not alias the input.
func decodeBody(body []byte) (record, error) {
	if len(body) == 0 {
		return record{}, fmt.Errorf("%w: empty body", errCorrupt)
	}
	d := &decoder{b: body[1:]}
	r := record{kind: recordKind(body[0])}
	r.group = d.string("group")
	switch r.kind {
	case kindOffset:
		r.tp, r.offset = d.offset()
	case kindTxnOffset:
		r.pid, r.epoch = d.producer()
		r.tp, r.offset = d.offset()
	case kindTxnMarker:
		r.pid, r.epoch = d.producer()
		r.commit = d.flag("transaction result")
	case kindOffsetDelete:
		r.tp.Topic = d.string("topic")
		r.tp.Partition = d.int32("partition")
	case kindGroup:
		m := &groupMeta{}
		m.protocolType = d.string("protocol type")
		m.protocol = d.string("protocol")
		m.generation = d.int32("generation")
		m.leader = d.string("leader")
		m.stateTime = time.UnixMilli(d.varint("state time"))
		n := d.count("member count")
		for i := 0; i < n && d.err == nil; i++ {
			var mm memberMeta
			mm.id = d.string("member id")
			mm.instanceID = d.nullableString("instance id")
			mm.clientID = d.string("client id")
			mm.clientHost = d.string("client host")
			mm.sessionTimeout = d.millis("session timeout")
			mm.rebalanceTimeout = d.millis("rebalance timeout")
			np := d.count("protocol count")
			for j := 0; j < np && d.err == nil; j++ {
				name := d.string("protocol name")
				meta := append([]byte{}, d.bytes("protocol metadata")...)
				mm.protocols = append(mm.protocols, kmsg.JoinGroupRequestProtocol{Name: name, Metadata: meta})
			}
			mm.assignment = append([]byte{}, d.bytes("assignment")...)
			m.members = append(m.members, mm)
		}
		r.meta = m
	case kindGroupDelete:
	case kindConsumerGroup, kindConsumerMember, kindConsumerMemberDelete:
		decodeConsumer(d, &r)
	default:
		return record{}, fmt.Errorf("%w: unknown kind %d", errCorrupt, r.kind)
	}
	if d.err != nil {
		return record{}, d.err
	}
	if len(d.b) != 0 {
		return record{}, fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(d.b))
	}
	return r, nil
}
