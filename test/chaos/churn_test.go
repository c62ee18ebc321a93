package chaos

// churn_test.go creates and deletes short-lived topics, writing a few
// records to each, and keeps track of what the broker acknowledged: a
// topic whose creation was acknowledged must exist until its deletion is,
// and one whose deletion was acknowledged must never come back.
//
// An operation that got no clean answer (an error, or a broker crash while
// it was in flight, after which franz-go may have retried it on the
// restarted broker) leaves its topic uncertain: either state is allowed in
// the end, and a partition directory of it found in quarantine is
// explained (a crash between writing the directory and the metadata).

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	// maxChurnTopics bounds the topics one run creates.
	maxChurnTopics = 400
	// churnLive is how many churn topics live at once; the oldest is
	// deleted when another is created.
	churnLive = 3
	// churnAttempts bounds the tries of one create or delete.
	churnAttempts = 3
)

// topicState is what the test knows of a churn topic.
type topicState int

const (
	topicLive      topicState = iota // creation acknowledged, no deletion tried
	topicDeleted                     // deletion acknowledged
	topicUncertain                   // an operation without a clean answer
)

// churnTopic is one churn topic's record.
type churnTopic struct {
	state topicState
	// uncertain is set when any operation on the topic lacked a clean
	// answer, even if a later one settled its state.
	uncertain bool
}

// churn runs the topic churn.
type churn struct {
	t      *testing.T
	adm    *kadm.Client
	cl     *kgo.Client
	led    *ledger
	faults *faults
	rng    *rand.Rand

	mu     sync.Mutex
	topics map[string]*churnTopic

	created, deleted atomic.Int64
	cancel           context.CancelFunc
	done             chan struct{}
}

// startChurn starts the churn loop; stop ends it.
func startChurn(t *testing.T, addr string, led *ledger, f *faults, seed uint64) (*churn, error) {
	cl, err := kgo.NewClient(producerOpts(addr)...)
	if err != nil {
		return nil, fmt.Errorf("churn client: %w", err)
	}
	c := &churn{t: t, adm: kadm.NewClient(cl), cl: cl, led: led, faults: f,
		rng: rand.New(rand.NewPCG(seed, seed^0xc2b2ae3d27d4eb4f)), topics: make(map[string]*churnTopic), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go c.run(ctx)
	return c, nil
}

// run creates a topic, writes to it, deletes the oldest beyond churnLive,
// and pauses, until ctx ends or maxChurnTopics were made.
func (c *churn) run(ctx context.Context) {
	defer close(c.done)
	var live []string
	for i := 0; i < maxChurnTopics && ctx.Err() == nil; i++ {
		name := fmt.Sprintf("churn-%04d", i)
		if c.create(ctx, name) {
			c.produce(ctx, name, 1+c.rng.IntN(20))
			live = append(live, name)
		}
		if len(live) > churnLive {
			c.delete(ctx, live[0])
			live = live[1:]
		}
		pause(ctx, time.Duration(200+c.rng.IntN(800))*time.Millisecond)
	}
}

// settle records the outcome of an operation on name.
func (c *churn) settle(name string, state topicState, uncertain bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct := c.topics[name]
	if ct == nil {
		ct = &churnTopic{}
		c.topics[name] = ct
	}
	ct.state = state
	ct.uncertain = ct.uncertain || uncertain || state == topicUncertain
}

// create creates name with one partition, retrying an unclear outcome, and
// reports whether the topic exists now.
func (c *churn) create(ctx context.Context, name string) bool {
	for range churnAttempts {
		gen := c.faults.generation()
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := c.adm.CreateTopic(actx, 1, 1, nil, name)
		cancel()
		crossed := c.faults.generation() != gen
		switch {
		case err == nil:
			c.settle(name, topicLive, crossed)
			c.created.Add(1)
			return true
		case errors.Is(err, kerr.TopicAlreadyExists):
			// Names are unique, so an earlier try (ours, or franz-go's
			// retry of it) created it.
			c.settle(name, topicLive, true)
			c.created.Add(1)
			return true
		}
		c.settle(name, topicUncertain, true)
		if !pause(ctx, 500*time.Millisecond) {
			return false
		}
	}
	return false
}

// delete deletes name, retrying an unclear outcome.
func (c *churn) delete(ctx context.Context, name string) {
	c.mu.Lock()
	wasUncertain := c.topics[name].uncertain
	c.mu.Unlock()
	for range churnAttempts {
		gen := c.faults.generation()
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := c.adm.DeleteTopic(actx, name)
		cancel()
		crossed := c.faults.generation() != gen
		switch {
		case err == nil:
			c.settle(name, topicDeleted, crossed)
			c.cl.PurgeTopicsFromClient(name)
			c.deleted.Add(1)
			return
		case errors.Is(err, kerr.UnknownTopicOrPartition):
			if !crossed && !wasUncertain {
				c.t.Errorf("deleting %s: the broker says it does not exist, but its creation was acknowledged and nothing deleted it", name)
			}
			c.settle(name, topicDeleted, true)
			c.cl.PurgeTopicsFromClient(name)
			c.deleted.Add(1)
			return
		}
		wasUncertain = true
		c.settle(name, topicUncertain, true)
		if !pause(ctx, 500*time.Millisecond) {
			return
		}
	}
}

// pause waits d, or less if ctx ends; it reports whether ctx is still on.
func pause(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// produce writes n records to name, recording the acknowledged ones.
func (c *churn) produce(ctx context.Context, name string, n int) {
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rs := make([]*kgo.Record, n)
	for i := range rs {
		rs[i] = &kgo.Record{Topic: name, Value: recordValue(name, i)}
	}
	for _, res := range c.cl.ProduceSync(pctx, rs...) {
		_, i, _ := parseValue(res.Record.Value)
		c.led.produced(recordKey{name, i}, position{res.Record.Partition, res.Record.Offset}, res.Err)
	}
}

// stop ends the loop, bounded by timeout, and closes the client.
func (c *churn) stop(timeout time.Duration) error {
	c.cancel()
	select {
	case <-c.done:
	case <-time.After(timeout):
		return fmt.Errorf("topic churn did not stop within %v", timeout)
	}
	c.cl.Close()
	return nil
}

// snapshot returns the churn topics' records, sorted by name.
func (c *churn) snapshot() ([]string, map[string]churnTopic) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]churnTopic, len(c.topics))
	names := make([]string, 0, len(c.topics))
	for name, ct := range c.topics {
		out[name] = *ct
		names = append(names, name)
	}
	sort.Strings(names)
	return names, out
}
