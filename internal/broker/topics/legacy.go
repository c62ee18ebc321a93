package topics

// legacy.go imports the metadata file of earlier versions, DATA/meta/
// topics.json (one JSON document rewritten whole at every change), into
// topics.log, once. The steps are ordered so that a crash at any point
// leaves a state the next Open finishes the same way:
//
//  1. topics.json is read and every entry validated, as it always was.
//  2. Its topics are written as one batch to a new journal under a
//     temporary name (topics.log.migrating) and fsynced.
//  3. The temporary file is renamed to topics.log (directory fsynced):
//     from here on topics.log is complete and is the metadata.
//  4. topics.json is renamed to topics.json.migrated (directory fsynced).
//     It is kept, for whoever wants to look, and never read again.
//
// A crash before 3 leaves topics.json alone (and a leftover temporary
// file, removed): the import starts over. A crash between 3 and 4 leaves
// both files: topics.log is complete, so Open only does step 4.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"time"

	"github.com/courier-dev/courier/internal/broker/journal"
	"github.com/courier-dev/courier/internal/broker/vfs"
)

// Names of the legacy file, what it becomes once imported, and the
// journal being written from it.
const (
	legacyName     = "topics.json"
	migratedSuffix = ".migrated"
	migratingName  = logName + ".migrating"
)

// legacyFile is topics.json's layout.
type legacyFile struct {
	Version int      `json:"version"`
	Topics  []*Topic `json:"topics"`
}

// loadLegacy reads and validates topics.json. A file that does not parse
// or holds an entry that breaks the rules (a bad name, which would also
// make a bad path, a partition count out of range, an invalid config, a
// duplicate name or id) is refused with ErrBadMetadata.
func loadLegacy(fsys vfs.FS, path string) ([]*Topic, error) {
	data, err := vfs.ReadFile(fsys, path)
	if err != nil {
		return nil, fmt.Errorf("read topic metadata: %w", err)
	}
	var lf legacyFile
	if err := json.Unmarshal(data, &lf); err != nil {
		return nil, fmt.Errorf("parse %s: %v: %w", path, err, ErrBadMetadata)
	}
	st := newState()
	for i, t := range lf.Topics {
		if t == nil {
			return nil, fmt.Errorf("%s: entry %d is null: %w", path, i, ErrBadMetadata)
		}
		if _, dup := st.topics[t.Name]; dup {
			return nil, fmt.Errorf("%s: entry %d: topic %q listed twice: %w", path, i, t.Name, ErrBadMetadata)
		}
		if err := st.apply(opUpsert, *t); err != nil {
			return nil, fmt.Errorf("%s: entry %d (%q): %v: %w", path, i, t.Name, err, ErrBadMetadata)
		}
	}
	out := make([]*Topic, 0, len(st.topics))
	for _, t := range st.topics {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// migrate imports topics.json into topics.log (steps 1 to 4 above).
func (s *Store) migrate() error {
	legacy := s.legacyPath()
	ts, err := loadLegacy(s.fs, legacy)
	if err != nil {
		return err
	}
	recs := make([][]byte, 0, len(ts))
	for _, t := range ts {
		rec, err := encodeUpsert(t)
		if err != nil {
			return err
		}
		recs = append(recs, rec)
	}
	tmp := filepath.Join(s.dir, migratingName)
	if err := writeJournal(s.fs, tmp, recs); err != nil {
		return fmt.Errorf("import %s: %w", legacy, err)
	}
	if err := s.fs.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("import %s: rename %s: %w", legacy, tmp, err)
	}
	if err := s.fs.SyncDir(s.dir); err != nil {
		return fmt.Errorf("import %s: fsync %s: %w", legacy, s.dir, err)
	}
	s.log.Info("topic metadata imported from the previous version's file", "from", legacy, "to", s.path, "topics", len(ts))
	return s.retireLegacy()
}

// writeJournal writes recs as one durable batch to a new journal at path.
func writeJournal(fsys vfs.FS, path string, recs [][]byte) error {
	written := false
	j, err := journal.Open(path, journal.Options{
		FS: fsys, RefuseDamage: true,
		Replay: func([]byte) error { return errors.New("a new journal has no records") },
		// The durable state: nothing until the batch is written, then it
		// (a compaction right after a large batch rewrites the file).
		Snapshot: func(add func([]byte)) error {
			if written {
				for _, r := range recs {
					add(r)
				}
			}
			return nil
		},
	})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	if err := j.Append(recs, func(err error) {
		written = err == nil
		done <- err
	}); err != nil {
		j.Close()
		return err
	}
	err = <-done
	if cerr := j.Close(); err == nil {
		err = cerr
	}
	return err
}

// retireLegacy renames topics.json, now imported, to topics.json.migrated
// (or, if that name is taken, one with the time added): kept, never read.
func (s *Store) retireLegacy() error {
	legacy := s.legacyPath()
	dst := legacy + migratedSuffix
	if _, err := s.fs.Stat(dst); err == nil {
		dst = fmt.Sprintf("%s-%d", dst, time.Now().UnixNano())
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stat %s: %w", dst, err)
	}
	if err := s.fs.Rename(legacy, dst); err != nil {
		return fmt.Errorf("rename imported %s: %w", legacy, err)
	}
	if err := s.fs.SyncDir(s.dir); err != nil {
		return fmt.Errorf("fsync %s: %w", s.dir, err)
	}
	s.log.Info("the previous version's topic metadata file is kept under a new name and no longer read", "file", dst)
	return nil
}
