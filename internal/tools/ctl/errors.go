package ctl

// errors.go turns the Kafka error codes of topic administration into
// messages a person can act on, while keeping the code reachable through
// errors.Is.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// TopicError is a topic operation that the cluster refused or that could not
// be completed. Its message names the topic and, for the common Kafka error
// codes, says what went wrong in plain words; Unwrap returns the cause
// (usually a *kerr.Error) for errors.Is.
type TopicError struct {
	Op     string // Op is the verb of the failed operation: "create", "describe", "delete", "add partitions to".
	Topic  string // Topic is the topic operated on.
	Err    error  // Err is the cause.
	Detail string // Detail is the broker's own error message, if it sent one.
}

// Error renders the error for a person.
func (e *TopicError) Error() string {
	var msg string
	withDetail := true
	switch {
	case errors.Is(e.Err, kerr.TopicAlreadyExists):
		msg, withDetail = fmt.Sprintf("topic %s already exists", e.Topic), false
	case errors.Is(e.Err, kerr.UnknownTopicOrPartition), errors.Is(e.Err, kerr.UnknownTopicID):
		msg, withDetail = fmt.Sprintf("unknown topic %s", e.Topic), false
	case errors.Is(e.Err, kerr.InvalidTopicException):
		msg = fmt.Sprintf("%s topic: invalid topic name %q", e.Op, e.Topic)
	case errors.Is(e.Err, kerr.InvalidPartitions):
		msg = fmt.Sprintf("%s topic %s: invalid partition count", e.Op, e.Topic)
	case errors.Is(e.Err, kerr.InvalidReplicationFactor):
		msg = fmt.Sprintf("%s topic %s: invalid replication factor (it must be at least 1 and at most the number of brokers)", e.Op, e.Topic)
	case errors.Is(e.Err, kerr.InvalidReplicaAssignment):
		msg = fmt.Sprintf("%s topic %s: invalid replica assignment", e.Op, e.Topic)
	case errors.Is(e.Err, kerr.InvalidConfig):
		msg = fmt.Sprintf("%s topic %s: invalid config", e.Op, e.Topic)
	case errors.Is(e.Err, kerr.PolicyViolation):
		msg = fmt.Sprintf("%s topic %s: rejected by the cluster's topic policy", e.Op, e.Topic)
	case errors.Is(e.Err, kerr.TopicDeletionDisabled):
		msg = fmt.Sprintf("delete topic %s: topic deletion is disabled on the cluster (delete.topic.enable=false)", e.Topic)
	case errors.Is(e.Err, kerr.TopicAuthorizationFailed), errors.Is(e.Err, kerr.ClusterAuthorizationFailed):
		msg = fmt.Sprintf("%s topic %s: not authorized", e.Op, e.Topic)
	case errors.Is(e.Err, kerr.ReassignmentInProgress):
		msg = fmt.Sprintf("%s topic %s: a partition reassignment is in progress; retry when it completes", e.Op, e.Topic)
	case errors.Is(e.Err, kerr.RequestTimedOut):
		msg = fmt.Sprintf("%s topic %s: the cluster timed out; the operation may still complete, check with describe", e.Op, e.Topic)
	default:
		msg = fmt.Sprintf("%s topic %s: %v", e.Op, e.Topic, e.Err)
	}
	if d := strings.TrimSpace(e.Detail); withDetail && d != "" && !strings.Contains(msg, d) {
		msg += ": " + d
	}
	return msg
}

// Unwrap returns the cause.
func (e *TopicError) Unwrap() error { return e.Err }

// topicErr returns nil if err is nil, else a *TopicError for op on topic.
func topicErr(op, topic string, err error, detail string) error {
	if err == nil {
		return nil
	}
	return &TopicError{Op: op, Topic: topic, Err: err, Detail: detail}
}
