package bench

// bench.go runs the benchmark end to end: topic, produce with a concurrent
// consumer for latency, a second consume pass for throughput, cleanup.

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// consumerWarmup is how long the end-to-end consumer polls the empty topic
// before production starts; see consumePass.warmup.
const consumerWarmup = 250 * time.Millisecond

// Run runs one benchmark described by cfg against the cluster its
// ClientOpts reach, and returns what it measured. An error means the run
// could not complete; a run that completes but lost records returns a
// Result whose Check fails.
//
// Run creates cfg.Topic (failing if it exists) and deletes it on return
// unless cfg.Keep, even when ctx is canceled.
func Run(ctx context.Context, cfg Config) (res Result, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return res, err
	}
	res = Result{
		Topic:             cfg.Topic,
		Records:           cfg.Records,
		Size:              cfg.Size,
		Partitions:        cfg.Partitions,
		ReplicationFactor: cfg.ReplicationFactor,
		Producers:         cfg.Producers,
		Compression:       cfg.Compression,
		Keys:              cfg.Keys,
		Compacted:         cfg.compacted(),
		Transactional:     cfg.Transactional,
		TxnRecords:        cfg.TxnRecords,
		TxnInterval:       cfg.TxnInterval,
	}

	admCl, err := kgo.NewClient(cfg.ClientOpts...)
	if err != nil {
		return res, fmt.Errorf("bench: %w", err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	if _, err := adm.CreateTopic(ctx, cfg.Partitions, cfg.ReplicationFactor, cfg.TopicConfigs, cfg.Topic); err != nil {
		return res, fmt.Errorf("bench: create topic %q: %w", cfg.Topic, err)
	}
	if !cfg.Keep {
		defer func() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
			defer cancel()
			if _, derr := adm.DeleteTopic(dctx, cfg.Topic); derr != nil {
				err = errors.Join(err, fmt.Errorf("bench: delete topic %q: %w", cfg.Topic, derr))
			}
		}()
	}

	clk := newClock()
	e2e, produced, ends, err := produceWithLatency(ctx, cfg, clk, adm)
	if err != nil {
		return res, err
	}
	res.Produce = produced.Throughput
	res.Commit = Summarize(produced.commits)
	res.E2ELoss = e2e.Loss
	res.E2E = Summarize(e2e.latencies)

	second := &consumePass{cfg: cfg, clk: clk, produced: closedChan()}
	if ends != nil {
		second.logEnd.Store(&ends)
	}
	stop := trackProgress(cfg.Progress, "consume", cfg.Records, &second.received)
	st, err := second.run(ctx)
	stop()
	if err != nil {
		return res, err
	}
	res.Consume = st.Throughput
	res.ConsumeLoss = st.Loss
	return res, nil
}

// e2eOutcome is what the consumer running alongside the producers saw.
type e2eOutcome struct {
	Loss
	latencies []int64
}

// produced is what the producers did: their throughput and, in a
// transactional run, the latency of each commit (nanoseconds).
type produced struct {
	Throughput
	commits []int64
}

// produceWithLatency produces the run's records while a consumer reads them
// as they land, timing each from its Produce call. On a compacted topic it
// returns the log end offsets after production (listed with adm), which
// tell the consumers where to stop: superseded records may never arrive.
func produceWithLatency(ctx context.Context, cfg Config, clk clock, adm *kadm.Client) (e2eOutcome, produced, []int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	producedCh := make(chan struct{})
	pass := &consumePass{
		cfg:       cfg,
		clk:       clk,
		latencies: make([]int64, 0, cfg.Records),
		warmup:    consumerWarmup,
		ready:     make(chan struct{}),
		produced:  producedCh,
	}
	var (
		st      consumeStats
		stErr   error
		stopped = make(chan struct{})
	)
	go func() {
		defer close(stopped)
		st, stErr = pass.run(ctx)
	}()
	select {
	case <-pass.ready:
	case <-stopped:
		return e2eOutcome{}, produced{}, nil, stErr
	}

	var acked atomic.Int64
	stop := trackProgress(cfg.Progress, "produce", cfg.Records, &acked)
	tp, commits, err := produce(ctx, cfg, clk, &acked)
	stop()
	var ends []int64
	if err == nil && cfg.compacted() {
		if ends, err = endOffsets(ctx, adm, cfg); err == nil {
			pass.logEnd.Store(&ends)
		}
	}
	close(producedCh)
	if err != nil {
		cancel()
		<-stopped
		return e2eOutcome{}, produced{}, nil, err
	}

	select {
	case <-stopped:
	default:
		// The consumer is behind: show it catching up.
		stop := trackProgress(cfg.Progress, "e2e read", cfg.Records, &pass.received)
		<-stopped
		stop()
	}
	if stErr != nil {
		return e2eOutcome{}, produced{}, nil, stErr
	}
	return e2eOutcome{Loss: st.Loss, latencies: pass.latencies}, produced{Throughput: tp, commits: commits}, ends, nil
}

// endOffsets lists the end offset of each of the topic's partitions,
// indexed by partition.
func endOffsets(ctx context.Context, adm *kadm.Client, cfg Config) ([]int64, error) {
	listed, err := adm.ListEndOffsets(ctx, cfg.Topic)
	if err != nil {
		return nil, fmt.Errorf("bench: list end offsets of %q: %w", cfg.Topic, err)
	}
	ends := make([]int64, cfg.Partitions)
	var errs []error
	if n := len(listed[cfg.Topic]); n != int(cfg.Partitions) {
		errs = append(errs, fmt.Errorf("%d partitions listed, want %d", n, cfg.Partitions))
	}
	listed.Each(func(o kadm.ListedOffset) {
		switch {
		case o.Err != nil:
			errs = append(errs, fmt.Errorf("partition %d: %w", o.Partition, o.Err))
		case o.Partition < 0 || o.Partition >= cfg.Partitions:
			errs = append(errs, fmt.Errorf("partition %d of %d", o.Partition, cfg.Partitions))
		default:
			ends[o.Partition] = o.Offset
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("bench: list end offsets of %q: %w", cfg.Topic, err)
	}
	return ends, nil
}

// closedChan returns a closed channel.
func closedChan() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}
