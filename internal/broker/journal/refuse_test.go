package journal

// refuse_test.go covers Options.RefuseDamage: a damaged record anywhere
// but a torn tail stops Open with a DamageError that says where and what
// to do, and replays nothing after it; a torn tail, even one with a hole
// of unwritten sectors before whole records of the same append, is still
// cut, a copy of the file kept.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

func refuseDamage(o *Options) { o.RefuseDamage = true }

// writeRecords makes a journal at path with records k000..k(n-1), their
// values padded with pad bytes, and returns its bytes and each record's
// offset.
func writeRecords(t *testing.T, path string, n, pad int) ([]byte, []int) {
	t.Helper()
	o := mustOpenKV(t, vfs.Default, path, nil)
	for i := 0; i < n; i++ {
		o.mustPut(t, fmt.Sprintf("k%03d=%d%s", i, i, strings.Repeat(".", pad)))
	}
	o.j.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, starts := frames(t, data)
	return data, starts
}

func TestRefuseDamageRefusesADamagedRecord(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(data []byte, at int) []byte
		reason string
	}{
		{"flipped byte", func(d []byte, at int) []byte { d[at+frameHeader+2] ^= 0x01; return d }, "checksum"},
		{"rejected by the decoder", func(d []byte, at int) []byte {
			rest := append([]byte(nil), d[at:]...)
			return append(appendFrame(d[:at], []byte("bogus")), rest...)
		}, "not a kv record"},
		{"framing lost", func(d []byte, at int) []byte { d[at] = 0x7f; return d }, "framing lost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j")
			data, starts := writeRecords(t, path, 100, 0)
			data = tc.damage(data, starts[50])
			os.WriteFile(path, data, 0o644)

			replayed := 0
			_, err := openKV(t, vfs.Default, path, func(o *Options) {
				o.RefuseDamage = true
				replay := o.Replay
				o.Replay = func(rec []byte) error { replayed++; return replay(rec) }
			})
			var de *DamageError
			if !errors.As(err, &de) || !errors.Is(err, ErrDamaged) || de.Offset != int64(starts[50]) || de.Records != 50 {
				t.Fatalf("open: %v (%+v)", err, de)
			}
			msg := err.Error()
			for _, want := range []string{path, fmt.Sprint(starts[50]), tc.reason, "truncate it to", "move the file aside"} {
				if !strings.Contains(msg, want) {
					t.Fatalf("refusal does not mention %q: %s", want, msg)
				}
			}
			if replayed > 51 {
				t.Fatalf("%d records replayed; nothing after the damage may be", replayed)
			}
			if now, _ := os.ReadFile(path); string(now) != string(data) {
				t.Fatal("a refused file was modified")
			}
			if copies, _ := filepath.Glob(path + ".damaged-*"); len(copies) != 0 {
				t.Fatalf("refusal made copies %v", copies)
			}
		})
	}
}

func TestRefuseDamageCutsATornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	data, starts := writeRecords(t, path, 10, 0)
	os.WriteFile(path, data[:len(data)-3], 0o644)
	o := mustOpenKV(t, vfs.Default, path, refuseDamage)
	if got := len(o.s.copy()); got != 9 {
		t.Fatalf("%d records, want 9", got)
	}
	if st := o.j.Stats(); st.TornTails != 1 || st.DamagedRecords != 0 {
		t.Fatalf("stats %+v", st)
	}
	if st, _ := os.Stat(path); st.Size() != int64(starts[9]) {
		t.Fatalf("file is %d bytes, want cut at %d", st.Size(), starts[9])
	}
}

// TestRefuseDamageCutsAnAppendTornWithAHole: an append cut short on a file
// system that wrote some of its sectors and not others leaves zeros (a
// hole), then whole records of the same append. That is a torn tail, not
// damage: Open cuts it at the hole, keeping a copy of the file. The same
// bytes with garbage instead of zeros are damage, and refused.
func TestRefuseDamageCutsAnAppendTornWithAHole(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fill    byte
		hole    int
		refused bool
	}{
		{"zeros", 0, 600, false},
		{"short run of zeros", 0, 40, true},
		{"garbage", 0xee, 600, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j")
			data, starts := writeRecords(t, path, 30, 100)
			// Records 20.. are the torn append: a hole over record 20
			// and into 21, then the rest whole.
			holeEnd := starts[20] + tc.hole
			for i := starts[20]; i < holeEnd; i++ {
				data[i] = tc.fill
			}
			if holeEnd >= starts[29] {
				t.Fatal("the hole must leave whole records after it")
			}
			os.WriteFile(path, data, 0o644)
			o, err := openKV(t, vfs.Default, path, refuseDamage)
			if tc.refused {
				var de *DamageError
				if !errors.As(err, &de) || de.Offset != int64(starts[20]) {
					t.Fatalf("open: %v, want a refusal at %d", err, starts[20])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := len(o.s.copy()); got != 20 {
				t.Fatalf("%d records, want the 20 before the hole", got)
			}
			if st := o.j.Stats(); st.TornTails != 1 || st.DamagedRecords != 0 {
				t.Fatalf("stats %+v", st)
			}
			copies, _ := filepath.Glob(path + ".damaged-*")
			if len(copies) != 1 {
				t.Fatalf("copies %v", copies)
			}
			if kept, _ := os.ReadFile(copies[0]); string(kept) != string(data) {
				t.Fatal("the kept copy differs from the file")
			}
			if !strings.Contains(o.log.String(), "torn tail") {
				t.Fatalf("not logged: %s", o.log)
			}
			o.mustPut(t, "after=1")
			o.j.Close()
			o = mustOpenKV(t, vfs.Default, path, refuseDamage)
			if st := o.j.Stats(); st.TornTails != 0 || len(o.s.copy()) != 21 {
				t.Fatalf("after the cut: stats %+v, %d records", st, len(o.s.copy()))
			}
		})
	}
}
