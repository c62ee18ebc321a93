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
	path string

	mu     sync.RWMutex
	topics map[string]*Topic
}

// fileFormat is the on-disk layout.
type fileFormat struct {
	Version int      `json:"version"`
	Topics  []*Topic `json:"topics"`
}

// Open loads the store kept at dir/topics.json, or starts an empty one.
func Open(dir string) (*Store, error) {
	s := &Store{path: filepath.Join(dir, "topics.json"), topics: make(map[string]*Topic)}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create metadata dir %s: %w", dir, err)
	}
	_ = os.Remove(s.path + ".tmp")
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read topic metadata: %w", err)
	}
	var ff fileFormat
	if err := json.Unmarshal(data, &ff); err != nil {
		return nil, fmt.Errorf("parse topic metadata %s: %w", s.path, err)
	}
	for _, t := range ff.Topics {
		if t.Configs == nil {
			t.Configs = map[string]string{}
		}
		s.topics[t.Name] = t
	}
	return s, nil
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
	if err := ValidateName(name); err != nil {
		return Topic{}, err
	}
	if partitions < 1 || partitions > MaxPartitions {
		return Topic{}, fmt.Errorf("%w: %d (must be 1..%d)", ErrInvalidPartitions, partitions, MaxPartitions)
	}
	if err := ValidateConfigs(configs); err != nil {
		return Topic{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.topics[name]; ok {
		return Topic{}, fmt.Errorf("%w: %s", ErrTopicExists, name)
	}
	t := &Topic{Name: name, Partitions: partitions, Configs: map[string]string{}, Internal: internal}
	for k, v := range configs {
		t.Configs[k] = v
	}
	if _, err := rand.Read(t.ID[:]); err != nil {
		return Topic{}, fmt.Errorf("topic id: %w", err)
	}
	s.topics[name] = t
	if err := s.persistLocked(); err != nil {
		delete(s.topics, name)
		return Topic{}, err
	}
	return t.clone(), nil
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
