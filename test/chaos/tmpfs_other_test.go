//go:build !linux

package chaos

// tmpfs_other_test.go: outside Linux the test cannot mount its tmpfs, so
// it skips (or fails with COURIER_REQUIRE_CHAOS=1).

import "errors"

var errNoTmpfs = errors.New("mounting a tmpfs is only implemented on Linux")

func mountTmpfs(string, int64) error  { return errNoTmpfs }
func unmountTmpfs(string) error       { return errNoTmpfs }
func freeBytes(string) (int64, error) { return 0, errNoTmpfs }
