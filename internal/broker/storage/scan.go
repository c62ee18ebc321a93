package storage

// This file walks the batches of a segment file through a read-ahead window.
// Recovery, producer-state rebuilding and timestamp lookups use it. Many
// small batches cost a few large reads; the body of a batch larger than the
// window is skipped (header-only) or streamed through the CRC (verify)
// without ever being held whole.

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// scanWindow is the read-ahead size.
const scanWindow = 256 << 10

// batchScanner iterates the batches in [pos, end) of r.
//
//	for sc.next() { use sc.h, sc.hpos }
//	sc.ioErr != nil: a read failed; nothing can be concluded about the data
//	sc.bad != nil:   the batch at sc.pos is bad (why is in bad); the valid
//	                 prefix ends at sc.pos
//
// Every batch yielded has passed checkFraming and checkContents, fits before
// end, and (if expect >= 0 at the start) continues the previous batch's
// offsets. With verify set its CRC was checked too.
type batchScanner struct {
	r      io.ReaderAt
	end    int64
	pos    int64 // position of the next batch; after a stop, end of the valid prefix
	expect int64 // base offset the next batch must have, or -1
	verify bool
	// compacted relaxes the checks for a segment the log cleaner wrote:
	// a batch may hold fewer records than its offsets span, and expect is
	// a lower bound (offsets removed before it leave a gap), below
	// ceiling.
	compacted bool
	ceiling   int64

	h    batchHeader // the current batch
	hpos int64       // its position
	// marker is what the current batch carries if it is a control batch.
	marker Marker

	bad   error
	ioErr error
	// badBase reports that the batch at pos is whole and (when verifying)
	// its CRC holds, but its base offset is not the expected one; badH is
	// its header. badEnd is set by the caller that decides to restamp it.
	badBase bool
	badH    batchHeader
	badEnd  int64

	buf    []byte // window storage, at most scanWindow
	win    []byte // valid bytes of the window
	winPos int64  // file position of win[0]
}

// compactedMode makes the scan accept a cleaned segment's batches, whose
// offsets must stay below ceiling (the next segment's base).
func (s *batchScanner) compactedMode(ceiling int64) {
	s.compacted, s.ceiling = true, ceiling
}

// reset points the scanner at a new range, keeping its buffer. The buffer
// grows to the range (a header at least, scanWindow at most), so scanning a
// small active segment does not cost a full window.
func (s *batchScanner) reset(r io.ReaderAt, pos, end, expect int64, verify bool) {
	buf := s.buf
	if want := min(max(end-pos, batchHeaderSize), scanWindow); int64(len(buf)) < want {
		buf = make([]byte, want)
	}
	*s = batchScanner{r: r, pos: pos, end: end, expect: expect, verify: verify, buf: buf}
}

// bytes returns up to n (<= len(s.buf)) bytes at pos, refilling the window
// from pos when they are not already in it. Fewer than n bytes come back
// only at end.
func (s *batchScanner) bytes(pos int64, n int) ([]byte, error) {
	if pos >= s.winPos && pos+int64(n) <= s.winPos+int64(len(s.win)) {
		off := pos - s.winPos
		return s.win[off : off+int64(n)], nil
	}
	want := min(int64(len(s.buf)), s.end-pos)
	if want <= 0 {
		return nil, nil
	}
	got, err := s.r.ReadAt(s.buf[:want], pos)
	if err != nil && !(errors.Is(err, io.EOF) && got > 0) {
		if errors.Is(err, io.EOF) {
			err = nil // the file is shorter than end: a short read, seen as a torn tail
		}
		s.win = nil
		return nil, err
	}
	s.win, s.winPos = s.buf[:got], pos
	return s.win[:min(got, n)], nil
}

// stop records why the scan ended early.
func (s *batchScanner) stop(format string, args ...any) bool {
	s.bad = fmt.Errorf(format, args...)
	return false
}

// next advances to the next batch and reports whether there is one.
func (s *batchScanner) next() bool {
	if s.bad != nil || s.ioErr != nil || s.pos >= s.end {
		return false
	}
	hdr, err := s.bytes(s.pos, batchHeaderSize)
	if err != nil {
		s.ioErr = fmt.Errorf("read batch header at %d: %w", s.pos, err)
		return false
	}
	if len(hdr) < batchHeaderSize {
		return s.stop("short batch header at %d: %d of %d bytes: %w", s.pos, len(hdr), batchHeaderSize, ErrCorruptMessage)
	}
	h := parseHeader(hdr)
	if err := h.checkFraming(); err != nil {
		return s.stop("batch at %d: %w", s.pos, err)
	}
	if h.size() > s.end-s.pos {
		return s.stop("batch at %d of %d bytes runs past the end (%d): %w", s.pos, h.size(), s.end, ErrCorruptMessage)
	}
	check := h.checkContents
	if s.compacted {
		check = h.checkCompactedContents
	}
	if err := check(); err != nil {
		return s.stop("batch at %d: %w", s.pos, err)
	}
	// The CRC is checked before the base offset, which it does not cover,
	// so that a base offset mismatch on a verified batch means the records
	// themselves are intact.
	if s.verify {
		crc, err := s.crc(s.pos+offAttributes, s.pos+h.size())
		if err != nil {
			s.ioErr = fmt.Errorf("read batch at %d: %w", s.pos, err)
			return false
		}
		if crc != h.crc {
			return s.stop("batch at %d: CRC %#08x, computed %#08x: %w", s.pos, h.crc, crc, ErrCorruptMessage)
		}
	}
	// A control batch's marker is in its record (a few bytes): one that
	// cannot be read is damage like any other.
	if h.attributes&attrControl != 0 {
		n := int(min(h.size()-batchHeaderSize, maxControlRecordBytes+1))
		rec, err := s.bytes(s.pos+batchHeaderSize, n)
		if err != nil {
			s.ioErr = fmt.Errorf("read control record at %d: %w", s.pos, err)
			return false
		}
		if s.marker, err = parseControl(&h, rec); err != nil {
			return s.stop("batch at %d: %w", s.pos, err)
		}
	}
	if s.compacted && s.expect >= 0 && h.baseOffset > s.expect && h.lastOffset() < s.ceiling {
		s.expect = h.baseOffset // a gap the cleaner left
	}
	if s.expect >= 0 && h.baseOffset != s.expect {
		s.badBase, s.badH = s.verify, h
		return s.stop("batch at %d has base offset %d, want %d: %w", s.pos, h.baseOffset, s.expect, ErrCorruptMessage)
	}
	s.h, s.hpos = h, s.pos
	s.pos += h.size()
	if s.expect >= 0 {
		s.expect = h.lastOffset() + 1
	}
	return true
}

// crc streams [from, to) through CRC32C, a window at a time.
func (s *batchScanner) crc(from, to int64) (uint32, error) {
	var crc uint32
	for from < to {
		b, err := s.bytes(from, int(min(int64(len(s.buf)), to-from)))
		if err != nil {
			return 0, err
		}
		if len(b) == 0 {
			return 0, io.ErrUnexpectedEOF
		}
		crc = crc32.Update(crc, castagnoli, b)
		from += int64(len(b))
	}
	return crc, nil
}
