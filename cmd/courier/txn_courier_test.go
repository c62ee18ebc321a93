package main

// txn_courier_test.go runs the txn commands against Courier itself: a
// transaction left open is listed, described and seen on its partition;
// after the broker lost its transaction state (the coordinator's journal
// removed while it was stopped, as a coordinator that lost its log), the
// transaction hangs: find-hanging finds it and abort ends it, which lets
// read_committed consumers past it.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
)

func TestTxnCommandsCourier(t *testing.T) {
	dir := t.TempDir()
	b := testbroker.StartAt(t, dir)
	testclient.CreateTopic(t, b.Addr, "orders", 2, nil)
	brokers := "--brokers=" + b.Addr
	pid := testclient.WriteTxn(t, b.Addr, "billing", "orders", 0, testclient.TxnOpen, "t1", "t2")
	id := strconv.FormatInt(pid, 10)
	mustExec(t, "p1\n", "produce", "orders", "--partition", "0", brokers)

	if out := mustExecOut(t, "txn", "list", brokers); strings.Join(rowFields(out, "billing"), " ") != "billing 1 "+id+" Ongoing" {
		t.Errorf("list:\n%s", out)
	}
	out, _ := mustExec(t, "", "txn", "describe", "billing", brokers)
	for _, line := range [][]string{{"TransactionalId:", "billing"}, {"ProducerId:", id}, {"TransactionState:", "Ongoing"}, {"TopicPartitions:", "orders-0"}} {
		if !containsLine(out, line...) {
			t.Errorf("describe lacks the line %q:\n%s", line, out)
		}
	}
	if f := rowFields(mustExecOut(t, "txn", "producers", "orders", brokers), "0", id); len(f) != 7 || f[6] != "0" {
		t.Errorf("producers: the open transaction's row %q", f)
	}
	if out := mustExecOut(t, "txn", "find-hanging", "--max-transaction-timeout", "1ms", brokers); out != "no hanging transactions\n" {
		t.Errorf("find-hanging of a running transaction:\n%s", out)
	}

	// The coordinator forgets the transaction: it now hangs.
	b.Stop(t)
	if err := os.RemoveAll(filepath.Join(dir, "meta", "transactions")); err != nil {
		t.Fatal(err)
	}
	b = testbroker.StartAt(t, dir)
	brokers = "--brokers=" + b.Addr
	out = mustExecOut(t, "txn", "find-hanging", "--topic", "orders", "--max-transaction-timeout", "1ms", brokers)
	if f := rowFields(out, "orders", "0", id); len(f) != 8 || !strings.Contains(out, "courier txn abort --topic orders --partition 0 --start-offset 0") {
		t.Fatalf("find-hanging of a forgotten transaction:\n%s", out)
	}
	out, _, err := execCourier(t, "", "consume", "orders", "--partition", "0", "--from-beginning", "-n", "1", "--timeout", "500ms", "--isolation", "read_committed", brokers)
	if err == nil || out != "" {
		t.Errorf("consume --isolation read_committed before the abort: %q, %v", out, err)
	}
	out = mustExecOut(t, "txn", "abort", "--topic", "orders", "--partition", "0", "--start-offset", "0", brokers)
	if !strings.HasPrefix(out, "aborted the transaction of producer id "+id+" ") {
		t.Errorf("abort: %q", out)
	}
	if out := mustExecOut(t, "consume", "orders", "--partition", "0", "--from-beginning", "-n", "1", "--timeout", "10s", "--isolation", "read_committed", brokers); out != "p1\n" {
		t.Errorf("consume --isolation read_committed after the abort: %q", out)
	}
	if out := mustExecOut(t, "txn", "find-hanging", "--max-transaction-timeout", "1ms", brokers); out != "no hanging transactions\n" {
		t.Errorf("find-hanging after the abort:\n%s", out)
	}
}

// mustExecOut runs the command with no input and returns its output.
func mustExecOut(t *testing.T, args ...string) string {
	t.Helper()
	out, _ := mustExec(t, "", args...)
	return out
}
