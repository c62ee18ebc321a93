package run

// start.go runs a broker in the background for a process that embeds one
// (courier demo): the caller gets the address once it listens and a
// function that stops it.

import (
	"context"
	"fmt"
	"net"
)

// Start runs Broker(cfg) in a goroutine it owns and returns once the broker
// listens: its first listener's address and stop, which shuts it down and
// waits for it. If the broker fails before it listens, Start returns that
// error and nothing is left running. cfg.Ready is Start's own.
func Start(cfg Config) (addr string, stop func() error, err error) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	cfg.Ready = func(a net.Addr) { ready <- a }
	go func() { done <- Broker(ctx, cfg) }()
	select {
	case a := <-ready:
		return a.String(), func() error { cancel(); return <-done }, nil
	case err := <-done:
		cancel()
		return "", nil, fmt.Errorf("embedded broker: %w", err)
	}
}
