// Command kfake-peer runs franz-go's in-memory fake Kafka cluster (kfake) as
// a one-broker process, as a reference peer for Courier's benchmarks and
// compatibility checks: the same client measured against Courier and against
// kfake on the same machine.
//
// It listens on --addr (port 0 picks a free port), prints
// "listening on HOST:PORT" on standard output once clients can connect, and
// runs until SIGINT or SIGTERM. Nothing is persisted.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "host:port to listen on for Kafka clients (port 0: any free port)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "kfake-peer: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		fmt.Fprintf(os.Stderr, "kfake-peer: --addr %q: %v\n", *addr, err)
		os.Exit(2)
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)

	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		// kfake listens on 127.0.0.1:<port>; listen on exactly --addr
		// instead, so any host works. Metadata advertises the
		// listener's address.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, *addr)
		}),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfake-peer:", err)
		os.Exit(1)
	}
	fmt.Println("listening on", c.ListenAddrs()[0])

	<-sigs
	c.Close()
}
