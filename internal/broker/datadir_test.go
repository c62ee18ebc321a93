package broker_test

// datadir_test.go covers what the broker does with a damaged or unexpected
// data directory at start: missing or damaged topic metadata stops the
// start (and --rebuild-metadata gets the topics back from the partition
// directories), unknown directories are moved to quarantine, interrupted
// deletions are finished, and partition limits are enforced before
// anything is created.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/broker"
	"github.com/courier-dev/courier/internal/run"
	"github.com/courier-dev/courier/internal/testbroker"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// produceN writes n records to a topic (keys k0..), acks=all.
func produceN(t *testing.T, addr, topic string, n int) {
	t.Helper()
	cl := newClient(t, addr, kgo.DefaultProduceTopic(topic))
	for i := 0; i < n; i++ {
		cl.Produce(testCtx(t), &kgo.Record{Key: []byte("k" + strconv.Itoa(i)), Value: []byte("v")}, nil)
	}
	if err := cl.Flush(testCtx(t)); err != nil {
		t.Fatal(err)
	}
}

// seedDataDir runs a broker that creates topics with data, then stops it
// cleanly, returning the data directory and the topics' ids.
func seedDataDir(t *testing.T) (string, map[string][16]byte) {
	t.Helper()
	dir := t.TempDir()
	b := testbroker.StartAt(t, dir)
	retention := "-1"
	createTopic(t, b.Addr, "orders", 3, map[string]*string{"retention.ms": &retention})
	createTopic(t, b.Addr, "plain", 1, nil)
	produceN(t, b.Addr, "orders", 30)
	produceN(t, b.Addr, "plain", 5)
	adm := kadm.NewClient(newClient(t, b.Addr))
	td, err := adm.ListTopics(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string][16]byte{}
	for name, d := range td {
		ids[name] = d.ID
	}
	b.Stop(t)
	return dir, ids
}

func openErr(dir string, cfg broker.Config) error {
	cfg.DataDir = dir
	b, err := broker.Open(cfg)
	if err == nil {
		b.Close()
	}
	return err
}

func TestMissingMetadataRefusesStartAndRebuildRecovers(t *testing.T) {
	dir, ids := seedDataDir(t)
	meta := filepath.Join(dir, "meta", "topics.json")
	if err := os.Remove(meta); err != nil {
		t.Fatal(err)
	}
	err := openErr(dir, broker.Config{})
	if err == nil || !strings.Contains(err.Error(), "--rebuild-metadata") || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("start without topics.json: %v, want a refusal naming --rebuild-metadata", err)
	}
	for _, p := range []string{"orders-0", "orders-2", "plain-0"} {
		if _, err := os.Stat(filepath.Join(dir, "logs", p)); err != nil {
			t.Fatalf("partition directory %s touched by the refused start: %v", p, err)
		}
	}

	b := testbroker.StartAt(t, dir, func(c *run.Config) { c.Broker.RebuildMetadata = true })
	if n := len(consumeN(t, b.Addr, "orders", 30)); n != 30 {
		t.Fatalf("orders: %d records after rebuild", n)
	}
	consumeN(t, b.Addr, "plain", 5)
	adm := kadm.NewClient(newClient(t, b.Addr))
	td, err := adm.ListTopics(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, id := range ids {
		if td[name].ID != id {
			t.Errorf("topic %s rebuilt with id %x, was %x", name, td[name].ID, id)
		}
	}
	if len(td["orders"].Partitions) != 3 {
		t.Errorf("orders rebuilt with %d partitions", len(td["orders"].Partitions))
	}
	rc, err := adm.DescribeTopicConfigs(testCtx(t), "orders")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := rc.On("orders", nil); !hasConfig(c.Configs, "retention.ms", "-1") {
		t.Errorf("orders configs not rebuilt: %+v", c.Configs)
	}
}

func TestRebuildWithoutPartitionMetadataDisablesRetention(t *testing.T) {
	dir, _ := seedDataDir(t)
	os.Remove(filepath.Join(dir, "meta", "topics.json"))
	os.Remove(filepath.Join(dir, "logs", "plain-0", "partition.metadata"))
	b := testbroker.StartAt(t, dir, func(c *run.Config) { c.Broker.RebuildMetadata = true })
	consumeN(t, b.Addr, "plain", 5)
	rc, err := kadm.NewClient(newClient(t, b.Addr)).DescribeTopicConfigs(testCtx(t), "plain")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := rc.On("plain", nil); !hasConfig(c.Configs, "retention.ms", "-1") || !hasConfig(c.Configs, "retention.bytes", "-1") {
		t.Errorf("topic rebuilt without its configs keeps default retention: %+v", c.Configs)
	}
}

func TestDamagedMetadataRefusesStart(t *testing.T) {
	dir, _ := seedDataDir(t)
	meta := filepath.Join(dir, "meta", "topics.json")
	data, _ := os.ReadFile(meta)
	damaged := strings.Replace(string(data), `"partitions": 3`, `"partitions": -1`, 1)
	if damaged == string(data) {
		t.Fatal("test could not damage the metadata")
	}
	os.WriteFile(meta, []byte(damaged), 0o644)
	err := openErr(dir, broker.Config{})
	if err == nil || !strings.Contains(err.Error(), "--rebuild-metadata") || !strings.Contains(err.Error(), "orders") {
		t.Fatalf("start on damaged metadata: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "logs", "orders-0")); err != nil {
		t.Fatal("partition data touched")
	}
	// The way out keeps the damaged file and every partition.
	b := testbroker.StartAt(t, dir, func(c *run.Config) { c.Broker.RebuildMetadata = true })
	consumeN(t, b.Addr, "orders", 30)
	q, _ := filepath.Glob(filepath.Join(dir, "quarantine", "topics.json.damaged-*"))
	if len(q) != 1 {
		t.Fatalf("damaged metadata not kept in quarantine: %v", q)
	}
}

func TestPathInMetadataNeverBecomesADirectory(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "meta"), 0o755)
	os.WriteFile(filepath.Join(dir, "meta", "topics.json"), []byte(
		`{"version":1,"topics":[{"name":"../../evil","id":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"partitions":1}]}`), 0o644)
	if err := openErr(dir, broker.Config{}); err == nil {
		t.Fatal("started on a metadata entry naming a path")
	}
	if _, err := os.Stat(filepath.Join(dir, "..", "evil-0")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a directory was created outside the data directory")
	}
}

func TestUnknownDirectoriesMovedAsideNotDeleted(t *testing.T) {
	dir, _ := seedDataDir(t)
	for _, name := range []string{"ghost-0", "orders-7", "not a partition"} {
		p := filepath.Join(dir, "logs", name)
		os.MkdirAll(p, 0o755)
		os.WriteFile(filepath.Join(p, "00000000000000000000.log"), []byte("precious"), 0o644)
	}
	doomed := filepath.Join(dir, "logs", "old-0.k1x2-delete")
	os.MkdirAll(doomed, 0o755)

	b := testbroker.StartAt(t, dir)
	consumeN(t, b.Addr, "orders", 30)
	for _, name := range []string{"ghost-0", "orders-7", "not a partition"} {
		m, _ := filepath.Glob(filepath.Join(dir, "quarantine", name+".unknown-*", "00000000000000000000.log"))
		if len(m) != 1 {
			t.Errorf("%s not in quarantine: %v", name, m)
			continue
		}
		if data, _ := os.ReadFile(m[0]); string(data) != "precious" {
			t.Errorf("%s changed in quarantine", name)
		}
	}
	if _, err := os.Stat(doomed); !errors.Is(err, os.ErrNotExist) {
		t.Error("interrupted deletion not finished")
	}
}

func TestPartitionLimit(t *testing.T) {
	b := testbroker.Start(t, func(c *run.Config) { c.Broker.MaxPartitions = 6 })
	adm := kadm.NewClient(newClient(t, b.Addr))
	ctx := testCtx(t)
	resp, _ := adm.CreateTopic(ctx, 10, 1, nil, "wide")
	if !errors.Is(resp.Err, kerr.PolicyViolation) || !strings.Contains(resp.ErrMessage, "--max-partitions") {
		t.Fatalf("create beyond the limit: %v %q", resp.Err, resp.ErrMessage)
	}
	if _, err := os.Stat(filepath.Join(b.DataDir, "logs", "wide-0")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("refused topic left a directory")
	}
	createTopic(t, b.Addr, "fits", 4, nil)
	cp, err := adm.CreatePartitions(ctx, 3, "fits")
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := cp.On("fits", nil); !errors.Is(r.Err, kerr.PolicyViolation) {
		t.Fatalf("add partitions beyond the limit: %v", r.Err)
	}
	if cp, err := adm.CreatePartitions(ctx, 2, "fits"); err != nil || cp.Error() != nil {
		r, _ := cp.On("fits", nil)
		t.Fatal(err, cp.Error(), r.ErrMessage)
	}
	b.Stop(t)
	testbroker.StartAt(t, b.DataDir, func(c *run.Config) { c.Broker.MaxPartitions = 6 })
}

func TestAutoCreateBoundedPerRequest(t *testing.T) {
	b := testbroker.Start(t, func(c *run.Config) { c.Broker.AutoCreateTopicsPerRequest = 5 })
	cl := newClient(t, b.Addr)
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = true
	for i := 0; i < 30; i++ {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr("auto-" + strconv.Itoa(i))
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	created := 0
	for _, mt := range resp.Topics {
		if mt.ErrorCode == 0 {
			created++
		}
	}
	if created != 5 {
		t.Fatalf("one Metadata request auto-created %d topics, want 5", created)
	}
	td, err := kadm.NewClient(cl).ListTopics(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(td) != 5 {
		t.Fatalf("%d topics exist", len(td))
	}
}
