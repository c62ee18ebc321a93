package journal

// scan.go reads a journal file's bytes at Open and decides, for every
// byte, whether it is a record to replay, a damaged region to skip, or a
// torn tail to cut; or that the file cannot be read safely at all. It does
// no I/O, so that it can be tested and fuzzed on its own.
//
// The rules, in order, at a position where no valid frame starts:
//
//  1. A frame whose header is sane and whose extent is followed by a valid
//     frame is one record with a bad checksum: skip it.
//  2. Otherwise look for the next valid frame further on (a CRC-32C match
//     over a sane length, strong evidence of a real record): skip the
//     region up to it. How many records it held cannot be known.
//  3. With no valid frame anywhere after, the rest is a torn tail if one
//     interrupted append can explain it: a partial header, frames whose
//     headers chain to or past the end of the file, or zeros (a size that
//     reached the disk before the data). Cut it.
//  4. Anything else (a chain of headers that breaks before the end, with
//     no valid frame after) is damage in the middle: refuse, naming the
//     byte offset, rather than drop the rest silently.

import (
	"errors"
	"fmt"
)

// damage is a region skipped by the scan.
type damage struct {
	offset, length int
	reason         string
}

// scanResult is what scan found.
type scanResult struct {
	end     int      // bytes kept: where a torn tail starts, else len(data)
	records int      // records replayed
	damaged []damage // regions skipped before end
}

// errFramingLost is scan's refusal; Open wraps it in a DamageError.
var errFramingLost = errors.New("framing lost")

// scan walks data, calling replay with each valid record's body (which
// aliases data) and its offset. A record replay rejects is skipped as
// damaged. On errFramingLost the result's end is where the damage starts.
func scan(data []byte, maxRecord int, replay func(off int, rec []byte) error) (scanResult, error) {
	var res scanResult
	off := 0
	for off < len(data) {
		if size := validFrame(data, off, maxRecord); size > 0 {
			if err := replay(off, data[off+frameHeader:off+size]); err != nil {
				res.damaged = append(res.damaged, damage{off, size, fmt.Sprintf("record rejected by its decoder: %v", err)})
			} else {
				res.records++
			}
			off += size
			continue
		}
		if n, ok := frameLen(data, off); ok && n > 0 && n <= maxRecord {
			if next := off + frameHeader + n; next < len(data) && validFrame(data, next, maxRecord) > 0 {
				res.damaged = append(res.damaged, damage{off, next - off, "checksum mismatch"})
				off = next
				continue
			}
		}
		if q := nextValidFrame(data, off+1, maxRecord); q > 0 {
			res.damaged = append(res.damaged, damage{off, q - off, "framing lost; resynchronized on the next valid record"})
			off = q
			continue
		}
		res.end = off
		if tornTail(data[off:], maxRecord) {
			return res, nil
		}
		return res, errFramingLost
	}
	res.end = off
	return res, nil
}

// nextValidFrame returns the first offset at or after from where a valid
// frame starts, or 0.
func nextValidFrame(data []byte, from, maxRecord int) int {
	for q := from; q+frameHeader < len(data); q++ {
		if validFrame(data, q, maxRecord) > 0 {
			return q
		}
	}
	return 0
}

// tornTail reports whether tail, which holds no valid frame, is what one
// interrupted append leaves: a partial header, headers that chain to or
// past the end, or zeros from some header on.
func tornTail(tail []byte, maxRecord int) bool {
	q := 0
	for {
		n, ok := frameLen(tail, q)
		switch {
		case q == len(tail) || !ok:
			return true
		case n == 0:
			return allZero(tail[q:])
		case n > maxRecord:
			return false
		case q+frameHeader+n >= len(tail):
			return true
		}
		q += frameHeader + n
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
