package broker

// leader_epoch.go keeps the broker's leader epoch (KIP-101, KIP-320). The
// broker is the leader of every partition, and every start is a new
// leadership: a start may follow a crash that lost the end of the logs, and
// the offsets after it are then written again. A new epoch at each start
// lets clients tell the two apart: batches carry the epoch that wrote them,
// Metadata announces the current one, and a consumer whose last record came
// from an older epoch asks OffsetForLeaderEpoch where that epoch ended and
// finds out whether the log was truncated under it.
//
// The counter is one file, DATA/meta/leader-epoch, written atomically and
// fsynced before any partition is opened, so an epoch is never reused.

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/twmb/franz-go/pkg/kerr"
)

// nextLeaderEpoch reads the last epoch at path, durably records the next
// one and returns it. A missing file (a new data directory, or one from a
// version without epochs, whose batches carry epoch 0) starts at 1.
func nextLeaderEpoch(path string) (int32, error) {
	var last int64
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return 0, fmt.Errorf("read %s: %w", path, err)
	default:
		last, err = strconv.ParseInt(strings.TrimSpace(string(data)), 10, 32)
		if err != nil || last < 0 {
			return 0, fmt.Errorf("%s holds %q, not a leader epoch: refusing to start, since a wrong epoch "+
				"would hide truncated logs from consumers; restore the file or write a number above every epoch used", path, data)
		}
	}
	if last >= math.MaxInt32 {
		return 0, fmt.Errorf("%s: leader epoch %d cannot grow further", path, last)
	}
	next := int32(last + 1)
	if err := vfs.WriteAtomic(vfs.Default, path, []byte(strconv.Itoa(int(next))+"\n"), 0o644); err != nil {
		return 0, fmt.Errorf("record leader epoch: %w", err)
	}
	return next, nil
}

// checkLeaderEpoch is Kafka's check of a request's current_leader_epoch:
// -1 skips it, an older epoch is FENCED_LEADER_EPOCH (the client's
// metadata is stale: it refreshes it), a newer one UNKNOWN_LEADER_EPOCH.
func (b *Broker) checkLeaderEpoch(current int32) int16 {
	switch {
	case current < 0 || current == b.epoch:
		return 0
	case current < b.epoch:
		return kerr.FencedLeaderEpoch.Code
	default:
		return kerr.UnknownLeaderEpoch.Code
	}
}
