package topics

// store.go keeps the set of topics and persists every change as a record
// appended to a journal (internal/journal), DATA/meta/topics.log: creating
// a topic costs one small record and a share of one fsync, whatever the
// number of topics (the file the store used to rewrite whole at every
// change made creating N topics cost N^2).
//
// The rule, as the journal's package doc asks: what a caller can see is
// what is durable. A change is validated against the durable state,
// appended, and folded into the state only in the journal's done(nil); a
// failed append leaves the state as it was. Changes are serialized (chg),
// so that each is validated against every change before it.

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"

	"github.com/courier-dev/courier/internal/broker/journal"
	"github.com/courier-dev/courier/internal/broker/vfs"
)

// MaxPartitions bounds a topic's partition count; each partition costs open
// files, so an absurd count is refused rather than attempted.
const MaxPartitions = 10000

// logName is the journal's file in the metadata directory.
const logName = "topics.log"

// Errors returned by Store; the broker maps them to Kafka error codes.
var (
	ErrTopicExists       = errors.New("topic already exists")
	ErrUnknownTopic      = errors.New("unknown topic")
	ErrInvalidTopic      = errors.New("invalid topic name")
	ErrInvalidPartitions = errors.New("invalid number of partitions")
	ErrInvalidConfig     = errors.New("invalid topic config")
	// ErrBadMetadata means the metadata exists but cannot be trusted: a
	// record of topics.log is damaged or breaks the rules every change
	// the store makes follows, or topics.json (being imported) does not
	// parse or holds such an entry. Open refuses it rather than guess.
	ErrBadMetadata = errors.New("topic metadata damaged")
)

// Topic is one topic's metadata.
type Topic struct {
	Name       string            `json:"name"`
	ID         [16]byte          `json:"id"`
	Partitions int32             `json:"partitions"`
	Configs    map[string]string `json:"configs,omitempty"`
	// Internal marks broker-owned topics (such as consumer offsets).
	Internal bool `json:"internal,omitempty"`
}

// clone returns a deep copy, so callers never share maps with the store.
func (t *Topic) clone() Topic {
	c := *t
	c.Configs = make(map[string]string, len(t.Configs))
	for k, v := range t.Configs {
		c.Configs[k] = v
	}
	return c
}

// validate checks a topic against the rules every change follows.
func (t *Topic) validate() error {
	if err := ValidateName(t.Name); err != nil {
		return err
	}
	if t.Partitions < 1 || t.Partitions > MaxPartitions {
		return fmt.Errorf("%w: %d (must be 1..%d)", ErrInvalidPartitions, t.Partitions, MaxPartitions)
	}
	if t.ID == ([16]byte{}) {
		return errors.New("topic id is zero")
	}
	return ValidateStoredConfigs(t.Configs)
}

// Options configures Open; the zero value is the operating system's file
// system and no logging.
type Options struct {
	FS     vfs.FS
	Logger *slog.Logger

	// tune, set by tests, adjusts the journal's options (compaction
	// threshold, repair back-off).
	tune func(*journal.Options)
}

// Store is the durable set of topics. It is safe for concurrent use.
type Store struct {
	dir, path string
	fresh     bool // no metadata existed at Open
	fs        vfs.FS
	log       *slog.Logger
	jl        *journal.Journal

	// chg serializes changes from validation to the journal's answer.
	chg sync.Mutex

	// mu guards st, the durable state. The journal's done callbacks
	// change it; readers copy out of it.
	mu sync.RWMutex
	st state
}

// Open loads the store kept in dir: topics.log, replayed with every record
// validated; or, from an earlier version, topics.json, imported into
// topics.log (legacy.go); or neither, and the store starts empty (Fresh
// then reports true). Damage anywhere but a torn tail, or a record that
// breaks the rules, is refused with an error wrapping ErrBadMetadata (and
// the journal's DamageError, which says where).
func Open(dir string, opts Options) (*Store, error) {
	if opts.FS == nil {
		opts.FS = vfs.Default
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{dir: dir, path: filepath.Join(dir, logName), fs: opts.FS, log: opts.Logger, st: newState()}
	if err := vfs.MkdirAllDurable(s.fs, dir, 0o755); err != nil {
		return nil, fmt.Errorf("create metadata dir %s: %w", dir, err)
	}
	// An import a crash interrupted before its rename: only the import
	// wrote it, and topics.json is still there to import again.
	if err := s.fs.Remove(filepath.Join(dir, migratingName)); err == nil {
		s.log.Info("removed an unfinished import of topics.json; importing again", "dir", dir)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("remove unfinished import in %s: %w", dir, err)
	}
	hasLog, err := s.exists(s.path)
	if err != nil {
		return nil, err
	}
	hasLegacy, err := s.exists(s.legacyPath())
	if err != nil {
		return nil, err
	}
	switch {
	case hasLegacy && !hasLog:
		if err := s.migrate(); err != nil {
			return nil, err
		}
	case !hasLog:
		s.fresh = true
	}
	jopts := journal.Options{
		FS: s.fs, Logger: s.log, RefuseDamage: true,
		Replay: s.replay, Snapshot: s.snapshot,
	}
	if opts.tune != nil {
		opts.tune(&jopts)
	}
	s.jl, err = journal.Open(s.path, jopts)
	if errors.Is(err, journal.ErrDamaged) {
		return nil, fmt.Errorf("%w: %w", ErrBadMetadata, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open topic metadata: %w", err)
	}
	if hasLog && hasLegacy {
		// The import was renamed into place, complete; only retiring
		// topics.json was left to do.
		if err := s.retireLegacy(); err != nil {
			s.jl.Close()
			return nil, err
		}
	}
	return s, nil
}

// exists reports whether path exists.
func (s *Store) exists(path string) (bool, error) {
	_, err := s.fs.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", path, err)
	}
	return true, nil
}

// replay folds one record of topics.log into the state at Open.
func (s *Store) replay(rec []byte) error {
	op, t, err := decodeRecord(rec)
	if err != nil {
		return err
	}
	return s.st.apply(op, t)
}

// snapshot writes the durable state as one upsert per topic, by name.
func (s *Store) snapshot(add func([]byte)) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	names := make([]string, 0, len(s.st.topics))
	for name := range s.st.topics {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		rec, err := encodeUpsert(s.st.topics[name])
		if err != nil {
			return err
		}
		add(rec)
	}
	return nil
}

// Close stops the journal. Changes after Close fail.
func (s *Store) Close() error { return s.jl.Close() }

// Fresh reports that no metadata (topics.log or topics.json) existed when
// the store was opened.
func (s *Store) Fresh() bool { return s.fresh }

// Path is the metadata file, topics.log.
func (s *Store) Path() string { return s.path }

// legacyPath is the previous version's metadata file.
func (s *Store) legacyPath() string { return filepath.Join(s.dir, legacyName) }

// JournalStats returns the counters of the store's journal (torn tails
// cut at Open, failed writes, repairs).
func (s *Store) JournalStats() journal.Stats { return s.jl.Stats() }

// Get returns a copy of the named topic.
func (s *Store) Get(name string) (Topic, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.st.topics[name]
	if !ok {
		return Topic{}, false
	}
	return t.clone(), true
}

// List returns copies of all topics, sorted by name.
func (s *Store) List() []Topic {
	s.mu.RLock()
	out := make([]Topic, 0, len(s.st.topics))
	for _, t := range s.st.topics {
		out = append(out, t.clone())
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Len returns the number of topics.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.st.topics)
}

// commit appends recs as one batch and waits for the journal's answer;
// once they are durable, and only then, it folds them into the state.
// The caller holds chg and has validated them against the state.
func (s *Store) commit(ops []string, ts []Topic) error {
	recs := make([][]byte, len(ts))
	for i := range ts {
		var err error
		if ops[i] == opDelete {
			recs[i], err = encodeDelete(&ts[i])
		} else {
			recs[i], err = encodeUpsert(&ts[i])
		}
		if err != nil {
			return err
		}
	}
	done := make(chan error, 1)
	err := s.jl.Append(recs, func(err error) {
		if err == nil {
			s.mu.Lock()
			for i := range ts {
				if aerr := s.st.apply(ops[i], ts[i]); aerr != nil {
					// Validated before the append, so this is a bug;
					// the next Open will refuse the record and say so.
					s.log.Error("a durable topic change does not apply", "topic", ts[i].Name, "err", aerr)
				}
			}
			s.mu.Unlock()
		}
		done <- err
	})
	if err == nil {
		err = <-done
	}
	if err != nil {
		return fmt.Errorf("store topic metadata in %s: %w", s.path, err)
	}
	return nil
}

// Create adds a topic after validating its name, partition count and
// configs, and persists the change before returning it.
func (s *Store) Create(name string, partitions int32, configs map[string]string, internal bool) (Topic, error) {
	t, err := s.NewTopic(name, partitions, configs, internal)
	if err != nil {
		return Topic{}, err
	}
	return t, s.Add(t)
}

// NewTopic validates a topic to be created and gives it a fresh id, without
// adding it: the broker creates the partitions first and adds the topic
// (makes it visible) only once they all exist.
func (s *Store) NewTopic(name string, partitions int32, configs map[string]string, internal bool) (Topic, error) {
	t := Topic{Name: name, Partitions: partitions, Configs: map[string]string{}, Internal: internal}
	for k, v := range configs {
		t.Configs[k] = v
	}
	if _, err := rand.Read(t.ID[:]); err != nil {
		return Topic{}, fmt.Errorf("topic id: %w", err)
	}
	if err := t.validate(); err != nil {
		return Topic{}, err
	}
	if _, exists := s.Get(name); exists {
		return Topic{}, fmt.Errorf("%w: %s", ErrTopicExists, name)
	}
	return t, nil
}

// Add makes a topic made by NewTopic (or rebuilt from partition
// directories) part of the store and persists the change.
func (s *Store) Add(t Topic) error { return s.AddAll([]Topic{t}) }

// AddAll adds several topics made by NewTopic as one journal batch: one
// write and one fsync for all of them. Either all are added or, on any
// error, none: an invalid topic, a name that exists or repeats, an id
// already used, or a failed write.
func (s *Store) AddAll(ts []Topic) error {
	if len(ts) == 0 {
		return nil
	}
	s.chg.Lock()
	defer s.chg.Unlock()
	ops := make([]string, len(ts))
	batch := make([]Topic, len(ts))
	names := make(map[string]bool, len(ts))
	ids := make(map[[16]byte]string, len(ts))
	s.mu.RLock()
	for i, t := range ts {
		err := t.validate()
		switch {
		case err != nil:
		case s.st.topics[t.Name] != nil || names[t.Name]:
			err = fmt.Errorf("%w: %s", ErrTopicExists, t.Name)
		case s.st.ids[t.ID] != "" || ids[t.ID] != "":
			err = fmt.Errorf("topic %s: id %x already used by %s", t.Name, t.ID, s.st.ids[t.ID]+ids[t.ID])
		}
		if err != nil {
			s.mu.RUnlock()
			return err
		}
		names[t.Name], ids[t.ID] = true, t.Name
		ops[i], batch[i] = opUpsert, t.clone()
	}
	s.mu.RUnlock()
	return s.commit(ops, batch)
}

// Delete removes a topic and persists the change.
func (s *Store) Delete(name string) (Topic, error) {
	s.chg.Lock()
	defer s.chg.Unlock()
	t, ok := s.Get(name)
	if !ok {
		return Topic{}, fmt.Errorf("%w: %s", ErrUnknownTopic, name)
	}
	if err := s.commit([]string{opDelete}, []Topic{t}); err != nil {
		return Topic{}, err
	}
	return t, nil
}

// SetPartitions raises a topic's partition count to total.
func (s *Store) SetPartitions(name string, total int32) (Topic, error) {
	return s.update(name, func(t *Topic) error {
		if total <= t.Partitions || total > MaxPartitions {
			return fmt.Errorf("%w: topic %s has %d partitions; new total %d must be larger and at most %d",
				ErrInvalidPartitions, name, t.Partitions, total, MaxPartitions)
		}
		t.Partitions = total
		return nil
	})
}

// SetConfigs replaces a topic's configs after validating them as stored
// configs (ValidateStoredConfigs): the broker holds a request's configs to
// Kafka's rules before it gets here.
func (s *Store) SetConfigs(name string, configs map[string]string) (Topic, error) {
	if err := ValidateStoredConfigs(configs); err != nil {
		return Topic{}, err
	}
	return s.update(name, func(t *Topic) error {
		t.Configs = make(map[string]string, len(configs))
		for k, v := range configs {
			t.Configs[k] = v
		}
		return nil
	})
}

// update changes a copy of a topic with change and persists it whole.
func (s *Store) update(name string, change func(*Topic) error) (Topic, error) {
	s.chg.Lock()
	defer s.chg.Unlock()
	t, ok := s.Get(name)
	if !ok {
		return Topic{}, fmt.Errorf("%w: %s", ErrUnknownTopic, name)
	}
	if err := change(&t); err != nil {
		return Topic{}, err
	}
	if err := s.commit([]string{opUpsert}, []Topic{t}); err != nil {
		return Topic{}, err
	}
	return t.clone(), nil
}
