package bench

// rebalance.go measures how long a group takes to give a joining member
// partitions: a group of Members consumers (default 10) owns every
// partition of a topic (default 20), then one more consumer joins; the
// times are from its client's creation until it owns a partition, and
// until the group is settled again (every partition owned by exactly one
// member, every member owning one). It compares Kafka 4's consumer
// protocol (KIP-848, the broker assigns and members reconcile at their
// heartbeats) with the classic protocol (JoinGroup/SyncGroup rebalances;
// franz-go's default cooperative-sticky balancer, which moves partitions in
// two rebalances), each with its defaults: a broker-chosen heartbeat
// interval for KIP-848 (Kafka's is 5 s), franz-go's 3 s for classic.

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Protocols RebalanceConfig.Protocols names (ProtocolClassic too).
const ProtocolConsumer = ctl.ProtocolConsumer // KIP-848

// Defaults of RebalanceConfig.
const (
	DefaultRebalanceMembers    = 10
	DefaultRebalancePartitions = 20
	DefaultRebalanceRounds     = 5
	DefaultRebalanceTimeout    = 2 * time.Minute
)

// RebalanceConfig describes a rebalance run. Zero fields take the defaults.
type RebalanceConfig struct {
	ClientOpts []kgo.Opt     // ClientOpts reach the cluster.
	Members    int           // Members are the group's size before the join (default 10).
	Partitions int32         // Partitions of the topic (default 20, at least Members+1).
	Rounds     int           // Rounds per protocol, each with a fresh group (default 5).
	Protocols  []string      // Protocols, in order (default consumer, classic).
	Timeout    time.Duration // Timeout bounds each step of a round (default 2 minutes).
	Log        io.Writer     // Log, if set, is told what runs.
}

// RebalanceResult is what one protocol's rounds measured, in milliseconds.
type RebalanceResult struct {
	Protocol   string    `json:"protocol"`
	Members    int       `json:"members"`
	Partitions int32     `json:"partitions"`
	OwnsMs     []float64 `json:"owns_ms"`    // per round: until the new member owned a partition
	SettledMs  []float64 `json:"settled_ms"` // per round: until the group was settled again
	OwnsP50Ms  float64   `json:"owns_p50_ms"`
	OwnsMaxMs  float64   `json:"owns_max_ms"`
	SettledP50 float64   `json:"settled_p50_ms"`
	SettledMax float64   `json:"settled_max_ms"`
}

func (cfg RebalanceConfig) withDefaults() (RebalanceConfig, error) {
	if cfg.Members == 0 {
		cfg.Members = DefaultRebalanceMembers
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = DefaultRebalancePartitions
	}
	if cfg.Rounds == 0 {
		cfg.Rounds = DefaultRebalanceRounds
	}
	if len(cfg.Protocols) == 0 {
		cfg.Protocols = []string{ProtocolConsumer, ProtocolClassic}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultRebalanceTimeout
	}
	switch {
	case cfg.Members < 1 || cfg.Rounds < 1 || cfg.Timeout < 0:
		return cfg, fmt.Errorf("bench rebalance: members, rounds and timeout must be positive")
	case int(cfg.Partitions) < cfg.Members+1:
		return cfg, fmt.Errorf("bench rebalance: %d partitions for %d members and one joining: every member must be able to own one", cfg.Partitions, cfg.Members)
	}
	for _, p := range cfg.Protocols {
		if p != ProtocolConsumer && p != ProtocolClassic {
			return cfg, fmt.Errorf("bench rebalance: protocol %q: want consumer or classic", p)
		}
	}
	return cfg, nil
}

// RunRebalance creates a topic, measures each protocol's rounds, and
// deletes the topic.
func RunRebalance(ctx context.Context, cfg RebalanceConfig) (results []RebalanceResult, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(cfg.ClientOpts...)
	if err != nil {
		return nil, fmt.Errorf("bench rebalance: %w", err)
	}
	defer cl.Close()
	// franz-go would measure the classic protocol under KIP-848's name on a
	// cluster without it.
	if slices.Contains(cfg.Protocols, ProtocolConsumer) {
		if err := ctl.RequireGroupProtocol(ctx, cl, ctl.ProtocolConsumer); err != nil {
			return nil, fmt.Errorf("bench rebalance: %w", err)
		}
	}
	adm := kadm.NewClient(cl)
	stamp := time.Now().Format("20060102-150405.000")
	topic := "courier-bench-rebalance-" + stamp
	if _, err := adm.CreateTopic(ctx, cfg.Partitions, 1, nil, topic); err != nil {
		return nil, fmt.Errorf("bench rebalance: create topic %s: %w", topic, err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		if _, derr := adm.DeleteTopic(dctx, topic); derr != nil && err == nil {
			err = fmt.Errorf("bench rebalance: delete topic %s: %w", topic, derr)
		}
	}()
	for _, proto := range cfg.Protocols {
		res := RebalanceResult{Protocol: proto, Members: cfg.Members, Partitions: cfg.Partitions}
		for round := range cfg.Rounds {
			group := fmt.Sprintf("courier-bench-rebalance-%s-%d-%s", proto, round, stamp)
			if cfg.Log != nil {
				fmt.Fprintf(cfg.Log, "bench rebalance: %s round %d/%d: %d members, then one more, on %d partitions\n", proto, round+1, cfg.Rounds, cfg.Members, cfg.Partitions)
			}
			owns, settled, err := rebalanceRound(ctx, cfg, proto, group, topic)
			if err != nil {
				return results, err
			}
			res.OwnsMs = append(res.OwnsMs, ms(owns))
			res.SettledMs = append(res.SettledMs, ms(settled))
		}
		res.OwnsP50Ms, res.OwnsMaxMs = medianMax(res.OwnsMs)
		res.SettledP50, res.SettledMax = medianMax(res.SettledMs)
		results = append(results, res)
	}
	return results, nil
}

// ownership tracks which member owns which partition, through each
// member's assignment callbacks.
type ownership struct {
	mu     sync.Mutex
	owners map[int32][]int // partition -> members owning it
}

func (o *ownership) assign(member int, ps []int32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, p := range ps {
		o.owners[p] = append(o.owners[p], member)
	}
}

func (o *ownership) revoke(member int, ps []int32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, p := range ps {
		o.owners[p] = slices.DeleteFunc(o.owners[p], func(m int) bool { return m == member })
	}
}

// settled reports whether each of n partitions has one owner and each of
// members members owns one; and whether member owns any.
func (o *ownership) settled(n int32, members int, member int) (all, owns bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	count := make(map[int]int)
	all = true
	for p := range n {
		if len(o.owners[p]) != 1 {
			all = false
		}
		for _, m := range o.owners[p] {
			count[m]++
		}
	}
	return all && len(count) == members, count[member] > 0
}

// rebalanceRound forms a group of cfg.Members, then adds one member and
// times how long until it owns a partition and until the group settles.
func rebalanceRound(ctx context.Context, cfg RebalanceConfig, proto, group, topic string) (owns, settled time.Duration, err error) {
	own := &ownership{owners: map[int32][]int{}}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	start := func(member int) error {
		opts := []kgo.Opt{
			kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { own.assign(member, m[topic]) }),
			kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { own.revoke(member, m[topic]) }),
			kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { own.revoke(member, m[topic]) }),
		}
		if proto == ProtocolConsumer {
			opts = append(opts, kgo.ServerSideBalancer())
		}
		cl, err := kgo.NewClient(append(cfg.ClientOpts[:len(cfg.ClientOpts):len(cfg.ClientOpts)], opts...)...)
		if err != nil {
			return fmt.Errorf("bench rebalance: %w", err)
		}
		wg.Go(func() {
			defer cl.Close()
			for rctx.Err() == nil {
				pctx, pcancel := context.WithTimeout(rctx, 200*time.Millisecond)
				cl.PollFetches(pctx)
				pcancel()
			}
		})
		return nil
	}
	for m := range cfg.Members {
		if err := start(m); err != nil {
			return 0, 0, err
		}
	}
	if err := waitFor(ctx, cfg.Timeout, func() bool { all, _ := own.settled(cfg.Partitions, cfg.Members, -1); return all }); err != nil {
		return 0, 0, fmt.Errorf("bench rebalance: %s group of %d members did not settle: %w", proto, cfg.Members, err)
	}
	joined := time.Now()
	if err := start(cfg.Members); err != nil {
		return 0, 0, err
	}
	var ownsAt time.Time
	err = waitFor(ctx, cfg.Timeout, func() bool {
		all, mine := own.settled(cfg.Partitions, cfg.Members+1, cfg.Members)
		if mine && ownsAt.IsZero() {
			ownsAt = time.Now()
		}
		return all
	})
	if err != nil {
		return 0, 0, fmt.Errorf("bench rebalance: %s group did not settle after member %d joined: %w", proto, cfg.Members+1, err)
	}
	return ownsAt.Sub(joined), time.Since(joined), nil
}

// waitFor polls cond every 5 ms until it holds, ctx ends or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// medianMax returns the median and the maximum of xs.
func medianMax(xs []float64) (float64, float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return m, s[len(s)-1]
}
