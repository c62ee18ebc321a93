package broker_test

// datadir_test.go covers what the broker does with a damaged or unexpected
// data directory at start: missing or damaged topic metadata stops the
// start (and --rebuild-metadata gets the topics back from the partition
// directories), the previous version's topics.json is imported, unknown directories are moved to quarantine, interrupted
// deletions are finished, and partition limits are enforced before
// anything is created.

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/broker"
	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// produceN writes n records to a topic (keys k0..), acks=all.
func produceN(t *testing.T, addr, topic string, n int) {
	t.Helper()
	cl := testclient.New(t, addr, kgo.DefaultProduceTopic(topic))
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
	testclient.CreateTopic(t, b.Addr, "orders", 3, map[string]*string{"retention.ms": &retention})
	testclient.CreateTopic(t, b.Addr, "plain", 1, nil)
	produceN(t, b.Addr, "orders", 30)
	produceN(t, b.Addr, "plain", 5)
	adm := kadm.NewClient(testclient.New(t, b.Addr))
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
	meta := filepath.Join(dir, "meta", "topics.log")
	if err := os.Remove(meta); err != nil {
		t.Fatal(err)
	}
	err := openErr(dir, broker.Config{})
	if err == nil || !strings.Contains(err.Error(), "--rebuild-metadata") || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("start without topics.log: %v, want a refusal naming --rebuild-metadata", err)
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
	adm := kadm.NewClient(testclient.New(t, b.Addr))
	td := expectTopicIDs(t, b.Addr, ids)
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
	os.Remove(filepath.Join(dir, "meta", "topics.log"))
	os.Remove(filepath.Join(dir, "logs", "plain-0", "partition.metadata"))
	b := testbroker.StartAt(t, dir, func(c *run.Config) { c.Broker.RebuildMetadata = true })
	consumeN(t, b.Addr, "plain", 5)
	rc, err := kadm.NewClient(testclient.New(t, b.Addr)).DescribeTopicConfigs(testCtx(t), "plain")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := rc.On("plain", nil); !hasConfig(c.Configs, "retention.ms", "-1") || !hasConfig(c.Configs, "retention.bytes", "-1") {
		t.Errorf("topic rebuilt without its configs keeps default retention: %+v", c.Configs)
	}
}

// TestDamagedMetadataRefusesStart: a byte flipped in the middle of
// topics.log stops the start with a message naming --rebuild-metadata
// (never a start with some topics missing, whose directories would look
// unknown); the rebuild moves the file to quarantine and gets every topic
// back, with its id and configs, from the partition directories.
func TestDamagedMetadataRefusesStart(t *testing.T) {
	dir, ids := seedDataDir(t)
	meta := filepath.Join(dir, "meta", "topics.log")
	data, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	// The first record's body (the log holds one per topic and the
	// internal offsets topic's, so the first is not the last).
	data[12] ^= 0x20
	os.WriteFile(meta, data, 0o644)
	err = openErr(dir, broker.Config{})
	if err == nil || !strings.Contains(err.Error(), "--rebuild-metadata") || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("start on damaged metadata: %v", err)
	}
	if now, _ := os.ReadFile(meta); string(now) != string(data) {
		t.Fatal("the refused start changed topics.log")
	}
	if _, err := os.Stat(filepath.Join(dir, "logs", "orders-0")); err != nil {
		t.Fatal("partition data touched")
	}
	// The way out keeps the damaged file and every partition.
	b := testbroker.StartAt(t, dir, func(c *run.Config) { c.Broker.RebuildMetadata = true })
	consumeN(t, b.Addr, "orders", 30)
	consumeN(t, b.Addr, "plain", 5)
	expectTopicIDs(t, b.Addr, ids)
	q, _ := filepath.Glob(filepath.Join(dir, "quarantine", "topics.log.damaged-*"))
	if len(q) != 1 {
		t.Fatalf("damaged metadata not kept in quarantine: %v", q)
	}
	if kept, _ := os.ReadFile(q[0]); string(kept) != string(data) {
		t.Fatal("the quarantined topics.log is not the damaged file")
	}
}

// expectTopicIDs checks that the broker at addr has each topic of ids with
// that id, and returns its topics.
func expectTopicIDs(t *testing.T, addr string, ids map[string][16]byte) kadm.TopicDetails {
	t.Helper()
	td, err := kadm.NewClient(testclient.New(t, addr)).ListTopics(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, id := range ids {
		if td[name].ID != id {
			t.Errorf("topic %s has id %x, was %x", name, td[name].ID, id)
		}
	}
	return td
}

// legacyDataDir is seedDataDir's data directory as the previous version
// kept it: DATA/meta/topics.json (returned) instead of topics.log, with
// the partitions given for orders (3 is right).
func legacyDataDir(t *testing.T, ordersPartitions int) (string, map[string][16]byte, []byte) {
	t.Helper()
	dir, ids := seedDataDir(t)
	delete(ids, "__consumer_offsets")
	type entry struct {
		Name       string            `json:"name"`
		ID         [16]byte          `json:"id"`
		Partitions int               `json:"partitions"`
		Configs    map[string]string `json:"configs,omitempty"`
	}
	parts := map[string]int{"orders": ordersPartitions, "plain": 1}
	var entries []entry
	for name, id := range ids {
		entries = append(entries, entry{Name: name, ID: id, Partitions: parts[name], Configs: map[string]string{"retention.ms": "-1"}})
	}
	legacy, err := json.MarshalIndent(map[string]any{"version": 1, "topics": entries}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "meta", "topics.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meta", "topics.json"), legacy, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, ids, legacy
}

// TestMigratesLegacyMetadata: a data directory of the previous version
// (DATA/meta/topics.json, no topics.log) starts with every topic, its id
// and data; topics.json is kept as topics.json.migrated.
func TestMigratesLegacyMetadata(t *testing.T) {
	dir, ids, legacy := legacyDataDir(t, 3)
	b := testbroker.StartAt(t, dir)
	consumeN(t, b.Addr, "orders", 30)
	expectTopicIDs(t, b.Addr, ids)
	if kept, _ := os.ReadFile(filepath.Join(dir, "meta", "topics.json.migrated")); string(kept) != string(legacy) {
		t.Fatal("topics.json not kept as topics.json.migrated")
	}
	if _, err := os.Stat(filepath.Join(dir, "meta", "topics.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("topics.json still read: %v", err)
	}
}

// TestDamagedLegacyMetadataRefusesStart: a topics.json that breaks the
// rules is refused before it is imported, naming the topic; the rebuild
// moves it to quarantine.
func TestDamagedLegacyMetadataRefusesStart(t *testing.T) {
	dir, _, _ := legacyDataDir(t, -1)
	err := openErr(dir, broker.Config{})
	if err == nil || !strings.Contains(err.Error(), "--rebuild-metadata") || !strings.Contains(err.Error(), "orders") {
		t.Fatalf("start on damaged metadata: %v", err)
	}
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
	adm := kadm.NewClient(testclient.New(t, b.Addr))
	ctx := testCtx(t)
	resp, _ := adm.CreateTopic(ctx, 10, 1, nil, "wide")
	if !errors.Is(resp.Err, kerr.PolicyViolation) || !strings.Contains(resp.ErrMessage, "--max-partitions") {
		t.Fatalf("create beyond the limit: %v %q", resp.Err, resp.ErrMessage)
	}
	if _, err := os.Stat(filepath.Join(b.DataDir, "logs", "wide-0")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("refused topic left a directory")
	}
	testclient.CreateTopic(t, b.Addr, "fits", 4, nil)
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
	cl := testclient.New(t, b.Addr)
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
