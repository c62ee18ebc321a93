//go:build linux

package chaos

// tmpfs_linux_test.go mounts and unmounts the test's own tmpfs.

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// mountTmpfs mounts a tmpfs of size bytes on dir. It needs root (or
// CAP_SYS_ADMIN); the error says why it could not.
func mountTmpfs(dir string, size int64) error {
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d", size)); err != nil {
		return fmt.Errorf("mount -t tmpfs -o size=%d tmpfs %s: %w", size, dir, err)
	}
	return nil
}

// unmountTmpfs unmounts dir, trying a few times while it is busy, and
// detaches it lazily if it stays busy, so that no mount outlives the test.
func unmountTmpfs(dir string) error {
	var err error
	for range 20 {
		if err = syscall.Unmount(dir, 0); err == nil || !errors.Is(err, syscall.EBUSY) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if errors.Is(err, syscall.EBUSY) {
		if derr := syscall.Unmount(dir, syscall.MNT_DETACH); derr != nil {
			return fmt.Errorf("umount %s: %w (lazy unmount: %v)", dir, err, derr)
		}
		return fmt.Errorf("umount %s: %w; detached it lazily", dir, err)
	}
	if err != nil {
		return fmt.Errorf("umount %s: %w", dir, err)
	}
	return nil
}

// freeBytes is what statfs says is free on the filesystem holding dir.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return int64(st.Bavail) * st.Bsize, nil
}
