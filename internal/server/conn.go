package server

// conn.go runs one client connection: a reader goroutine that decodes frames
// and does each request's ordered work, and a writer goroutine that completes
// the replies in order and writes the responses. Limits on reading live in
// conn_limits.go, TLS in conn_tls.go, SASL in conn_sasl.go.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
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
	// throttle is the quota throttle to report in the response.
	throttle time.Duration
	// closeAfter closes the connection once this response is written.
	closeAfter bool
}

func newConn(s *Server, nc net.Conn, id uint64, l ListenerConfig) *conn {
	ctx, cancel := context.WithCancel(s.baseCtx)
	c := &conn{
		srv:     s,
		nc:      nc,
		rw:      nc,
		l:       l,
		info:    ConnInfo{ID: id, Remote: nc.RemoteAddr(), Local: nc.LocalAddr(), Listener: l.Name, remoteHost: hostOf(nc.RemoteAddr())},
		ctx:     ctx,
		cancel:  cancel,
		stopped: make(chan struct{}),
		drained: make(chan struct{}, 1),
	}
	if l.SASL {
		c.sasl.enabled = true
		c.sasl.authDeadline = time.Now().Add(s.cfg.AuthTimeout)
	}
	return c
}

// stopReading makes the reader stop after the frame it is reading (an idle
// reader is woken by an expired deadline); replies already queued are still
// written.
func (c *conn) stopReading() {
	c.stopOnce.Do(func() {
		close(c.stopped)
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

// errCloseAfterResponse ends reading after a response that closes the
// connection (a failed SASL authentication).
var errCloseAfterResponse = errors.New("closing after response")

// read decodes frames and queues their replies until the connection ends,
// the frame is bad, or stopReading is called.
func (c *conn) read(queue chan<- pending, writerDone <-chan struct{}) error {
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
		if size < 8 || size > c.srv.cfg.MaxRequestBytes {
			return fmt.Errorf("request frame of %d bytes outside [8, %d]", size, c.srv.cfg.MaxRequestBytes)
		}
		if !c.waitInflight(int64(size)+4, writerDone) {
			return nil
		}
		body, err := c.readBody(int(size))
		if err != nil {
			return fmt.Errorf("read %d-byte frame: %w", size, err)
		}
		if !c.waitMuted(writerDone) {
			return nil
		}
		p, err := c.decode(body)
		if err != nil {
			return err
		}
		c.inflight.Add(int64(p.size))
		select {
		case queue <- p:
		case <-writerDone:
			return nil
		}
		if p.closeAfter {
			return nil
		}
	}
}

// decode parses a frame and runs the handler's ordered part (or, on a SASL
// listener, the SASL exchange).
func (c *conn) decode(body []byte) (pending, error) {
	now := time.Now()
	f, err := decodeFrame(body, c.srv.handler.Versions)
	if err != nil {
		return pending{}, err
	}
	p := pending{key: f.key, version: f.version, corr: f.corr, received: now, size: len(body) + 4, clientID: f.clientID}
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
	req := &Request{Msg: f.msg, CorrelationID: f.corr, ClientID: f.clientID, Conn: &c.info, Received: now, Size: len(body)}
	p.reply = c.srv.handler.Handle(c.ctx, req)
	return p, nil
}

// write completes replies in order and writes their responses.
func (c *conn) write(queue <-chan pending) {
	var buf []byte
	broken := false
	for p := range queue {
		if broken {
			c.answered(p.size)
			continue // drain so the reader never blocks
		}
		var resp kmsg.Response
		if p.reply != nil {
			resp = p.reply(c.ctx)
		}
		out := 0
		if resp != nil {
			c.throttle(&p, resp)
			if hint := sizeHint(resp); cap(buf) < hint {
				buf = make([]byte, 0, hint)
			}
			buf = encodeResponse(buf[:0], p.corr, resp)
			out = len(buf)
			if _, err := c.rw.Write(buf); err != nil {
				broken = true
				c.nc.Close()
			}
			if cap(buf) > maxKeptBuffer {
				buf = nil // don't pin an unusually large response's buffer
			}
		}
		c.answered(p.size)
		c.srv.cfg.Observer.RequestDone(p.key, time.Since(p.received), p.size, out)
		if p.closeAfter && !broken {
			broken = true
			c.nc.Close()
		}
	}
}

// maxKeptBuffer bounds the response buffer a connection keeps for reuse
// between responses.
const maxKeptBuffer = 16 << 20

// sizeHint estimates a response's encoded size so that encoding appends
// into one allocation instead of regrowing (and copying) a fetch
// response's record bytes several times over.
func sizeHint(resp kmsg.Response) int {
	fr, ok := resp.(*kmsg.FetchResponse)
	if !ok {
		return 0
	}
	n := 1024
	for i := range fr.Topics {
		n += 64 + len(fr.Topics[i].Topic)
		for j := range fr.Topics[i].Partitions {
			n += 96 + len(fr.Topics[i].Partitions[j].RecordBatches)
		}
	}
	return n
}
