package console

// group_test.go runs group consumers against a real Courier broker
// (testbroker) and reads the group's committed offsets the moment each run
// returns, whatever ended it.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// committed returns the sum of group's committed offsets on topic.
func committed(t *testing.T, adm *kadm.Client, group, topic string) int64 {
	t.Helper()
	os, err := adm.FetchOffsets(testCtx(t), group)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	os.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic {
			sum += o.At
		}
	})
	return sum
}

// lineWriter counts the lines written to it. After cancelAt lines it calls
// cancel (Ctrl-C after the records were seen); after failAt lines it calls
// more (more records arrive) and every later write fails (a closed pipe).
// Zero disables either.
type lineWriter struct {
	mu               sync.Mutex
	lines            int
	cancelAt, failAt int
	cancel           context.CancelFunc
	more             func()
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failAt > 0 && w.lines >= w.failAt {
		return 0, errors.New("broken pipe")
	}
	w.lines += bytes.Count(p, []byte("\n"))
	if w.cancelAt > 0 && w.lines >= w.cancelAt {
		w.cancel()
	}
	if w.failAt > 0 && w.lines >= w.failAt {
		w.more()
	}
	return len(p), nil
}

// TestConsumeGroupCommitsWhatItPrinted: a group consumer's printed records
// are committed by the time Consume returns, however the run ended, so
// that `group describe` right after shows them.
func TestConsumeGroupCommitsWhatItPrinted(t *testing.T) {
	seeds, adm := brokerAdmin(t)
	createTopic(t, adm, "t", 3)
	produce := func(n int) {
		var in strings.Builder
		for i := range n {
			fmt.Fprintf(&in, "record %d\n", i)
		}
		if _, err := Produce(testCtx(t), seeds, ProduceConfig{Topic: "t", Partition: -1}, strings.NewReader(in.String())); err != nil {
			t.Error(err)
		}
	}
	produce(30)

	for _, tc := range []struct {
		name string
		cfg  ConsumeConfig
		w    *lineWriter
	}{
		{"-n", ConsumeConfig{MaxRecords: 30}, &lineWriter{}},
		{"--timeout", ConsumeConfig{Timeout: 3 * time.Second}, &lineWriter{}},
		{"ctrl-c", ConsumeConfig{}, &lineWriter{cancelAt: 30}},
		// The 30 records reach the output, the next ones cannot.
		{"write error", ConsumeConfig{}, &lineWriter{failAt: 30, more: func() { produce(3) }}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			tc.w.cancel = cancel
			group := "g-" + strings.ReplaceAll(tc.name, " ", "-")
			cfg := tc.cfg
			cfg.Topic, cfg.Partition, cfg.Group, cfg.FromBeginning = "t", -1, group, true
			n, err := Consume(ctx, seeds, cfg, tc.w)
			if tc.w.failAt > 0 {
				if err == nil || !strings.Contains(err.Error(), "broken pipe") {
					t.Errorf("write error: %v", err)
				}
			} else if err != nil {
				t.Fatalf("consume: %v", err)
			}
			tc.w.mu.Lock()
			printed := tc.w.lines
			tc.w.mu.Unlock()
			if n != 30 || printed != 30 {
				t.Errorf("printed %d lines, counted %d, want 30", printed, n)
			}
			if got := committed(t, adm, group, "t"); got != int64(printed) {
				t.Errorf("committed offsets sum to %d right after the run, want the %d records printed", got, printed)
			}
		})
	}
}

// TestConsumeGroupCommitsEverySecond: while a group consumer runs, what it
// printed is committed within a second (Kafka's and franz-go's default is
// five), so `group describe` beside a running consumer is current.
func TestConsumeGroupCommitsEverySecond(t *testing.T) {
	opts, _, err := ConsumeConfig{Topic: "t", Partition: -1, Group: "g"}.clientOpts()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.SeedBrokers("127.0.0.1:1"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if got := cl.OptValue(kgo.AutoCommitInterval); got != time.Second {
		t.Errorf("autocommit interval %v, want 1s", got)
	}
}
