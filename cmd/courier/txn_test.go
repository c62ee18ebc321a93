package main

// txn_test.go drives the txn commands and `consume --isolation` through the
// root command, as a user would, against franz-go's in-memory cluster
// (kfake), which implements transactions and the admin requests of
// KIP-664. The same commands must pass against Courier once its broker
// does transactions (the integrator's part): replace the cluster here.

import (
	"strconv"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestTxnCommands(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := "--brokers=" + strings.Join(c.ListenAddrs(), ",")

	pid := testclient.WriteTxn(t, c.ListenAddrs()[0], "billing", "orders", 0, testclient.TxnOpen, "t1", "t2")
	id := strconv.FormatInt(pid, 10)
	mustExec(t, "p1\n", "produce", "orders", "--partition", "0", brokers)

	out, _ := mustExec(t, "", "txn", "list", brokers)
	if hasRow(out, "TRANSACTIONAL-ID", "COORDINATOR", "PRODUCER-ID", "STATE") != 0 || hasRow(out, "billing") != 3 || !strings.Contains(out, id+"  Ongoing") {
		t.Errorf("list:\n%s", out)
	}
	if out, _ := mustExec(t, "", "txn", "list", "--state", "Empty,PrepareAbort", brokers); hasRow(out, "billing") >= 0 {
		t.Errorf("list --state Empty,PrepareAbort:\n%s", out)
	}
	if out, _ := mustExec(t, "", "txn", "list", "--state", "ongoing", "--producer-id", id, brokers); hasRow(out, "billing") != 3 {
		t.Errorf("list --state ongoing --producer-id %s:\n%s", id, out)
	}
	if _, _, err := execCourier(t, "", "txn", "list", "--state", "open", brokers); err == nil || !strings.Contains(err.Error(), `unknown transaction state "open"`) {
		t.Errorf("list --state open: %v", err)
	}

	out, _ = mustExec(t, "", "txn", "describe", "billing", brokers)
	for _, line := range [][]string{
		{"TransactionalId:", "billing"}, {"ProducerId:", id}, {"ProducerEpoch:", "0"},
		{"TransactionState:", "Ongoing"}, {"TransactionTimeoutMs:", "300000"}, {"TopicPartitions:", "orders-0"},
	} {
		if !containsLine(out, line...) {
			t.Errorf("describe lacks the line %q:\n%s", line, out)
		}
	}
	if hasRow(out, "CurrentTransactionStartTime:") != 2 || hasRow(out, "TransactionDuration:") != 1 {
		t.Errorf("describe: start time and duration:\n%s", out)
	}
	if _, _, err := execCourier(t, "", "txn", "describe", "nope", brokers); err == nil || err.Error() != "no transactional id nope" {
		t.Errorf("describe nope: %v", err)
	}

	out, _ = mustExec(t, "", "txn", "producers", "orders", brokers)
	// LAST-TIMESTAMP (field 4) varies: the other columns are pinned.
	if f := rowFields(out, "0", id); len(f) != 7 || f[2] != "0" || f[3] != "1" || f[5] != "0" || f[6] != "0" {
		t.Errorf("producers: the open transaction's row %q:\n%s", f, out)
	}
	if out, _ := mustExec(t, "", "txn", "producers", "orders", "--partition", "1", brokers); !strings.Contains(out, "(no active producers)") {
		t.Errorf("producers --partition 1:\n%s", out)
	}
	if _, _, err := execCourier(t, "", "txn", "producers", "nosuch", brokers); err == nil || err.Error() != "unknown topic nosuch" {
		t.Errorf("producers nosuch: %v", err)
	}

	// Healthy: the coordinator runs it. Then the coordinator forgets the
	// transactional id, and it hangs.
	if out, _ := mustExec(t, "", "txn", "find-hanging", "--max-transaction-timeout", "1ms", brokers); out != "no hanging transactions\n" {
		t.Errorf("find-hanging of a running transaction:\n%s", out)
	}
	c.ControlKey(int16(kmsg.ListTransactions), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		return req.(*kmsg.ListTransactionsRequest).ResponseKind(), nil, true
	})
	out, _ = mustExec(t, "", "txn", "find-hanging", "--topic", "orders", "--max-transaction-timeout", "1ms", brokers)
	if f := rowFields(out, "orders", "0", id); len(f) != 8 || f[3] != "0" || f[5] != "0" ||
		!strings.Contains(out, "abort one with: courier txn abort --topic orders --partition 0 --start-offset 0\n") {
		t.Errorf("find-hanging of a forgotten transaction:\n%s", out)
	}
	if _, _, err := execCourier(t, "", "txn", "find-hanging", "--partition", "0", brokers); err == nil || !strings.Contains(err.Error(), "--partition needs --topic") {
		t.Errorf("find-hanging --partition without --topic: %v", err)
	}

	// read_committed stops at the open transaction; read_uncommitted does not.
	if out, _ := mustExec(t, "", "consume", "orders", "--partition", "0", "--from-beginning", "-n", "3", "--timeout", "10s", brokers); out != "t1\nt2\np1\n" {
		t.Errorf("consume (read_uncommitted): %q", out)
	}
	out, _, err = execCourier(t, "", "consume", "orders", "--partition", "0", "--from-beginning", "-n", "1", "--timeout", "500ms", "--isolation", "read_committed", brokers)
	if err == nil || out != "" || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("consume --isolation read_committed before the abort: %q, %v", out, err)
	}
	if _, _, err := execCourier(t, "", "consume", "orders", "--isolation", "snapshot", brokers); err == nil ||
		err.Error() != `consume orders: isolation "snapshot": want read_uncommitted or read_committed` {
		t.Errorf("consume --isolation snapshot: %v", err)
	}

	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"--topic", "orders", "--partition", "0"}, "name the transaction to abort with --start-offset"},
		{[]string{"--topic", "orders", "--partition", "0", "--start-offset", "2"}, "no open transaction starts at offset 2; the open ones start at 0 (producer id " + id + ", epoch 0)"},
		{[]string{"--topic", "orders", "--partition", "0", "--producer-id", id}, "--producer-id needs --producer-epoch"},
		{[]string{"--partition", "0", "--start-offset", "0"}, "--topic is required"},
	} {
		if _, _, err := execCourier(t, "", append([]string{"txn", "abort", brokers}, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("abort %q: %v, want %q", tc.args, err, tc.err)
		}
	}
	out, _ = mustExec(t, "", "txn", "abort", "--topic", "orders", "--partition", "0", "--start-offset", "0", brokers)
	if want := "aborted the transaction of producer id " + id + " (epoch 0, coordinator epoch 0) on orders-0, which started at offset 0\n"; out != want {
		t.Errorf("abort: %q, want %q", out, want)
	}
	if out, _ := mustExec(t, "", "consume", "orders", "--partition", "0", "--from-beginning", "-n", "1", "--timeout", "10s", "--isolation", "read_committed", brokers); out != "p1\n" {
		t.Errorf("consume --isolation read_committed after the abort: %q", out)
	}
}
