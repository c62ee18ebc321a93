package storage

// This file ties storage to the project's file-system seam (internal/vfs):
// every file the log touches goes through vfs.FS, so tests count fsyncs,
// slow them down, make writes and syncs fail, or pull the plug with
// vfs.MemFS.CrashClone. Production uses vfs.Default.

import "github.com/courier-dev/courier/internal/vfs"

// file and fileSystem are the seam's types under the names storage uses.
type (
	file       = vfs.File
	fileSystem = vfs.FS
)

// readFile returns a whole (small) file: a checkpoint or an index.
func readFile(fs fileSystem, path string) ([]byte, error) { return vfs.ReadFile(fs, path) }

// writeFileAtomic replaces path with data so that a crash leaves either
// the old or the new contents (vfs.WriteAtomic: tmp, fsync, rename,
// directory fsync). A leftover .tmp from a crash is removed at Open.
func writeFileAtomic(fs fileSystem, path string, data []byte) error {
	return vfs.WriteAtomic(fs, path, data, 0o644)
}
