// Package metafile keeps the broker's small JSON state files (the users in
// DATA/meta/users.json, the ACLs in DATA/meta/acls.json): one object with a
// format version beside the body's fields, {"version": N, ...}, replaced
// whole and atomically on every change.
//
// Promises:
//   - A file is read only if it is exactly what this build writes: valid
//     JSON, one object, a "version" this build knows, and no field the
//     body does not define. A version newer than the build's is refused
//     with ErrNewerVersion (an older binary must not drop what a newer one
//     stored); anything else it cannot read is refused with ErrDamaged.
//     Nothing is ever read as empty because it could not be read, and a
//     file that is refused is left as it is, for whoever repairs it.
//   - Save replaces the file with vfs.WriteAtomic: after a crash it holds
//     the old or the new contents, never a mix. A temporary file left by a
//     replacement that did not finish never held acknowledged state (the
//     rename is the commit), so Load removes it and logs that it did.
package metafile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

// VersionField is the name of the format version in every file.
const VersionField = "version"

// ErrDamaged is wrapped by the error of a file that exists but cannot be
// read as its format: not JSON, not one object, no version or one below 1,
// a field the format does not define, or a body that does not decode.
var ErrDamaged = errors.New("damaged metadata file")

// ErrNewerVersion is wrapped by the error of a file whose version is newer
// than this build reads: written by a newer Courier.
var ErrNewerVersion = errors.New("metadata file written by a newer version")

// Format is one kind of file: what it holds, the version this build writes
// and reads, and the file mode it is written with.
type Format struct {
	// What names the contents in messages ("users", "ACLs").
	What string
	// Version is the format version this build writes, and the only one
	// it reads. Versions start at 1.
	Version int
	// Perm is the mode of a written file (0o600 for secrets).
	Perm os.FileMode
}

// Load reads path into body, a pointer to the struct of the format's
// fields (without the version). It returns false, and leaves body alone,
// if the file does not exist. A leftover temporary file of an unfinished
// Save is removed and the removal logged on logger (nil: slog.Default()).
func (f Format) Load(fsys vfs.FS, path string, body any, logger *slog.Logger) (found bool, err error) {
	if logger == nil {
		logger = slog.Default()
	}
	tmp := path + vfs.TmpSuffix
	if _, err := fsys.Stat(tmp); err == nil {
		if err := fsys.Remove(tmp); err != nil {
			return false, fmt.Errorf("remove unfinished %s replacement %s: %w", f.What, tmp, err)
		}
		logger.Warn("removed the temporary file of an unfinished replacement; the file it was to replace is intact",
			"what", f.What, "file", tmp)
	}
	data, err := vfs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s %s: %w", f.What, path, err)
	}
	if err := f.Decode(data, body); err != nil {
		return false, fmt.Errorf("%s %s: %w", f.What, path, err)
	}
	return true, nil
}

// Decode parses data, a whole file, into body (see Load). Its errors wrap
// ErrDamaged or ErrNewerVersion.
func (f Format) Decode(data []byte, body any) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return fmt.Errorf("%w: not a JSON object: %w", ErrDamaged, err)
	}
	if fields == nil {
		return fmt.Errorf("%w: null instead of an object", ErrDamaged)
	}
	raw, ok := fields[VersionField]
	if !ok {
		return fmt.Errorf("%w: no %q field", ErrDamaged, VersionField)
	}
	var version int
	if err := json.Unmarshal(raw, &version); err != nil {
		return fmt.Errorf("%w: %q is %s, not a whole number", ErrDamaged, VersionField, raw)
	}
	switch {
	case version > f.Version:
		return fmt.Errorf("%w: version %d, this build reads version %d: run the newer version, or restore the file from before it ran", ErrNewerVersion, version, f.Version)
	case version < 1:
		return fmt.Errorf("%w: version %d", ErrDamaged, version)
	case version != f.Version:
		// No format has an older version yet; the first change of a
		// format adds its migration here.
		return fmt.Errorf("%w: version %d has no reader in this build (it reads version %d)", ErrDamaged, version, f.Version)
	}
	delete(fields, VersionField)
	rest, err := json.Marshal(fields)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	dec := json.NewDecoder(bytes.NewReader(rest))
	// A field the body does not define would be dropped by the next Save:
	// refuse it instead (a typo that read as "no users" would lock
	// everyone out).
	dec.DisallowUnknownFields()
	if err := dec.Decode(body); err != nil {
		return fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	return nil
}

// Encode returns the file's bytes for body: the version first, then
// body's fields, indented for people who read the file.
func (f Format) Encode(body any) ([]byte, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", f.What, err)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '{' {
		return nil, fmt.Errorf("encode %s: the body is not a JSON object (%.40s)", f.What, raw)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("encode %s: %w", f.What, err)
	}
	if _, clash := fields[VersionField]; clash {
		return nil, fmt.Errorf("encode %s: the body has a field named %q", f.What, VersionField)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "{%q:%d", VersionField, f.Version)
	if len(fields) > 0 {
		b.WriteByte(',')
	}
	b.Write(raw[1:]) // the body's fields and its closing brace
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("encode %s: %w", f.What, err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// Save replaces path with body's encoding (see Encode) through
// vfs.WriteAtomic. On error the file holds its old or its new contents;
// an error wrapping vfs.ErrUnchanged says it is certainly the old.
func (f Format) Save(fsys vfs.FS, path string, body any) error {
	data, err := f.Encode(body)
	if err != nil {
		return err
	}
	if err := vfs.WriteAtomic(fsys, path, data, f.Perm); err != nil {
		return fmt.Errorf("write %s: %w", f.What, err)
	}
	return nil
}
