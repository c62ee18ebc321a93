package server

// encode_fetch.go encodes responses for writing as a list of segments, so
// that a fetch response's record bytes go to the socket straight from the
// buffers the fetch read them into: the response is never held twice in
// memory (once read, once encoded), which halves a fetch's peak memory and
// saves copying it.
//
// kmsg encodes into one contiguous buffer, so the record fields are taken
// out before encoding: each large RecordBatches field is replaced by a
// 16-byte marker (a random per-response salt and the field's index),
// kmsg encodes the response, and each marker, with the length prefix kmsg
// wrote for it, is cut out and replaced by the length prefix of the real
// records followed by the records themselves as their own segment. The
// splice is only used when every marker occurs exactly once in the
// encoding: the marker is certainly in its own field, so a single
// occurrence can only be that field. Otherwise (a record field too small
// to splice happening to contain a marker) the response is encoded whole,
// the plain way. Either way the bytes written are exactly kmsg's encoding
// (encode_fetch_test.go checks this for every version).

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// spliceMin is the smallest record field written from its own buffer;
// smaller ones are cheaper to copy than to write as a separate segment.
const spliceMin = 16 << 10

// markerLen is the length of a record field's stand-in.
const markerLen = 16

// encodeResponseSegments encodes a size-prefixed response frame, appending
// what it encodes to dst. It returns the encoding buffer (for reuse), the
// segments that make up the frame, in order, and the frame's total size.
func encodeResponseSegments(dst []byte, corr int32, resp kmsg.Response) ([]byte, [][]byte, int) {
	if fr, ok := resp.(*kmsg.FetchResponse); ok {
		if enc, segs, size, ok := encodeFetchSpliced(dst, corr, fr, rand.Uint64()); ok {
			return enc, segs, size
		}
	}
	if hint := sizeHint(resp); cap(dst) < hint {
		dst = make([]byte, 0, hint)
	}
	enc := encodeResponse(dst, corr, resp)
	return enc, [][]byte{enc}, len(enc)
}

// encodeFetchSpliced encodes fr with its large record fields as separate
// segments, as described at the top of the file. ok is false when there is
// nothing to splice or a marker is ambiguous; fr is left as it was.
func encodeFetchSpliced(dst []byte, corr int32, fr *kmsg.FetchResponse, salt uint64) (enc []byte, segs [][]byte, size int, ok bool) {
	var fields []*[]byte
	for i := range fr.Topics {
		for j := range fr.Topics[i].Partitions {
			if rb := &fr.Topics[i].Partitions[j].RecordBatches; len(*rb) >= spliceMin {
				fields = append(fields, rb)
			}
		}
	}
	if len(fields) == 0 {
		return dst, nil, 0, false
	}
	records := make([][]byte, len(fields))
	markers := make([]byte, markerLen*len(fields))
	for k, f := range fields {
		m := markers[k*markerLen : (k+1)*markerLen : (k+1)*markerLen]
		binary.BigEndian.PutUint64(m, salt)
		binary.BigEndian.PutUint64(m[8:], uint64(k))
		records[k], *f = *f, m
	}
	defer func() {
		for k, f := range fields {
			*f = records[k]
		}
	}()

	enc = encodeResponse(dst, corr, fr)
	flexible := fr.IsFlexible()
	markerPrefix := appendBytesPrefix(nil, markerLen, flexible)
	// The skeleton is the encoding with each marker's prefix replaced by
	// the real records' prefix and the marker left out; cuts are where the
	// records go.
	skel := make([]byte, 0, len(enc)+5*len(fields))
	cuts := make([]int, len(fields))
	prev := 0
	for k := range fields {
		m := markers[k*markerLen : (k+1)*markerLen]
		if bytes.Count(enc, m) != 1 {
			return enc, nil, 0, false
		}
		at := bytes.Index(enc, m)
		start := at - len(markerPrefix)
		if start < prev || !bytes.Equal(enc[start:at], markerPrefix) {
			return enc, nil, 0, false
		}
		skel = append(skel, enc[prev:start]...)
		skel = appendBytesPrefix(skel, len(records[k]), flexible)
		cuts[k] = len(skel)
		prev = at + markerLen
	}
	skel = append(skel, enc[prev:]...)

	size = len(skel)
	for _, r := range records {
		size += len(r)
	}
	binary.BigEndian.PutUint32(skel, uint32(size-4))
	segs = make([][]byte, 0, 2*len(fields)+1)
	from := 0
	for k, cut := range cuts {
		segs = append(segs, skel[from:cut], records[k])
		from = cut
	}
	segs = append(segs, skel[from:])
	return enc, segs, size, true
}

// appendBytesPrefix appends the length prefix kmsg writes before a non-null
// bytes field of n bytes: an int32, or in flexible versions the compact
// form, a uvarint of n+1.
func appendBytesPrefix(dst []byte, n int, flexible bool) []byte {
	if flexible {
		return kbin.AppendUvarint(dst, uint32(n)+1)
	}
	return kbin.AppendInt32(dst, int32(n))
}

// sizeHint estimates a response's encoded size so that encoding appends
// into one allocation instead of regrowing (and copying) a fetch
// response's record bytes several times over.
func sizeHint(resp kmsg.Response) int {
	fr, ok := resp.(*kmsg.FetchResponse)
	if !ok {
		return 0
	}
	n := 1024
	for i := range fr.Topics {
		n += 64 + len(fr.Topics[i].Topic)
		for j := range fr.Topics[i].Partitions {
			n += 96 + len(fr.Topics[i].Partitions[j].RecordBatches)
		}
	}
	return n
}
