package testclient

// validate.go asks the broker whether it would accept a topic, without
// creating it (CreateTopics' validate-only mode), so that a test driving a
// third-party client can get the broker's own error message first:
// clients such as kafkajs report only an error code's generic text.

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
)

// ValidateCreate asks the broker whether it would create topic with the
// given partitions and configs, one replica, and returns its refusal
// (the error code with the broker's message), or nil.
func ValidateCreate(t testing.TB, addr, topic string, partitions int32, configs map[string]*string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), CreateTimeout)
	defer cancel()
	cl := New(t, addr)
	defer cl.Close()
	resp, err := kadm.NewClient(cl).ValidateCreateTopics(ctx, partitions, 1, configs, topic)
	if err != nil {
		return err
	}
	r, err := resp.On(topic, nil)
	switch {
	case err != nil:
		return err
	case r.Err != nil && r.ErrMessage != "":
		return &refusal{err: r.Err, msg: r.ErrMessage}
	}
	return r.Err
}

// refusal is a broker's error code with its message.
type refusal struct {
	err error
	msg string
}

func (r *refusal) Error() string { return r.err.Error() + ": " + r.msg }
func (r *refusal) Unwrap() error { return r.err }
