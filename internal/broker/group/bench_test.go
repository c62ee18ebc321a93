package group

// bench_test.go measures a commit's cost end to end: the coordinator, its
// log's group-committed fsync on the real disk, and the wait.

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
)

func BenchmarkCommit(b *testing.B) {
	for _, writers := range []int{1, 16} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			c, err := Open(b.TempDir(), InitialRebalanceDelay(0))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.SetParallelism(writers)
			var n atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				group := fmt.Sprint("g", n.Add(1))
				var i int64
				for pb.Next() {
					i++
					code, _, wait := c.CommitOffsets(9, group, CommitRequest{Generation: -1, Offsets: []Commit{{TopicPartition: TopicPartition{"t", int32(i % 8)}, Offset: i}}})
					if code != 0 {
						b.Fatal(code)
					}
					if err := wait(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
