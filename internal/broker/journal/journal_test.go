package journal

// journal_test.go checks the journal's life on a healthy disk: appends
// survive reopening, concurrent appends share fsyncs and keep their order,
// compaction rewrites the file and loses nothing, and Open's recovery on
// real files (torn tails, damaged records, lost framing, leftovers).

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

func TestAppendAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "j.log")
	o := mustOpenKV(t, vfs.Default, path, nil)
	o.mustPut(t, "a=1", "b=2")
	o.mustPut(t, "a=3")
	o.mustPut(t, "b-")
	if err := o.j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o.j.Append([][]byte{[]byte("c=1")}, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	o = mustOpenKV(t, vfs.Default, path, nil)
	expectState(t, o.s.copy(), map[string]string{"a": "3"})
	if st := o.j.Stats(); st != (Stats{Healthy: true}) {
		t.Fatalf("stats of a clean reopen %+v", st)
	}
}

func TestAppendRejectsBadRecords(t *testing.T) {
	o := mustOpenKV(t, vfs.NewMem(), "/j", func(opts *Options) { opts.MaxRecord = 16 })
	for _, rec := range [][]byte{{}, make([]byte, 17)} {
		if err := o.j.Append([][]byte{[]byte("ok=1"), rec}, nil); !errors.Is(err, ErrRecordSize) {
			t.Fatalf("%d-byte record: %v", len(rec), err)
		}
	}
}

func TestConcurrentAppendsKeepOrder(t *testing.T) {
	fsys := vfs.NewMem()
	o := mustOpenKV(t, fsys, "/j", nil)
	const writers, each = 8, 50
	var (
		mu    sync.Mutex
		order []string // done order
		wg    sync.WaitGroup
	)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				rec := fmt.Sprintf("w%d=%d", w, i)
				ch := make(chan error, 1)
				err := o.j.Append([][]byte{[]byte(rec)}, func(err error) {
					if err == nil {
						o.s.apply([]byte(rec))
						mu.Lock()
						order = append(order, rec)
						mu.Unlock()
					}
					ch <- err
				})
				if err == nil {
					err = <-ch
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Each writer's records were reported in the order it appended them.
	last := map[string]int{}
	for _, rec := range order {
		w, v, _ := strings.Cut(rec, "=")
		var i int
		fmt.Sscan(v, &i)
		if prev, ok := last[w]; ok && i != prev+1 {
			t.Fatalf("%s reported after %s=%d", rec, w, prev)
		}
		last[w] = i
	}
	want := o.s.copy()
	o.j.Close()
	o = mustOpenKV(t, fsys.CrashClone(vfs.CrashOptions{}), "/j", nil)
	expectState(t, o.s.copy(), want)
}

func TestDoneMayAppend(t *testing.T) {
	o := mustOpenKV(t, vfs.NewMem(), "/j", nil)
	ch := make(chan error, 1)
	err := o.j.Append([][]byte{[]byte("a=1")}, func(err error) {
		if err != nil {
			ch <- err
			return
		}
		o.s.apply([]byte("a=1"))
		if err := o.j.Append([][]byte{[]byte("b=2")}, func(err error) {
			o.s.apply([]byte("b=2"))
			ch <- err
		}); err != nil {
			ch <- err
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-ch; err != nil {
		t.Fatal(err)
	}
	expectState(t, o.s.copy(), map[string]string{"a": "1", "b": "2"})
}

func TestCompaction(t *testing.T) {
	fsys := vfs.NewMem()
	o := mustOpenKV(t, fsys, "/d/j", func(opts *Options) { opts.CompactBytes = 1024 })
	for i := 0; i < 2000; i++ {
		o.mustPut(t, fmt.Sprintf("k%d=%d", i%8, i))
	}
	if o.j.Stats().Compactions == 0 {
		t.Fatal("never compacted")
	}
	st, err := fsys.Stat("/d/j")
	if err != nil || st.Size() > 3*1024 {
		t.Fatalf("journal is %v bytes after compaction (%v)", st.Size(), err)
	}
	want := o.s.copy()
	o.j.Close()
	o = mustOpenKV(t, fsys.CrashClone(vfs.CrashOptions{}), "/d/j", nil)
	expectState(t, o.s.copy(), want)
}

func TestOpenCutsTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	o := mustOpenKV(t, vfs.Default, path, nil)
	o.mustPut(t, "a=1")
	o.mustPut(t, "b=2")
	o.j.Close()
	whole, _ := os.ReadFile(path)
	os.WriteFile(path, whole[:len(whole)-3], 0o644)
	o = mustOpenKV(t, vfs.Default, path, nil)
	expectState(t, o.s.copy(), map[string]string{"a": "1"})
	if st := o.j.Stats(); st.TornTails != 1 || st.DamagedRecords != 0 {
		t.Fatalf("stats %+v", st)
	}
	if !strings.Contains(o.log.String(), "torn tail") {
		t.Fatalf("torn tail not logged: %s", o.log)
	}
	// Appends land after the last whole record.
	o.mustPut(t, "c=3")
	o.j.Close()
	o = mustOpenKV(t, vfs.Default, path, nil)
	expectState(t, o.s.copy(), map[string]string{"a": "1", "c": "3"})
	if st := o.j.Stats(); st.TornTails != 0 {
		t.Fatalf("tail cut again: %+v", st)
	}
}

// TestOpenSkipsDamagedMiddleRecord is the journal's half of issue 10's
// defect 3: a byte flipped in the middle of a 500-record file loses that
// record alone, loudly, and keeps the file as it was.
func TestOpenSkipsDamagedMiddleRecord(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j")
	o := mustOpenKV(t, vfs.Default, path, nil)
	for i := 0; i < 500; i++ {
		o.mustPut(t, fmt.Sprintf("k%03d=%d", i, i))
	}
	o.j.Close()
	data, _ := os.ReadFile(path)
	_, starts := frames(t, data)
	victim := starts[250]
	data[victim+frameHeader+2] ^= 0x01
	os.WriteFile(path, data, 0o644)

	o = mustOpenKV(t, vfs.Default, path, nil)
	got := o.s.copy()
	if len(got) != 499 || got["k250"] != "" {
		t.Fatalf("%d records after the damage (k250=%q), want 499 without k250", len(got), got["k250"])
	}
	if st := o.j.Stats(); st.DamagedRecords != 1 {
		t.Fatalf("stats %+v", st)
	}
	if l := o.log.String(); !strings.Contains(l, "damaged record") || !strings.Contains(l, fmt.Sprintf("offset=%d", victim)) || !strings.Contains(l, path) {
		t.Fatalf("damage not logged with file and offset: %s", l)
	}
	// The file as it was is kept beside the journal, byte for byte.
	copies, _ := filepath.Glob(path + ".damaged-*")
	if len(copies) != 1 {
		t.Fatalf("copies %v", copies)
	}
	if kept, _ := os.ReadFile(copies[0]); string(kept) != string(data) {
		t.Fatal("the kept copy differs from the damaged file")
	}
	// The journal was rewritten: the next start finds no damage.
	o.mustPut(t, "after=1")
	o.j.Close()
	o = mustOpenKV(t, vfs.Default, path, nil)
	if st := o.j.Stats(); st.DamagedRecords != 0 || len(o.s.copy()) != 500 {
		t.Fatalf("after rewrite: stats %+v, %d records", st, len(o.s.copy()))
	}
}

func TestOpenSkipsRecordItsDecoderRejects(t *testing.T) {
	fsys := vfs.NewMem()
	o := mustOpenKV(t, fsys, "/j", nil)
	o.mustPut(t, "a=1")
	o.j.Close()
	f, _ := fsys.OpenFile("/j", os.O_RDWR, 0)
	st, _ := f.Stat()
	f.WriteAt(appendFrame(appendFrame(nil, []byte("bogus")), []byte("b=2")), st.Size())
	f.Sync()
	f.Close()
	o = mustOpenKV(t, fsys, "/j", nil)
	expectState(t, o.s.copy(), map[string]string{"a": "1", "b": "2"})
	if st := o.j.Stats(); st.DamagedRecords != 1 || !strings.Contains(o.log.String(), "not a kv record") {
		t.Fatalf("stats %+v log %s", st, o.log)
	}
}

func TestOpenRefusesLostFraming(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	o := mustOpenKV(t, vfs.Default, path, nil)
	for i := 0; i < 10; i++ {
		o.mustPut(t, fmt.Sprintf("k%d=%d", i, i))
	}
	o.j.Close()
	data, _ := os.ReadFile(path)
	_, starts := frames(t, data)
	// From record 4 on, the file is overwritten with bytes that frame
	// nothing: the header claims an absurd length, and no valid record
	// can be found after it.
	for i := starts[4]; i < len(data); i++ {
		data[i] = 0xee
	}
	os.WriteFile(path, data, 0o644)
	_, err := openKV(t, vfs.Default, path, nil)
	var de *DamageError
	if !errors.As(err, &de) || !errors.Is(err, ErrDamaged) || de.Offset != int64(starts[4]) || de.Records != 4 {
		t.Fatalf("open: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, fmt.Sprint(starts[4])) || !strings.Contains(msg, "move the file aside") {
		t.Fatalf("refusal does not say where and what to do: %s", msg)
	}
	// Nothing was changed.
	if now, _ := os.ReadFile(path); string(now) != string(data) {
		t.Fatal("a refused file was modified")
	}
}

func TestOpenRemovesUnfinishedSnapshot(t *testing.T) {
	fsys := vfs.NewMem()
	o := mustOpenKV(t, fsys, "/j", nil)
	o.mustPut(t, "a=1")
	o.j.Close()
	f, _ := fsys.OpenFile("/j"+vfs.TmpSuffix, os.O_RDWR|os.O_CREATE, 0o644)
	f.WriteAt([]byte("half a snapshot"), 0)
	f.Close()
	o = mustOpenKV(t, fsys, "/j", nil)
	expectState(t, o.s.copy(), map[string]string{"a": "1"})
	if _, err := fsys.Stat("/j" + vfs.TmpSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover snapshot: %v", err)
	}
}

// frames splits a journal file into its records and their offsets.
func frames(t *testing.T, data []byte) ([]string, []int) {
	t.Helper()
	var recs []string
	var starts []int
	for off := 0; off < len(data); {
		n := validFrame(data, off, DefaultMaxRecord)
		if n == 0 {
			t.Fatalf("no frame at %d", off)
		}
		recs = append(recs, string(data[off+frameHeader:off+n]))
		starts = append(starts, off)
		off += n
	}
	return recs, starts
}
