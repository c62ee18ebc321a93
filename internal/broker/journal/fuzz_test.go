package journal

// fuzz_test.go fuzzes recovery over damaged files. FuzzScan checks the
// pure decision on any bytes; FuzzOpen opens any bytes as a journal file
// (with and without RefuseDamage) and checks that Open either refuses
// with a DamageError or leaves a file that the next Open reads cleanly,
// with an append after it.

import (
	"errors"
	"maps"
	"os"
	"testing"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

func fuzzSeeds(f *testing.F) {
	data, starts := testLog(5)
	f.Add(data)
	f.Add(data[:len(data)-3])
	mid := append([]byte(nil), data...)
	mid[starts[2]+frameHeader] ^= 1
	f.Add(mid)
	zeroed := append([]byte(nil), data...)
	clear(zeroed[starts[1]:starts[3]])
	f.Add(zeroed)
	f.Add(append(append([]byte(nil), data...), make([]byte, 100)...))
	f.Add(append(append([]byte(nil), data...), 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5))
	f.Add(append(appendFrame(nil, []byte("bogus")), data...))
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 3})
	// An append torn with a hole: a sector of zeros, then written bytes.
	holed := append([]byte(nil), data...)
	holed = append(holed, make([]byte, 600)...)
	f.Add(append(holed, data[starts[1]:]...))
	f.Add(append(holed, data[starts[1]+3:]...))
}

func FuzzScan(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var recs [][]byte
		res, err := scan(data, 1<<16, false, func(_ int, rec []byte) error {
			if string(rec) == "bogus" {
				return errors.New("rejected")
			}
			recs = append(recs, append([]byte(nil), rec...))
			return nil
		})
		if res.end < 0 || res.end > len(data) || res.records != len(recs) {
			t.Fatalf("end %d of %d, %d records counted, %d replayed", res.end, len(data), res.records, len(recs))
		}
		prev := 0
		for _, d := range res.damaged {
			if d.offset < prev || d.length <= 0 || d.offset+d.length > res.end {
				t.Fatalf("damage %+v out of order or past end %d", d, res.end)
			}
			prev = d.offset + d.length
		}
		if err != nil && !errors.Is(err, errFramingLost) {
			t.Fatalf("unexpected error %v", err)
		}
		// The records read, framed again, read back alone and whole.
		var clean []byte
		for _, r := range recs {
			clean = appendFrame(clean, r)
		}
		var again int
		res2, err := scan(clean, 1<<16, false, func(_ int, rec []byte) error {
			if string(rec) != string(recs[again]) {
				t.Fatalf("record %d reads back as %q", again, rec)
			}
			again++
			return nil
		})
		if err != nil || res2.end != len(clean) || len(res2.damaged) != 0 || again != len(recs) {
			t.Fatalf("reframed records: %+v %v", res2, err)
		}
		// Stopping at damage (RefuseDamage) replays a prefix of the same
		// records and stops where the first damage starts.
		var first []string
		res3, err := scan(data, 1<<16, true, func(_ int, rec []byte) error {
			if string(rec) == "bogus" {
				return errors.New("rejected")
			}
			first = append(first, string(rec))
			return nil
		})
		for i, r := range first {
			if i >= len(recs) || r != string(recs[i]) {
				t.Fatalf("stopping scan replayed %q as record %d", r, i)
			}
		}
		if errors.Is(err, errStopped) {
			if len(res3.damaged) != 1 || res3.end != res3.damaged[0].offset {
				t.Fatalf("stopped: %+v", res3)
			}
			tornWithHoles(data[res3.end:], 1<<16) // decides without panicking
		} else if len(res3.damaged) != 0 {
			t.Fatalf("damage %+v without stopping", res3.damaged)
		}
	})
}

func FuzzOpen(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzOpen(t, data, false)
		fuzzOpen(t, data, true)
	})
}

// fuzzOpen opens data as a journal file, with or without RefuseDamage.
func fuzzOpen(t *testing.T, data []byte, refuse bool) {
	mem := vfs.NewMem()
	if err := vfs.MkdirAllDurable(mem, "/d", 0o755); err != nil {
		t.Fatal(err)
	}
	w, _ := mem.OpenFile("/d/j", os.O_RDWR|os.O_CREATE, 0o644)
	w.WriteAt(data, 0)
	w.Sync()
	w.Close()
	mem.SyncDir("/d")

	tune := func(o *Options) { o.RefuseDamage = refuse }
	o, err := openKV(t, mem, "/d/j", tune)
	if err != nil {
		var de *DamageError
		if !errors.As(err, &de) || de.Offset < 0 || de.Offset > int64(len(data)) {
			t.Fatalf("open (refuse=%v) refused without a DamageError: %v", refuse, err)
		}
		if now, _ := vfs.ReadFile(mem, "/d/j"); string(now) != string(data) {
			t.Fatal("a refused file was modified")
		}
		return
	}
	if st := o.j.Stats(); refuse && st.DamagedRecords != 0 {
		t.Fatalf("damage skipped under RefuseDamage: %+v", st)
	}
	if err := o.put("fuzz=appended"); err != nil {
		t.Fatal(err)
	}
	want := o.s.copy()
	if err := o.j.Close(); err != nil {
		t.Fatal(err)
	}
	// After a crash even: recovery's repairs were durable.
	c := mustOpenKV(t, mem.CrashClone(vfs.CrashOptions{}), "/d/j", tune)
	if st := c.j.Stats(); st.DamagedRecords != 0 || st.TornTails != 0 {
		t.Fatalf("second open (refuse=%v) still finds damage: %+v", refuse, st)
	}
	if got := c.s.copy(); !maps.Equal(got, want) {
		t.Fatalf("state %v after reopen (refuse=%v), want %v", got, refuse, want)
	}
}
