package console

// limit.go learns how large a record batch the topic accepts, so batches
// are cut to the broker's limit rather than to a guess.

import (
	"context"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// defaultMaxMessageBytes is Kafka's default max.message.bytes (1 MiB plus
// the 12-byte log overhead), assumed when the topic's value is unknown.
const defaultMaxMessageBytes = 1<<20 + 12

// topicMaxMessageBytes returns the topic's max.message.bytes, the largest
// record batch the broker accepts for it, or defaultMaxMessageBytes if the
// broker does not say (no DescribeConfigs, unknown topic, ...).
func topicMaxMessageBytes(ctx context.Context, cl *kgo.Client, topic string) int32 {
	rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return defaultMaxMessageBytes
	}
	rc, err := rcs.On(topic, nil)
	if err != nil || rc.Err != nil {
		return defaultMaxMessageBytes
	}
	for _, c := range rc.Configs {
		if c.Key != "max.message.bytes" {
			continue
		}
		n, err := strconv.ParseInt(c.MaybeValue(), 10, 32)
		if err != nil {
			return defaultMaxMessageBytes
		}
		// kgo accepts batch caps in [512, 1 GiB].
		return int32(min(max(n, 512), 1<<30))
	}
	return defaultMaxMessageBytes
}
