package topics

// migrate_test.go checks the import of the previous version's topics.json
// (testdata/topics.json was written by that version's store: topics
// created, one deleted, one grown, configs set): every topic comes over
// with its id, partitions, configs and internal flag; topics.json is kept
// as topics.json.migrated and never read again; and a crash at any step of
// the import leaves a directory the next open imports the same way.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

// legacyTopics is what testdata/topics.json holds, read by its own loader.
func legacyTopics(t *testing.T) map[string]Topic {
	t.Helper()
	ts, err := loadLegacy(vfs.Default, "testdata/topics.json")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Topic{}
	for _, tp := range ts {
		out[tp.Name] = tp.clone()
	}
	return out
}

func stateOf(s *Store) map[string]Topic {
	out := map[string]Topic{}
	for _, tp := range s.List() {
		out[tp.Name] = tp
	}
	return out
}

func TestMigratesTopicsJSON(t *testing.T) {
	want := legacyTopics(t)
	// What the previous version's store was asked to do.
	if len(want) != 4 || want["orders"].Partitions != 3 || want["orders"].Configs["retention.ms"] != "-1" ||
		want["plain"].Partitions != 4 || !want["__consumer_offsets"].Internal ||
		want["rider-updates.v2_x"].Configs["message.timestamp.type"] != "LogAppendTime" {
		t.Fatalf("testdata/topics.json does not hold what it should: %+v", want)
	}
	dir := t.TempDir()
	legacy := filepath.Join(dir, "topics.json")
	copyFile(t, "testdata/topics.json", legacy)
	orig, _ := os.ReadFile(legacy)

	s := openStore(t, nil, dir)
	if got := stateOf(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("imported %+v, want %+v", got, want)
	}
	if _, err := os.Stat(legacy); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("topics.json still there after the import: %v", err)
	}
	if kept, _ := os.ReadFile(legacy + ".migrated"); string(kept) != string(orig) {
		t.Fatal("topics.json.migrated is not the imported file")
	}
	if _, err := s.Create("after-import", 2, nil, false); err != nil {
		t.Fatal(err)
	}
	s.Close()

	again := openStore(t, nil, dir)
	want["after-import"], _ = again.Get("after-import")
	if got := stateOf(again); !reflect.DeepEqual(got, want) || got["after-import"].Partitions != 2 {
		t.Fatalf("after reopening: %+v", got)
	}
	if kept, _ := os.ReadFile(legacy + ".migrated"); string(kept) != string(orig) {
		t.Fatal("topics.json.migrated changed")
	}
}

// TestMigrationSurvivesACrashAtEveryStep pulls the plug before each
// operation of the import that changes the disk in turn, keeping a random
// part of what was not synced: the next open must import (or finish
// importing) every topic, and the one after must find nothing left to do.
func TestMigrationSurvivesACrashAtEveryStep(t *testing.T) {
	want := legacyTopics(t)
	orig, err := os.ReadFile("testdata/topics.json")
	if err != nil {
		t.Fatal(err)
	}
	setup := func() *vfs.MemFS {
		mem := vfs.NewMem()
		if err := vfs.MkdirAllDurable(mem, "/data/meta", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := vfs.WriteAtomic(mem, "/data/meta/topics.json", orig, 0o644); err != nil {
			t.Fatal(err)
		}
		return mem
	}
	// Count the operations a whole import makes.
	steps := 0
	efs := vfs.NewErrorFS(setup())
	efs.InjectFunc(func(op vfs.Op, _ string) error {
		if op&vfs.OpsWriting != 0 {
			steps++
		}
		return nil
	})
	s, err := Open("/data/meta", Options{FS: efs})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if steps < 6 {
		t.Fatalf("the import made only %d changes to the disk", steps)
	}
	for k := 1; k <= steps; k++ {
		t.Run(fmt.Sprintf("crash-before-%d-of-%d", k, steps), func(t *testing.T) {
			mem := setup()
			efs := vfs.NewErrorFS(mem)
			var crashed *vfs.MemFS
			n := 0
			efs.InjectFunc(func(op vfs.Op, _ string) error {
				if op&vfs.OpsWriting == 0 && crashed == nil {
					return nil
				}
				if n++; n == k {
					crashed = mem.CrashClone(vfs.CrashOptions{Rand: rand.New(rand.NewPCG(uint64(k), 1))})
				}
				if crashed != nil {
					return errors.New("power lost")
				}
				return nil
			})
			if s, err := Open("/data/meta", Options{FS: efs}); err == nil {
				s.Close()
				t.Fatal("Open succeeded with the power lost")
			}
			s := openStore(t, crashed, "/data/meta")
			if got := stateOf(s); !reflect.DeepEqual(got, want) {
				t.Fatalf("after the crash: %+v", got)
			}
			s.Close()
			again := openStore(t, crashed, "/data/meta")
			if got := stateOf(again); !reflect.DeepEqual(got, want) {
				t.Fatalf("second open: %+v", got)
			}
			if _, err := crashed.Stat("/data/meta/topics.json"); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("topics.json still there: %v", err)
			}
			if kept, _ := vfs.ReadFile(crashed, "/data/meta/topics.json.migrated"); string(kept) != string(orig) {
				t.Fatal("topics.json.migrated is not the imported file")
			}
		})
	}
}
