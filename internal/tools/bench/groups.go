package bench

// groups.go measures how fast groups work through a topic: a share group
// (KIP-932) of 1, 4 or 16 consumers beside a classic consumer group of the
// same size, on one topic (4 partitions by default). A classic group's
// parallelism stops at the partition count; a share group's does not.
//
// The topic is filled first; then, per protocol and group size, a fresh
// group reads it all. Every consumer acknowledges what each poll returned
// and waits for the broker's answer before its next poll: a share
// consumer accepts each record and flushes the acknowledgements (the
// broker confirmed them when kgo's FlushAcks returns), a classic one
// commits the poll's offsets synchronously. The rate is the records
// acknowledged per second from the first record received to the moment
// the last one was: group joins before the first record are not counted.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Group protocols GroupsConfig.Protocols names.
const (
	ProtocolShare   = ctl.ProtocolShare // a KIP-932 share group
	ProtocolClassic = "classic"         // a consumer group of the classic protocol
)

// Defaults of GroupsConfig.
const (
	DefaultGroupsRecords    = 200_000
	DefaultGroupsPartitions = 4
	DefaultGroupsTimeout    = 2 * time.Minute
	// groupsPoll bounds the records one poll returns.
	groupsPoll = 500
)

// DefaultGroupsConsumers are the group sizes measured by default.
var DefaultGroupsConsumers = []int{1, 4, 16}

// GroupsConfig describes a group throughput run. Zero fields take the
// defaults.
type GroupsConfig struct {
	ClientOpts []kgo.Opt // ClientOpts reach the cluster (at least kgo.SeedBrokers).
	Records    int       // Records fill the topic (default 200,000).
	Size       int       // Size is each value's size in bytes (default 100).
	Partitions int32     // Partitions of the topic (default 4).
	Consumers  []int     // Consumers are the group sizes to measure (default 1, 4, 16).
	Protocols  []string  // Protocols to measure, in order (default share, classic).
	// Timeout bounds each measurement (default 2 minutes): a group that
	// has not acknowledged every record by then fails the run.
	Timeout time.Duration
	Log     io.Writer // Log, if set, is told what runs.
}

// GroupsResult is one measurement: a group of Consumers consumers of
// Protocol working through Records records.
type GroupsResult struct {
	Protocol      string  `json:"protocol"`
	Consumers     int     `json:"consumers"`
	Partitions    int32   `json:"partitions"`
	Records       int     `json:"records"`
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
	// Active counts the consumers that acknowledged at least one record.
	Active int `json:"active"`
	// Redelivered counts deliveries beyond each record's first (share:
	// lapsed locks; classic: records read again after a rebalance).
	Redelivered int `json:"redelivered"`
}

// withDefaults checks cfg and fills in its defaults.
func (cfg GroupsConfig) withDefaults() (GroupsConfig, error) {
	if cfg.Records == 0 {
		cfg.Records = DefaultGroupsRecords
	}
	if cfg.Size == 0 {
		cfg.Size = DefaultSize
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = DefaultGroupsPartitions
	}
	if len(cfg.Consumers) == 0 {
		cfg.Consumers = DefaultGroupsConsumers
	}
	if len(cfg.Protocols) == 0 {
		cfg.Protocols = []string{ProtocolShare, ProtocolClassic}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultGroupsTimeout
	}
	switch {
	case cfg.Records < 0 || cfg.Size < 0 || cfg.Partitions < 0 || cfg.Timeout < 0:
		return cfg, fmt.Errorf("bench groups: records, size, partitions and timeout must be positive")
	}
	for _, n := range cfg.Consumers {
		if n < 1 || n > 1000 {
			return cfg, fmt.Errorf("bench groups: %d consumers: want 1 to 1000", n)
		}
	}
	for _, p := range cfg.Protocols {
		if p != ProtocolShare && p != ProtocolClassic {
			return cfg, fmt.Errorf("bench groups: protocol %q: want share or classic", p)
		}
	}
	return cfg, nil
}

// RunGroups creates a fresh topic, fills it, measures each protocol at
// each group size in turn, and deletes the topic.
func RunGroups(ctx context.Context, cfg GroupsConfig) (results []GroupsResult, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(cfg.ClientOpts...)
	if err != nil {
		return nil, fmt.Errorf("bench groups: %w", err)
	}
	defer cl.Close()
	if slices.Contains(cfg.Protocols, ProtocolShare) {
		if err := ctl.RequireGroupProtocol(ctx, cl, ctl.ProtocolShare); err != nil {
			return nil, fmt.Errorf("bench groups: %w", err)
		}
	}
	adm := kadm.NewClient(cl)
	stamp := time.Now().Format("20060102-150405.000")
	topic := "courier-bench-groups-" + stamp
	if _, err := adm.CreateTopic(ctx, cfg.Partitions, 1, nil, topic); err != nil {
		return nil, fmt.Errorf("bench groups: create topic %s: %w", topic, err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		if _, derr := adm.DeleteTopic(dctx, topic); derr != nil {
			err = errors.Join(err, fmt.Errorf("bench groups: delete topic %s: %w", topic, derr))
		}
	}()
	ends, err := fill(ctx, cl, topic, cfg)
	if err != nil {
		return nil, err
	}
	for _, proto := range cfg.Protocols {
		for _, n := range cfg.Consumers {
			group := fmt.Sprintf("courier-bench-%s-%d-%s", proto, n, stamp)
			if cfg.Log != nil {
				fmt.Fprintf(cfg.Log, "bench groups: %s group of %d consumers, %d records on %d partitions\n", proto, n, cfg.Records, cfg.Partitions)
			}
			r, err := measureGroup(ctx, cl, cfg, proto, group, topic, n, ends)
			if err != nil {
				return results, err
			}
			results = append(results, r)
		}
	}
	return results, nil
}

// fill produces cfg.Records values of cfg.Size random bytes, round robin
// over the partitions, and returns each partition's end offset.
func fill(ctx context.Context, cl *kgo.Client, topic string, cfg GroupsConfig) (map[int32]int64, error) {
	value := make([]byte, cfg.Size)
	if _, err := rand.Read(value); err != nil {
		return nil, err
	}
	err := produceAll(ctx, cl, cfg.Records, func(i int) *kgo.Record {
		return &kgo.Record{Topic: topic, Partition: int32(i % int(cfg.Partitions)), Value: value}
	})
	if err != nil {
		return nil, fmt.Errorf("bench groups: fill %s: %w", topic, err)
	}
	ends, err := topicEnds(ctx, kadm.NewClient(cl), topic)
	if err != nil {
		return nil, fmt.Errorf("bench groups: %w", err)
	}
	return ends, nil
}

// measureGroup runs n consumers of proto in group until every record of
// topic is acknowledged.
func measureGroup(ctx context.Context, cl *kgo.Client, cfg GroupsConfig, proto, group, topic string, n int, ends map[int32]int64) (GroupsResult, error) {
	res := GroupsResult{Protocol: proto, Consumers: n, Partitions: cfg.Partitions, Records: cfg.Records}
	if proto == ProtocolShare {
		if err := ctl.ShareStartEarliest(ctx, cl, group); err != nil {
			return res, fmt.Errorf("bench groups: %w", err)
		}
	}
	tr := newAckTracker(ends)
	mctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, n)
	acked := make([]int, n)
	for i := range n {
		wg.Go(func() {
			acked[i], errs[i] = consumeGroup(mctx, cfg.ClientOpts, proto, group, topic, tr)
		})
	}
	select {
	case <-tr.done:
	case <-mctx.Done():
	}
	cancel()
	wg.Wait()
	first, last, unique, deliveries := tr.result()
	if unique < cfg.Records {
		return res, fmt.Errorf("bench groups: %s group of %d: %d of %d records acknowledged within %s: %w", proto, n, unique, cfg.Records, cfg.Timeout, errors.Join(errs...))
	}
	res.Seconds = last.Sub(first).Seconds()
	if res.Seconds > 0 {
		res.RecordsPerSec = float64(cfg.Records) / res.Seconds
	}
	for _, a := range acked {
		if a > 0 {
			res.Active++
		}
	}
	res.Redelivered = deliveries - cfg.Records
	return res, nil
}

// ackTracker knows which records were acknowledged, when the first was
// received and when the last was acknowledged.
type ackTracker struct {
	mu          sync.Mutex
	acked       map[int32][]bool
	left        int
	deliveries  int
	first, last time.Time
	done        chan struct{}
}

func newAckTracker(ends map[int32]int64) *ackTracker {
	t := &ackTracker{acked: map[int32][]bool{}, done: make(chan struct{})}
	for p, end := range ends {
		t.acked[p] = make([]bool, end)
		t.left += int(end)
	}
	if t.left == 0 {
		close(t.done)
	}
	return t
}

// received notes that records arrived (the first starts the clock).
func (t *ackTracker) received(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.first.IsZero() {
		t.first = time.Now()
	}
	t.deliveries += n
}

// ack notes records acknowledged and confirmed; the last stops the clock.
func (t *ackTracker) ack(rs []*kgo.Record) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range rs {
		ps := t.acked[r.Partition]
		if r.Offset < 0 || r.Offset >= int64(len(ps)) || ps[r.Offset] {
			continue
		}
		ps[r.Offset] = true
		t.left--
		if t.left == 0 {
			t.last = time.Now()
			close(t.done)
		}
	}
}

// result returns the clock's start and stop, the records acknowledged and
// the deliveries counted.
func (t *ackTracker) result() (first, last time.Time, unique, deliveries int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	total := 0
	for _, ps := range t.acked {
		total += len(ps)
	}
	return t.first, t.last, total - t.left, t.deliveries
}
