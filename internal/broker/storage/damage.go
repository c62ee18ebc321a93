package storage

// This file maps the damage in one segment file: which byte ranges hold
// whole, valid batches that continue each other (runs), which ranges are
// unreadable (damaged regions), and which batches are intact but carry a
// base offset that contradicts their neighbours (restamps). Recovery then
// decides what to do with the map (recovery.go, repair.go). Nothing here
// writes.
//
// The map is built by walking the file with CRC verification. At a bad
// batch the walk resynchronizes: it looks for the next position where a
// whole batch with a valid CRC begins whose offsets lie after what was
// already read. A CRC32C that checks out over a whole batch, at a position
// whose header also frames correctly, is strong evidence of real data, so
// every batch after a damaged one is kept rather than cut with it.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
)

// run is a range of a segment file holding whole, valid batches whose
// offsets are dense from base to next-1.
type run struct {
	from, to   int64 // file positions [from, to)
	base, next int64 // offsets [base, next)
}

// region is an unreadable range of a segment file.
type region struct {
	from, to int64
	why      string
}

// restamp is an intact batch (its CRC holds) whose base offset, which is
// not under the CRC, disagrees with the dense offsets around it. Append
// always writes the offset the log expects, so the expected one is right.
type restamp struct {
	pos        int64
	stored     int64
	want       int64
	lastOffset int64
}

// damageMap is what mapDamage found in one segment file.
type damageMap struct {
	runs     []run
	regions  []region // damaged ranges before the last run's end, in file order
	tail     *region  // an unreadable range from the last valid batch to the end of the file
	restamps []restamp
}

// damaged reports whether anything but a tail was found.
func (d *damageMap) damaged() bool { return len(d.regions) > 0 || len(d.restamps) > 0 }

// maxResyncScan bounds how far past a bad batch the resynchronizing scan
// reads: a whole segment (segments are at most 2 GiB).
const maxResyncScan = math.MaxInt32

// mapDamage walks the first size bytes of f, a segment whose first batch
// should have base offset base, verifying every batch. For a segment the
// cleaner wrote, ceiling is the next segment's base (0 otherwise): offsets
// may then have gaps below it, so no base offset can be proved by its
// neighbours and none is restamped.
func mapDamage(f io.ReaderAt, size, base, ceiling int64) (damageMap, error) {
	var (
		d   damageMap
		sc  batchScanner
		cur *run
	)
	pos, expect := int64(0), base
	for pos < size {
		sc.reset(f, pos, size, expect, true)
		if ceiling > 0 {
			sc.compactedMode(ceiling)
		}
		for sc.next() {
			if cur == nil || cur.to != sc.hpos {
				d.runs = append(d.runs, run{from: sc.hpos, base: sc.h.baseOffset})
				cur = &d.runs[len(d.runs)-1]
			}
			cur.to, cur.next = sc.pos, sc.h.lastOffset()+1
		}
		if sc.ioErr != nil {
			return d, sc.ioErr
		}
		if sc.bad == nil {
			break
		}
		bad := sc.pos
		if ceiling > 0 {
			sc.badBase = false
		}
		if r, ok, err := restampable(f, &sc, size); err != nil {
			return d, err
		} else if ok {
			d.restamps = append(d.restamps, r)
			// Continue as if the batch had carried the expected offset.
			if cur == nil || cur.to != bad {
				d.runs = append(d.runs, run{from: bad, base: r.want})
				cur = &d.runs[len(d.runs)-1]
			}
			cur.to, cur.next = sc.badEnd, r.lastOffset+1
			pos, expect = sc.badEnd, r.lastOffset+1
			continue
		}
		next, h, stored, found, err := findNextBatch(f, bad, size, expect, ceiling)
		if err != nil {
			return d, err
		}
		if !found {
			d.tail = &region{from: bad, to: size, why: sc.bad.Error()}
			break
		}
		d.regions = append(d.regions, region{from: bad, to: next, why: sc.bad.Error()})
		if stored != h.baseOffset {
			d.restamps = append(d.restamps, restamp{pos: next, stored: stored, want: h.baseOffset, lastOffset: h.lastOffset()})
		}
		cur = nil
		pos, expect = next, h.baseOffset
	}
	return d, nil
}

// restampable reports whether the batch the scanner stopped at is intact
// but for its base offset: its CRC holds, and the batch after it (if any)
// continues from the offset the log expected plus this batch's records.
func restampable(f io.ReaderAt, sc *batchScanner, size int64) (restamp, bool, error) {
	if !sc.badBase {
		return restamp{}, false, nil
	}
	h, at := sc.badH, sc.pos
	want := sc.expect
	end := at + h.size()
	if end < size {
		hdr := make([]byte, batchHeaderSize)
		n, err := f.ReadAt(hdr, end)
		if err != nil && !(errors.Is(err, io.EOF) && n == len(hdr)) {
			if errors.Is(err, io.EOF) {
				return restamp{}, false, nil
			}
			return restamp{}, false, err
		}
		next := parseHeader(hdr)
		if next.checkFraming() != nil || next.baseOffset != want+int64(h.lastOffsetDelta)+1 {
			return restamp{}, false, nil
		}
	}
	sc.badEnd = end
	return restamp{pos: at, stored: h.baseOffset, want: want, lastOffset: want + int64(h.lastOffsetDelta)}, true, nil
}

// resyncChunk is how much findNextBatch reads at a time.
const resyncChunk = 1 << 20

// findNextBatch returns the first position after bad (the start of a
// damaged region) and before end where a whole batch with a valid CRC
// begins whose offsets can follow minBase, the offset the damaged region
// started at. Its base offset is not under the CRC, so it must also be
// plausible: a region of n bytes holds fewer than n offsets. A batch with
// an implausible base is still found when the batch after it proves what
// its base must be; h then carries that base, and stored the one on disk
// (the caller restamps it). In a cleaned segment (ceiling > 0) any base
// from minBase to below ceiling is plausible and none is proved. It reads
// at most maxResyncScan bytes.
func findNextBatch(f io.ReaderAt, bad, end, minBase, ceiling int64) (pos int64, h batchHeader, stored int64, found bool, err error) {
	buf := make([]byte, resyncChunk+batchHeaderSize)
	from := bad + 1
	limit := min(end, from+maxResyncScan)
	for chunk := from; chunk < limit; chunk += resyncChunk {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), end-chunk)], chunk)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, h, 0, false, fmt.Errorf("resync read at %d: %w", chunk, err)
		}
		for i := 0; i < min(n, resyncChunk) && chunk+int64(i) < limit; i++ {
			if i+batchHeaderSize > n || buf[i+offMagic] != magicV2 {
				continue
			}
			pos := chunk + int64(i)
			h := parseHeader(buf[i:])
			check := h.checkContents
			if ceiling > 0 {
				check = h.checkCompactedContents
			}
			if h.checkFraming() != nil || check() != nil || h.size() > end-pos {
				continue
			}
			maxBase := minBase + (pos - bad)
			stored := h.baseOffset
			if ceiling > 0 {
				if h.baseOffset < minBase || h.lastOffset() >= ceiling {
					continue
				}
			} else if h.baseOffset < minBase || h.baseOffset > maxBase {
				// Implausible: acceptable only if the next batch says
				// where this one must start.
				want, ok, err := baseFromNext(f, pos+h.size(), end, &h)
				if err != nil {
					return 0, h, 0, false, err
				}
				if !ok || want < minBase || want > maxBase {
					continue
				}
				h.baseOffset = want
			}
			ok, err := crcMatches(f, pos, &h)
			if err != nil {
				return 0, h, 0, false, err
			}
			if ok {
				return pos, h, stored, true, nil
			}
		}
	}
	return 0, batchHeader{}, 0, false, nil
}

// baseFromNext reads the header of the batch at next (right after the one
// with header h) and returns the base offset h must have for the two to
// be dense, if that batch frames correctly.
func baseFromNext(f io.ReaderAt, next, end int64, h *batchHeader) (int64, bool, error) {
	if end-next < batchHeaderSize {
		return 0, false, nil
	}
	hdr := make([]byte, batchHeaderSize)
	if _, err := f.ReadAt(hdr, next); err != nil && !errors.Is(err, io.EOF) {
		return 0, false, fmt.Errorf("resync read at %d: %w", next, err)
	}
	nh := parseHeader(hdr)
	if nh.checkFraming() != nil || nh.checkContents() != nil {
		return 0, false, nil
	}
	return nh.baseOffset - int64(h.lastOffsetDelta) - 1, true, nil
}

// crcMatches checks the CRC of the batch with header h at pos.
func crcMatches(f io.ReaderAt, pos int64, h *batchHeader) (bool, error) {
	var crc uint32
	buf := make([]byte, min(h.size()-offAttributes, scanWindow))
	for at, to := pos+offAttributes, pos+h.size(); at < to; {
		n := min(int64(len(buf)), to-at)
		got, err := f.ReadAt(buf[:n], at)
		if int64(got) < n {
			if err == nil || errors.Is(err, io.EOF) {
				return false, nil
			}
			return false, fmt.Errorf("resync read at %d: %w", at, err)
		}
		crc = crc32.Update(crc, castagnoli, buf[:n])
		at += n
	}
	return crc == h.crc, nil
}

// putBaseOffset is the 8 bytes of a batch's base offset field.
func putBaseOffset(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }
