package server

// conn_write.go is a connection's writer goroutine: it completes replies in
// request order, encodes each response (a fetch response's large record
// fields are written from the bytes the fetch read, not copied, see
// encode_fetch.go), writes it under a progress deadline, and then gives
// back what the request held (the queued-request budget, the handler's
// OnDone functions). A panic in a reply, in encoding or in an OnDone
// function is recovered: logged, counted, and that connection closed.

import (
	"errors"
	"net"
	"os"
	"time"
)

// maxKeptBuffer bounds the encoding buffer a connection keeps for reuse
// between responses. Fetched records are not encoded into it, so responses
// that outgrow it are rare, and keeping less bounds what idle connections
// hold.
const maxKeptBuffer = 1 << 20

// writeStep is how many bytes of a response must be accepted within each
// WriteTimeout: a client reading slowly but steadily is served, one that
// stops reading is cut off.
const writeStep = 1 << 20

// write completes replies in order and writes their responses.
func (c *conn) write(queue <-chan pending) {
	var buf []byte
	broken := false
	for p := range queue {
		out := 0
		if !broken {
			var ok bool
			if out, ok = c.respond(&p, &buf); !ok {
				broken = true
				c.nc.Close()
				c.stopReading()
			}
		}
		// A broken connection keeps draining the queue, so that the reader
		// never blocks and every request gives back what it holds.
		if !c.finish(&p, out) && !broken {
			broken = true
			c.nc.Close()
			c.stopReading()
		}
		if p.closeAfter && !broken {
			broken = true
			c.nc.Close()
		}
	}
}

// respond completes p's reply and writes its response, returning the bytes
// written; ok is false when the connection must close (the write failed or
// timed out, or the reply or its encoding panicked).
func (c *conn) respond(p *pending, buf *[]byte) (out int, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			_ = c.recovered(p.key, "replying to", r)
			out, ok = 0, false
		}
	}()
	if p.reply == nil {
		return 0, true
	}
	resp := p.reply(c.ctx)
	if resp == nil {
		return 0, true
	}
	c.throttle(p, resp)
	enc, segs, size := encodeResponseSegments((*buf)[:0], p.corr, resp)
	if cap(enc) <= maxKeptBuffer {
		*buf = enc
	} else {
		*buf = nil // don't pin an unusually large response's buffer
	}
	if err := c.writeSegments(segs); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			c.srv.cfg.Logger.Info("closing connection: client stopped reading its responses", "remote", c.info.Remote.String(),
				"listener", c.l.Name, "api", apiName(p.key), "write_timeout", c.srv.cfg.WriteTimeout)
		}
		return size, false
	}
	return size, true
}

// writeSegments writes a response's segments in order, at most writeStep
// bytes per write call, each within WriteTimeout.
func (c *conn) writeSegments(segs [][]byte) error {
	for len(segs) > 0 {
		step := make(net.Buffers, 0, min(len(segs), 16))
		n := 0
		for len(segs) > 0 && n < writeStep {
			s := segs[0]
			if take := writeStep - n; len(s) > take {
				step = append(step, s[:take])
				segs[0] = s[take:]
				n += take
				break
			}
			step = append(step, s)
			n += len(s)
			segs = segs[1:]
		}
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
		if _, err := step.WriteTo(c.rw); err != nil {
			return err
		}
	}
	return nil
}

// finish gives back what an answered (or abandoned) request held and
// records it. It returns false if an OnDone function panicked.
func (c *conn) finish(p *pending, out int) bool {
	c.answered(p.size)
	c.srv.queued.Release(p.held)
	p.held = 0
	ok := true
	if p.req != nil {
		ok = c.runDone(p.key, p.req)
	}
	c.srv.cfg.Observer.RequestDone(p.key, time.Since(p.received), p.size, out)
	return ok
}

// runDone runs a request's OnDone functions, each even if another panics.
func (c *conn) runDone(key int16, req *Request) bool {
	ok := true
	for _, f := range req.done {
		func() {
			defer func() {
				if r := recover(); r != nil {
					_ = c.recovered(key, "finishing", r)
					ok = false
				}
			}()
			f()
		}()
	}
	req.done = nil
	return ok
}
