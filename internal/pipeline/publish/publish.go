// Package publish writes rider location updates to the rider-updates topic
// through franz-go: encoded as rider JSON, keyed by rider id, placed on a
// partition by region or by rider (package region), acknowledged by all
// in-sync replicas (acks=all, idempotent). The gateway and the simulator
// both publish through it, so they agree on the record format.
//
// With Config.LatestTopic set, each Publish also writes every rider's
// newest location of the call to that compacted topic (rider-latest, see
// package latest) in the same produce flow: the records of both topics go
// out in the same batches to each broker, and Publish returns once all of
// them are acknowledged.
package publish

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultTopic is the topic of the seed's example.
const DefaultTopic = "rider-updates"

// Config says where and how to publish.
type Config struct {
	// ClientOpts reach the cluster (seed brokers, client id, ...).
	ClientOpts []kgo.Opt
	// Topic receives the updates; DefaultTopic if empty.
	Topic string
	// City maps locations to regions.
	City region.City
	// Mode chooses the partitioning; ByRegion if empty.
	Mode region.Mode
	// CreateTopic creates the topic when it does not exist, with one
	// partition per region.
	CreateTopic bool
	// LatestTopic, when set, also receives each rider's newest location
	// of every Publish (its last known location), keyed by rider id and
	// placed by the key's hash whatever Mode says, so that compaction
	// keeps exactly one record per rider. The caller makes sure the topic
	// exists (latest.Ensure).
	LatestTopic string
	// LatestIndex, when set with LatestTopic, holds the latest locations
	// known: it filters what is written there and learns what was
	// acknowledged (the gateway's map of riders).
	LatestIndex LatestIndex
	// OnUnreachable, when set, makes New wait for a cluster it cannot
	// reach (a broker started a moment later, or restarting): the topic
	// is looked up again every second until it answers or ctx ends, and
	// OnUnreachable is told how long it has waited and why: first after
	// FirstWaitReport (a broker started a moment later needs no word),
	// then every unreachableReport. Without it New fails at once.
	OnUnreachable func(waited time.Duration, err error)
}

// LatestIndex is the Publisher's view of the latest locations known, for
// Config.LatestTopic. Both methods are called concurrently, from Publish's
// callers and the client's callbacks; they must be quick.
type LatestIndex interface {
	// Newer reports whether a location newer than l is already known for
	// l.RiderID: then l is not written to LatestTopic (it is not the
	// rider's latest), only to Topic.
	Newer(l *rider.Location) bool
	// Acked is told each LatestTopic record the cluster acknowledged,
	// where it was written, before the Publish that wrote it returns.
	Acked(l *rider.Location, partition int32, offset int64)
}

// FirstWaitReport is how long a wait for something started at the same
// time goes unreported; unreachableReport how often it is reported then.
const (
	FirstWaitReport   = 2 * time.Second
	unreachableReport = 5 * time.Second
)

// Publisher is a producer of rider updates. It is safe for concurrent use.
type Publisher struct {
	cfg    Config
	client *kgo.Client
}

// New connects, checks the topic (creating it if asked) and returns a
// Publisher. For ByRegion the topic must have exactly region.Count
// partitions, one per region.
func New(ctx context.Context, cfg Config) (*Publisher, error) {
	if cfg.Topic == "" {
		cfg.Topic = DefaultTopic
	}
	if cfg.Mode == "" {
		cfg.Mode = region.ByRegion
	}
	var part kgo.Partitioner = cfg.Mode.RecordPartitioner()
	if cfg.LatestTopic != "" {
		part = latestPartitioner{updates: part, latestTopic: cfg.LatestTopic}
	}
	opts := append([]kgo.Opt{
		kgo.RecordPartitioner(part),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
	}, cfg.ClientOpts...)
	client, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	if err := ensureTopicWaiting(ctx, kadm.NewClient(client), cfg); err != nil {
		client.Close()
		return nil, err
	}
	return &Publisher{cfg: cfg, client: client}, nil
}

// ensureTopicWaiting is EnsureTopic, retried while the cluster cannot be
// reached if cfg.OnUnreachable is set.
func ensureTopicWaiting(ctx context.Context, adm *kadm.Client, cfg Config) error {
	start := time.Now()
	next := start.Add(FirstWaitReport)
	for {
		err := EnsureTopic(ctx, adm, cfg.Topic, cfg.Mode, cfg.CreateTopic)
		if err == nil || cfg.OnUnreachable == nil || !Unreachable(err) {
			return err
		}
		if now := time.Now(); !now.Before(next) {
			cfg.OnUnreachable(now.Sub(start).Round(time.Second), err)
			next = now.Add(unreachableReport)
		}
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (stopped waiting for the cluster: %w)", err, ctx.Err())
		case <-t.C:
		}
	}
}

// Unreachable reports whether err says the cluster could not be reached
// over the network (refused, reset, timed out, unknown host), which
// waiting may cure, as opposed to an answer that refused the request.
func Unreachable(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}

// EnsureTopic checks that topic exists with a partition count mode can
// use, creating it with region.Count partitions when create is set.
func EnsureTopic(ctx context.Context, adm *kadm.Client, topic string, mode region.Mode, create bool) error {
	_, err := EnsureTopicConfigs(ctx, adm, topic, mode, create, nil)
	return err
}

// EnsureTopicConfigs is EnsureTopic creating the topic with configs (nil:
// the cluster's defaults). It reports whether it created the topic: an
// existing topic is used with the configs it has.
func EnsureTopicConfigs(ctx context.Context, adm *kadm.Client, topic string, mode region.Mode, create bool, configs map[string]*string) (bool, error) {
	for attempt := 0; ; attempt++ {
		details, err := adm.ListTopics(ctx, topic)
		if err != nil {
			return false, fmt.Errorf("look up topic %s: %w", topic, err)
		}
		d, ok := details[topic]
		if ok && d.Err == nil {
			n := len(d.Partitions)
			if mode == region.ByRegion && n != region.Count {
				return false, fmt.Errorf("topic %s has %d partitions; partitioning by region needs exactly %d (one per region: %v), or use --partition-by rider", topic, n, region.Count, region.Names)
			}
			return false, nil
		}
		if ok && !errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
			return false, fmt.Errorf("look up topic %s: %w", topic, d.Err)
		}
		if !create {
			return false, fmt.Errorf("topic %s does not exist: create it with `courier topic create %s --partitions %d%s`", topic, topic, region.Count, configFlags(configs))
		}
		if attempt > 0 {
			return false, fmt.Errorf("topic %s: created but not visible in metadata", topic)
		}
		resp, err := adm.CreateTopic(ctx, region.Count, -1, configs, topic)
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return false, fmt.Errorf("create topic %s: %w", topic, err)
		}
		if resp.Err != nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
			return false, fmt.Errorf("create topic %s: %w", topic, resp.Err)
		}
		if err == nil && resp.Err == nil {
			// Created with region.Count partitions, which every mode can
			// use. Listing again could answer from the client's metadata
			// cache (kadm caches for MetadataMinAge), which still says
			// the topic is unknown.
			return true, nil
		}
	}
}

// configFlags renders configs as `courier topic create` flags, sorted.
func configFlags(configs map[string]*string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(configs)) {
		if v := configs[k]; v != nil {
			fmt.Fprintf(&b, " --config %s=%s", k, *v)
		}
	}
	return b.String()
}

// Client returns the underlying client, e.g. for a consumer sharing its
// connections. It is closed by Close.
func (p *Publisher) Client() *kgo.Client { return p.client }

// Topic returns the topic published to.
func (p *Publisher) Topic() string { return p.cfg.Topic }

// Publish writes locs and returns once every one is acknowledged by the
// cluster, or with the first error. Each location must be valid
// (rider.Location.Validate). With Config.LatestTopic, each rider's newest
// location of locs is written there too, unless LatestIndex knows a newer
// one, and Publish waits for those records as well.
func (p *Publisher) Publish(ctx context.Context, locs []rider.Location) error {
	if len(locs) == 0 {
		return nil
	}
	latest := p.latestOf(locs)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	// One allocation for the records of both topics; a latest record
	// shares its key and value with the update it repeats.
	recs := make([]kgo.Record, len(locs)+len(latest))
	wg.Add(len(recs))
	done := func(r *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			if first == nil {
				first = fmt.Errorf("produce to %s: %w", r.Topic, err)
			}
			mu.Unlock()
		}
		wg.Done()
	}
	for i := range locs {
		l := &locs[i]
		r := &recs[i]
		r.Topic = p.cfg.Topic
		r.Value = l.AppendJSON(make([]byte, 0, 96))
		p.cfg.Mode.Place(p.cfg.City, r, l.RiderID, l.Lat, l.Lon)
		p.client.Produce(ctx, r, done)
	}
	for j, i := range latest {
		l := &locs[i]
		r := &recs[len(locs)+j]
		r.Topic, r.Key, r.Value = p.cfg.LatestTopic, recs[i].Key, recs[i].Value
		p.client.Produce(ctx, r, func(r *kgo.Record, err error) {
			if err == nil && p.cfg.LatestIndex != nil {
				p.cfg.LatestIndex.Acked(l, r.Partition, r.Offset)
			}
			done(r, err)
		})
	}
	wg.Wait()
	return first
}

// Close flushes nothing (Publish waits for its own records) and closes the
// client.
func (p *Publisher) Close() { p.client.Close() }
