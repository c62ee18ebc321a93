package topics

// record_test.go checks that every record of topics.log is validated when
// the store opens: a record of an unknown version or shape, or one that
// breaks a rule every change follows, refuses the open with
// ErrBadMetadata naming what is wrong (and never becomes a path); and a
// byte flipped anywhere in the file refuses it too, unless it is in the
// last record (a torn tail, cut: that record was never acknowledged).

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/broker/journal"
	"github.com/courier-dev/courier/internal/broker/vfs"
)

const (
	idA = "0102030405060708090a0b0c0d0e0f10"
	idB = "1102030405060708090a0b0c0d0e0f10"
)

func upsert(name, id string, partitions int) string {
	return fmt.Sprintf(`{"v":1,"op":"upsert","name":%q,"id":%q,"partitions":%d}`, name, id, partitions)
}

func TestReplayRefusesBadRecords(t *testing.T) {
	good := upsert("a", idA, 2)
	for _, tc := range []struct {
		name    string
		records []string
		mention string
	}{
		{"not json", []string{good, `{"v":1,`}, "parse"},
		{"unknown version", []string{good, `{"v":2,"op":"upsert","name":"b","id":"` + idB + `","partitions":1}`}, "version 2"},
		{"unknown field", []string{good, `{"v":1,"op":"upsert","name":"b","id":"` + idB + `","partitions":1,"leader":3}`}, "leader"},
		{"data after the record", []string{good + `{}`}, "after the record"},
		{"unknown operation", []string{good, `{"v":1,"op":"rename","name":"a","id":"` + idA + `"}`}, "rename"},
		{"short id", []string{`{"v":1,"op":"upsert","name":"a","id":"0102","partitions":1}`}, "hex digits"},
		{"zero id", []string{upsert("a", strings.Repeat("0", 32), 1)}, "id is zero"},
		{"path in name", []string{upsert("../../evil", idA, 1)}, "evil"},
		{"zero partitions", []string{upsert("a", idA, 0)}, "partitions"},
		{"bad config", []string{`{"v":1,"op":"upsert","name":"a","id":"` + idA + `","partitions":1,"configs":{"retention.ms":"soon"}}`}, "retention.ms"},
		{"duplicate id", []string{good, upsert("b", idA, 1)}, `has the id of "a"`},
		{"id changed", []string{good, upsert("a", idB, 2)}, "changes its id"},
		{"partitions lowered", []string{good, upsert("a", idA, 1)}, "lowers its partitions"},
		{"deletion of an unknown topic", []string{good, `{"v":1,"op":"delete","name":"b","id":"` + idB + `"}`}, "does not exist"},
		{"deletion with another id", []string{good, `{"v":1,"op":"delete","name":"a","id":"` + idB + `"}`}, "does not exist"},
		{"deletion with topic fields", []string{good, `{"v":1,"op":"delete","name":"a","id":"` + idA + `","partitions":2}`}, "carries topic fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// A valid record after the bad one: the bad one is in the
			// middle, not a torn tail.
			recs := append(tc.records, upsert("z", "2102030405060708090a0b0c0d0e0f10", 1))
			writeLog(t, dir, recs...)
			_, err := Open(dir, Options{})
			if !errors.Is(err, ErrBadMetadata) || !errors.Is(err, journal.ErrDamaged) || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("Open = %v, want ErrBadMetadata mentioning %q", err, tc.mention)
			}
			if _, err := os.Stat(filepath.Join(dir, "..", "..", "evil-0")); !errors.Is(err, os.ErrNotExist) {
				t.Fatal("a record's name became a path")
			}
		})
	}
}

func TestReplayAcceptsEveryChange(t *testing.T) {
	dir := t.TempDir()
	writeLog(t, dir,
		upsert("a", idA, 1),
		upsert("b", idB, 1),
		upsert("a", idA, 3),
		`{"v":1,"op":"upsert","name":"a","id":"`+idA+`","partitions":3,"configs":{"retention.ms":"-1"}}`,
		`{"v":1,"op":"delete","name":"b","id":"`+idB+`"}`,
		upsert("b", "3102030405060708090a0b0c0d0e0f10", 2), // created again, a new id
	)
	s := openStore(t, nil, dir)
	a, _ := s.Get("a")
	b, _ := s.Get("b")
	if a.Partitions != 3 || a.Configs["retention.ms"] != "-1" || b.Partitions != 2 || b.ID[0] != 0x31 || s.Len() != 2 {
		t.Fatalf("replayed %+v %+v (%d topics)", a, b, s.Len())
	}
}

// TestFlippedByteRefusesOpen flips each byte of a topics.log of 40
// records in turn: anywhere before the last record the open is refused
// with ErrBadMetadata, and the file left as it was; in the last record it
// is a torn tail, cut, and the other 39 topics are there.
func TestFlippedByteRefusesOpen(t *testing.T) {
	src := t.TempDir()
	s := openStore(t, nil, src)
	for i := 0; i < 40; i++ {
		if _, err := s.Create(fmt.Sprintf("topic-%02d", i), 1, nil, false); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	data, err := os.ReadFile(filepath.Join(src, "topics.log"))
	if err != nil {
		t.Fatal(err)
	}
	last := 0
	for off := 0; off < len(data); off += 8 + int(binary.BigEndian.Uint32(data[off:])) {
		last = off
	}
	for i := 0; i < len(data); i += 7 {
		bad := append([]byte(nil), data...)
		bad[i] ^= 0x20
		mem := vfs.NewMem()
		if err := vfs.MkdirAllDurable(mem, "/meta", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := vfs.WriteAtomic(mem, "/meta/topics.log", bad, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := Open("/meta", Options{FS: mem})
		if i < last {
			if !errors.Is(err, ErrBadMetadata) {
				t.Fatalf("flip at %d of %d: Open = %v, want ErrBadMetadata", i, len(data), err)
			}
			if now, _ := vfs.ReadFile(mem, "/meta/topics.log"); string(now) != string(bad) {
				t.Fatalf("flip at %d: a refused file was changed", i)
			}
			continue
		}
		// The last record: torn (or, with its length made absurd,
		// refused); never read as something else.
		if err != nil {
			if !errors.Is(err, ErrBadMetadata) {
				t.Fatalf("flip at %d (last record): %v", i, err)
			}
			continue
		}
		if st.Len() != 39 {
			t.Fatalf("flip at %d (last record): %d topics, want 39", i, st.Len())
		}
		st.Close()
	}
}

// FuzzDecodeRecord: any bytes decode to a record or an error, never a
// panic; a record accepted by the state encodes back to one that decodes
// to the same topic.
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(upsert("a", idA, 2)))
	f.Add([]byte(`{"v":1,"op":"delete","name":"a","id":"` + idA + `"}`))
	f.Add([]byte(`{"v":1,"op":"upsert","name":"a","id":"` + idA + `","partitions":1,"configs":{"retention.ms":"-1"},"internal":true}`))
	f.Add([]byte(`{"v":1,"op":"upsert","name":"../x","id":"` + idA + `","partitions":-1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		op, tp, err := decodeRecord(b)
		if err != nil {
			return
		}
		st := newState()
		if op == opDelete {
			st.apply(opUpsert, Topic{Name: tp.Name, ID: tp.ID, Partitions: 1})
		}
		if err := st.apply(op, tp); err != nil {
			return
		}
		if op == opDelete {
			return
		}
		if ValidateName(tp.Name) != nil {
			t.Fatalf("accepted a bad name %q", tp.Name)
		}
		enc, err := encodeUpsert(&tp)
		if err != nil {
			t.Fatal(err)
		}
		op2, tp2, err := decodeRecord(enc)
		if err != nil || op2 != op || !reflect.DeepEqual(tp, tp2) {
			t.Fatalf("%s: re-encoded as %s: %v %+v, was %+v", b, enc, err, tp2, tp)
		}
	})
}

// FuzzLoadLegacy: any topics.json is imported whole or refused with
// ErrBadMetadata; what is imported follows the rules.
func FuzzLoadLegacy(f *testing.F) {
	if data, err := os.ReadFile("testdata/topics.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"version":1,"topics":[null]}`))
	f.Add([]byte(`{"version":1,"topics":[{"name":"a","id":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"partitions":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := vfs.NewMem()
		if err := vfs.WriteAtomic(mem, "/topics.json", data, 0o644); err != nil {
			t.Fatal(err)
		}
		ts, err := loadLegacy(mem, "/topics.json")
		if err != nil {
			if !errors.Is(err, ErrBadMetadata) {
				t.Fatalf("refused without ErrBadMetadata: %v", err)
			}
			return
		}
		st := newState()
		for _, tp := range ts {
			if err := st.apply(opUpsert, *tp); err != nil {
				t.Fatalf("imported a topic that breaks the rules: %v", err)
			}
		}
	})
}

// writeLog writes recs as topics.log in dir.
func writeLog(t testing.TB, dir string, recs ...string) {
	t.Helper()
	b := make([][]byte, len(recs))
	for i, r := range recs {
		b[i] = []byte(r)
	}
	if err := writeJournal(vfs.Default, filepath.Join(dir, logName), b); err != nil {
		t.Fatal(err)
	}
}
