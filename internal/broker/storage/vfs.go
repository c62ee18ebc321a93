package storage

// This file ties storage to the project's file-system seam (internal/vfs):
// every file the log touches goes through vfs.FS, so tests count fsyncs,
// slow them down, make writes and syncs fail, or pull the plug with
// vfs.MemFS.CrashClone. Production uses vfs.Default.

import "github.com/courier-dev/courier/internal/broker/vfs"

// file and fileSystem are the seam's types under the names storage uses.
type (
	file       = vfs.File
	fileSystem = vfs.FS
)
