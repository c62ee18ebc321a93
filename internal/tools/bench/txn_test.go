package bench

// txn_test.go checks the transactional mode: transactions ended every N
// records or every interval, commit latency reported, consumers reading
// committed records, and the settings it refuses.

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestTransactionalConfig(t *testing.T) {
	seeds := []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}
	for _, tc := range []struct {
		name string
		cfg  Config
		err  string
	}{
		{"records without transactions", Config{TxnRecords: 10}, "without a transactional run"},
		{"interval without transactions", Config{TxnInterval: time.Second}, "without a transactional run"},
		{"both", Config{Transactional: true, TxnRecords: 10, TxnInterval: time.Second}, "not both"},
		{"negative records", Config{Transactional: true, TxnRecords: -1}, "transaction records -1 < 0"},
		{"negative interval", Config{Transactional: true, TxnInterval: -time.Second}, "transaction interval -1s < 0"},
	} {
		tc.cfg.ClientOpts = seeds
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
		}
	}
	cfg, err := Config{ClientOpts: seeds, Transactional: true}.withDefaults()
	if err != nil || cfg.TxnInterval != DefaultTxnInterval || cfg.TxnRecords != 0 {
		t.Errorf("transactional defaults: %v, %v records every %v", err, cfg.TxnRecords, cfg.TxnInterval)
	}
	if cfg.isolation() != kgo.ReadCommitted() || (Config{}).isolation() != kgo.ReadUncommitted() {
		t.Error("a transactional run's consumers do not read committed, or a plain run's do")
	}
}

func TestTxnFull(t *testing.T) {
	byCount := Config{Transactional: true, TxnRecords: 3}
	byTime := Config{Transactional: true, TxnInterval: 100 * time.Millisecond}
	ms := int64(time.Millisecond)
	for _, tc := range []struct {
		cfg  Config
		n    int
		age  int64
		want bool
	}{
		{byCount, 2, 1000 * ms, false},
		{byCount, 3, 0, true},
		{byCount, 4, 0, true},
		{byTime, 1_000_000, 99 * ms, false},
		{byTime, 1, 100 * ms, true},
	} {
		if got := tc.cfg.txnFull(tc.n, tc.age); got != tc.want {
			t.Errorf("records %d, interval %v: txnFull(%d, %v) = %v", tc.cfg.TxnRecords, tc.cfg.TxnInterval, tc.n, time.Duration(tc.age), got)
		}
	}
}

// runTxn runs cfg against a fresh kfake cluster and checks the consumers;
// it returns the result and the sum of the topic's end offsets.
func runTxn(t *testing.T, cfg Config) (Result, int64) {
	t.Helper()
	seeds, adm := newCluster(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cfg.ClientOpts, cfg.Keep, cfg.Transactional = []kgo.Opt{seeds}, true, true
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Check(); err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, res.Topic)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	return res, total
}

func TestRunTransactionalEveryNRecords(t *testing.T) {
	const records, per = 4000, 500
	res, logEnd := runTxn(t, Config{Records: records, Partitions: 1, Producers: 2, TxnRecords: per})
	// Each producer writes 2000 records: 4 transactions of 500.
	if !res.Transactional || res.TxnRecords != per || res.Commit.Samples != records/per {
		t.Errorf("transactional %v, %d records each, %d commits; want %d", res.Transactional, res.TxnRecords, res.Commit.Samples, records/per)
	}
	if res.Commit.P50 <= 0 || res.Commit.Max < res.Commit.P99 || res.Commit.P99 < res.Commit.P50 {
		t.Errorf("commit latency %+v", res.Commit)
	}
	// One partition: every record and one commit marker per transaction.
	if want := int64(records + records/per); logEnd != want {
		t.Errorf("log end %d, want %d records and markers", logEnd, want)
	}
	if res.Consume.Records != records || res.E2E.Samples != records {
		t.Errorf("consumed %d, e2e samples %d; want %d", res.Consume.Records, res.E2E.Samples, records)
	}

	var text strings.Builder
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(acks=all, transactional)", "commit    p50 ", "(8 transactions, every 500 records per producer; flush and EndTransaction)", "after producing, read_committed)"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("WriteText lacks %q:\n%s", want, text.String())
		}
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var flat map[string]any
	if err := json.Unmarshal(b, &flat); err != nil {
		t.Fatal(err)
	}
	if flat["transactional"] != true || flat["transactions"] != float64(8) || flat["txn_records"] != float64(per) || flat["commit_p50_ms"].(float64) <= 0 {
		t.Errorf("JSON: %s", b)
	}
}

func TestRunTransactionalEveryInterval(t *testing.T) {
	// An interval shorter than any gap between two records: every record
	// is a transaction of its own, whatever the machine's speed.
	const records = 100
	res, logEnd := runTxn(t, Config{Records: records, Partitions: 2, TxnInterval: time.Nanosecond})
	if res.Commit.Samples != records || res.TxnInterval != time.Nanosecond {
		t.Errorf("%d commits every %v, want %d", res.Commit.Samples, res.TxnInterval, records)
	}
	// Each transaction wrote one partition: one record and one marker.
	if logEnd != 2*records {
		t.Errorf("log end %d, want %d", logEnd, 2*records)
	}
}
