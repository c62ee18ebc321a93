package group

// topics.go is the consumer group coordinator's view of the broker's
// topics (KIP-848 assigns partitions on the broker, so it must know them):
// an interface the broker implements, and a fixed one for tests.

import (
	"sort"
	"sync"
)

// TopicID is a topic's UUID, as the KIP-848 heartbeat names topics.
type TopicID = [16]byte

// TopicInfo is one topic as the coordinator sees it.
type TopicInfo struct {
	Name       string
	ID         TopicID
	Partitions int32
	// Internal marks broker-owned topics (__consumer_offsets). A
	// subscription regex resolved on the broker matches them too, as in
	// Kafka; only a client-side regex skips them.
	Internal bool
}

// Topics is what the coordinator reads of the broker's topics. Version
// must change whenever a topic is created or deleted or gains partitions:
// groups compare it with the version they last resolved their
// subscriptions at, and look again when it differs, so that such changes
// reach the assignment on the members' next heartbeats without a rejoin.
// Implementations must be safe for concurrent use and cheap: they are
// called under a group's lock.
type Topics interface {
	Version() uint64
	// Topic returns the topic named name.
	Topic(name string) (TopicInfo, bool)
	// All returns every topic (for regex subscriptions), in any order.
	All() []TopicInfo
}

// noTopics is the view of a coordinator given none: no topic exists, so
// consumer groups assign nothing.
type noTopics struct{}

func (noTopics) Version() uint64                { return 0 }
func (noTopics) Topic(string) (TopicInfo, bool) { return TopicInfo{}, false }
func (noTopics) All() []TopicInfo               { return nil }

// StaticTopics is a Topics kept in memory, for tests and tools: Set and
// Delete change it and its version.
type StaticTopics struct {
	mu      sync.Mutex
	version uint64
	byName  map[string]TopicInfo
}

// NewStaticTopics returns a view holding ts.
func NewStaticTopics(ts ...TopicInfo) *StaticTopics {
	s := &StaticTopics{byName: map[string]TopicInfo{}}
	for _, t := range ts {
		s.byName[t.Name] = t
	}
	s.version = 1
	return s
}

// Set creates or replaces a topic.
func (s *StaticTopics) Set(t TopicInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byName[t.Name] = t
	s.version++
}

// Delete removes a topic.
func (s *StaticTopics) Delete(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byName, name)
	s.version++
}

// Version implements Topics.
func (s *StaticTopics) Version() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

// Topic implements Topics.
func (s *StaticTopics) Topic(name string) (TopicInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.byName[name]
	return t, ok
}

// All implements Topics, sorted by name.
func (s *StaticTopics) All() []TopicInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TopicInfo, 0, len(s.byName))
	for _, t := range s.byName {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
