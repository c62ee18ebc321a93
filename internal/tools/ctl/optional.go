package ctl

// optional.go words the failures of the requests a description can do
// without (DescribeConfigs, DescribeLogDirs): a broker that does not
// implement one gets a short note, not a wall of client internals.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// unsupportedError says the broker does not implement a request. It
// matches errors.ErrUnsupported.
type unsupportedError struct{ api string }

// Error names the missing request.
func (e *unsupportedError) Error() string {
	return fmt.Sprintf("the broker does not support %s", e.api)
}

// Is makes errors.Is(err, errors.ErrUnsupported) true.
func (e *unsupportedError) Is(target error) bool { return target == errors.ErrUnsupported }

// optionalErr returns err from request api in short form: the first shard's
// error instead of kadm's summary, and an *unsupportedError when the broker
// does not know the request.
func optionalErr(api string, err error) error {
	var se *kadm.ShardErrors
	if errors.As(err, &se) && len(se.Errs) > 0 {
		err = se.Errs[0].Err
	}
	// kgo refuses, before sending, requests the broker did not list in
	// ApiVersions; that error is not exported, hence the text match.
	if errors.Is(err, kerr.UnsupportedVersion) || strings.Contains(err.Error(), "broker is too old") {
		return &unsupportedError{api: api}
	}
	return fmt.Errorf("%s: %w", api, err)
}
