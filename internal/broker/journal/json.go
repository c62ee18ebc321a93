package journal

// json.go is the record encoding the journal's users share (the
// transaction and share-group coordinators): a kind byte, then one JSON
// object. JSON rather than a packed binary form because such records are
// small and few per change, an operator can read them with `strings`, and
// the standard library's strict decoder does the bounds checking. The
// journal itself never looks inside a record.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// EncodeJSON returns a record: kind, then body as JSON. body must be a
// plain struct of strings, integers, booleans and slices of them, which
// always marshal; its strings must pass CheckName where they are names.
func EncodeJSON(kind byte, body any) []byte {
	b, err := json.Marshal(body)
	if err != nil {
		// Not reachable with the bodies above; a record that says so is
		// refused by every decoder instead of taking the process down.
		return []byte{kind}
	}
	return append([]byte{kind}, b...)
}

// DecodeJSON decodes a record's body (what follows its kind byte) into v:
// exactly one JSON object, with only the fields v knows and nothing after
// it but white space.
func DecodeJSON(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.InputOffset() != int64(len(bytes.TrimRight(body, " \t\r\n"))) {
		return fmt.Errorf("trailing bytes after the record")
	}
	return nil
}

// CheckName refuses a name a record cannot hold (an id, a topic, a
// group): an empty one, or one that is not UTF-8, which JSON would
// replace byte by byte, so that a replay would see another name.
func CheckName(what, s string) error {
	if s == "" || !utf8.ValidString(s) {
		return fmt.Errorf("%s %q is empty or not UTF-8", what, s)
	}
	return nil
}
