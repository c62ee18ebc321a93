package txn

// record.go defines the transaction coordinator's journal records and
// their encoding; the journal (internal/broker/journal) frames them,
// checksums them and keeps them in DATA/meta/transactions/txn.log.
//
// A record is a kind byte followed by a JSON object (journal.EncodeJSON,
// DecodeJSON), one per transition of a transactional id. Strings are
// valid UTF-8 by construction: the coordinator refuses ids, topics and
// groups that are not (journal.CheckName; JSON would silently replace
// their bytes and a replay would see another id).
//
// Every record is an idempotent upsert or deletion keyed by transactional
// id (or the coordinator epoch, which only grows), so replaying a log, or
// a snapshot followed by a log, yields the latest state. Decoding
// validates everything a state needs (see validate): a record that decodes
// is one the coordinator could have written.

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/courier-dev/courier/internal/broker/journal"
)

// Record kinds: the first byte of a record.
const (
	kindTxn    byte = 1 // one transactional id's metadata
	kindDelete byte = 2 // a transactional id expired
	kindEpoch  byte = 3 // the coordinator epoch of a run
)

// errCorrupt marks a record that cannot be decoded or describes an
// impossible state: damage, a bug, or a newer format. The journal skips
// it, logs it with its byte offset and keeps a copy of the file.
var errCorrupt = errors.New("corrupt transaction record")

// txnRecord is kindTxn's body.
type txnRecord struct {
	ID             string       `json:"id"`
	ProducerID     int64        `json:"producer_id"`
	LastProducerID int64        `json:"last_producer_id"`
	Epoch          int16        `json:"epoch"`
	LastEpoch      int16        `json:"last_epoch"`
	TimeoutMs      int32        `json:"timeout_ms"`
	State          string       `json:"state"`
	StartMs        int64        `json:"start_ms"` // -1: no transaction started
	UpdateMs       int64        `json:"update_ms"`
	Partitions     []partRecord `json:"partitions,omitempty"`
	Groups         []string     `json:"groups,omitempty"`
}

type partRecord struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

// deleteRecord is kindDelete's body.
type deleteRecord struct {
	ID string `json:"id"`
}

// epochRecord is kindEpoch's body.
type epochRecord struct {
	CoordinatorEpoch int32 `json:"coordinator_epoch"`
}

// record is a decoded record.
type record struct {
	kind  byte
	id    string // kindTxn, kindDelete
	m     meta   // kindTxn
	epoch int32  // kindEpoch
}

// encodeTxn returns the record of id's metadata m.
func encodeTxn(id string, m meta) []byte {
	r := txnRecord{
		ID: id, ProducerID: m.pid, LastProducerID: m.lastPID,
		Epoch: m.epoch, LastEpoch: m.lastEpoch, TimeoutMs: m.timeoutMs,
		State: m.state.String(), StartMs: -1, UpdateMs: m.lastUpdate.UnixMilli(),
		Groups: m.groups,
	}
	if !m.start.IsZero() {
		r.StartMs = m.start.UnixMilli()
	}
	for _, p := range m.parts {
		r.Partitions = append(r.Partitions, partRecord(p))
	}
	return journal.EncodeJSON(kindTxn, r)
}

// encodeDelete returns the record of id's expiry.
func encodeDelete(id string) []byte { return journal.EncodeJSON(kindDelete, deleteRecord{ID: id}) }

// encodeEpoch returns the record of a coordinator epoch.
func encodeEpoch(epoch int32) []byte {
	return journal.EncodeJSON(kindEpoch, epochRecord{CoordinatorEpoch: epoch})
}

// decodeRecord decodes and validates one record.
func decodeRecord(b []byte) (record, error) {
	if len(b) == 0 {
		return record{}, fmt.Errorf("%w: empty", errCorrupt)
	}
	r := record{kind: b[0]}
	switch r.kind {
	case kindTxn:
		var tr txnRecord
		if err := decodeBody(b[1:], &tr); err != nil {
			return record{}, err
		}
		m, err := tr.meta()
		if err != nil {
			return record{}, err
		}
		r.id, r.m = tr.ID, m
	case kindDelete:
		var dr deleteRecord
		if err := decodeBody(b[1:], &dr); err != nil {
			return record{}, err
		}
		if err := journal.CheckName("transactional id", dr.ID); err != nil {
			return record{}, fmt.Errorf("%w: %w", errCorrupt, err)
		}
		r.id = dr.ID
	case kindEpoch:
		var er epochRecord
		if err := decodeBody(b[1:], &er); err != nil {
			return record{}, err
		}
		if er.CoordinatorEpoch < 0 {
			return record{}, fmt.Errorf("%w: negative coordinator epoch %d", errCorrupt, er.CoordinatorEpoch)
		}
		r.epoch = er.CoordinatorEpoch
	default:
		return record{}, fmt.Errorf("%w: unknown kind %d", errCorrupt, r.kind)
	}
	return r, nil
}

// decodeBody decodes a record's body, or reports it corrupt.
func decodeBody(b []byte, v any) error {
	if err := journal.DecodeJSON(b, v); err != nil {
		return fmt.Errorf("%w: %w", errCorrupt, err)
	}
	return nil
}

// meta converts and validates a decoded txnRecord.
func (tr txnRecord) meta() (meta, error) {
	if err := journal.CheckName("transactional id", tr.ID); err != nil {
		return meta{}, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	st, ok := parseState(tr.State)
	if !ok {
		return meta{}, fmt.Errorf("%w: %s: unknown state %q", errCorrupt, tr.ID, tr.State)
	}
	m := meta{
		pid: tr.ProducerID, lastPID: tr.LastProducerID,
		epoch: tr.Epoch, lastEpoch: tr.LastEpoch, timeoutMs: tr.TimeoutMs,
		state: st, groups: tr.Groups, lastUpdate: time.UnixMilli(tr.UpdateMs),
	}
	if tr.StartMs != -1 {
		if tr.StartMs < 0 {
			return meta{}, fmt.Errorf("%w: %s: start time %d", errCorrupt, tr.ID, tr.StartMs)
		}
		m.start = time.UnixMilli(tr.StartMs)
	}
	for _, p := range tr.Partitions {
		m.parts = append(m.parts, Partition(p))
	}
	if tr.UpdateMs < 0 {
		return meta{}, fmt.Errorf("%w: %s: update time %d", errCorrupt, tr.ID, tr.UpdateMs)
	}
	if err := m.validate(); err != nil {
		return meta{}, fmt.Errorf("%w: %s: %w", errCorrupt, tr.ID, err)
	}
	return m, nil
}

// validate checks what every state the coordinator writes satisfies; the
// model test checks it after every step too.
func (m meta) validate() error {
	switch {
	case !m.state.persisted():
		return fmt.Errorf("state %s is never persisted", m.state)
	case m.pid < 0 || m.lastPID < noPID:
		return fmt.Errorf("producer ids %d (last %d)", m.pid, m.lastPID)
	case m.epoch < 0 || m.lastEpoch < noEpoch:
		return fmt.Errorf("producer epochs %d (last %d)", m.epoch, m.lastEpoch)
	case m.timeoutMs <= 0:
		return fmt.Errorf("transaction timeout %d ms", m.timeoutMs)
	case (m.state == stateOngoing || m.state.preparing()) && m.start.IsZero():
		return fmt.Errorf("state %s without a start time", m.state)
	case m.state == stateEmpty && !m.start.IsZero():
		return fmt.Errorf("state Empty with a start time")
	case (m.state.expirable()) && (len(m.parts) > 0 || len(m.groups) > 0):
		return fmt.Errorf("state %s with %d partitions and %d groups", m.state, len(m.parts), len(m.groups))
	case m.epoch == math.MaxInt16 && m.state == stateOngoing:
		return fmt.Errorf("ongoing at epoch %d, which could not be fenced", m.epoch)
	}
	for i, p := range m.parts {
		if err := journal.CheckName("topic", p.Topic); err != nil {
			return err
		}
		if p.Partition < 0 {
			return fmt.Errorf("partition %s/%d", p.Topic, p.Partition)
		}
		if i > 0 && comparePartitions(m.parts[i-1], p) >= 0 {
			return fmt.Errorf("partitions not sorted and distinct at %s/%d", p.Topic, p.Partition)
		}
	}
	for i, g := range m.groups {
		if err := journal.CheckName("group", g); err != nil {
			return err
		}
		if i > 0 && strings.Compare(m.groups[i-1], g) >= 0 {
			return fmt.Errorf("groups not sorted and distinct at %q", g)
		}
	}
	return nil
}
