package ctl

// describe.go gathers everything known about one topic: its ID, the configs
// that differ from the defaults, and per partition its leader, offsets and
// size on disk.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TopicDescription is what DescribeTopic learns about a topic.
type TopicDescription struct {
	Name              string          // Name is the topic name.
	ID                string          // ID is the topic ID in Kafka's notation, or "" if the broker has none.
	Internal          bool            // Internal is whether the cluster marks the topic internal.
	ReplicationFactor int             // ReplicationFactor is the number of replicas of partition 0.
	Configs           []Config        // Configs are the configs not at their default, sorted by name.
	ConfigsErr        error           // ConfigsErr is why Configs is unavailable, if it is.
	Partitions        []PartitionInfo // Partitions are sorted by number.
	SizesErr          error           // SizesErr is why partition sizes are unavailable, if they are.
}

// Config is one topic config whose value does not come from the defaults.
type Config struct {
	Name      string            // Name is the config key, e.g. retention.ms.
	Value     string            // Value is the value; empty if Sensitive.
	Source    kmsg.ConfigSource // Source says where the value is set (topic override, broker config, ...).
	Sensitive bool              // Sensitive is whether the broker hides the value.
}

// PartitionInfo describes one partition. Offsets and sizes the cluster did
// not report are -1.
type PartitionInfo struct {
	Partition   int32 // Partition is the partition number.
	Leader      int32 // Leader is the leader's broker ID, or -1 if there is none.
	StartOffset int64 // StartOffset is the log start offset, or -1.
	EndOffset   int64 // EndOffset is the high watermark, or -1.
	Size        int64 // Size is the leader replica's size on disk in bytes, or -1.
	// DirtyRatio is, on a compacted topic, the share of the partition's
	// cleanable bytes not compacted yet, if DirtyKnown (false for a topic
	// not compacted, or a cluster that does not report it: only Courier
	// does).
	DirtyRatio float64
	DirtyKnown bool
	Err        error // Err is the partition's metadata error, if any (e.g. leader not available).
}

// DescribeTopic describes the named topic. An unknown topic fails with a
// *TopicError; configs and sizes a broker cannot provide leave ConfigsErr
// or SizesErr set instead of failing.
func (a *Admin) DescribeTopic(ctx context.Context, name string) (TopicDescription, error) {
	if name == "" {
		return TopicDescription{}, fmt.Errorf("describe topic: empty topic name")
	}
	tds, err := a.adm.ListTopicsWithInternal(ctx, name)
	if err != nil {
		return TopicDescription{}, fmt.Errorf("describe topic %s: metadata: %w", name, err)
	}
	td, ok := tds[name]
	if !ok {
		return TopicDescription{}, topicErr("describe", name, kerr.UnknownTopicOrPartition, "")
	}
	if err := topicErr("describe", name, td.Err, ""); err != nil {
		return TopicDescription{}, err
	}
	d := TopicDescription{
		Name:              name,
		ID:                formatTopicID(td.ID),
		Internal:          td.IsInternal,
		ReplicationFactor: td.Partitions.NumReplicas(),
	}
	leaders := make(map[int32]int32, len(td.Partitions))
	for _, p := range td.Partitions.Sorted() {
		d.Partitions = append(d.Partitions, PartitionInfo{
			Partition: p.Partition, Leader: p.Leader,
			StartOffset: -1, EndOffset: -1, Size: -1, Err: p.Err,
		})
		leaders[p.Partition] = p.Leader
	}

	d.Configs, d.ConfigsErr = a.nonDefaultConfigs(ctx, name)
	if err := ctx.Err(); err != nil {
		return TopicDescription{}, fmt.Errorf("describe topic %s: %w", name, err)
	}
	if err := a.fillOffsets(ctx, name, d.Partitions); err != nil {
		return TopicDescription{}, fmt.Errorf("describe topic %s: %w", name, err)
	}
	d.SizesErr = a.fillSizes(ctx, tds.TopicsSet(), name, leaders, d.Partitions)
	a.fillDirtyRatios(ctx, name, d.Partitions)
	if err := ctx.Err(); err != nil {
		return TopicDescription{}, fmt.Errorf("describe topic %s: %w", name, err)
	}
	return d, nil
}

// nonDefaultConfigs returns the topic's configs whose source is not the
// built-in default, sorted by name.
func (a *Admin) nonDefaultConfigs(ctx context.Context, name string) ([]Config, error) {
	rcs, err := a.adm.DescribeTopicConfigs(ctx, name)
	if err != nil {
		return nil, optionalErr("DescribeConfigs", err)
	}
	rc, err := rcs.On(name, nil)
	if err != nil {
		return nil, optionalErr("DescribeConfigs", err)
	}
	if rc.Err != nil {
		return nil, optionalErr("DescribeConfigs", rc.Err)
	}
	var out []Config
	for _, c := range rc.Configs {
		if c.Source == kmsg.ConfigSourceDefaultConfig || c.Source == kmsg.ConfigSourceUnknown {
			continue
		}
		out = append(out, Config{Name: c.Key, Value: c.MaybeValue(), Source: c.Source, Sensitive: c.Sensitive})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// fillOffsets sets the start and end offset of every partition in ps that
// the cluster reports. A partition that fails keeps -1.
func (a *Admin) fillOffsets(ctx context.Context, name string, ps []PartitionInfo) error {
	starts, err := a.adm.ListStartOffsets(ctx, name)
	if err != nil && !partial(err) {
		return fmt.Errorf("list start offsets: %w", err)
	}
	ends, err := a.adm.ListEndOffsets(ctx, name)
	if err != nil && !partial(err) {
		return fmt.Errorf("list end offsets: %w", err)
	}
	for i := range ps {
		if o, ok := starts.Lookup(name, ps[i].Partition); ok && o.Err == nil {
			ps[i].StartOffset = o.Offset
		}
		if o, ok := ends.Lookup(name, ps[i].Partition); ok && o.Err == nil {
			ps[i].EndOffset = o.Offset
		}
	}
	return nil
}

// partial reports whether err is a kadm sharded failure that still left some
// of the response usable.
func partial(err error) bool {
	var se *kadm.ShardErrors
	return errors.As(err, &se) && !se.AllFailed
}

// formatTopicID renders a topic ID as Kafka's tools do (URL-safe base64
// without padding), or "" for the all-zero ID of brokers without IDs.
func formatTopicID(id kadm.TopicID) string {
	if id == (kadm.TopicID{}) {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(id[:])
}

// cleanerStatusConfig is the name under which Courier's DescribeConfigs
// reports a compacted topic's dirty ratios (broker.CleanerStatusConfig; a
// client tool must not import the broker).
const cleanerStatusConfig = "courier.cleaner.dirty.ratio"

// fillDirtyRatios asks for the dirty ratio of each partition of a
// compacted topic. Only Courier answers; any other cluster (or error)
// leaves them unknown.
func (a *Admin) fillDirtyRatios(ctx context.Context, name string, ps []PartitionInfo) {
	req := kmsg.NewPtrDescribeConfigsRequest()
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, name
	res.ConfigNames = []string{cleanerStatusConfig}
	req.Resources = append(req.Resources, res)
	resp, err := req.RequestWith(ctx, a.cl)
	if err != nil || len(resp.Resources) != 1 || resp.Resources[0].ErrorCode != 0 {
		return
	}
	for _, c := range resp.Resources[0].Configs {
		if c.Name != cleanerStatusConfig || c.Value == nil {
			continue
		}
		for pair := range strings.SplitSeq(*c.Value, ",") {
			p, r, ok := strings.Cut(pair, ":")
			part, perr := strconv.ParseInt(p, 10, 32)
			ratio, rerr := strconv.ParseFloat(r, 64)
			if !ok || perr != nil || rerr != nil {
				continue
			}
			for i := range ps {
				if ps[i].Partition == int32(part) {
					ps[i].DirtyRatio, ps[i].DirtyKnown = ratio, true
				}
			}
		}
	}
}
