package webconsole

// lag.go measures lag in time: the age of a partition's oldest unconsumed
// record, which is the record at the group's committed offset (a share
// group's share-partition start offset). No Kafka request says it, so it is
// read: a short-lived consumer (the user's, or the console's own for the
// lag history) assigned the partitions at those offsets, fetching as
// little as the broker allows (one batch per partition), stopped as soon
// as every partition gave its first record or a deadline passed. A
// partition read by several groups at different offsets is read once per
// offset, in successive rounds ("waves") of one consumer each.

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// timeLagDeadline bounds one lookup of record timestamps for a page.
const timeLagDeadline = 3 * time.Second

// recordAt asks for the first record at or after offset From (-1: the log
// start) of a partition whose end offset is End.
type recordAt struct {
	Topic     string
	Partition int32
	From, End int64
}

// stamp is the answer to a recordAt: the record's timestamp (Unix ms), or
// none when only transaction markers lie between From and End (nothing is
// left to consume), or why it could not be read.
type stamp struct {
	ms   int64
	none bool
	err  error
}

// timeLag is the age at now of the oldest unconsumed record s found: nil
// when nothing is left to consume or it is unknown.
func (s stamp) timeLag(now time.Time) *int64 {
	if s.err != nil || s.none {
		return nil
	}
	lag := max(now.UnixMilli()-s.ms, 0) // a record stamped in the future is not unconsumed for a negative time
	return &lag
}

// clientMaker makes a consumer (Base options plus an identity, plus
// extra); the caller closes it.
type clientMaker func(extra ...kgo.Opt) (*kgo.Client, error)

// readStamps answers each question of qs, reading the records with
// clients newClient makes, within deadline. A question left unanswered at
// the deadline gets an error saying so.
func readStamps(ctx context.Context, newClient clientMaker, qs []recordAt, deadline time.Duration) map[recordAt]stamp {
	out := make(map[recordAt]stamp, len(qs))
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	for _, wave := range waves(qs) {
		if err := ctx.Err(); err != nil {
			for _, q := range wave {
				out[q] = stamp{err: fmt.Errorf("not read within %s", deadline)}
			}
			continue
		}
		readWave(ctx, newClient, wave, out)
	}
	return out
}

// waves splits qs into rounds in which each partition is asked once.
func waves(qs []recordAt) [][]recordAt {
	type tp struct {
		t string
		p int32
	}
	var out [][]recordAt
	seen := make(map[recordAt]bool, len(qs))
	round := make(map[tp]int) // the next round a partition may join
	for _, q := range qs {
		if seen[q] {
			continue
		}
		seen[q] = true
		k := tp{q.Topic, q.Partition}
		i := round[k]
		round[k] = i + 1
		if i == len(out) {
			out = append(out, nil)
		}
		out[i] = append(out[i], q)
	}
	return out
}

// readWave answers questions on distinct partitions with one consumer.
func readWave(ctx context.Context, newClient clientMaker, wave []recordAt, out map[recordAt]stamp) {
	type tp struct {
		t string
		p int32
	}
	asked := make(map[tp]recordAt, len(wave))
	assign := make(map[string]map[int32]kgo.Offset)
	for _, q := range wave {
		asked[tp{q.Topic, q.Partition}] = q
		if assign[q.Topic] == nil {
			assign[q.Topic] = make(map[int32]kgo.Offset)
		}
		at := kgo.NewOffset().AtStart() // also where an offset before the log start resets to: its oldest record
		if q.From >= 0 {
			at = kgo.NewOffset().At(q.From)
		}
		assign[q.Topic][q.Partition] = at
	}
	fail := func(err error) {
		for _, q := range asked {
			out[q] = stamp{err: err}
		}
	}
	cl, err := newClient(kgo.ConsumePartitions(assign), kgo.KeepControlRecords(),
		// One batch per partition is all that is needed: the broker
		// sends a partition's first batch whatever its size.
		kgo.FetchMaxPartitionBytes(1), kgo.FetchMaxBytes(1<<20), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		fail(err)
		return
	}
	defer cl.Close()
	for len(asked) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			fail(fmt.Errorf("not read in time: %w", context.Cause(ctx)))
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			if q, ok := asked[tp{t, p}]; ok {
				out[q] = stamp{err: err}
				delete(asked, tp{t, p})
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			k := tp{r.Topic, r.Partition}
			q, ok := asked[k]
			if !ok || r.Offset < q.From {
				return
			}
			switch {
			case !r.Attrs.IsControl():
				out[q] = stamp{ms: r.Timestamp.UnixMilli()}
			case r.Offset+1 >= q.End:
				out[q] = stamp{none: true} // only markers were left
			default:
				return // a transaction marker: the next record is the oldest
			}
			delete(asked, k)
		})
	}
}
