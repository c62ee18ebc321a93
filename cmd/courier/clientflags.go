package main

// clientflags.go holds the flags shared by every command that is a Kafka
// client (topic, produce, consume, bench): they reach any Kafka-compatible
// cluster, Courier's or Apache Kafka's, through franz-go.

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// clientFlags are the connection settings of a client command.
type clientFlags struct {
	brokers  string
	clientID string
}

// register adds the flags to cmd.
func (f *clientFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.brokers, "brokers", "127.0.0.1:9092", "comma-separated seed brokers (env COURIER_BROKERS)")
	cmd.Flags().StringVar(&f.clientID, "client-id", "courier", "client id sent to the brokers")
}

// seeds returns the seed broker list.
func (f *clientFlags) seeds() []string {
	var out []string
	for _, s := range strings.Split(f.brokers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// opts returns the kgo options every client command starts from.
func (f *clientFlags) opts() []kgo.Opt {
	return []kgo.Opt{kgo.SeedBrokers(f.seeds()...), kgo.ClientID(f.clientID)}
}
