package broker

// create_topics_internal_test.go checks the cost and the atomicity of a
// CreateTopics request of many topics: its valid topics are added to the
// metadata with one write and one fsync of topics.log, an invalid one gets
// its own error, and when that write fails every topic of the request
// fails and leaves no partition directory behind. The topic store is
// reopened on a vfs.ErrorFS to count and fail its operations.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// openWithTopicsFS opens a broker whose topic store runs on an ErrorFS
// over the disk.
func openWithTopicsFS(t *testing.T) (*Broker, *vfs.ErrorFS) {
	t.Helper()
	b, err := Open(Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.topics.Close(); err != nil {
		t.Fatal(err)
	}
	efs := vfs.NewErrorFS(vfs.Default)
	s, err := topics.Open(b.metaDir(), topics.Options{FS: efs})
	if err != nil {
		t.Fatal(err)
	}
	b.topics = s
	return b, efs
}

// createTopicsRequest asks for single-partition topics named prefix-0..n-1,
// plus the extra names given.
func createTopicsRequest(prefix string, n int, extra ...string) *kmsg.CreateTopicsRequest {
	req := kmsg.NewPtrCreateTopicsRequest()
	names := extra
	for i := 0; i < n; i++ {
		names = append(names, fmt.Sprintf("%s-%d", prefix, i))
	}
	for _, name := range names {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, 1, 1
		req.Topics = append(req.Topics, rt)
	}
	return req
}

func handleCreate(b *Broker, req *kmsg.CreateTopicsRequest) map[string]kmsg.CreateTopicsResponseTopic {
	ctx := context.Background()
	resp := b.Handle(ctx, &server.Request{Msg: req})(ctx).(*kmsg.CreateTopicsResponse)
	out := map[string]kmsg.CreateTopicsResponseTopic{}
	for _, rt := range resp.Topics {
		out[rt.Topic] = rt
	}
	return out
}

func TestCreateTopicsIsOneMetadataWrite(t *testing.T) {
	b, efs := openWithTopicsFS(t)
	var writes, syncs atomic.Int64
	logPath := filepath.Join(b.metaDir(), "topics.log")
	efs.InjectFunc(func(op vfs.Op, path string) error {
		if path == logPath && op == vfs.OpWrite {
			writes.Add(1)
		}
		if path == logPath && op == vfs.OpSync {
			syncs.Add(1)
		}
		return nil
	})

	got := handleCreate(b, createTopicsRequest("batch", 200, "bad/name"))
	if len(got) != 201 || got["bad/name"].ErrorCode != kerr.InvalidTopicException.Code {
		t.Fatalf("%d answers, bad/name: %+v", len(got), got["bad/name"])
	}
	for i := 0; i < 200; i++ {
		if rt := got[fmt.Sprintf("batch-%d", i)]; rt.ErrorCode != 0 || rt.TopicID == ([16]byte{}) {
			t.Fatalf("batch-%d: %+v", i, rt)
		}
	}
	if w, s := writes.Load(), syncs.Load(); w != 1 || s != 1 {
		t.Fatalf("200 topics cost %d writes and %d fsyncs of topics.log, want 1 and 1", w, s)
	}
	if b.topics.Len() != 200 || len(b.topicPartitions("batch-199")) != 1 {
		t.Fatalf("%d topics, batch-199 has %d partitions open", b.topics.Len(), len(b.topicPartitions("batch-199")))
	}
}

func TestCreateTopicsFailedWriteLeavesNothing(t *testing.T) {
	b, efs := openWithTopicsFS(t)
	efs.Inject(syscall.ENOSPC, vfs.OpWrite|vfs.OpSync)

	got := handleCreate(b, createTopicsRequest("full", 20, "bad/name"))
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("full-%d", i)
		if rt := got[name]; rt.ErrorCode != kerr.KafkaStorageError.Code || rt.ErrorMessage == nil {
			t.Fatalf("%s on a full disk: %+v", name, rt)
		}
		if _, err := os.Stat(b.partitionDir(name, 0)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s: a failed creation left its partition directory: %v", name, err)
		}
	}
	if got["bad/name"].ErrorCode != kerr.InvalidTopicException.Code {
		t.Fatalf("bad/name: %+v", got["bad/name"])
	}
	if n := b.topics.Len(); n != 0 {
		t.Fatalf("%d topics after a failed write", n)
	}
	b.mu.RLock()
	parts, nparts := len(b.parts), b.nparts
	b.mu.RUnlock()
	if parts != 0 || nparts != 0 {
		t.Fatalf("partition table after a failed write: %d topics, %d partitions", parts, nparts)
	}

	// Space returns: the journal repairs itself and the same request
	// creates every topic.
	efs.Heal()
	testwait.For(t, 10*time.Second, "topics created after the disk has room", func() string {
		got = handleCreate(b, createTopicsRequest("full", 20))
		if rt := got["full-19"]; rt.ErrorCode != 0 {
			return fmt.Sprintf("full-19: error %d", rt.ErrorCode)
		}
		return ""
	})
	if n := b.topics.Len(); n != 20 {
		t.Fatalf("%d topics", n)
	}
}

// TestCreateTopicsRefusesARepeatedName: createTopics creates partitions in
// parallel, so a name given twice must be refused before any is made.
func TestCreateTopicsRefusesARepeatedName(t *testing.T) {
	b, _ := openWithTopicsFS(t)
	got := b.createTopics([]topicSpec{{name: "twice", partitions: 2}, {name: "twice", partitions: 3}})
	if got[0].err != nil || got[0].t.Partitions != 2 || !errors.Is(got[1].err, topics.ErrTopicExists) {
		t.Fatalf("%+v", got)
	}
	if n := len(b.topicPartitions("twice")); n != 2 {
		t.Fatalf("twice has %d partitions open", n)
	}
}
