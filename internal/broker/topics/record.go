package topics

// record.go is the format of topics.log's records and the one function
// that folds a record into the store's state, used alike by the replay at
// Open and by every change once the journal reports it durable, so that a
// restart rebuilds exactly the state the store showed.
//
// A record is a JSON object, one per created or changed topic (an upsert
// of the whole topic, keyed by its name) or per deleted topic:
//
//	{"v":1,"op":"upsert","name":"orders","id":"<32 hex digits>","partitions":3,"configs":{...},"internal":false}
//	{"v":1,"op":"delete","name":"orders","id":"<32 hex digits>"}
//
// "v" is the format's version: a record of a version this code does not
// know is refused, never guessed at. Unknown fields are refused too.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// recordVersion is the version of the record format written.
const recordVersion = 1

// Record operations.
const (
	opUpsert = "upsert"
	opDelete = "delete"
)

// record is one journal record as encoded.
type record struct {
	Version    int               `json:"v"`
	Op         string            `json:"op"`
	Name       string            `json:"name"`
	ID         string            `json:"id"`
	Partitions int32             `json:"partitions,omitempty"`
	Configs    map[string]string `json:"configs,omitempty"`
	Internal   bool              `json:"internal,omitempty"`
}

// encodeUpsert is the record that creates t or replaces it whole.
func encodeUpsert(t *Topic) ([]byte, error) {
	return encodeRecord(record{Version: recordVersion, Op: opUpsert, Name: t.Name, ID: hex.EncodeToString(t.ID[:]),
		Partitions: t.Partitions, Configs: t.Configs, Internal: t.Internal})
}

// encodeDelete is the record that deletes t.
func encodeDelete(t *Topic) ([]byte, error) {
	return encodeRecord(record{Version: recordVersion, Op: opDelete, Name: t.Name, ID: hex.EncodeToString(t.ID[:])})
}

func encodeRecord(r record) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode topic record for %q: %w", r.Name, err)
	}
	return b, nil
}

// decodeRecord parses one record and checks its shape: the version, the
// operation, the id, and for a deletion that it carries nothing else. The
// topic's own rules (name, partitions, configs) are checked by apply.
func decodeRecord(b []byte) (op string, t Topic, err error) {
	var r record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return "", Topic{}, fmt.Errorf("parse topic record: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", Topic{}, errors.New("parse topic record: data after the record")
	}
	if r.Version != recordVersion {
		return "", Topic{}, fmt.Errorf("topic record version %d is not one this broker reads (%d)", r.Version, recordVersion)
	}
	id, err := hex.DecodeString(r.ID)
	if err != nil || len(id) != len(t.ID) {
		return "", Topic{}, fmt.Errorf("topic record for %q: id %q is not %d hex digits", r.Name, r.ID, 2*len(t.ID))
	}
	t = Topic{Name: r.Name, Partitions: r.Partitions, Configs: r.Configs, Internal: r.Internal}
	copy(t.ID[:], id)
	switch r.Op {
	case opUpsert:
		if t.Configs == nil {
			t.Configs = map[string]string{}
		}
	case opDelete:
		if r.Partitions != 0 || r.Configs != nil || r.Internal {
			return "", Topic{}, fmt.Errorf("topic record deleting %q carries topic fields", r.Name)
		}
	default:
		return "", Topic{}, fmt.Errorf("topic record for %q: unknown operation %q", r.Name, r.Op)
	}
	return r.Op, t, nil
}

// state is the durable set of topics, indexed by name and by id.
type state struct {
	topics map[string]*Topic
	ids    map[[16]byte]string
}

func newState() state {
	return state{topics: make(map[string]*Topic), ids: make(map[[16]byte]string)}
}

// apply folds one decoded record into st, or refuses it, leaving st
// unchanged, when it breaks a rule every change the store makes follows:
// a valid topic (name, which also becomes a path, partitions, configs, a
// non-zero id), an id no other topic has, an upsert that keeps the
// topic's id and never lowers its partition count, and a deletion of a
// topic that exists with that id.
func (st *state) apply(op string, t Topic) error {
	old := st.topics[t.Name]
	switch op {
	case opUpsert:
		if err := t.validate(); err != nil {
			return fmt.Errorf("topic %q: %w", t.Name, err)
		}
		if other, ok := st.ids[t.ID]; ok && other != t.Name {
			return fmt.Errorf("topic %q has the id of %q", t.Name, other)
		}
		if old != nil && old.ID != t.ID {
			return fmt.Errorf("topic %q: an update changes its id (%x to %x)", t.Name, old.ID, t.ID)
		}
		if old != nil && t.Partitions < old.Partitions {
			return fmt.Errorf("topic %q: an update lowers its partitions from %d to %d", t.Name, old.Partitions, t.Partitions)
		}
		c := t.clone()
		st.topics[t.Name] = &c
		st.ids[t.ID] = t.Name
	case opDelete:
		if err := ValidateName(t.Name); err != nil {
			return fmt.Errorf("deletion: %w", err)
		}
		if old == nil || old.ID != t.ID {
			return fmt.Errorf("deletion of topic %q (id %x), which does not exist", t.Name, t.ID)
		}
		delete(st.topics, t.Name)
		delete(st.ids, t.ID)
	default:
		return fmt.Errorf("unknown operation %q", op)
	}
	return nil
}
