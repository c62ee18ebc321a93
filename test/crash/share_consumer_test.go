package crash

// share_consumer_test.go is one incarnation of a share-kill consumer: a
// franz-go share-group member that acknowledges each record as the test's
// policy says, learns which acknowledgements the broker confirmed, and can
// be killed abruptly: its connections are cut and no new one is dialled,
// as when a process dies, before its client is closed.

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// shareMaxPoll bounds the records one poll returns (and so the records a
// kill can leave in doubt).
const shareMaxPoll = 200

// cutDialer dials the broker until it is cut, then refuses; cutting closes
// every connection it made.
type cutDialer struct {
	mu    sync.Mutex
	cut   bool
	conns []net.Conn
}

func (d *cutDialer) dial(ctx context.Context, network, host string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cut {
		return nil, errors.New("consumer killed")
	}
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, host)
	if err == nil {
		d.conns = append(d.conns, c)
	}
	return c, err
}

func (d *cutDialer) cutAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cut = true
	for _, c := range d.conns {
		c.Close()
	}
}

// ackWindow collects, per partition, the answers to acknowledgements
// between begin and end.
type ackWindow struct {
	mu     sync.Mutex
	ok     map[int32]bool
	failed map[int32]bool
}

func (w *ackWindow) begin() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ok, w.failed = map[int32]bool{}, map[int32]bool{}
}

func (w *ackWindow) note(_ *kgo.Client, rs kgo.ShareAckResults) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range rs {
		if r.Err != nil {
			w.failed[r.Partition] = true
		} else {
			w.ok[r.Partition] = true
		}
	}
}

// confirmed reports whether the window's acknowledgements of p were all
// answered without error.
func (w *ackWindow) confirmed(p int32) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ok[p] && !w.failed[p]
}

// sharePolicy is how record k at delivery count dc is acknowledged.
type sharePolicy func(k int, dc int32) kgo.AckStatus

// shareConsumer is one incarnation.
type shareConsumer struct {
	inc    int
	dialer *cutDialer
	cancel context.CancelFunc
	halt   atomic.Bool // stop after the window in hand
	done   chan struct{}
	err    error // why it stopped by itself, if it did
}

// startShareConsumer starts incarnation inc of a consumer of topic in
// group, recording into l until ctx ends or it is killed. Each record
// costs it work of "processing" before it is acknowledged, so that the
// records last through the kills.
func startShareConsumer(ctx context.Context, addr, group, topic string, inc int, l *shareLedger, policy sharePolicy, work time.Duration) (*shareConsumer, error) {
	c := &shareConsumer{inc: inc, dialer: &cutDialer{}, done: make(chan struct{})}
	w := &ackWindow{}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.ClientID("share-kill-"+strconv.Itoa(inc)),
		kgo.ShareGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ShareMaxRecords(shareMaxPoll),
		kgo.ShareAckCallback(w.note),
		kgo.Dialer(c.dialer.dial),
		kgo.WithHooks(l),
		kgo.FetchMaxWait(200*time.Millisecond),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }),
		kgo.MetadataMinAge(100*time.Millisecond),
	)
	if err != nil {
		return nil, err
	}
	var cctx context.Context
	cctx, c.cancel = context.WithCancel(ctx)
	go func() {
		defer close(c.done)
		defer cl.Close()
		c.err = c.loop(cctx, cl, w, l, policy, work)
	}()
	return c, nil
}

// loop polls, acknowledges and confirms until ctx ends.
func (c *shareConsumer) loop(ctx context.Context, cl *kgo.Client, w *ackWindow, l *shareLedger, policy sharePolicy, work time.Duration) error {
	for ctx.Err() == nil && !c.halt.Load() {
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		fs := cl.PollRecords(pctx, shareMaxPoll)
		cancel()
		if fs.IsClientClosed() {
			return nil
		}
		recs := fs.Records()
		if len(recs) == 0 {
			continue
		}
		select { // the poll's processing; a kill interrupts it
		case <-ctx.Done():
		case <-time.After(time.Duration(len(recs)) * work):
		}
		w.begin()
		refs := make([]ackRef, 0, len(recs))
		for _, r := range recs {
			k, err := strconv.Atoi(string(r.Value))
			if err != nil || k < 0 || k >= len(l.records) {
				return errors.New("record value " + strconv.Quote(string(r.Value)) + " is no record number")
			}
			act := policy(k, r.DeliveryCount())
			refs = append(refs, l.deliver(k, r.DeliveryCount(), c.inc, act, r.Partition))
			r.Ack(act)
		}
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := cl.FlushAcks(fctx)
		cancel()
		for _, r := range refs {
			l.settle(r, err == nil && w.confirmed(r.partition))
		}
	}
	return nil
}

// kill cuts the consumer's connections (the broker sees them close, as
// when a process dies) and waits for its goroutine, which closes the
// client: with no connection left, nothing more reaches the broker.
func (c *shareConsumer) kill() {
	c.dialer.cutAll()
	c.cancel()
	<-c.done
}

// stop ends the consumer in order: its last window is confirmed, then the
// client closes (leaving the group).
func (c *shareConsumer) stop() {
	c.halt.Store(true)
	<-c.done
	c.cancel()
}
