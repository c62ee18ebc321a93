package bench

// payload.go defines what a benchmark record carries and how the producer
// reuses record memory.

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// HeaderSize is the size of the header at the start of every value.
const HeaderSize = 16

// PutHeader writes the header into the first [HeaderSize] bytes of v: the
// send time sent (nanoseconds on the run's clock) at [0:8) and the sequence
// number seq at [8:16), both big endian. v must be at least HeaderSize long.
func PutHeader(v []byte, seq uint64, sent int64) {
	binary.BigEndian.PutUint64(v[0:8], uint64(sent))
	binary.BigEndian.PutUint64(v[8:16], seq)
}

// ReadHeader returns the sequence number and send time PutHeader wrote into
// v, or ok false if v is too short to hold them.
func ReadHeader(v []byte) (seq uint64, sent int64, ok bool) {
	if len(v) < HeaderSize {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(v[8:16]), int64(binary.BigEndian.Uint64(v[0:8])), true
}

// clock measures send and receive times for one run. Producers and consumers
// share it inside one process, so it is monotonic and needs no sync.
type clock struct{ base time.Time }

func newClock() clock { return clock{base: time.Now()} }

// now returns the nanoseconds since the clock's base.
func (c clock) now() int64 { return int64(time.Since(c.base)) }

// recordPool is a producer's fixed set of records. A record leaves the pool
// when it is produced and returns when its promise runs, so the pool size
// bounds the records in flight and neither a value nor a key is allocated
// per record.
type recordPool struct {
	topic string
	free  chan *kgo.Record
}

// newRecordPool returns n records for topic whose size-byte values are
// filled once with random bytes from rng. keyCap bytes of room for a key
// follow each value in memory, beyond its length but within its capacity
// (see keyBuf): kgo reads only len(Value), and the record keeps the room
// across reuse without a field of its own.
func newRecordPool(topic string, n, size, keyCap int, rng *rand.ChaCha8) *recordPool {
	p := &recordPool{topic: topic, free: make(chan *kgo.Record, n)}
	stride := size + keyCap
	backing := make([]byte, n*stride)
	_, _ = rng.Read(backing) // never fails
	for i := range n {
		v := backing[i*stride : i*stride+size : (i+1)*stride]
		p.free <- &kgo.Record{Topic: topic, Value: v}
	}
	return p
}

// keyBuf returns the empty key room behind a pooled record's value: append
// the key to it and set it as the record's Key.
func keyBuf(r *kgo.Record) []byte { return r.Value[len(r.Value):len(r.Value):cap(r.Value)] }

// get takes a free record, waiting for a promise to return one. The record is
// reset: only Topic and Value are set.
func (p *recordPool) get(ctx context.Context) (*kgo.Record, error) {
	select {
	case r := <-p.free:
		*r = kgo.Record{Topic: p.topic, Value: r.Value}
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// put returns a record whose promise ran. It never blocks: the channel holds
// every record the pool owns.
func (p *recordPool) put(r *kgo.Record) { p.free <- r }

// seen records which sequence numbers a consumer received.
type seen struct {
	bits    []uint64
	n       uint64
	unique  int // distinct sequence numbers in [0, n)
	dups    int // records whose sequence number was already seen
	invalid int // records too short or with a sequence number >= n
}

func newSeen(n int) *seen {
	return &seen{bits: make([]uint64, (n+63)/64), n: uint64(n)}
}

// mark notes seq as received and reports whether it is new.
func (s *seen) mark(seq uint64) bool {
	if seq >= s.n {
		s.invalid++
		return false
	}
	w, b := seq/64, uint64(1)<<(seq%64)
	if s.bits[w]&b != 0 {
		s.dups++
		return false
	}
	s.bits[w] |= b
	s.unique++
	return true
}

// has reports whether seq was received.
func (s *seen) has(seq uint64) bool {
	return seq < s.n && s.bits[seq/64]&(1<<(seq%64)) != 0
}

// missing is how many sequence numbers were never received.
func (s *seen) missing() int { return int(s.n) - s.unique }

// firstMissing returns up to limit sequence numbers never received, for error
// messages.
func (s *seen) firstMissing(limit int) []uint64 {
	var out []uint64
	for seq := uint64(0); seq < s.n && len(out) < limit; seq++ {
		if s.bits[seq/64]&(1<<(seq%64)) == 0 {
			out = append(out, seq)
		}
	}
	return out
}
