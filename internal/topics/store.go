package topics

// store.go keeps the set of topics and persists it.

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/courier-dev/courier/internal/atomicfile"
)

// MaxPartitions bounds a topic's partition count; each partition costs open
// files, so an absurd count is refused rather than attempted.
const MaxPartitions = 10000

// Errors returned by Store; the broker maps them to Kafka error codes.
var (
	ErrTopicExists       = errors.New("topic already exists")
	ErrUnknownTopic      = errors.New("unknown topic")
	ErrInvalidTopic      = errors.New("invalid topic name")
	ErrInvalidPartitions = errors.New("invalid number of partitions")
	ErrInvalidConfig     = errors.New("invalid topic config")
	// ErrBadMetadata means the metadata file exists but cannot be trusted:
	// it does not parse, or an entry breaks the rules every topic created
	// through the broker follows. Open refuses it rather than guess.
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

// Store is the durable set of topics. It is safe for concurrent use.
type Store struct {
	path  string
	fresh bool // no metadata file existed at Open

	mu     sync.RWMutex
	topics map[string]*Topic
}

// fileFormat is the on-disk layout.
type fileFormat struct {
	Version int      `json:"version"`
	Topics  []*Topic `json:"topics"`
}

// Open loads the store kept at dir/topics.json, or starts an empty one
// (Fresh then reports true). Every entry is validated: a file that does
// not parse or holds an entry that breaks the rules (a bad name, which
// would also make a bad path, a partition count out of range, an invalid
// config, a duplicate name or id) is refused with ErrBadMetadata.
func Open(dir string) (*Store, error) {
	s := &Store{path: filepath.Join(dir, "topics.json"), topics: make(map[string]*Topic)}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create metadata dir %s: %w", dir, err)
	}
	_ = os.Remove(s.path + ".tmp")
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		s.fresh = true
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read topic metadata: %w", err)
	}
	var ff fileFormat
	if err := json.Unmarshal(data, &ff); err != nil {
		return nil, fmt.Errorf("parse %s: %v: %w", s.path, err, ErrBadMetadata)
	}
	ids := make(map[[16]byte]string, len(ff.Topics))
	for i, t := range ff.Topics {
		if t == nil {
			return nil, fmt.Errorf("%s: entry %d is null: %w", s.path, i, ErrBadMetadata)
		}
		if err := t.validate(); err != nil {
			return nil, fmt.Errorf("%s: entry %d (%q): %v: %w", s.path, i, t.Name, err, ErrBadMetadata)
		}
		if _, dup := s.topics[t.Name]; dup {
			return nil, fmt.Errorf("%s: entry %d: topic %q listed twice: %w", s.path, i, t.Name, ErrBadMetadata)
		}
		if other, dup := ids[t.ID]; dup {
			return nil, fmt.Errorf("%s: entry %d: topic %q has the id of %q: %w", s.path, i, t.Name, other, ErrBadMetadata)
		}
		ids[t.ID] = t.Name
		if t.Configs == nil {
			t.Configs = map[string]string{}
		}
		s.topics[t.Name] = t
	}
	return s, nil
}

// Fresh reports that no metadata file existed when the store was opened.
func (s *Store) Fresh() bool { return s.fresh }

// Path is the metadata file.
func (s *Store) Path() string { return s.path }

// validate checks a loaded topic against the rules Create enforces.
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
	return ValidateConfigs(t.Configs)
}

// Get returns a copy of the named topic.
func (s *Store) Get(name string) (Topic, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.topics[name]
	if !ok {
		return Topic{}, false
	}
	return t.clone(), true
}

// List returns copies of all topics, sorted by name.
func (s *Store) List() []Topic {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Topic, 0, len(s.topics))
	for _, t := range s.topics {
		out = append(out, t.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
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
	s.mu.RLock()
	_, exists := s.topics[name]
	s.mu.RUnlock()
	if exists {
		return Topic{}, fmt.Errorf("%w: %s", ErrTopicExists, name)
	}
	return t, nil
}

// Add makes a topic made by NewTopic (or rebuilt from partition
// directories) part of the store and persists the change.
func (s *Store) Add(t Topic) error {
	if err := t.validate(); err != nil {
		return err
	}
	c := t.clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.topics[t.Name]; ok {
		return fmt.Errorf("%w: %s", ErrTopicExists, t.Name)
	}
	for _, o := range s.topics {
		if o.ID == t.ID {
			return fmt.Errorf("topic %s: id already used by %s", t.Name, o.Name)
		}
	}
	s.topics[t.Name] = &c
	if err := s.persistLocked(); err != nil {
		delete(s.topics, t.Name)
		return err
	}
	return nil
}

// Delete removes a topic and persists the change.
func (s *Store) Delete(name string) (Topic, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[name]
	if !ok {
		return Topic{}, fmt.Errorf("%w: %s", ErrUnknownTopic, name)
	}
	delete(s.topics, name)
	if err := s.persistLocked(); err != nil {
		s.topics[name] = t
		return Topic{}, err
	}
	return t.clone(), nil
}

// SetPartitions raises a topic's partition count to total.
func (s *Store) SetPartitions(name string, total int32) (Topic, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[name]
	if !ok {
		return Topic{}, fmt.Errorf("%w: %s", ErrUnknownTopic, name)
	}
	if total <= t.Partitions || total > MaxPartitions {
		return Topic{}, fmt.Errorf("%w: topic %s has %d partitions; new total %d must be larger and at most %d",
			ErrInvalidPartitions, name, t.Partitions, total, MaxPartitions)
	}
	old := t.Partitions
	t.Partitions = total
	if err := s.persistLocked(); err != nil {
		t.Partitions = old
		return Topic{}, err
	}
	return t.clone(), nil
}

// SetConfigs replaces a topic's configs after validating them.
func (s *Store) SetConfigs(name string, configs map[string]string) (Topic, error) {
	if err := ValidateConfigs(configs); err != nil {
		return Topic{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[name]
	if !ok {
		return Topic{}, fmt.Errorf("%w: %s", ErrUnknownTopic, name)
	}
	old := t.Configs
	t.Configs = make(map[string]string, len(configs))
	for k, v := range configs {
		t.Configs[k] = v
	}
	if err := s.persistLocked(); err != nil {
		t.Configs = old
		return Topic{}, err
	}
	return t.clone(), nil
}

// persistLocked writes the whole store atomically.
func (s *Store) persistLocked() error {
	ff := fileFormat{Version: 1}
	for _, t := range s.topics {
		ff.Topics = append(ff.Topics, t)
	}
	sort.Slice(ff.Topics, func(i, j int) bool { return ff.Topics[i].Name < ff.Topics[j].Name })
	data, err := json.MarshalIndent(ff, "", "  ")
	if err != nil {
		return fmt.Errorf("encode topic metadata: %w", err)
	}
	return atomicfile.Write(s.path, data, 0o644)
}
