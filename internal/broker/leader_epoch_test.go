package broker_test

// leader_epoch_test.go checks KIP-101/KIP-320 end to end with franz-go: a
// consumer that read records a crash then took from the log, and that
// comes back after the same offsets were written again, finds out
// (ErrDataLoss) and reads the new records, instead of silently skipping
// them.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// produceBatches writes n batches of 10 records each (one flush per batch,
// so batch boundaries fall on multiples of 10), with values prefix-i.
func produceBatches(t *testing.T, addr, topic, prefix string, n int) {
	t.Helper()
	cl := testclient.New(t, addr, kgo.DefaultProduceTopic(topic))
	for b := 0; b < n; b++ {
		for i := 0; i < 10; i++ {
			cl.Produce(testCtx(t), &kgo.Record{Value: []byte(prefix + "-" + strconv.Itoa(b*10+i))}, nil)
		}
		if err := cl.Flush(testCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
}

// cutLog cuts partition 0 of topic after its first keep batches, as a
// power loss that took the rest would, and returns the new log end.
func cutLog(t *testing.T, dataDir, topic string, keep int) int64 {
	t.Helper()
	dir := filepath.Join(dataDir, "logs", topic+"-0")
	seg := filepath.Join(dir, "00000000000000000000.log")
	data, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	batches, err := storage.SplitBatches(data)
	if err != nil || len(batches) < keep {
		t.Fatalf("%d batches (%v), want at least %d", len(batches), err, keep)
	}
	size := 0
	var end int64
	for _, b := range batches[:keep] {
		size += len(b)
		var rb kmsg.RecordBatch
		if err := rb.ReadFrom(b); err != nil {
			t.Fatal(err)
		}
		end = rb.FirstOffset + int64(rb.LastOffsetDelta) + 1
	}
	if err := os.Truncate(seg, int64(size)); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".index", ".timeindex"} {
		os.Remove(filepath.Join(dir, "00000000000000000000"+ext))
	}
	return end
}

func TestConsumerDetectsTruncationAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	b := testbroker.StartAt(t, dir)
	addr := b.Addr
	testclient.CreateTopic(t, addr, "moves", 1, nil)
	produceBatches(t, addr, "moves", "old", 10) // offsets 0..99, epoch 1

	consumer := testclient.New(t, addr, kgo.ConsumeTopics("moves"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond), kgo.MetadataMinAge(100*time.Millisecond))
	ctx := testCtx(t)
	seen := 0
	for seen < 100 {
		fs := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of 100", seen)
		}
		seen += len(fs.Records())
	}

	// A crash takes offsets 50..99; the broker comes back (a new epoch)
	// and the same offsets are written again.
	b.Stop(t)
	end := cutLog(t, dir, "moves", 5)
	// The restarted broker is stopped when the test ends.
	testbroker.StartAt(t, dir, func(c *run.Config) { c.Addr = addr })
	produceBatches(t, addr, "moves", "new", 6) // from end on, epoch 2

	var dataLoss bool
	var got []string
	for len(got) < 60 {
		fs := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("after the restart the consumer read %d of the 60 new records (data loss reported: %v): %v", len(got), dataLoss, got)
		}
		fs.EachError(func(_ string, _ int32, err error) {
			var dl *kgo.ErrDataLoss
			if errors.As(err, &dl) {
				dataLoss = true
				if dl.ResetTo != end {
					t.Errorf("data loss reset to %d, want the new log end %d", dl.ResetTo, end)
				}
			}
		})
		for _, r := range fs.Records() {
			got = append(got, string(r.Value))
			if r.LeaderEpoch != 2 {
				t.Errorf("record %d from epoch %d, want 2", r.Offset, r.LeaderEpoch)
			}
		}
	}
	if !dataLoss {
		t.Error("the consumer was not told that the log was truncated under it")
	}
	if got[0] != "new-0" || got[59] != "new-59" {
		t.Fatalf("consumer read %s..%s, want new-0..new-59", got[0], got[len(got)-1])
	}
}

// TestLeaderEpochInEveryAPI: each start is a new epoch, announced in
// Metadata, checked in Fetch and ListOffsets (older: FENCED_LEADER_EPOCH,
// newer: UNKNOWN_LEADER_EPOCH) and answered by OffsetForLeaderEpoch.
func TestLeaderEpochInEveryAPI(t *testing.T) {
	dir := t.TempDir()
	b := testbroker.StartAt(t, dir)
	testclient.CreateTopic(t, b.Addr, "e", 1, nil)
	produceBatches(t, b.Addr, "e", "x", 2) // 0..19 in epoch 1
	b.Stop(t)
	b = testbroker.StartAt(t, dir)
	produceBatches(t, b.Addr, "e", "y", 1) // 20..29 in epoch 2
	cl := testclient.New(t, b.Addr)
	ctx := context.Background()

	md, err := kadm.NewClient(cl).Metadata(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	if e := md.Topics["e"].Partitions[0].LeaderEpoch; e != 2 {
		t.Fatalf("metadata leader epoch %d, want 2", e)
	}

	ofe := kmsg.NewPtrOffsetForLeaderEpochRequest()
	ofe.ReplicaID = -1
	ot := kmsg.NewOffsetForLeaderEpochRequestTopic()
	ot.Topic = "e"
	for _, epoch := range []int32{1, 2} {
		op := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		op.CurrentLeaderEpoch, op.LeaderEpoch = 2, epoch
		ot.Partitions = append(ot.Partitions, op)
	}
	ofe.Topics = append(ofe.Topics, ot)
	oresp, err := ofe.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	ps := oresp.Topics[0].Partitions
	if ps[0].LeaderEpoch != 1 || ps[0].EndOffset != 20 || ps[1].LeaderEpoch != 2 || ps[1].EndOffset != 30 {
		t.Fatalf("OffsetForLeaderEpoch: %+v", ps)
	}

	for _, tc := range []struct {
		current int32
		want    int16
	}{{-1, 0}, {2, 0}, {1, kerr.FencedLeaderEpoch.Code}, {3, kerr.UnknownLeaderEpoch.Code}} {
		fr := kmsg.NewPtrFetchRequest()
		fr.ReplicaID, fr.MaxBytes, fr.MaxWaitMillis = -1, 1<<20, 0
		ft := kmsg.NewFetchRequestTopic()
		ft.Topic, ft.TopicID = "e", md.Topics["e"].ID
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.CurrentLeaderEpoch, fp.PartitionMaxBytes = tc.current, 1<<20
		ft.Partitions = append(ft.Partitions, fp)
		fr.Topics = append(fr.Topics, ft)
		fresp, err := fr.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		if code := fresp.Topics[0].Partitions[0].ErrorCode; code != tc.want {
			t.Errorf("fetch with current epoch %d: error %d, want %d", tc.current, code, tc.want)
		}

		lr := kmsg.NewPtrListOffsetsRequest()
		lr.ReplicaID = -1
		lt := kmsg.NewListOffsetsRequestTopic()
		lt.Topic = "e"
		lp := kmsg.NewListOffsetsRequestTopicPartition()
		lp.CurrentLeaderEpoch, lp.Timestamp = tc.current, -2
		lt.Partitions = append(lt.Partitions, lp)
		lr.Topics = append(lr.Topics, lt)
		lresp, err := lr.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		lpr := lresp.Topics[0].Partitions[0]
		if lpr.ErrorCode != tc.want {
			t.Errorf("list offsets with current epoch %d: error %d, want %d", tc.current, lpr.ErrorCode, tc.want)
		}
		if tc.want == 0 && (lpr.Offset != 0 || lpr.LeaderEpoch != 1) {
			t.Errorf("earliest offset %d from epoch %d, want 0 from epoch 1", lpr.Offset, lpr.LeaderEpoch)
		}
	}
}
