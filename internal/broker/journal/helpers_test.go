package journal

// helpers_test.go is a small user of the journal for the tests: a
// key-value map whose records are "k=v" (set) and "k-" (delete), kept the
// way the package doc asks: the durable map changes only in done(nil).

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testlog"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

// kv is the test user's durable state.
type kv struct {
	mu sync.Mutex
	m  map[string]string
}

func newKV() *kv { return &kv{m: map[string]string{}} }

// apply folds one record in, rejecting what is not a record.
func (s *kv) apply(rec []byte) error {
	r := string(rec)
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, v, ok := strings.Cut(r, "="); ok && k != "" {
		s.m[k] = v
		return nil
	}
	if k, ok := strings.CutSuffix(r, "-"); ok && k != "" && !strings.Contains(k, "=") {
		delete(s.m, k)
		return nil
	}
	return fmt.Errorf("not a kv record: %q", r)
}

func (s *kv) snapshot(add func([]byte)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range slices.Sorted(maps.Keys(s.m)) {
		add([]byte(k + "=" + s.m[k]))
	}
	return nil
}

func (s *kv) copy() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.m)
}

// opened is a journal under test with its state and log.
type opened struct {
	j   *Journal
	s   *kv
	log *testlog.Buffer
}

// openKV opens a journal of a kv at path on fsys.
func openKV(t testing.TB, fsys vfs.FS, path string, tune func(*Options)) (*opened, error) {
	o := &opened{s: newKV(), log: &testlog.Buffer{}}
	opts := Options{
		FS: fsys, Logger: slog.New(slog.NewTextHandler(o.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RetryMin: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond,
		Replay: o.s.apply, Snapshot: o.s.snapshot,
	}
	if tune != nil {
		tune(&opts)
	}
	j, err := Open(path, opts)
	if err != nil {
		return nil, err
	}
	o.j = j
	t.Cleanup(func() { j.Close() })
	return o, nil
}

func mustOpenKV(t testing.TB, fsys vfs.FS, path string, tune func(*Options)) *opened {
	t.Helper()
	o, err := openKV(t, fsys, path, tune)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// put appends records as one batch and waits for the outcome, folding
// them into the durable state on success.
func (o *opened) put(recs ...string) error {
	b := make([][]byte, len(recs))
	for i, r := range recs {
		b[i] = []byte(r)
	}
	ch := make(chan error, 1)
	err := o.j.Append(b, func(err error) {
		if err == nil {
			for _, r := range b {
				if aerr := o.s.apply(r); aerr != nil {
					err = aerr
				}
			}
		}
		ch <- err
	})
	if err != nil {
		return err
	}
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		return errors.New("append not reported within 10s")
	}
}

func (o *opened) mustPut(t testing.TB, recs ...string) {
	t.Helper()
	if err := o.put(recs...); err != nil {
		t.Fatal(err)
	}
}

func expectState(t testing.TB, got map[string]string, want map[string]string) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Fatalf("state %v, want %v", got, want)
	}
}
