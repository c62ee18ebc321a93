package console

// isolation_test.go checks consume's isolation levels against franz-go's
// in-memory cluster (kfake), which implements transactions: read_committed
// skips aborted records and stops at an open transaction; read_uncommitted
// reads everything.

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestParseIsolation(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want kgo.IsolationLevel
		err  bool
	}{
		{"", kgo.ReadUncommitted(), false},
		{"read_uncommitted", kgo.ReadUncommitted(), false},
		{"read_committed", kgo.ReadCommitted(), false},
		{" READ_COMMITTED ", kgo.ReadCommitted(), false},
		{"read-committed", kgo.ReadCommitted(), false},
		{"committed", kgo.IsolationLevel{}, true},
		{"serializable", kgo.IsolationLevel{}, true},
	} {
		got, err := ParseIsolation(tc.in)
		if tc.err {
			if err == nil || err.Error() != `isolation "`+tc.in+`": want read_uncommitted or read_committed` {
				t.Errorf("ParseIsolation(%q): error %v", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseIsolation(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	err := ConsumeConfig{Topic: "t", Partition: -1, Isolation: "dirty"}.Validate()
	if err == nil || err.Error() != `consume t: isolation "dirty": want read_uncommitted or read_committed` {
		t.Errorf("Validate with a bad isolation: %v", err)
	}
}

func TestConsumeIsolation(t *testing.T) {
	seeds, addr := newClusterAddr(t, []string{"orders"})
	testclient.WriteTxn(t, addr, "a", "orders", 0, testclient.TxnCommit, "c1", "c2")
	testclient.WriteTxn(t, addr, "b", "orders", 0, testclient.TxnAbort, "aborted")
	testclient.WriteTxn(t, addr, "c", "orders", 0, testclient.TxnCommit, "c3")

	read := func(isolation string, n int) string {
		return consumeAll(t, seeds, ConsumeConfig{Topic: "orders", Partition: 0, FromBeginning: true, MaxRecords: n, Isolation: isolation})
	}
	if got := read("read_committed", 3); got != "c1\nc2\nc3\n" {
		t.Errorf("read_committed: %q", got)
	}
	for _, isolation := range []string{"", "read_uncommitted"} {
		if got := read(isolation, 4); got != "c1\nc2\naborted\nc3\n" {
			t.Errorf("isolation %q: %q", isolation, got)
		}
	}

	// An open transaction holds read_committed back at its start, even
	// for records written after it outside any transaction.
	testclient.WriteTxn(t, addr, "d", "orders", 0, testclient.TxnOpen, "open")
	st, err := Produce(testCtx(t), seeds, ProduceConfig{Topic: "orders", Partition: 0}, bytes.NewReader([]byte("plain\n")))
	if err != nil || st.Records != 1 {
		t.Fatalf("produce: %+v, %v", st, err)
	}
	if got := read("read_uncommitted", 6); got != "c1\nc2\naborted\nc3\nopen\nplain\n" {
		t.Errorf("read_uncommitted with an open transaction: %q", got)
	}
	var out bytes.Buffer
	cfg := ConsumeConfig{Topic: "orders", Partition: 0, FromBeginning: true, MaxRecords: 4, Isolation: "read_committed", Timeout: time.Second}
	n, err := Consume(testCtx(t), seeds, cfg, &out)
	if !errors.Is(err, ErrTimeout) || n != 3 || out.String() != "c1\nc2\nc3\n" {
		t.Errorf("read_committed with an open transaction: %d records %q, %v; want the 3 committed ones and a timeout", n, out.String(), err)
	}
}
