package broker_test

// 35_describe_log_dirs_test.go checks DescribeLogDirs' answer: each topic
// once, with each of its partitions, both when every partition is asked
// for and when some are named.

import (
	"fmt"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kadm"
)

func TestDescribeLogDirsEachTopicOnce(t *testing.T) {
	b := testbroker.Start(t)
	want := map[string]int{}
	for i := range 30 {
		name := fmt.Sprintf("t%02d", i)
		want[name] = 1 + i%4
		testclient.CreateTopic(t, b.Addr, name, int32(want[name]), nil)
	}
	adm := kadm.NewClient(testclient.New(t, b.Addr))
	ctx := testCtx(t)
	all, err := adm.DescribeAllLogDirs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range all.Sorted() {
		for name, n := range want {
			if got := len(d.Topics[name]); got != n {
				t.Errorf("topic %s: %d partitions described, want %d", name, got, n)
			}
		}
	}
	some := kadm.TopicsSet{}
	some.Add("t03", 0, 2)
	some.Add("t07", 1)
	part, err := adm.DescribeAllLogDirs(ctx, some)
	if err != nil {
		t.Fatal(err)
	}
	part.Each(func(d kadm.DescribedLogDir) {
		if len(d.Topics) != 2 || len(d.Topics["t03"]) != 2 || len(d.Topics["t07"]) != 1 {
			t.Errorf("named partitions: %v", d.Topics)
		}
	})
}
