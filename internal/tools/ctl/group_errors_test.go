package ctl

// group_errors_test.go checks the wording of group errors and that they
// still unwrap to the Kafka error code.

import (
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestGroupErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		op, detail, state string
		err               error
		want              string
	}{
		{"describe", "group user-1 not found", "", kerr.GroupIDNotFound, "unknown group user-1"},
		{"delete", "GROUP_ID_NOT_FOUND: The group id does not exist.", "", kerr.GroupIDNotFound, "unknown group user-1"},
		{"describe", "Group user-1 is not a classic group.", "", kerr.GroupIDNotFound, "unknown group user-1: Group user-1 is not a classic group."},
		{"delete", "The group is not empty.", "", kerr.NonEmptyGroup,
			"cannot delete group user-1: it has active members (NON_EMPTY_GROUP); stop its consumers and retry"},
		{"seek", "", "PreparingRebalance", kerr.NonEmptyGroup,
			"cannot seek group user-1: it has active members (state PreparingRebalance); offsets can only be set while the group is Empty: stop its consumers and retry"},
		{"seek", "", "", kerr.UnknownMemberID,
			"cannot seek group user-1: it has active members (UNKNOWN_MEMBER_ID); offsets can only be set while the group is Empty: stop its consumers and retry"},
		{"describe", "", "", kerr.InvalidGroupID, `describe group: invalid group id "user-1"`},
		{"delete", "", "", kerr.GroupAuthorizationFailed, "delete group user-1: not authorized"},
		{"seek", "", "", kerr.CoordinatorNotAvailable,
			"seek group user-1: the group's coordinator is not available (COORDINATOR_NOT_AVAILABLE); retry shortly"},
		{"describe", "", "", errors.New("dial tcp: refused"), "describe group user-1: dial tcp: refused"},
		{"delete", "disk on fire", "", kerr.KafkaStorageError, "delete group user-1: " + kerr.KafkaStorageError.Error() + ": disk on fire"},
	} {
		err := error(&GroupError{Op: tc.op, Group: "user-1", Err: tc.err, Detail: tc.detail, State: tc.state})
		if got := err.Error(); got != tc.want {
			t.Errorf("%v:\n got %q\nwant %q", tc.err, got, tc.want)
		}
		if !errors.Is(fmt.Errorf("wrapped: %w", err), tc.err) {
			t.Errorf("%v: errors.Is lost the cause", tc.err)
		}
	}
	if groupErr("delete", "x", nil, "detail") != nil {
		t.Error("groupErr(nil) != nil")
	}
}
