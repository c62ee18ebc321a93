package journal

// frame.go is the journal's on-disk framing. A frame is
//
//	length uint32   big endian, of body; 1 to Options.MaxRecord
//	crc    uint32   big endian, CRC-32C (Castagnoli) of body
//	body   [length]byte: the user's record, opaque here
//
// This is the format of the group coordinator's offsets log before the
// journal existed, so its files open unchanged. A length of zero is never
// written: eight zero bytes, which a file system leaves where a crash cut
// an append short, must not read as a valid (empty) record.

import (
	"encoding/binary"
	"hash/crc32"
)

const frameHeader = 8

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// appendFrame appends rec's frame to buf.
func appendFrame(buf, rec []byte) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(rec)))
	buf = binary.BigEndian.AppendUint32(buf, crc32.Checksum(rec, crcTable))
	return append(buf, rec...)
}

// frameLen returns the body length the header at off claims, and false
// when fewer than frameHeader bytes remain.
func frameLen(data []byte, off int) (int, bool) {
	if len(data)-off < frameHeader {
		return 0, false
	}
	return int(binary.BigEndian.Uint32(data[off:])), true
}

// validFrame returns the size of the whole, checksummed frame at off, or 0
// when there is none: too short, a length of zero or beyond maxRecord or
// past the end of data, or a checksum that does not match.
func validFrame(data []byte, off, maxRecord int) int {
	n, ok := frameLen(data, off)
	if !ok || n == 0 || n > maxRecord || n > len(data)-off-frameHeader {
		return 0
	}
	body := data[off+frameHeader : off+frameHeader+n]
	if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(data[off+4:]) {
		return 0
	}
	return frameHeader + n
}
