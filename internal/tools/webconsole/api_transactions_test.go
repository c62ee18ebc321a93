package webconsole

// api_transactions_test.go tests the transactions endpoints against a real
// broker: an open transaction is listed and described and does not hang;
// once its coordinator forgot it (the broker's transaction state removed
// while it was stopped) it hangs, is found and aborted; and the overview.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestTransactionsAPI(t *testing.T) {
	dir := t.TempDir()
	b := testbroker.StartAt(t, dir)
	testclient.CreateTopic(t, b.Addr, "orders", 2, nil)
	pid := testclient.WriteTxn(t, b.Addr, "billing", "orders", 0, testclient.TxnOpen, "t1", "t2")
	tc := startConsoleWith(t, Config{Access: Access{Base: []kgo.Opt{kgo.SeedBrokers(b.Addr)}}})

	var list struct {
		Transactions []txnInfo `json:"transactions"`
	}
	tc.mustJSON("GET", "/api/transactions", nil, http.StatusOK, &list)
	if len(list.Transactions) != 1 || list.Transactions[0].TransactionalID != "billing" || list.Transactions[0].State != "Ongoing" || list.Transactions[0].ProducerID != pid {
		t.Fatalf("transactions: %+v", list)
	}
	tc.mustJSON("GET", "/api/transactions?state=CompleteCommit", nil, http.StatusOK, &list)
	if len(list.Transactions) != 0 {
		t.Fatalf("filtered by state: %+v", list)
	}
	if st, body := tc.do("GET", "/api/transactions?state=Sleeping", nil); st == http.StatusOK {
		t.Fatalf("an unknown state: %d %s", st, body)
	}
	var d txnInfo
	tc.mustJSON("GET", "/api/transactions/billing", nil, http.StatusOK, &d)
	if d.State != "Ongoing" || len(d.Partitions) != 1 || d.Partitions[0] != (txnPartition{"orders", 0}) || d.StartMs == nil || *d.StartMs <= 0 {
		t.Fatalf("described: %+v", d)
	}
	if st, body := tc.do("GET", "/api/transactions/nobody", nil); st != http.StatusNotFound || !strings.Contains(string(body), "no transactional id nobody") {
		t.Fatalf("an unknown id: %d %s", st, body)
	}
	var hang struct {
		Hanging []hangingTxn `json:"hanging"`
	}
	tc.mustJSON("GET", "/api/transactions:hanging?max_timeout_ms=1", nil, http.StatusOK, &hang)
	if len(hang.Hanging) != 0 {
		t.Fatalf("a running transaction hangs: %+v", hang)
	}

	// The coordinator forgets it: it hangs, and the abort ends it.
	b.Stop(t)
	if err := os.RemoveAll(filepath.Join(dir, "meta", "transactions")); err != nil {
		t.Fatal(err)
	}
	b = testbroker.StartAt(t, dir)
	tc = startConsoleWith(t, Config{Access: Access{Base: []kgo.Opt{kgo.SeedBrokers(b.Addr)}}})
	tc.mustJSON("GET", "/api/transactions:hanging?topic=orders&max_timeout_ms=1", nil, http.StatusOK, &hang)
	if len(hang.Hanging) != 1 || hang.Hanging[0].ProducerID != pid || hang.Hanging[0].StartOffset != 0 || hang.Hanging[0].Partition != 0 {
		t.Fatalf("hanging: %+v", hang)
	}
	if st, body := tc.do("POST", "/api/transactions:abort", abortRequest{Topic: "orders", Partition: ptr(int32(0))}); st != http.StatusBadRequest {
		t.Fatalf("abort without a start offset: %d %s", st, body)
	}
	var aborted struct {
		Aborted    string `json:"aborted"`
		ProducerID int64  `json:"producer_id"`
	}
	tc.mustJSON("POST", "/api/transactions:abort", abortRequest{Topic: "orders", Partition: ptr(int32(0)), StartOffset: ptr(int64(0))}, http.StatusOK, &aborted)
	if aborted.ProducerID != pid || !strings.Contains(aborted.Aborted, fmt.Sprint("producer id ", pid)) {
		t.Fatalf("aborted: %+v", aborted)
	}
	tc.mustJSON("GET", "/api/transactions:hanging?max_timeout_ms=1", nil, http.StatusOK, &hang)
	if len(hang.Hanging) != 0 {
		t.Fatalf("still hanging after the abort: %+v", hang)
	}
	if !strings.Contains(tc.log.String(), "action=transaction.abort target=orders-0@0 ok=true") {
		t.Fatalf("the abort is not audited:\n%s", tc.log.String())
	}
}

// TestTransactionsRefused: alice may not list transactions or abort one:
// the cluster's own error names.
func TestTransactionsRefused(t *testing.T) {
	tc, _ := startSASLConsole(t, Config{})
	tc.mustLogin(aliceUser, alicePass)
	st, body := tc.do("POST", "/api/transactions:abort", abortRequest{Topic: aliceTopic, Partition: ptr(int32(0)), StartOffset: ptr(int64(0))})
	if st == http.StatusOK || !strings.Contains(string(body), "_") {
		t.Fatalf("abort as alice: %d %s", st, body)
	}
	if !strings.Contains(tc.log.String(), "action=transaction.abort") {
		t.Fatal("the refused abort is not audited")
	}
}

// TestTransactionsKfake: the listing works against kfake too.
func TestTransactionsKfake(t *testing.T) {
	tc, _ := startConsoleKfake(t, Config{})
	tc.mustJSON("GET", "/api/transactions", nil, http.StatusOK, nil)
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// TestOverview: the cluster at a glance, from the protocol on a cluster
// the console reaches over the network, with rates from the second
// refresh; the topics counted are the user's.
func TestOverview(t *testing.T) {
	tc := startConsole(t, Config{Version: "v9.9.9-test"})
	testclient.CreateTopic(t, tc.broker.Addr, "ov", 3, nil)
	var o overviewInfo
	tc.mustJSON("GET", "/api/overview", nil, http.StatusOK, &o)
	if o.ClusterID == "" || len(o.Brokers) != 1 || !o.Brokers[0].Controller || o.Version != "v9.9.9-test" || o.Source != "protocol" ||
		o.Topics < 1 || o.Partitions < 3 || o.RecordsInPerSec != nil || o.DiskBytes == nil {
		t.Fatalf("first overview: %+v", o)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cl := testclient.New(t, tc.broker.Addr)
	for i := range 20 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "ov", Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	clk := newFakeClock()
	clk.t = o.SampledAt.Add(2e9)
	tc.srv.now = clk.Now
	tc.mustJSON("GET", "/api/overview", nil, http.StatusOK, &o)
	if o.RecordsInPerSec == nil || *o.RecordsInPerSec != 10 || o.BytesInPerSec != nil {
		t.Fatalf("second overview: records in %v, bytes in %v; notes %v", o.RecordsInPerSec, o.BytesInPerSec, o.Notes)
	}
}

// TestOverviewKfake: the overview of a three-broker cluster.
func TestOverviewKfake(t *testing.T) {
	tc, _ := startConsoleKfake(t, Config{})
	var o overviewInfo
	tc.mustJSON("GET", "/api/overview", nil, http.StatusOK, &o)
	if len(o.Brokers) != 3 || o.ClusterID == "" {
		t.Fatalf("overview of kfake: %+v", o)
	}
}

// TestOverviewEmbedded: on the embedded broker the figures are its
// metrics' (bytes in and out, records written and fetched, disk), read
// in-process.
func TestOverviewEmbedded(t *testing.T) {
	tc := startEmbeddedConsole(t, Config{})
	testclient.CreateTopic(t, tc.broker.Addr, "ov", 2, nil)
	var o overviewInfo
	tc.mustJSON("GET", "/api/overview", nil, http.StatusOK, &o)
	if o.Source != "metrics" || o.DiskBytes == nil || o.Listeners["PLAINTEXT"] != tc.broker.Addr || o.Partitions < 2 {
		t.Fatalf("first overview: %+v", o)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cl := testclient.New(t, tc.broker.Addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for i := range 10 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "ov", Partition: 0, Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// A consumer reads them back: records out.
	cons := testclient.New(t, tc.broker.Addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"ov": {0: kgo.NewOffset().AtStart()}}))
	for got := 0; got < 10; {
		fs := cons.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("consumed %d of 10: %v", got, err)
		}
		got += fs.NumRecords()
	}
	clk := newFakeClock()
	clk.t = o.SampledAt.Add(2e9)
	tc.srv.now = clk.Now
	tc.mustJSON("GET", "/api/overview", nil, http.StatusOK, &o)
	if o.RecordsInPerSec == nil || *o.RecordsInPerSec != 5 || o.BytesInPerSec == nil || *o.BytesInPerSec <= 0 ||
		o.BytesOutPerSec == nil || o.RecordsOutPerSec == nil || *o.RecordsOutPerSec != 5 || o.DiskBytes == nil || *o.DiskBytes <= 0 {
		t.Fatalf("second overview: %+v (records out %v)", o, o.RecordsOutPerSec)
	}
}
