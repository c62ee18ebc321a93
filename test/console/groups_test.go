package console_test

// groups_test.go drives the consumer groups pages of the real binary in a
// browser (test/web/console-groups.js): a broker with the console, lag
// sampled every second (--console-lag-interval 1s) so that the chart has
// points, and the groups the script looks at: orders-app (empty, lagging
// two hours behind on both partitions of orders), billing-app (a member),
// payments-app (a KIP-848 consumer group) and mailer-app (a share group),
// old-app (to delete), a group named with an XSS payload, and a thousand
// more, spare-NNNN, for the list's timing (named to sort after the others:
// the history tracks the first 500 groups by name). After the script, the cluster is asked what
// the pages did: orders-app reset to the end, old-app gone.

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// groupsXSS is the name of a group that must show as text.
const groupsXSS = `<img src=x onerror=window.__xss=1>`

func TestGroupsPages(t *testing.T) {
	b, url := startBroker(t, "--console-lag-interval", "1s")
	checkGroupsPages(t, b.Addr(), url)
}

// checkGroupsPages makes the groups on the broker at addr, runs the
// browser on the console at url, and checks what the pages did.
func checkGroupsPages(t *testing.T, addr, url string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	adm := kadm.NewClient(testclient.New(t, addr))
	testclient.CreateTopic(t, addr, "orders", 2, nil)
	producer := testclient.New(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	base := time.Now().Add(-2*time.Hour - 30*time.Second) // ages of 2 h and some seconds
	var rs []*kgo.Record
	for p := range int32(2) {
		for i := range 10 {
			rs = append(rs, &kgo.Record{Topic: "orders", Partition: p, Value: []byte("order"), Timestamp: base.Add(time.Duration(i) * time.Second)})
		}
	}
	if err := producer.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	commit := func(group string, p0, p1 int64) error {
		os := make(kadm.Offsets)
		os.Add(kadm.Offset{Topic: "orders", Partition: 0, At: p0, LeaderEpoch: -1})
		os.Add(kadm.Offset{Topic: "orders", Partition: 1, At: p1, LeaderEpoch: -1})
		return adm.CommitAllOffsets(ctx, group, os)
	}
	for _, g := range []string{"orders-app", "old-app", groupsXSS} {
		if err := commit(g, 2, 3); err != nil {
			t.Fatal(err)
		}
	}
	// A thousand more groups, 8 commits at a time.
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	sem := make(chan struct{}, 8)
	for i := range 1000 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := commit(fmt.Sprintf("spare-%04d", i), int64(i%10), int64(i%7)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Members: billing-app a classic group's, payments-app a KIP-848
	// consumer group's, mailer-app a share group's.
	if err := ctl.ShareStartEarliest(ctx, producer, "mailer-app"); err != nil {
		t.Fatal(err)
	}
	for _, opts := range [][]kgo.Opt{
		{kgo.ConsumerGroup("billing-app"), kgo.ConsumeTopics("orders"), kgo.DisableAutoCommit()},
		{kgo.ConsumerGroup("payments-app"), kgo.ConsumeTopics("orders"), kgo.ServerSideBalancer(), kgo.DisableAutoCommit()},
		{kgo.ShareGroup("mailer-app"), kgo.ConsumeTopics("orders")},
	} {
		testclient.PollInBackground(t, testclient.New(t, addr, append(opts, kgo.FetchMaxWait(100*time.Millisecond))...))
	}
	testwait.For(t, 30*time.Second, "the groups with members Stable", func() string {
		listed, err := adm.ListGroups(ctx)
		if err != nil {
			return err.Error()
		}
		for _, g := range []string{"billing-app", "payments-app", "mailer-app"} {
			if listed[g].State != "Stable" {
				return fmt.Sprintf("%s: %+v", g, listed[g])
			}
		}
		return ""
	})

	seen := runBrowser(t, "console-groups.js", []string{"GROUPS_XSS=" + groupsXSS}, url)
	t.Logf("the browser saw: %v", seen)

	// What the pages did, as the cluster says.
	offsets, err := adm.FetchOffsets(ctx, "orders-app")
	if err != nil {
		t.Fatal(err)
	}
	for p := range int32(2) {
		if o, ok := offsets.Lookup("orders", p); !ok || o.At != 10 {
			t.Errorf("orders-app on partition %d: %+v, want the end (10)", p, o)
		}
	}
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := listed["old-app"]; ok {
		t.Error("old-app was not deleted")
	}
	if _, ok := listed["billing-app"]; !ok {
		t.Error("billing-app, which has a member, was deleted")
	}
}
