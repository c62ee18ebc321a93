package server

// server.go owns the listener, the set of live connections and shutdown.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Config tunes the network layer.
type Config struct {
	// MaxRequestBytes bounds one request frame; a larger frame closes the
	// connection before its body is read (Kafka's socket.request.max.bytes).
	MaxRequestBytes int32
	// MaxInFlight bounds the requests read but not yet answered per
	// connection; reading pauses when it is reached.
	MaxInFlight int
	// Logger receives connection-level events; nil discards them.
	Logger *slog.Logger
	// Observer receives per-request measurements; nil ignores them.
	Observer Observer
}

// Server accepts Kafka connections and dispatches their requests.
type Server struct {
	cfg     Config
	handler Handler

	nextConnID atomic.Uint64

	mu       sync.Mutex
	ln       net.Listener
	conns    map[*conn]struct{}
	closing  bool
	connsWG  sync.WaitGroup
	baseCtx  context.Context
	cancelFn context.CancelFunc
}

// New returns a server that sends requests to h.
func New(cfg Config, h Handler) *Server {
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = 100 << 20
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 32
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg, handler: h, conns: make(map[*conn]struct{}), baseCtx: ctx, cancelFn: cancel}
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("server closed")

// Serve accepts connections on ln until Shutdown. It always returns a
// non-nil error: ErrServerClosed after Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.ln = ln
	s.mu.Unlock()
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept on %s: %w", ln.Addr(), err)
		}
		if tc, ok := nc.(*net.TCPConn); ok {
			_ = tc.SetNoDelay(true)
		}
		s.start(nc)
	}
}

// start registers a connection and runs it.
func (s *Server) start(nc net.Conn) {
	c := newConn(s, nc, s.nextConnID.Add(1))
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.connsWG.Add(1)
	s.mu.Unlock()
	s.cfg.Observer.ConnOpened()
	go func() {
		defer s.connsWG.Done()
		defer s.cfg.Observer.ConnClosed()
		c.run()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
}

// Shutdown stops accepting, stops reading new requests, lets every
// connection answer the requests it already read, and closes them. When ctx
// ends first, the remaining connections are closed at once and waits (long
// polls, fsyncs) are cancelled.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	if s.ln != nil {
		s.ln.Close()
	}
	for c := range s.conns {
		c.stopReading()
	}
	s.mu.Unlock()
	// Waits that only delay an answer (fetch long polls) end now, so that
	// in-flight requests are answered promptly with what is available.
	s.cancelFn()

	done := make(chan struct{})
	go func() { s.connsWG.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

type nopObserver struct{}

func (nopObserver) RequestDone(int16, time.Duration, int, int) {}
func (nopObserver) ConnOpened()                                {}
func (nopObserver) ConnClosed()                                {}
