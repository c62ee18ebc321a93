package ctl

// admin.go holds the Admin handle every topic operation goes through, and
// the one config change the consumers of share groups make themselves.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
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

// Over returns an Admin that works through cl, a client someone else owns
// and closes (the console's client of a signed-in user, so that the
// cluster's ACLs apply to that user): do not Close the Admin.
func Over(cl *kgo.Client) *Admin { return &Admin{cl: cl, adm: kadm.NewClient(cl)} }

// Kadm returns the Admin's kadm client, for the operations that other
// packages implement on the same connection (SCRAM users: package
// userctl).
func (a *Admin) Kadm() *kadm.Client { return a.adm }

// Close closes the Admin's connections. The Admin must not be used after.
func (a *Admin) Close() { a.cl.Close() }

// ShareStartEarliest sets a share group's share.auto.offset.reset to
// earliest (IncrementalAlterConfigs on the GROUP resource, KIP-932) through
// cl, a client the caller owns: a share group starts there on every
// partition it has no state for yet, and Kafka's default is latest, which
// skips what was produced before the group first read a partition.
func ShareStartEarliest(ctx context.Context, cl *kgo.Client, group string) error {
	earliest := "earliest"
	return Over(cl).AlterConfigs(ctx, ConfigResource{Type: kmsg.ConfigResourceTypeGroupConfig, Name: group},
		[]kadm.AlterConfig{{Op: kadm.SetConfig, Name: "share.auto.offset.reset", Value: &earliest}})
}
