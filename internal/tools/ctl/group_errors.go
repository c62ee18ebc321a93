package ctl

// group_errors.go turns the Kafka error codes of group administration into
// messages a person can act on, while keeping the code reachable through
// errors.Is.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// GroupError is a group operation that the cluster refused or that could not
// be completed. Its message names the group and, for the common Kafka error
// codes, says what went wrong in plain words; Unwrap returns the cause
// (usually a *kerr.Error) for errors.Is.
type GroupError struct {
	Op     string // Op is the verb of the failed operation: "describe", "delete", "seek".
	Group  string // Group is the group operated on.
	Err    error  // Err is the cause.
	Detail string // Detail is the broker's own error message, if it sent one.
	State  string // State is the group's state when the operation was refused because of it, else "".
}

// Error renders the error for a person.
func (e *GroupError) Error() string {
	var msg string
	withDetail := true
	switch {
	case errors.Is(e.Err, kerr.GroupIDNotFound):
		// A detail that only repeats "not found" is dropped; anything
		// else (e.g. "not a classic group" from Kafka 4) is kept.
		msg = fmt.Sprintf("unknown group %s", e.Group)
		withDetail = !strings.Contains(strings.ToLower(e.Detail), "not found")
	case errors.Is(e.Err, kerr.NonEmptyGroup), errors.Is(e.Err, kerr.UnknownMemberID),
		errors.Is(e.Err, kerr.IllegalGeneration), errors.Is(e.Err, kerr.RebalanceInProgress):
		// The last three answer a commit from outside the group while it
		// has members: seek raced with a consumer joining.
		why := codeName(e.Err)
		if e.State != "" {
			why = "state " + e.State
		}
		msg, withDetail = fmt.Sprintf("cannot %s group %s: it has active members (%s); ", e.Op, e.Group, why), false
		if e.Op == "seek" {
			msg += "offsets can only be set while the group is Empty: "
		}
		msg += "stop its consumers and retry"
	case errors.Is(e.Err, kerr.InvalidGroupID):
		msg = fmt.Sprintf("%s group: invalid group id %q", e.Op, e.Group)
	case errors.Is(e.Err, kerr.GroupAuthorizationFailed), errors.Is(e.Err, kerr.TopicAuthorizationFailed):
		msg = fmt.Sprintf("%s group %s: not authorized", e.Op, e.Group)
	case errors.Is(e.Err, kerr.CoordinatorNotAvailable), errors.Is(e.Err, kerr.NotCoordinator),
		errors.Is(e.Err, kerr.CoordinatorLoadInProgress):
		msg = fmt.Sprintf("%s group %s: the group's coordinator is not available (%s); retry shortly", e.Op, e.Group, codeName(e.Err))
	default:
		msg = fmt.Sprintf("%s group %s: %v", e.Op, e.Group, e.Err)
	}
	if d := strings.TrimSpace(e.Detail); withDetail && d != "" && !strings.Contains(msg, d) && !standardText(e.Err, d) {
		msg += ": " + d
	}
	return msg
}

// Unwrap returns the cause.
func (e *GroupError) Unwrap() error { return e.Err }

// groupErr returns nil if err is nil, else a *GroupError for op on group.
func groupErr(op, group string, err error, detail string) error {
	if err == nil {
		return nil
	}
	return &GroupError{Op: op, Group: group, Err: err, Detail: detail}
}

// codeName returns the Kafka name of err's error code (NON_EMPTY_GROUP), or
// err's text if it carries no code.
func codeName(err error) string {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Message
	}
	return err.Error()
}

// standardText reports whether detail says no more than the standard name
// or description of err's Kafka error code (brokers often send those).
func standardText(err error, detail string) bool {
	var ke *kerr.Error
	if !errors.As(err, &ke) {
		return false
	}
	return ke.Message != "" && strings.Contains(detail, ke.Message) || ke.Description != "" && strings.Contains(detail, ke.Description)
}
