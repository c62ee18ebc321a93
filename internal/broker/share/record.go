package share

// record.go defines the share coordinator's journal records and their
// encoding; the journal (internal/broker/journal) frames them, checksums
// them and keeps them in DATA/meta/share/state.log.
//
// A record is a kind byte followed by a JSON object (journal.EncodeJSON,
// DecodeJSON), as the transaction coordinator's are. Every record
// is an idempotent upsert or deletion keyed by group, or by (group, topic
// id, partition), so replaying a log, or a snapshot followed by a log,
// yields the latest state. Decoding validates everything the state needs:
// a record that decodes is one the coordinator could have written.

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/courier-dev/courier/internal/broker/journal"
)

// Record kinds: the first byte of a record.
const (
	kindGroup           byte = 1 // a share group exists
	kindGroupDelete     byte = 2 // a share group and all its state are gone
	kindPartition       byte = 3 // a share-partition's delta (or whole state)
	kindPartitionDelete byte = 4 // a share-partition's state is gone
)

// errCorrupt marks a record that cannot be decoded or describes an
// impossible state: damage, a bug, or a newer format. The journal skips
// it, logs it with its byte offset and keeps a copy of the file.
var errCorrupt = errors.New("corrupt share state record")

// groupRecord is kindGroup's and kindGroupDelete's body.
type groupRecord struct {
	Group string `json:"group"`
}

// partRecord is kindPartition's and kindPartitionDelete's body. Ranges
// are [first, last, state, delivery count].
type partRecord struct {
	Group     string     `json:"group"`
	Topic     string     `json:"topic,omitempty"`
	TopicID   string     `json:"topic_id"`
	Partition int32      `json:"partition"`
	SPSO      int64      `json:"spso,omitempty"`
	Full      bool       `json:"full,omitempty"`
	Ranges    [][4]int64 `json:"ranges,omitempty"`
}

// record is a decoded record.
type record struct {
	kind  byte
	group string
	tp    TopicPartition
	topic string // kindPartition
	delta Delta  // kindPartition
}

// TopicPartition names a partition by topic id, as share groups do.
type TopicPartition struct {
	TopicID   [16]byte
	Partition int32
}

func encodeGroup(group string) []byte {
	return journal.EncodeJSON(kindGroup, groupRecord{Group: group})
}

func encodeGroupDelete(group string) []byte {
	return journal.EncodeJSON(kindGroupDelete, groupRecord{Group: group})
}

func encodePartition(group, topic string, tp TopicPartition, d Delta) []byte {
	r := partRecord{Group: group, Topic: topic, TopicID: hex.EncodeToString(tp.TopicID[:]), Partition: tp.Partition, SPSO: d.SPSO, Full: d.Full}
	for _, s := range d.Ranges {
		r.Ranges = append(r.Ranges, [4]int64{s.First, s.Last, int64(s.State), int64(s.Count)})
	}
	return journal.EncodeJSON(kindPartition, r)
}

func encodePartitionDelete(group string, tp TopicPartition) []byte {
	return journal.EncodeJSON(kindPartitionDelete, partRecord{Group: group, TopicID: hex.EncodeToString(tp.TopicID[:]), Partition: tp.Partition})
}

// decodeRecord decodes and validates one record.
func decodeRecord(b []byte) (record, error) {
	if len(b) == 0 {
		return record{}, fmt.Errorf("%w: empty", errCorrupt)
	}
	r := record{kind: b[0]}
	switch r.kind {
	case kindGroup, kindGroupDelete:
		var gr groupRecord
		if err := decodeBody(b[1:], &gr); err != nil {
			return record{}, err
		}
		if err := checkName("group", gr.Group); err != nil {
			return record{}, err
		}
		r.group = gr.Group
	case kindPartition, kindPartitionDelete:
		var pr partRecord
		if err := decodeBody(b[1:], &pr); err != nil {
			return record{}, err
		}
		if err := pr.into(&r); err != nil {
			return record{}, err
		}
	default:
		return record{}, fmt.Errorf("%w: unknown kind %d", errCorrupt, r.kind)
	}
	return r, nil
}

// into validates a partition record's body and fills r from it.
func (pr partRecord) into(r *record) error {
	if err := checkName("group", pr.Group); err != nil {
		return err
	}
	id, err := hex.DecodeString(pr.TopicID)
	if err != nil || len(id) != 16 {
		return fmt.Errorf("%w: topic id %q", errCorrupt, pr.TopicID)
	}
	if pr.Partition < 0 {
		return fmt.Errorf("%w: partition %d", errCorrupt, pr.Partition)
	}
	r.group = pr.Group
	copy(r.tp.TopicID[:], id)
	r.tp.Partition = pr.Partition
	if r.kind == kindPartitionDelete {
		if pr.Topic != "" || pr.SPSO != 0 || pr.Full || len(pr.Ranges) > 0 {
			return fmt.Errorf("%w: a deletion with state", errCorrupt)
		}
		return nil
	}
	if err := checkName("topic", pr.Topic); err != nil {
		return err
	}
	r.topic = pr.Topic
	r.delta = Delta{SPSO: pr.SPSO, Full: pr.Full}
	for _, s := range pr.Ranges {
		if s[2] < 0 || s[2] > int64(Archived) || s[3] < 0 || s[3] > 1<<15-1 {
			return fmt.Errorf("%w: range %v", errCorrupt, s)
		}
		r.delta.Ranges = append(r.delta.Ranges, StateRange{First: s[0], Last: s[1], State: State(s[2]), Count: int16(s[3])})
	}
	if err := r.delta.Validate(); err != nil {
		return fmt.Errorf("%w: %s/%s-%d: %w", errCorrupt, pr.Group, pr.Topic, pr.Partition, err)
	}
	return nil
}

// decodeBody decodes a record's body, or reports it corrupt.
func decodeBody(b []byte, v any) error {
	if err := journal.DecodeJSON(b, v); err != nil {
		return fmt.Errorf("%w: %w", errCorrupt, err)
	}
	return nil
}

// checkName validates a group or topic name as a record holds it.
func checkName(what, s string) error {
	if err := journal.CheckName(what, s); err != nil {
		return fmt.Errorf("%w: %w", errCorrupt, err)
	}
	return nil
}
