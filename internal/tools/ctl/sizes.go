package ctl

// sizes.go reads partition sizes from the brokers' log directories
// (DescribeLogDirs, Kafka 1.0+). Sizes are optional: a broker that does not
// implement the request leaves them unknown rather than failing a describe.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kadm"
)

// fillSizes sets the Size of each partition in ps from the log directories
// of the brokers. The size is the leader's replica if the leader reported
// it, else the largest replica reported. It returns why sizes are
// unavailable, or nil if at least part of the answer was usable.
func (a *Admin) fillSizes(ctx context.Context, set kadm.TopicsSet, name string, leaders map[int32]int32, ps []PartitionInfo) error {
	if len(ps) == 0 {
		return nil
	}
	dirs, err := a.adm.DescribeAllLogDirs(ctx, set)
	if err != nil && !partial(err) {
		return optionalErr("DescribeLogDirs", err)
	}
	leaderSize := make(map[int32]int64)
	maxSize := make(map[int32]int64)
	dirs.Each(func(d kadm.DescribedLogDir) {
		if d.Err != nil {
			return
		}
		for _, p := range d.Topics[name] {
			if p.IsFuture {
				continue
			}
			if p.Broker == leaders[p.Partition] {
				leaderSize[p.Partition] = p.Size
			}
			if cur, ok := maxSize[p.Partition]; !ok || p.Size > cur {
				maxSize[p.Partition] = p.Size
			}
		}
	})
	for i := range ps {
		if s, ok := leaderSize[ps[i].Partition]; ok {
			ps[i].Size = s
		} else if s, ok := maxSize[ps[i].Partition]; ok {
			ps[i].Size = s
		}
	}
	return nil
}
