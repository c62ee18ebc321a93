package webconsole

// kafka.go says how the console reaches the cluster: the options every client
// starts from, how users sign in (SASL mechanisms), and the console's own
// identity for background work (lag sampling). A KafkaSession is one user's
// connection to the cluster.

import (
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Access is how the console reaches the cluster.
type Access struct {
	// Base are the options of every client the console makes: seed
	// brokers, TLS, a dialer; never SASL (that is per user).
	Base []kgo.Opt
	// SASLMechanisms, when not empty, make users sign in with their Kafka
	// user name and password: each session authenticates with the first of
	// these mechanisms the cluster accepts its credentials for
	// ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN").
	SASLMechanisms []string
	// Service are the options of the console's own client (Base plus its
	// credentials), used for background work such as lag sampling; nil when
	// the console has no identity of its own (then there is no lag history
	// on a SASL cluster).
	Service []kgo.Opt
}

// KafkaSession is one signed-in user's connection to the cluster: a client
// authenticated as that user (or anonymous on a cluster without SASL). It is
// safe for concurrent use.
type KafkaSession struct {
	// User is the Kafka user name ("" when anonymous).
	User string
	opts []kgo.Opt

	once      sync.Once
	client    *kgo.Client
	admin     *kadm.Client
	err       error
	closeOnce sync.Once
}

// newKafkaSession returns a session whose clients use opts (Base plus the
// user's SASL options). It connects lazily.
func newKafkaSession(user string, opts []kgo.Opt) *KafkaSession {
	return &KafkaSession{User: user, opts: opts}
}

// newVerifiedSession returns a session whose shared client is cl, made with
// opts: the client a sign-in checked the user's password with, kept so that
// the session starts authenticated.
func newVerifiedSession(user string, opts []kgo.Opt, cl *kgo.Client) *KafkaSession {
	k := &KafkaSession{User: user, opts: opts}
	k.once.Do(func() { k.client, k.admin = cl, kadm.NewClient(cl) })
	return k
}

// init creates the shared client once.
func (k *KafkaSession) init() error {
	k.once.Do(func() {
		k.client, k.err = kgo.NewClient(k.opts...)
		if k.err != nil {
			k.err = fmt.Errorf("create Kafka client: %w", k.err)
			return
		}
		k.admin = kadm.NewClient(k.client)
	})
	return k.err
}

// Client returns the session's shared client, for requests (kmsg) and admin
// calls; it must not be used to consume (use NewClient for that).
func (k *KafkaSession) Client() (*kgo.Client, error) {
	if err := k.init(); err != nil {
		return nil, err
	}
	return k.client, nil
}

// Admin returns a kadm client on the session's shared client.
func (k *KafkaSession) Admin() (*kadm.Client, error) {
	if err := k.init(); err != nil {
		return nil, err
	}
	return k.admin, nil
}

// NewClient returns a new client authenticated as the session's user, with
// extra options (a consumer's partitions, a producer's settings). The
// caller closes it.
func (k *KafkaSession) NewClient(extra ...kgo.Opt) (*kgo.Client, error) {
	opts := append(append([]kgo.Opt(nil), k.opts...), extra...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("create Kafka client: %w", err)
	}
	return cl, nil
}

// Close closes the session's shared client; later calls do nothing.
func (k *KafkaSession) Close() {
	k.once.Do(func() { k.err = errSessionClosed }) // a session never used has nothing to close
	k.closeOnce.Do(func() {
		if k.client != nil {
			k.client.Close()
		}
	})
}

// errSessionClosed is what a closed session's Client answers if it was
// never used before it closed.
var errSessionClosed = errors.New("the session has ended")
