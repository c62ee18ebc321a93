package chaos

// ledger_test.go is the record of what the broker acknowledged: each
// record's position and each group's last commit per partition, which the
// final checks hold the broker to. Record contents are derived from their
// identity (topic and number), so a read-back can check every byte.

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"
)

// recordKey identifies a produced record: numbers are unique per topic.
type recordKey struct {
	topic string
	n     int
}

// position is where the broker said it stored a record.
type position struct {
	partition int32
	offset    int64
}

// topicPartition names a partition.
type topicPartition struct {
	topic     string
	partition int32
}

func (tp topicPartition) String() string { return fmt.Sprintf("%s[%d]", tp.topic, tp.partition) }

// recordValue is the content of record n of topic: its identity, then
// padding derived from n (16 to 63 bytes), so records differ in size.
func recordValue(topic string, n int) []byte {
	v := fmt.Appendf(nil, "%s#%08d#", topic, n)
	for i := range 16 + n%48 {
		v = append(v, 'a'+byte((n*7+i)%26))
	}
	return v
}

// parseValue returns the topic and number of a value recordValue made; ok
// is false for anything else, including a right prefix with wrong padding.
func parseValue(v []byte) (topic string, n int, ok bool) {
	parts := bytes.SplitN(v, []byte("#"), 3)
	if len(parts) != 3 || len(parts[1]) != 8 {
		return "", 0, false
	}
	n, err := strconv.Atoi(string(parts[1]))
	if err != nil || n < 0 {
		return "", 0, false
	}
	topic = string(parts[0])
	return topic, n, bytes.Equal(v, recordValue(topic, n))
}

// ledger is the acknowledged state. Its methods are safe for concurrent
// use by the workloads' goroutines and clients' callbacks.
type ledger struct {
	mu      sync.Mutex
	records map[recordKey]position
	failed  int // produced records that got an error: their fate is unknown
	// commits holds, per group and partition, the offset of the last
	// commit the broker acknowledged.
	commits map[string]map[topicPartition]int64
	nCommit int // acknowledged commit requests
}

func newLedger() *ledger {
	return &ledger{records: make(map[recordKey]position), commits: make(map[string]map[topicPartition]int64)}
}

// produced records a produce outcome.
func (l *ledger) produced(k recordKey, p position, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.failed++
		return
	}
	l.records[k] = p
}

// committed records an acknowledged commit of offset for tp by group.
func (l *ledger) committed(group string, tp topicPartition, offset int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.commits[group] == nil {
		l.commits[group] = make(map[topicPartition]int64)
	}
	l.commits[group][tp] = offset
}

// commitDone counts one acknowledged commit request.
func (l *ledger) commitDone() {
	l.mu.Lock()
	l.nCommit++
	l.mu.Unlock()
}

// lastCommit returns the last acknowledged commit of tp by group.
func (l *ledger) lastCommit(group string, tp topicPartition) (int64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.commits[group][tp]
	return o, ok
}

// counts returns the acknowledged and failed record counts and the
// acknowledged commit requests.
func (l *ledger) counts() (acked, failed, commits int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.records), l.failed, l.nCommit
}

// ackedIn returns the acknowledged records of topic.
func (l *ledger) ackedIn(topic string) map[int]position {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[int]position)
	for k, p := range l.records {
		if k.topic == topic {
			out[k.n] = p
		}
	}
	return out
}

// groupCommits returns a copy of group's last acknowledged commits.
func (l *ledger) groupCommits(group string) map[topicPartition]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[topicPartition]int64)
	for tp, o := range l.commits[group] {
		out[tp] = o
	}
	return out
}
