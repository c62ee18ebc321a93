package console

// share.go is what consuming in the new group protocols needs beyond a
// plain consumer: a check that the cluster speaks the protocol (franz-go
// silently falls back to the classic protocol, or retries forever, when it
// does not), the share group's start position (a group config, not a
// client setting), and the acknowledgement of each printed record.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Group protocols a consumer group member can speak (ConsumeConfig.Protocol).
const (
	ProtocolClassic  = "classic"            // JoinGroup/SyncGroup; the client's leader assigns partitions.
	ProtocolConsumer = ctl.ProtocolConsumer // KIP-848 ConsumerGroupHeartbeat; the broker assigns partitions.
)

// ackFor returns how the nth record printed in a share group (counting
// from 1) is acknowledged: every RejectEvery-th is rejected (archived, never
// delivered again), every ReleaseEvery-th released (delivered again, with
// a higher delivery count), the others accepted. Reject wins when both
// pick a record.
func (cfg ConsumeConfig) ackFor(n int) kgo.AckStatus {
	switch {
	case cfg.RejectEvery > 0 && n%cfg.RejectEvery == 0:
		return kgo.AckReject
	case cfg.ReleaseEvery > 0 && n%cfg.ReleaseEvery == 0:
		return kgo.AckRelease
	default:
		return kgo.AckAccept
	}
}

// ackWarnings returns the share group's acknowledgement callback: a
// partition whose acknowledgements the broker refused (its records will
// be delivered again, to this consumer or another) is reported on Warnings.
func (cfg ConsumeConfig) ackWarnings() func(*kgo.Client, kgo.ShareAckResults) {
	return func(_ *kgo.Client, rs kgo.ShareAckResults) {
		for _, r := range rs {
			if r.Err != nil && !errors.Is(r.Err, context.Canceled) && !errors.Is(r.Err, kgo.ErrClientClosed) {
				cfg.warn("warning: acknowledgement for partition %d of %s failed (its records will be delivered again): %v\n", r.Partition, r.Topic, r.Err)
			}
		}
	}
}

// validateGroups checks the group settings of cfg: which protocol, and
// what a share group cannot be combined with.
func (cfg ConsumeConfig) validateGroups() error {
	switch strings.ToLower(cfg.Protocol) {
	case "", ProtocolClassic, ProtocolConsumer:
	default:
		return fmt.Errorf("protocol %q: want classic or consumer", cfg.Protocol)
	}
	if cfg.Protocol != "" && cfg.Group == "" {
		return errors.New("--protocol chooses how a consumer group member joins: it needs --group")
	}
	if cfg.RejectEvery < 0 || cfg.ReleaseEvery < 0 {
		return fmt.Errorf("--reject-every and --release-every must not be negative, got %d and %d", cfg.RejectEvery, cfg.ReleaseEvery)
	}
	if cfg.ShareGroup == "" {
		if cfg.RejectEvery > 0 || cfg.ReleaseEvery > 0 {
			return errors.New("--reject-every and --release-every acknowledge records of a share group: they need --share-group")
		}
		return nil
	}
	switch {
	case cfg.Group != "":
		return errors.New("give --group or --share-group, not both")
	case cfg.Partition >= 0:
		return errors.New("a share group assigns partitions itself; drop --partition or --share-group")
	case cfg.Offset != "":
		return errors.New("a share group starts where its share-partitions are (share.auto.offset.reset; --from-beginning sets it to earliest): drop --offset")
	}
	if iso, _ := ParseIsolation(cfg.Isolation); iso == kgo.ReadCommitted() {
		return errors.New("--isolation does not apply to a share group: its group config share.isolation.level decides")
	}
	return nil
}
