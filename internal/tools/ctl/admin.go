package ctl

// admin.go holds the Admin handle every topic operation goes through.

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Admin administers the topics of one cluster. It owns a franz-go client and
// its connections; Close it when done. An Admin is safe for concurrent use.
type Admin struct {
	cl  *kgo.Client
	adm *kadm.Client
}

// New returns an Admin for the cluster reached with opts (at least
// kgo.SeedBrokers). It does not connect until the first operation.
func New(opts ...kgo.Opt) (*Admin, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("create Kafka client: %w", err)
	}
	return &Admin{cl: cl, adm: kadm.NewClient(cl)}, nil
}

// Kadm returns the Admin's kadm client, for the operations that other
// packages implement on the same connection (SCRAM users: package
// userctl).
func (a *Admin) Kadm() *kadm.Client { return a.adm }

// Close closes the Admin's connections. The Admin must not be used after.
func (a *Admin) Close() { a.cl.Close() }
