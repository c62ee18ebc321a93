// Package atomicfile replaces small metadata files (topics, ACLs, users,
// producer ids) so that a crash at any moment leaves either the old or the
// new content, never a mix or nothing. It is vfs.WriteAtomic on the real
// file system: the one atomic-replace routine, kept under this name for
// the packages that do not take a file system of their own.
package atomicfile

import (
	"os"

	"github.com/courier-dev/courier/internal/vfs"
)

// Write replaces path with data: it writes a temporary file beside it with
// mode perm, fsyncs it, renames it over path and fsyncs the directory, so
// that the rename itself is durable (see vfs.WriteAtomic).
func Write(path string, data []byte, perm os.FileMode) error {
	return vfs.WriteAtomic(vfs.Default, path, data, perm)
}
