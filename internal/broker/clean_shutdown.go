package broker

// clean_shutdown.go records that the broker stopped cleanly (every log
// closed, so fsynced), as Kafka's .kafka_cleanshutdown does: the next start
// then knows that what the logs recover is already durable and skips the
// filesystem-wide sync it needs after a crash.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

// cleanShutdownName is the marker in DATA/meta.
const cleanShutdownName = "clean-shutdown"

// markCleanShutdown writes the marker, durably, after a clean Close.
func (b *Broker) markCleanShutdown() error {
	if err := vfs.WriteAtomic(vfs.Default, filepath.Join(b.metaDir(), cleanShutdownName), []byte("1\n"), 0o644); err != nil {
		return fmt.Errorf("mark clean shutdown: %w", err)
	}
	return nil
}

// takeCleanShutdownMarker reports whether the last run stopped cleanly and
// removes the marker, durably, before anything else is written, so that a
// crash of this run is never mistaken for a clean stop.
func (b *Broker) takeCleanShutdownMarker() (bool, error) {
	path := filepath.Join(b.metaDir(), cleanShutdownName)
	err := os.Remove(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remove %s: %w", path, err)
	}
	if err := vfs.Default.SyncDir(b.metaDir()); err != nil {
		return false, fmt.Errorf("fsync %s: %w", b.metaDir(), err)
	}
	return true, nil
}
