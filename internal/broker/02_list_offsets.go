package broker

// 02_list_offsets.go answers ListOffsets: earliest (-2), latest (-1), the
// offset of the largest timestamp (-3, v7+), or the first offset at or
// after a timestamp; and the tiered-storage lookups as Apache Kafka
// answers them for a partition without tiered storage
// (UnifiedLog.fetchOffsetByTimestamp): earliest local (-4, KIP-405, v8+)
// is the log start offset, since every segment is local; latest tiered
// (-5, KIP-1005, v9+) and earliest pending upload (-6, KIP-1023, v11+)
// are offset -1 with leader epoch -1, since nothing is tiered. A
// timestamp the request's version does not carry is UNSUPPORTED_VERSION,
// as Kafka's ReplicaManager answers it.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleListOffsets(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.ListOffsetsRequest)
	resp := r.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range r.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		describable := b.allowed(req, opDescribe, rtTopic, rt.Topic)
		for _, rp := range rt.Partitions {
			if !describable {
				sp := kmsg.NewListOffsetsResponseTopicPartition()
				sp.Partition, sp.Timestamp, sp.Offset = rp.Partition, -1, -1
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			st.Partitions = append(st.Partitions, b.listOffset(rt.Topic, r.Version, r.IsolationLevel, rp))
		}
		resp.Topics = append(resp.Topics, st)
	}
	return server.Immediate(resp)
}

// The ListOffsets timestamps that name an offset rather than a time.
const (
	latestTimestamp                = -1
	earliestTimestamp              = -2
	maxTimestampTimestamp          = -3
	earliestLocalTimestamp         = -4
	latestTieredTimestamp          = -5
	earliestPendingUploadTimestamp = -6
)

// timestampMinVersion is the first ListOffsets version that carries each
// special timestamp (Kafka's ListOffsetsRequest).
var timestampMinVersion = map[int64]int16{
	maxTimestampTimestamp:          7,
	earliestLocalTimestamp:         8,
	latestTieredTimestamp:          9,
	earliestPendingUploadTimestamp: 11,
}

// listOffset answers for one partition.
func (b *Broker) listOffset(topic string, version int16, isolation int8, rp kmsg.ListOffsetsRequestTopicPartition) kmsg.ListOffsetsResponseTopicPartition {
	sp := kmsg.NewListOffsetsResponseTopicPartition()
	sp.Partition = rp.Partition
	sp.Timestamp = -1
	sp.Offset = -1
	sp.LeaderEpoch = -1
	p := b.lookup(topic, rp.Partition)
	if p == nil {
		sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return sp
	}
	if code := b.checkLeaderEpoch(rp.CurrentLeaderEpoch); code != 0 {
		sp.ErrorCode = code
		return sp
	}
	if minVersion, ok := timestampMinVersion[rp.Timestamp]; ok && version < minVersion {
		sp.ErrorCode = kerr.UnsupportedVersion.Code
		return sp
	}
	switch ts := rp.Timestamp; {
	case ts == earliestTimestamp, ts == earliestLocalTimestamp:
		sp.Offset = p.log.LogStartOffset()
	case ts == latestTimestamp && isolation == isolationReadCommitted:
		sp.Offset = p.log.LastStableOffset()
	case ts == latestTimestamp:
		sp.Offset = p.log.HighWatermark()
	case ts == maxTimestampTimestamp:
		sp.Offset, sp.Timestamp = p.log.MaxTimestamp()
	case ts == latestTieredTimestamp, ts == earliestPendingUploadTimestamp:
		return sp // nothing is tiered: offset -1, epoch -1, no error
	case ts < 0:
		sp.ErrorCode = kerr.InvalidRequest.Code
	default:
		off, found, err := p.log.OffsetForTime(ts)
		if err != nil {
			sp.ErrorCode = errorCode(err)
			return sp
		}
		sp.Offset, sp.Timestamp = off, found
	}
	if sp.ErrorCode == 0 && sp.Offset >= 0 {
		// The epoch that wrote the offset, so a consumer can validate its
		// position later (KIP-320).
		sp.LeaderEpoch = p.log.EpochAt(sp.Offset)
	}
	return sp
}
