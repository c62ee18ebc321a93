package gateway

// kfake_test.go runs the gateway against franz-go's kfake, a three-broker
// in-memory Kafka cluster standing in for a real one: a batch over every
// region is published to all four partitions and streamed live, and each
// rider's newest update to rider-latest, on its key's partition.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestKfakeCluster(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(4, "rider-updates", "rider-latest"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	seeds := c.ListenAddrs()
	g, srv := startGateway(t, seeds, "rider-updates", func(c *Config) { c.Publish.CreateTopic = false })

	live := openStream(t, srv.URL+"/v1/riders/k7/live")
	ts := time.Now().Add(-time.Minute).Truncate(time.Millisecond).UTC()
	var body strings.Builder
	var want []rider.Location
	var wantLive []string
	body.WriteString("[")
	for i := range 40 {
		p := [][2]float64{north, south, east, west}[i%4]
		p[0] += float64(i) / 10000
		l := loc(fmt.Sprintf("k%d", i%8), p, ts.Add(time.Duration(i)*time.Millisecond))
		if i > 0 {
			body.WriteString(",")
		}
		fmt.Fprintf(&body, `{"rider_id":%q,"lat":%v,"lon":%v,"ts":%d}`, l.RiderID, l.Lat, l.Lon, l.TS.UnixMilli())
		want = append(want, l)
		if l.RiderID == "k7" {
			wantLive = append(wantLive, "data: "+string(l.AppendJSON(nil)))
		}
	}
	body.WriteString("]")
	if r := do(t, "POST", srv.URL+"/v1/locations", "application/json", body.String()); r.status != 202 || r.body != `{"accepted":40}`+"\n" {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	recs := consumeN(t, seeds, "rider-updates", len(want))
	parts := map[int32]int{}
	for _, r := range recs {
		parts[r.Partition]++
	}
	if len(parts) != 4 {
		t.Errorf("records on partitions %v, want all 4", parts)
	}
	checkRecords(t, recs, want)
	checkLatest(t, consumeN(t, seeds, "rider-latest", 8), want[len(want)-8:])

	// k7 is always in the west region (i%4 == 3), so its updates share a
	// partition and arrive in order.
	for i, w := range wantLive {
		if l := live.event(t); l != w {
			t.Fatalf("live event %d: %q, want %q", i, l, w)
		}
	}
	if st := g.Stats(); st.Accepted != 40 || st.LiveSubscribers != 1 {
		t.Errorf("stats %+v", st)
	}
	if r := do(t, "GET", srv.URL+"/v1/healthz", "", ""); r.status != 200 {
		t.Errorf("healthz: %d %s", r.status, r.body)
	}
}

func TestKfakeWrongPartitionCount(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(3, "rider-updates"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := Config{}
	cfg.Publish.ClientOpts = []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err = New(ctx, cfg)
	if err == nil || !strings.Contains(err.Error(), "needs exactly 4") {
		t.Errorf("New on a 3-partition topic by region: %v", err)
	}
}
