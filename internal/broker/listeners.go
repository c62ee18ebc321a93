package broker

// listeners.go decides the address the broker advertises (in Metadata,
// FindCoordinator and DescribeCluster) to a client, per listener: the
// configured advertised address of the listener the request arrived on,
// else the one --advertised-addr set for every listener, else the address
// the client reached.

import (
	"net"
	"strconv"

	"github.com/courier-dev/courier/internal/broker/server"
)

// HostPort is an advertised address.
type HostPort struct {
	Host string
	Port int32
}

// String returns "host:port".
func (h HostPort) String() string { return net.JoinHostPort(h.Host, strconv.Itoa(int(h.Port))) }

// advertised is the address clients of req's listener should use.
func (b *Broker) advertised(req *server.Request) (string, int32) {
	var conn *server.ConnInfo
	if req != nil {
		conn = req.Conn
	}
	if conn != nil && len(b.cfg.AdvertisedListeners) > 0 {
		if hp, ok := b.cfg.AdvertisedListeners[conn.Listener]; ok {
			return hp.Host, hp.Port
		}
	}
	if b.cfg.AdvertisedHost != "" {
		return b.cfg.AdvertisedHost, b.cfg.AdvertisedPort
	}
	if conn != nil && conn.Local != nil {
		if host, port, err := SplitHostPort(conn.Local.String()); err == nil {
			return host, port
		}
	}
	return "127.0.0.1", 9092
}
