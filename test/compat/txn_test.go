package compat

// txn_test.go runs the exactly-once workload of package testtxn with
// kafkajs (kafkajs/txn.js: producer.transaction() with sendOffsets, a
// read_committed group consumer) and with confluent-kafka-python
// (confluent/txn.py: librdkafka's transactional producer and
// send_offsets_to_transaction) against the real binary, then checks the
// output with franz-go: every input's copy exactly once for a
// read_committed reader, the aborted transaction invisible to it, the
// group's offsets at the end of the input, no transaction left open.

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/testtxn"
)

// txnResult is what txn.js and txn.py print.
type txnResult struct {
	OK           bool   `json:"ok"`
	Error        string `json:"error"`
	ErrorType    string `json:"errorType"`
	Transactions int    `json:"transactions"`
	Transformed  int    `json:"transformed"`
}

// runTxnClient runs a client's txn script over w and checks its report.
func runTxnClient(t *testing.T, who string, w testtxn.Workload, brokers any, bin string, args ...string) {
	t.Helper()
	spec, err := json.Marshal(map[string]any{
		"brokers": brokers, "in": w.In, "out": w.Out, "group": w.Group,
		"transactionalId": w.Group + "-txn", "records": w.Records, "partitions": w.Partitions,
	})
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := run(t, spec, nil, bin, args...)
	var res txnResult
	if jerr := json.Unmarshal(stdout, &res); jerr != nil || err != nil || !res.OK {
		t.Fatalf("%s: %v (%s %s)\nstdout:\n%s\nstderr:\n%s", who, err, res.ErrorType, res.Error, stdout, stderr)
	}
	if res.Transformed != w.Records || res.Transactions < 2 {
		t.Fatalf("%s transformed %d of %d records in %d transactions", who, res.Transformed, w.Records, res.Transactions)
	}
	t.Logf("%s: %d records in %d transactions (one aborted)", who, res.Transformed, res.Transactions)
}

// TestKafkajsTransactions: kafkajs consume-transform-produce with
// sendOffsets, and an aborted transaction.
func TestKafkajsTransactions(t *testing.T) {
	node, dir := requireKafkajs(t)
	b := startBroker(t)
	w := testtxn.Workload{Addr: b.Addr(), In: "js-in", Out: "js-out", Group: "js-eos", Records: 300, Partitions: 2}
	testtxn.Seed(t, w)
	runTxnClient(t, "kafkajs", w, []string{b.Addr()}, node, filepath.Join(dir, "txn.js"))
	testtxn.Check(t, w, "kafkajs")
}

// TestConfluentTransactions: librdkafka's transactional producer with
// send_offsets_to_transaction and a read_committed consumer, and an
// aborted transaction.
func TestConfluentTransactions(t *testing.T) {
	python := requireConfluent(t)
	b := startBroker(t)
	script, err := filepath.Abs(filepath.Join("confluent", "txn.py"))
	if err != nil {
		t.Fatal(err)
	}
	w := testtxn.Workload{Addr: b.Addr(), In: "py-in", Out: "py-out", Group: "py-eos", Records: 300, Partitions: 2}
	testtxn.Seed(t, w)
	runTxnClient(t, "confluent-kafka", w, b.Addr(), python, script)
	testtxn.Check(t, w, "confluent-kafka")
}
