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
//     reached the disk before the data), all the way or as a hole of at
//     least holeRun bytes (sectors never written) before sectors that
//     were. Cut it.
//  4. Anything else (a chain of headers that breaks before the end, with
//     no valid frame after) is damage in the middle: refuse, naming the
//     byte offset, rather than drop the rest silently.
//
// Under Options.RefuseDamage rules 1 and 2 refuse too, unless the damage
// and everything after it is one interrupted append whose unwritten
// sectors read as zeros (tornWithHoles): that is a torn tail as well.

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
	// holed: the torn tail holds a hole with written bytes after it, which
	// recovery keeps a copy of before cutting.
	holed bool
}

// errFramingLost is scan's refusal; Open wraps it in a DamageError.
var errFramingLost = errors.New("framing lost")

// errStopped is scan's answer, when asked to stop at damage, to the first
// damaged record; the result's end is where it starts and its damaged
// list holds it alone.
var errStopped = errors.New("stopped at damage")

// scan walks data, calling replay with each valid record's body (which
// aliases data) and its offset. A record replay rejects is skipped as
// damaged, as is a region rules 1 and 2 explain; with stop, scan instead
// returns errStopped at the first such damage, having replayed nothing
// after it. On errFramingLost the result's end is where the damage starts.
func scan(data []byte, maxRecord int, stop bool, replay func(off int, rec []byte) error) (scanResult, error) {
	var res scanResult
	off := 0
	skip := func(d damage) bool {
		res.damaged = append(res.damaged, d)
		if stop {
			res.end = d.offset
			return false
		}
		off = d.offset + d.length
		return true
	}
	for off < len(data) {
		if size := validFrame(data, off, maxRecord); size > 0 {
			if err := replay(off, data[off+frameHeader:off+size]); err != nil {
				if !skip(damage{off, size, fmt.Sprintf("record rejected by its decoder: %v", err)}) {
					return res, errStopped
				}
				continue
			}
			res.records++
			off += size
			continue
		}
		if n, ok := frameLen(data, off); ok && n > 0 && n <= maxRecord {
			if next := off + frameHeader + n; next < len(data) && validFrame(data, next, maxRecord) > 0 {
				if !skip(damage{off, next - off, "checksum mismatch"}) {
					return res, errStopped
				}
				continue
			}
		}
		if q := nextValidFrame(data, off+1, maxRecord); q > 0 {
			if !skip(damage{off, q - off, "framing lost; resynchronized on the next valid record"}) {
				return res, errStopped
			}
			continue
		}
		res.end = off
		torn, holed := tornTail(data[off:], maxRecord)
		if torn {
			res.holed = holed
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
// past the end, or zeros from some header on: all zeros to the end, or a
// hole (holeRun zero bytes: sectors the file system never wrote) followed
// by whatever of the append it did write. holed reports the last case,
// where bytes other than zeros are cut.
func tornTail(tail []byte, maxRecord int) (torn, holed bool) {
	q := 0
	for {
		n, ok := frameLen(tail, q)
		switch {
		case q == len(tail) || !ok:
			return true, false
		case n == 0:
			if allZero(tail[q:]) {
				return true, false
			}
			return zeroRunAround(tail, q) >= holeRun, true
		case n > maxRecord:
			return false, false
		case q+frameHeader+n >= len(tail):
			return true, false
		}
		q += frameHeader + n
	}
}

// zeroRunAround is the length of the run of zero bytes in b that holds
// b[at], which is zero.
func zeroRunAround(b []byte, at int) int {
	from, to := at, at
	for from > 0 && b[from-1] == 0 {
		from--
	}
	for to < len(b) && b[to] == 0 {
		to++
	}
	return to - from
}

// holeRun is the run of zero bytes that marks a damaged region as a hole
// an interrupted append left: a sector (512 bytes) or page the file system
// never wrote reads as zeros. A region holds all of it but the few bytes
// that happen to match zeros of a neighbouring frame's header, hence half.
const holeRun = 256

// tornWithHoles reports whether tail, which starts with a region scan
// found damaged, is what one interrupted append can leave on a file system
// that persisted some of the append's sectors and not others: every
// damaged region in it holds a hole (holeRun zero bytes), whole frames of
// the same append may lie between them, and it ends as a torn tail does.
// A bit flipped, a record a decoder rejects, or bytes no append writes
// are not that.
func tornWithHoles(tail []byte, maxRecord int) bool {
	res, err := scan(tail, maxRecord, false, func(int, []byte) error { return nil })
	if err != nil || len(res.damaged) == 0 || res.damaged[0].offset != 0 {
		return false
	}
	for _, d := range res.damaged {
		if !hasZeroRun(tail[d.offset:d.offset+d.length], holeRun) {
			return false
		}
	}
	return true
}

// hasZeroRun reports whether b holds n consecutive zero bytes.
func hasZeroRun(b []byte, n int) bool {
	run := 0
	for _, c := range b {
		if c != 0 {
			run = 0
			continue
		}
		if run++; run >= n {
			return true
		}
	}
	return false
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
