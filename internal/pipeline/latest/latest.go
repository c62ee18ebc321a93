// Package latest owns the rider-latest topic: every rider's last known
// location, a compacted topic keyed by rider id whose values are rider
// JSON, the same encoding as rider-updates. The gateway writes it with
// every update it accepts (package publish, Config.LatestTopic) and
// answers GET /v1/riders/{id}/location from it; the demo's live map starts
// from it.
//
// This package creates and checks the topic (Ensure) and reads it (Reader):
// from its start, saying when it has caught up with the end it had when
// reading began, then following it.
//
// Promises:
//   - Ensure never changes an existing topic: one whose cleanup.policy is
//     not compact is used as it is, with one WARN saying so.
//   - A Reader hands on only records that decode as a valid location whose
//     rider_id is the record's key; every other record is skipped, counted
//     (Stats.Invalid) and logged, never applied.
package latest

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/twmb/franz-go/pkg/kadm"
)

// DefaultTopic is the topic's default name.
const DefaultTopic = "rider-latest"

// SegmentMs is the segment.ms rider-latest is created with: one minute.
//
// Kafka's log cleaner never compacts the active segment, so a compacted
// topic holds one record per key plus everything written since its last
// roll. The default segment.ms (7 days) would leave rider-latest as large
// as rider-updates for a week; a minute keeps it to at most a minute of
// updates plus one record per rider, and rolling a segment a minute per
// partition costs the broker nothing worth counting. It also makes the
// demo show the topic staying small within its first minutes.
//
// min.cleanable.dirty.ratio stays at Kafka's default (0.5): right after a
// roll the new segment is nearly all dirty (a minute of updates against
// one record per rider), so any ratio lets the cleaner run at once; 0.5
// bounds the cleaned part to about two records per rider while the
// cleaner rewrites the topic at most once per rider count of new records.
const SegmentMs = "60000"

// Configs returns the configs rider-latest is created with:
// cleanup.policy=compact and segment.ms=SegmentMs.
func Configs() map[string]*string {
	compact, seg := "compact", SegmentMs
	return map[string]*string{"cleanup.policy": &compact, "segment.ms": &seg}
}

// Ensure checks that topic exists, creating it with region.Count
// partitions and Configs when create is set. Any partition count works: a
// rider's records are placed by the hash of its id. An existing topic
// whose cleanup.policy does not include compact (or whose configs cannot
// be read) is used as it is, and log gets one WARN line saying so: it is
// the user's topic, not to be altered behind their back.
func Ensure(ctx context.Context, adm *kadm.Client, topic string, create bool, log *slog.Logger) error {
	created, err := publish.EnsureTopicConfigs(ctx, adm, topic, region.ByRider, create, Configs())
	if err != nil || created {
		return err
	}
	policy, err := cleanupPolicy(ctx, adm, topic)
	switch {
	case err != nil:
		log.Warn("cannot check that the latest-location topic is compacted; using it as it is", "topic", topic, "err", err)
	case !slices.Contains(strings.Split(policy, ","), "compact"):
		log.Warn("the latest-location topic is not compacted: it keeps every update until retention deletes it, "+
			"so it grows like the updates topic and a rider not heard from within retention.ms is forgotten; "+
			"using it as it is (to compact it: courier topic alter-config "+topic+" --set cleanup.policy=compact)",
			"topic", topic, "cleanup.policy", policy)
	}
	return nil
}

// cleanupPolicy returns topic's cleanup.policy.
func cleanupPolicy(ctx context.Context, adm *kadm.Client, topic string) (string, error) {
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return "", fmt.Errorf("describe configs of %s: %w", topic, err)
	}
	rc, err := rcs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		return "", fmt.Errorf("describe configs of %s: %w", topic, err)
	}
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" {
			return c.MaybeValue(), nil
		}
	}
	return "", fmt.Errorf("describe configs of %s: no cleanup.policy in the answer", topic)
}
