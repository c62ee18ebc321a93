package server

// conn.go runs one client connection: a reader goroutine that decodes frames
// and does each request's ordered work, and a writer goroutine
// (conn_write.go) that completes the replies in order and writes the
// responses. Limits on reading live in conn_limits.go, TLS in conn_tls.go,
// SASL in conn_sasl.go. A panic while serving a request is recovered on
// either goroutine and closes only that connection.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// conn is one client connection.
type conn struct {
	srv  *Server
	nc   net.Conn      // the TCP connection: deadlines and Close
	rw   io.ReadWriter // nc, or the TLS connection over it
	l    ListenerConfig
	info ConnInfo

	ctx    context.Context
	cancel context.CancelFunc
	// readCtx ends with ctx or when stopReading is called: it bounds the
	// reader's waits for the queued-request budget.
	readCtx    context.Context
	readCancel context.CancelFunc

	stopOnce sync.Once
	stopped  chan struct{} // closed by stopReading

	// inflight is the request bytes read but not yet answered; the writer
	// signals drained after lowering it.
	inflight atomic.Int64
	drained  chan struct{}
	// muteUntil (unix nanos) is when a throttled client may send again.
	muteUntil atomic.Int64

	sasl saslState // reader goroutine only
}

// pending is a request handled but not yet answered.
type pending struct {
	key      int16
	version  int16
	corr     int32
	received time.Time
	size     int
	clientID string
	reply    Reply
	// req is the request the handler saw (nil for requests the server
	// answered itself); its OnDone functions run after the response.
	req *Request
	// held is what the request holds of the queued-request budget.
	held int64
	// throttle is the quota throttle to report in the response.
	throttle time.Duration
	// closeAfter closes the connection once this response is written.
	closeAfter bool
}

func newConn(s *Server, nc net.Conn, id uint64, l ListenerConfig) *conn {
	ctx, cancel := context.WithCancel(s.baseCtx)
	readCtx, readCancel := context.WithCancel(ctx)
	c := &conn{
		srv:        s,
		nc:         nc,
		rw:         nc,
		l:          l,
		info:       ConnInfo{ID: id, Remote: nc.RemoteAddr(), Local: nc.LocalAddr(), Listener: l.Name, remoteHost: hostOf(nc.RemoteAddr())},
		ctx:        ctx,
		cancel:     cancel,
		readCtx:    readCtx,
		readCancel: readCancel,
		stopped:    make(chan struct{}),
		drained:    make(chan struct{}, 1),
	}
	if l.Principal.Name != "" {
		c.info.SetPrincipal(l.Principal)
	}
	if l.SASL {
		c.sasl.enabled = true
		c.sasl.authDeadline = time.Now().Add(s.cfg.AuthTimeout)
	}
	return c
}

// stopReading makes the reader stop after the frame it is reading (an idle
// reader is woken by an expired deadline, a waiting one by readCtx);
// replies already queued are still written.
func (c *conn) stopReading() {
	c.stopOnce.Do(func() {
		close(c.stopped)
		c.readCancel()
		_ = c.nc.SetReadDeadline(time.Now())
	})
}

// isStopped reports whether stopReading was called.
func (c *conn) isStopped() bool {
	select {
	case <-c.stopped:
		return true
	default:
		return false
	}
}

// run serves the connection until it closes.
func (c *conn) run() {
	defer c.cancel()
	defer c.nc.Close()
	if c.l.TLS != nil {
		if err := c.handshakeTLS(); err != nil {
			c.srv.cfg.Logger.Debug("TLS handshake failed", "remote", c.info.Remote.String(), "listener", c.l.Name, "err", err)
			return
		}
	}
	queue := make(chan pending, c.srv.cfg.MaxInFlight)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.write(queue)
	}()
	err := c.read(queue, writerDone)
	close(queue)
	<-writerDone
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !c.isStopped() {
		c.srv.cfg.Logger.Info("closing connection", "remote", c.info.Remote.String(), "listener", c.l.Name, "err", err)
	}
}

// read decodes frames and queues their replies until the connection ends,
// the frame is bad, or stopReading is called. A panic while reading ends
// the connection like a bad frame.
func (c *conn) read(queue chan<- pending, writerDone <-chan struct{}) (err error) {
	var held int64 // queued-request budget of the frame being read, until it is queued
	defer func() {
		c.srv.queued.Release(held)
		if r := recover(); r != nil {
			err = c.recovered(-1, "reading", r)
		}
	}()
	var sizeBuf [4]byte
	for {
		if !c.waitMuted(writerDone) {
			return nil
		}
		if err := c.readHeader(sizeBuf[:]); err != nil {
			if c.isStopped() {
				return nil
			}
			return err
		}
		size := int32(binary.BigEndian.Uint32(sizeBuf[:]))
		if err := c.checkSize(size); err != nil {
			return err
		}
		if !c.waitInflight(int64(size)+4, writerDone) {
			return nil
		}
		var body []byte
		if body, held, err = c.readBody(int(size)); err != nil {
			if c.readCtx.Err() != nil {
				return nil // stopping while waiting for the budget
			}
			return fmt.Errorf("read %d-byte frame: %w", size, err)
		}
		if !c.waitMuted(writerDone) {
			return nil
		}
		p, err := c.decode(body)
		if err != nil {
			return err
		}
		p.held, held = held, 0
		c.inflight.Add(int64(p.size))
		select {
		case queue <- p:
		case <-writerDone:
			c.finish(&p, 0)
			return nil
		}
		if p.closeAfter {
			return nil
		}
	}
}

// checkSize refuses a frame from its declared size, before its body is
// read: outside [8, MaxRequestBytes], or, on a SASL listener before
// authentication, above SASLMaxReceiveBytes (as Kafka's
// SaslServerAuthenticator throws InvalidReceiveException and closes).
func (c *conn) checkSize(size int32) error {
	var reason string
	var err error
	switch {
	case size < 8:
		reason = RejectTooSmall
		err = fmt.Errorf("request frame of %d bytes is shorter than a request header", size)
	case size > c.srv.cfg.MaxRequestBytes:
		reason = RejectTooLarge
		err = fmt.Errorf("request frame of %d bytes exceeds the %d-byte limit (max request bytes)", size, c.srv.cfg.MaxRequestBytes)
	case c.sasl.enabled && !c.sasl.authenticated && size > c.srv.cfg.SASLMaxReceiveBytes:
		reason = RejectTooLargeBeforeAuth
		err = fmt.Errorf("request frame of %d bytes before SASL authentication exceeds the %d-byte limit (sasl.server.max.receive.size)", size, c.srv.cfg.SASLMaxReceiveBytes)
	default:
		return nil
	}
	c.srv.cfg.Observer.FrameRejected(reason)
	return err
}

// decode parses a frame and runs the handler's ordered part (or, on a SASL
// listener, the SASL exchange). A panic in any of it is recovered into an
// error, which closes the connection.
func (c *conn) decode(body []byte) (p pending, err error) {
	key := int16(-1)
	var req *Request
	defer func() {
		if r := recover(); r != nil {
			err = c.recovered(key, "handling", r)
			if req != nil {
				c.runDone(key, req)
			}
			p = pending{}
		}
	}()
	now := time.Now()
	f, err := decodeFrame(body, c.srv.handler.Versions)
	if err != nil {
		return pending{}, err
	}
	key = f.key
	p = pending{key: f.key, version: f.version, corr: f.corr, received: now, size: len(body) + 4, clientID: f.clientID}
	if f.reject != nil {
		p.reply = Immediate(f.reject)
		return p, nil
	}
	if c.sasl.enabled {
		resp, closeAfter, err := c.saslGate(&f, now)
		if err != nil {
			return pending{}, err
		}
		if resp != nil {
			p.reply, p.closeAfter = Immediate(resp), closeAfter
			return p, nil
		}
	}
	if q := c.srv.cfg.Quotas; q != nil && f.key == kmsg.Produce.Int16() {
		if d := q.Produce(q.KeyFor(f.clientID, c.info.Principal()), p.size, now); d > 0 {
			p.throttle = d
			c.muteFor(now, d)
		}
	}
	req = &Request{Msg: f.msg, CorrelationID: f.corr, ClientID: f.clientID, Conn: &c.info, Received: now, Size: len(body)}
	p.reply = c.srv.handler.Handle(c.ctx, req)
	p.req = req
	return p, nil
}

// recovered reports a panic recovered while serving a request of API key
// (-1: none): it is logged with its stack and counted, and the error
// returned closes the connection.
func (c *conn) recovered(key int16, during string, r any) error {
	name := apiName(key)
	c.srv.cfg.Logger.Error("panic serving a request; closing its connection", "api", name, "during", during,
		"remote", c.info.Remote.String(), "listener", c.l.Name, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	c.srv.cfg.Observer.RequestPanicked(key)
	return fmt.Errorf("panic %s %s request: %v", during, name, r)
}

// apiName names an API key for logs ("none" for -1).
func apiName(key int16) string {
	if key < 0 {
		return "none"
	}
	if n := kmsg.NameForKey(key); n != "" {
		return n
	}
	return fmt.Sprintf("key %d", key)
}
