package webconsole

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestTopicList10k: the topic list of a cluster of 10,000 topics is
// answered whole (the page renders a part of it at a time), in well under
// the second; the time is logged. kfake keeps topics in memory, so
// making them is quick.
func TestTopicList10k(t *testing.T) {
	tc, c := startConsoleKfake(t, Config{})
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const n = 10_000
	for from := 0; from < n; from += 1000 {
		names := make([]string, 0, 1000)
		for i := from; i < from+1000; i++ {
			names = append(names, fmt.Sprintf("topic-%05d", i))
		}
		resps, err := adm.CreateTopics(ctx, 1, 1, nil, names...)
		if err == nil {
			err = resps.Error()
		}
		if err != nil {
			t.Fatalf("create topics: %v", err)
		}
	}
	for i := range 2 {
		began := time.Now()
		var list topicList
		tc.mustJSON("GET", "/api/topics", nil, http.StatusOK, &list)
		took := time.Since(began)
		t.Logf("GET /api/topics of %d topics: %v (cluster %d ms)", len(list.Topics), took, list.TookMs)
		if len(list.Topics) != n || list.Topics[0].Name != "topic-00000" || list.Topics[0].Records == nil {
			t.Fatalf("listing %d: %d topics, first %+v", i, len(list.Topics), list.Topics[0])
		}
		if took > 10*time.Second {
			t.Fatalf("listing took %v", took)
		}
	}
}
