package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kfake"
)

// TestDemoAgainstExternalCluster runs the demo with --brokers pointing at a
// three-broker cluster (kfake standing in for Kafka) instead of the
// embedded broker: the pipeline only speaks the Kafka protocol.
func TestDemoAgainstExternalCluster(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(3))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{
			Brokers: c.ListenAddrs(),
			DB:      "sqlite:" + filepath.Join(t.TempDir(), "riders.db"),
			WebAddr: "127.0.0.1:0",
			Riders:  50, Rate: 500, Sinks: 2,
			Ready: func(webURL, _ string) { ready <- webURL },
		})
	}()
	var url string
	select {
	case url = <-ready:
	case err := <-done:
		t.Fatalf("demo stopped before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("demo not ready within 30s")
	}
	testwait.For(t, 60*time.Second, "rows written and both groups shown", func() string {
		var st stateView
		resp, err := http.Get(url + "/api/state")
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			return err.Error()
		}
		if st.Totals.Written == 0 || len(st.Riders) == 0 {
			return fmt.Sprintf("%d rows written, %d riders on the map", st.Totals.Written, len(st.Riders))
		}
		members := map[string]int{}
		for _, g := range st.Groups {
			members[g.Group] = len(g.Members)
		}
		if members[SinkGroup] != 2 || members[MapGroup] != 1 {
			return fmt.Sprintf("group members %v", members)
		}
		return ""
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop within 30s of cancel")
	}
}

func TestHuman(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 950: "950", 9999: "9999", 12345: "12.3k", 4560000: "4.56M"} {
		if got := human(in); got != want {
			t.Errorf("human(%v) = %q, want %q", in, got, want)
		}
	}
}
