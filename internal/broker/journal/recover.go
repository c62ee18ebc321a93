package journal

// recover.go opens a journal: it replays the file through the user's
// Replay, skips damaged records (keeping a copy of the file as it was),
// cuts a torn tail, and refuses a file it cannot read safely. The
// decisions are scan's (scan.go); this file does the I/O and says what it
// did in the log.

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

// DamageError is Open's refusal of a file damaged in a way that is not a
// torn tail and after which no valid record can be found, or, under
// Options.RefuseDamage, of a file with any damaged record.
type DamageError struct {
	Path    string
	Offset  int64 // where the damage starts
	Size    int64 // the file's size
	Records int   // valid records before Offset
	// Reason is set for a damaged record refused under
	// Options.RefuseDamage: what is wrong with it.
	Reason string
}

// Error says where the damage is and what an operator can do about it.
func (e *DamageError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("journal %s has a damaged record at byte %d of %d (%s), and its records must all be read, "+
			"so it is refused rather than skipped; to start anyway, move the file aside (losing all its records) "+
			"or truncate it to %d bytes (keeping the %d records before the damage and losing the %d bytes after)",
			e.Path, e.Offset, e.Size, e.Reason, e.Offset, e.Records, e.Size-e.Offset)
	}
	return fmt.Sprintf("journal %s is damaged at byte %d of %d: it is not a torn tail and no valid record follows, "+
		"so the %d bytes from there cannot be read; to start anyway, move the file aside (losing all its records) "+
		"or truncate it to %d bytes (keeping the %d records before the damage)",
		e.Path, e.Offset, e.Size, e.Size-e.Offset, e.Offset, e.Records)
}

// Unwrap makes errors.Is(err, ErrDamaged) hold.
func (e *DamageError) Unwrap() error { return ErrDamaged }

// Open opens the journal at path, creating it and its directory as
// needed, replays it through opts.Replay and starts its writer.
func Open(path string, opts Options) (*Journal, error) {
	if opts.Replay == nil || opts.Snapshot == nil {
		return nil, fmt.Errorf("journal %s: Options.Replay and Options.Snapshot are required", path)
	}
	if opts.FS == nil {
		opts.FS = vfs.Default
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.CompactBytes <= 0 {
		opts.CompactBytes = DefaultCompactBytes
	}
	if opts.MaxRecord <= 0 {
		opts.MaxRecord = DefaultMaxRecord
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = DefaultRetryMin
	}
	if opts.RetryMax < opts.RetryMin {
		opts.RetryMax = max(DefaultRetryMax, opts.RetryMin)
	}
	j := &Journal{
		path: path, opts: opts, log: opts.Logger,
		kick:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	if err := j.recover(); err != nil {
		if j.f != nil {
			j.f.Close()
		}
		return nil, err
	}
	go j.run()
	return j, nil
}

// recover brings the file to a state appends can follow and leaves it
// open in j.f.
func (j *Journal) recover() error {
	fsys := j.opts.FS
	if err := vfs.MkdirAllDurable(fsys, filepath.Dir(j.path), 0o755); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	// A leftover temporary file is a snapshot whose rename never happened:
	// the journal it was to replace is intact and newer.
	tmp := j.path + vfs.TmpSuffix
	if err := fsys.Remove(tmp); err == nil {
		j.log.Info("journal: removed an unfinished snapshot", "file", tmp)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("journal: remove unfinished snapshot %s: %w", tmp, err)
	}
	data, err := vfs.ReadFile(fsys, j.path)
	if errors.Is(err, fs.ErrNotExist) {
		return j.create()
	}
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	res, err := scan(data, j.opts.MaxRecord, j.opts.RefuseDamage, func(_ int, rec []byte) error { return j.opts.Replay(rec) })
	if errors.Is(err, errStopped) {
		return j.refuseOrCut(data, res)
	}
	if err != nil {
		return &DamageError{Path: j.path, Offset: int64(res.end), Size: int64(len(data)), Records: res.records}
	}
	for _, d := range res.damaged {
		j.stats.damaged.Add(1)
		j.log.Error("journal: skipped a damaged record; whatever it held is lost",
			"file", j.path, "offset", d.offset, "bytes", d.length, "reason", d.reason)
	}
	if len(res.damaged) > 0 {
		return j.rewriteDamaged(data, res)
	}
	if res.end < len(data) {
		return j.cutTornTail(data, res.end, res.records, res.holed)
	}
	return j.openAt(int64(res.end), int64(len(data)))
}

// refuseOrCut handles the first damaged record under RefuseDamage: the
// damage and what follows it are cut as a torn tail when one interrupted
// append explains them (keeping a copy of the file first, since whole
// records are cut with it), and refused otherwise.
func (j *Journal) refuseOrCut(data []byte, res scanResult) error {
	d := res.damaged[0]
	if !tornWithHoles(data[d.offset:], j.opts.MaxRecord) {
		return &DamageError{Path: j.path, Offset: int64(d.offset), Size: int64(len(data)), Records: res.records, Reason: d.reason}
	}
	return j.cutTornTail(data, d.offset, res.records, true)
}

// cutTornTail cuts the file at end, where a torn tail starts. A tail with
// a hole in it may hold whole records after the hole: they belong to the
// interrupted append, but since that cannot be proven a copy of the file
// is kept first.
func (j *Journal) cutTornTail(data []byte, end, records int, holed bool) error {
	j.stats.tornTails.Add(1)
	if !holed {
		j.log.Warn("journal: cutting a torn tail (an append a crash cut short)",
			"file", j.path, "offset", end, "bytes", len(data)-end, "records_kept", records)
		return j.openAt(int64(end), int64(len(data)))
	}
	kept, err := j.keepCopy(data)
	if err != nil {
		return fmt.Errorf("journal %s: a copy could not be kept before cutting a torn tail: %w", j.path, err)
	}
	j.log.Warn("journal: cutting a torn tail (an append a crash cut short, with sectors the file system never wrote); "+
		"the file as it was is kept", "file", j.path, "offset", end, "bytes", len(data)-end,
		"records_kept", records, "copy", kept)
	return j.openAt(int64(end), int64(len(data)))
}

// create makes an empty journal whose name is durable.
func (j *Journal) create() error {
	f, err := j.opts.FS.OpenFile(j.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("journal: create %s: %w", j.path, err)
	}
	j.f = f
	if err := j.opts.FS.SyncDir(filepath.Dir(j.path)); err != nil {
		return fmt.Errorf("journal: fsync directory of %s: %w", j.path, err)
	}
	return nil
}

// openAt opens the file for appends at end, cutting it there (durably)
// when it is longer.
func (j *Journal) openAt(end, size int64) error {
	f, err := j.opts.FS.OpenFile(j.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("journal: open %s: %w", j.path, err)
	}
	j.f, j.size, j.snapSize = f, end, end
	if end == size {
		return nil
	}
	if err := f.Truncate(end); err != nil {
		return fmt.Errorf("journal: cut torn tail of %s at %d: %w", j.path, end, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("journal: fsync %s after cutting its tail: %w", j.path, err)
	}
	return nil
}

// rewriteDamaged keeps the damaged file's bytes under another name, since
// what is lost in them cannot be proven worthless, and replaces the
// journal with a snapshot of what was read, so that the damage is neither
// appended after nor reported again at every start.
func (j *Journal) rewriteDamaged(data []byte, res scanResult) error {
	kept, err := j.keepCopy(data)
	if err != nil {
		return fmt.Errorf("journal %s has damaged records and a copy could not be kept before repairing it: %w", j.path, err)
	}
	j.log.Error("journal: damaged records were skipped; the file as it was is kept for inspection",
		"file", j.path, "copy", kept, "damaged", len(res.damaged), "records_read", res.records)
	snap, err := j.snapshot()
	if err == nil {
		err = j.install(snap)
	}
	if err != nil {
		// The journal still reads the same way; go on appending to it.
		j.log.Warn("journal: could not rewrite the damaged file; it will be read (and its damage reported) again at the next start",
			"file", j.path, "err", err)
		if j.f != nil {
			j.f.Close()
			j.f = nil
		}
		return j.openAt(int64(res.end), int64(len(data)))
	}
	return nil
}

// keepCopy writes data durably beside the journal under a name that is
// not taken yet, and returns the name.
func (j *Journal) keepCopy(data []byte) (string, error) {
	base := j.path + ".damaged-" + time.Now().UTC().Format("20060102T150405Z")
	name := base
	for i := 1; ; i++ {
		_, err := j.opts.FS.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return "", err
		}
		if i > 1000 {
			return "", fmt.Errorf("no free name for a copy beside %s", j.path)
		}
		name = fmt.Sprintf("%s.%d", base, i)
	}
	if err := vfs.WriteAtomic(j.opts.FS, name, data, 0o644); err != nil {
		return "", err
	}
	return name, nil
}
