package webconsole

// msgcursor.go is the cursor of message browsing and search: where each
// partition's scan continues, in which direction, and where it began (so
// that a search continued over many calls still says how much it scanned
// of how much). The page holds it as an opaque string (base64url JSON);
// decoding validates every field, since it comes back from the client.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// maxCursorLen bounds an encoded cursor (a topic of many thousand
// partitions still fits).
const maxCursorLen = 1 << 20

// maxCursorParts bounds a cursor's partitions.
const maxCursorParts = 100_000

// cursor says where a scan continues.
type cursor struct {
	// Backward scans from newer to older offsets (a "previous" page, or
	// the newest records); forward from older to newer.
	Backward bool         `json:"b,omitempty"`
	Parts    []cursorPart `json:"p"`
}

// cursorPart is one partition's position.
type cursorPart struct {
	Partition int32 `json:"i"`
	// Origin is where the scan began (its first call), for progress.
	Origin int64 `json:"o"`
	// Pos is the next offset to read forward, or (backward) the offset
	// below which to read next: offsets [Pos, Origin) are done.
	Pos int64 `json:"n"`
}

// encode returns the cursor as the page holds it.
func (c *cursor) encode() string {
	data, _ := json.Marshal(c) // ints and bools only: cannot fail
	return base64.RawURLEncoding.EncodeToString(data)
}

// decodeCursor parses and validates a cursor from the client.
func decodeCursor(s string) (*cursor, error) {
	if len(s) > maxCursorLen {
		return nil, fmt.Errorf("cursor longer than %d bytes", maxCursorLen)
	}
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("cursor is not base64url: %w", err)
	}
	var c cursor
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("cursor is not valid: %w", err)
	}
	if len(c.Parts) == 0 || len(c.Parts) > maxCursorParts {
		return nil, fmt.Errorf("cursor has %d partitions", len(c.Parts))
	}
	seen := make(map[int32]bool, len(c.Parts))
	for _, p := range c.Parts {
		switch {
		case p.Partition < 0 || p.Origin < 0 || p.Pos < 0:
			return nil, fmt.Errorf("cursor: negative partition or offset in %+v", p)
		case seen[p.Partition]:
			return nil, fmt.Errorf("cursor: partition %d twice", p.Partition)
		case c.Backward && p.Pos > p.Origin, !c.Backward && p.Pos < p.Origin:
			return nil, fmt.Errorf("cursor: partition %d position %d is on the wrong side of its origin %d", p.Partition, p.Pos, p.Origin)
		}
		seen[p.Partition] = true
	}
	return &c, nil
}
