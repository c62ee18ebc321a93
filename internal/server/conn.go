package server

// conn.go runs one client connection: a reader goroutine that decodes frames
// and does each request's ordered work, and a writer goroutine that completes
// the replies in order and writes the responses.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// conn is one client connection.
type conn struct {
	srv  *Server
	nc   net.Conn
	info ConnInfo

	ctx    context.Context
	cancel context.CancelFunc

	stopOnce sync.Once
	stopped  chan struct{} // closed by stopReading
}

// pending is a request handled but not yet answered.
type pending struct {
	key      int16
	version  int16
	corr     int32
	received time.Time
	size     int
	reply    Reply
}

func newConn(s *Server, nc net.Conn, id uint64) *conn {
	ctx, cancel := context.WithCancel(s.baseCtx)
	return &conn{
		srv:     s,
		nc:      nc,
		info:    ConnInfo{ID: id, Remote: nc.RemoteAddr(), Local: nc.LocalAddr()},
		ctx:     ctx,
		cancel:  cancel,
		stopped: make(chan struct{}),
	}
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

// run serves the connection until it closes.
func (c *conn) run() {
	defer c.cancel()
	defer c.nc.Close()
	queue := make(chan pending, c.srv.cfg.MaxInFlight)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.write(queue)
	}()
	err := c.read(queue, writerDone)
	close(queue)
	<-writerDone
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		select {
		case <-c.stopped:
		default:
			c.srv.cfg.Logger.Info("closing connection", "remote", c.info.Remote.String(), "err", err)
		}
	}
}

// read decodes frames and queues their replies until the connection ends,
// the frame is bad, or stopReading is called.
func (c *conn) read(queue chan<- pending, writerDone <-chan struct{}) error {
	var sizeBuf [4]byte
	for {
		select {
		case <-c.stopped:
			return nil
		default:
		}
		if _, err := io.ReadFull(c.nc, sizeBuf[:]); err != nil {
			return err
		}
		size := int32(binary.BigEndian.Uint32(sizeBuf[:]))
		if size < 8 || size > c.srv.cfg.MaxRequestBytes {
			return fmt.Errorf("request frame of %d bytes outside [8, %d]", size, c.srv.cfg.MaxRequestBytes)
		}
		body := make([]byte, size)
		if _, err := io.ReadFull(c.nc, body); err != nil {
			return fmt.Errorf("read %d-byte frame: %w", size, err)
		}
		p, err := c.decode(body)
		if err != nil {
			return err
		}
		select {
		case queue <- p:
		case <-writerDone:
			return nil
		}
	}
}

// decode parses a frame and runs the handler's ordered part.
func (c *conn) decode(body []byte) (pending, error) {
	now := time.Now()
	f, err := decodeFrame(body, c.srv.handler.Versions)
	if err != nil {
		return pending{}, err
	}
	p := pending{key: f.key, version: f.version, corr: f.corr, received: now, size: len(body) + 4}
	if f.reject != nil {
		p.reply = Immediate(f.reject)
		return p, nil
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
			continue // drain so the reader never blocks
		}
		var resp kmsg.Response
		if p.reply != nil {
			resp = p.reply(c.ctx)
		}
		out := 0
		if resp != nil {
			if hint := sizeHint(resp); cap(buf) < hint {
				buf = make([]byte, 0, hint)
			}
			buf = encodeResponse(buf[:0], p.corr, resp)
			out = len(buf)
			if _, err := c.nc.Write(buf); err != nil {
				broken = true
				c.nc.Close()
			}
			if cap(buf) > maxKeptBuffer {
				buf = nil // don't pin an unusually large response's buffer
			}
		}
		c.srv.cfg.Observer.RequestDone(p.key, time.Since(p.received), p.size, out)
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
