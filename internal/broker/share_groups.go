package broker

// share_groups.go joins the share-group coordinator (package share) to
// the broker: its view of the topic table and partition logs, its
// settings (the GROUP config resource over the broker defaults), and the
// one group-id namespace it shares with the classic and consumer groups.

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/share"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// shareTopics is the broker's topic table as the share coordinator reads it.
type shareTopics struct{ b *Broker }

func (t shareTopics) Topic(name string) ([16]byte, int32, bool) {
	tp, ok := t.b.topics.Get(name)
	if !ok {
		return [16]byte{}, 0, false
	}
	// A topic being created is in the store before its logs are open:
	// count only the partitions that can be read.
	return tp.ID, min(tp.Partitions, int32(len(t.b.topicPartitions(name)))), true
}

func (t shareTopics) TopicName(id [16]byte) (string, bool) { return t.b.topicName(id) }

func (t shareTopics) Log(topic string, partition int32) share.Log {
	p := t.b.lookup(topic, partition)
	if p == nil {
		return nil
	}
	return p.log
}

// openShare opens the share coordinator (DATA/meta/share/state.log).
func (b *Broker) openShare() (*share.Coordinator, error) {
	return share.Open(share.Options{
		Path:   filepath.Join(b.metaDir(), "share", "state.log"),
		Logger: b.levels.Logger(loggerGroup),
		Topics: shareTopics{b},
		Config: func(group string) share.GroupConfig { return b.groupConfigs(group).Share },
		// One namespace: an id a classic or consumer group holds is not a
		// share group's (Kafka answers GROUP_ID_NOT_FOUND).
		OtherGroup:   b.groups.Exists,
		OnPanic:      b.metrics.BackgroundPanicked,
		FetchMemory:  b.fetchMem,
		MaxGroupSize: b.cfg.ShareMaxGroupSize,
		MaxSessions:  b.cfg.ShareMaxSessions,
	})
}

// ShareGroupExists reports whether a share group of that id exists: the
// classic and consumer group coordinator must refuse the id then.
func (b *Broker) ShareGroupExists(group string) bool {
	return b.share != nil && b.share.Exists(group)
}

// afterStored is the reply of a share request answered once its change is
// durable; a change that could not be stored is answered
// COORDINATOR_NOT_AVAILABLE (retriable), as the group coordinator answers
// a failed append. code is resp's error code.
func (b *Broker) afterStored(wait func(context.Context) error, resp kmsg.Response, code *int16, what, group string) server.Reply {
	return func(ctx context.Context) kmsg.Response {
		if err := wait(ctx); err != nil {
			if ctxDone(ctx) {
				return nil
			}
			b.cfg.Logger.Error(what+" not stored", "group", group, "err", err)
			*code = kerr.CoordinatorNotAvailable.Code
		}
		return resp
	}
}

// checkShareDefaults refuses share group defaults outside Kafka's bounds
// (the flags that set them): a group could not set them either.
func (c Config) checkShareDefaults() error {
	switch d := c.ShareRecordLockDuration; {
	case d != 0 && (d < 15*time.Second || d > 60*time.Second):
		return fmt.Errorf("share record lock duration %v: must be 15s to 60s (group.share.record.lock.duration.ms)", d)
	case c.ShareDeliveryCountLimit != 0 && (c.ShareDeliveryCountLimit < 2 || c.ShareDeliveryCountLimit > 10):
		return fmt.Errorf("share delivery count limit %d: must be 2 to 10 (group.share.delivery.count.limit)", c.ShareDeliveryCountLimit)
	case c.SharePartitionMaxRecordLocks != 0 && (c.SharePartitionMaxRecordLocks < 100 || c.SharePartitionMaxRecordLocks > 10000):
		return fmt.Errorf("share partition max record locks %d: must be 100 to 10000 (group.share.partition.max.record.locks)", c.SharePartitionMaxRecordLocks)
	case c.ShareMaxGroupSize != 0 && (c.ShareMaxGroupSize < 10 || c.ShareMaxGroupSize > 1000):
		return fmt.Errorf("share group max size %d: must be 10 to 1000 (group.share.max.size)", c.ShareMaxGroupSize)
	case c.ShareMaxSessions < 0:
		return fmt.Errorf("share max sessions %d: must be at least 1 (group.share.max.share.sessions)", c.ShareMaxSessions)
	}
	return nil
}
