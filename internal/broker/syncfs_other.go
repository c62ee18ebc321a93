//go:build !linux

package broker

// syncfs_other.go: without syncfs(2), fall back to sync(2) where the
// platform has it.

import "syscall"

// syncFilesystem flushes every filesystem.
func syncFilesystem(string) error {
	syscall.Sync()
	return nil
}
