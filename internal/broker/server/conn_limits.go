package server

// conn_limits.go keeps one connection's cost bounded: read deadlines (idle
// connections, frames that stall half-way, slow authentication), reading
// large frames incrementally within the server-wide queued-request budget,
// pausing while too many request bytes are in flight, and muting a client
// that a quota throttled.

import (
	"io"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// readHeader reads a frame's 4-byte size. Waiting for its first byte is
// bounded by the idle timeout (and, before SASL authentication, by the
// authentication deadline); the rest must follow within the request read
// timeout.
func (c *conn) readHeader(buf []byte) error {
	var deadline time.Time
	if c.srv.cfg.IdleTimeout > 0 {
		deadline = time.Now().Add(c.srv.cfg.IdleTimeout)
	}
	if c.sasl.enabled && !c.sasl.authenticated && (deadline.IsZero() || c.sasl.authDeadline.Before(deadline)) {
		deadline = c.sasl.authDeadline
	}
	_ = c.nc.SetReadDeadline(deadline) // zero: none
	if c.isStopped() {                 // stopReading may have raced with the deadline above
		return io.EOF
	}
	n, err := io.ReadAtLeast(c.rw, buf, 1)
	if err != nil || n == len(buf) {
		return err
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.RequestReadTimeout))
	_, err = io.ReadFull(c.rw, buf[n:])
	return err
}

// readChunk is the size above which a frame is not allocated whole from
// the size the client declared, but read in chunks of this size as its
// bytes arrive.
const readChunk = 128 << 10

// chunkPool recycles the chunks large frames are read into, so that reading
// a large frame allocates only its final contiguous body.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, readChunk); return &b }}

// readBody reads a size-byte frame body within the request read timeout,
// taking its bytes from the server's queued-request budget before reading
// them. It returns the body and what it holds of the budget (nothing on
// error).
//
// A frame up to readChunk is taken from the budget and allocated whole. A
// larger frame is read into pooled chunks as its bytes arrive, each taken
// from the budget before it is read (Grow, so that frames half read never
// wait on one another forever), and assembled into one body at the end,
// which is taken from the budget before the chunks are given back: a
// client that declares a large frame and stalls holds at most what it sent
// plus one chunk, of memory and of the budget, at the cost of one copy of
// the frame. Time spent waiting for the budget does not count against the
// client's read timeout.
func (c *conn) readBody(size int) (body []byte, held int64, err error) {
	q := c.srv.queued
	var lane bool
	defer func() {
		q.EndOverflow(&lane) // the frame is read, or abandoned: it grows no more
		if err != nil {
			q.Release(held)
			held = 0
		}
	}()
	if size <= readChunk {
		if held, err = q.Acquire(c.readCtx, int64(size), int64(size)); err != nil {
			return nil, 0, err
		}
		_ = c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.RequestReadTimeout))
		body = make([]byte, size)
		_, err = io.ReadFull(c.rw, body)
		return body, held, err
	}
	chunks := make([]*[]byte, 0, (size+readChunk-1)/readChunk)
	defer func() {
		for _, ch := range chunks {
			chunkPool.Put(ch)
		}
	}()
	deadline := time.Now().Add(c.srv.cfg.RequestReadTimeout)
	for left := size; left > 0; left -= readChunk {
		n := int64(min(left, readChunk))
		start := time.Now()
		var g int64
		if len(chunks) == 0 {
			g, err = q.Acquire(c.readCtx, n, n)
		} else {
			g, err = q.Grow(c.readCtx, n, &lane)
		}
		if err != nil {
			return nil, held, err
		}
		held += g
		deadline = deadline.Add(time.Since(start)) // the wait was the server's
		_ = c.nc.SetReadDeadline(deadline)
		ch := chunkPool.Get().(*[]byte)
		chunks = append(chunks, ch)
		if _, err := io.ReadFull(c.rw, (*ch)[:n]); err != nil {
			return nil, held, err
		}
	}
	// The contiguous body is taken from the budget too before it is
	// allocated; the chunks' share is given back once they are copied.
	var g int64
	if g, err = q.Grow(c.readCtx, int64(size), &lane); err != nil {
		return nil, held, err
	}
	body = make([]byte, size)
	for i, ch := range chunks {
		copy(body[i*readChunk:], (*ch)[:min(size-i*readChunk, readChunk)])
	}
	q.Release(held)
	return body, g, nil
}

// waitInflight waits until a frame of size bytes fits within the
// connection's in-flight byte budget (or nothing else is in flight). It
// returns false when the connection is stopping.
func (c *conn) waitInflight(size int64, writerDone <-chan struct{}) bool {
	max := c.srv.cfg.MaxInflightBytes
	for {
		cur := c.inflight.Load()
		if cur == 0 || cur+size <= max {
			return true
		}
		select {
		case <-c.drained:
		case <-writerDone:
			return false
		case <-c.stopped:
			return false
		}
	}
}

// answered releases a request's bytes from the in-flight budget.
func (c *conn) answered(size int) {
	c.inflight.Add(-int64(size))
	select {
	case c.drained <- struct{}{}:
	default:
	}
}

// muteFor mutes the connection's reading until now+d (or later, if
// already muted longer).
func (c *conn) muteFor(now time.Time, d time.Duration) {
	until := now.Add(d).UnixNano()
	for {
		cur := c.muteUntil.Load()
		if cur >= until || c.muteUntil.CompareAndSwap(cur, until) {
			return
		}
	}
}

// waitMuted waits out a quota throttle before the next request is read or
// handled (KIP-219: the response goes at once, then the channel is muted).
// It returns false when the connection is stopping.
func (c *conn) waitMuted(writerDone <-chan struct{}) bool {
	if c.isStopped() {
		return false
	}
	until := c.muteUntil.Load()
	if until == 0 {
		return true
	}
	d := time.Until(time.Unix(0, until))
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-writerDone:
		return false
	case <-c.stopped:
		return false
	}
}

// throttle records a fetch response's record bytes against the fetch quota
// and reports the throttle (produce's was computed when the request was
// read) in the response, muting the connection for it.
func (c *conn) throttle(p *pending, resp kmsg.Response) {
	q := c.srv.cfg.Quotas
	if q == nil {
		return
	}
	if fr, ok := resp.(*kmsg.FetchResponse); ok {
		n := 0
		for i := range fr.Topics {
			for j := range fr.Topics[i].Partitions {
				n += len(fr.Topics[i].Partitions[j].RecordBatches)
			}
		}
		if n > 0 {
			now := time.Now()
			if d := q.Fetch(q.KeyFor(p.clientID, c.info.Principal()), n, now); d > p.throttle {
				p.throttle = d
				c.muteFor(now, d)
			}
		}
	}
	if p.throttle <= 0 {
		return
	}
	ms := int32(min(p.throttle.Milliseconds(), 1<<31-1))
	if ms == 0 {
		ms = 1
	}
	if tr, ok := resp.(kmsg.ThrottleResponse); ok {
		if cur, _ := tr.Throttle(); cur >= ms {
			return
		}
	}
	if st, ok := resp.(kmsg.SetThrottleResponse); ok {
		st.SetThrottle(ms)
	}
}
