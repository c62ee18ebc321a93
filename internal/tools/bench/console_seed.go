package bench

// console_seed.go fills a cluster for the console benchmark (console.go)
// through the Kafka protocol, as fast as a client can:
//   - Topics topics "<prefix>-t00000"... of one partition, created a
//     thousand per CreateTopics request;
//   - the records topic "<prefix>-records" of Partitions partitions:
//     record i (of Records) has key "key-%010d" of i, a value of Size
//     random bytes (each its own), the timestamp base+i ms, and goes to
//     partition i % Partitions, so that it lands at offset i / Partitions
//     there;
//   - Groups groups "<prefix>-g0000"... with committed offsets and no
//     members: each on every partition of the records topic (a tenth to
//     ten elevenths of the way, so lags differ) and on one small topic,
//     committed with kadm, many groups at a time.
//
// consoleExpectations then reads back, with a plain consumer, the two
// records the timed operations must find: the search's key near the end,
// and the record a browse by timestamp must start at.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	// consoleKeyBack puts the searched key this many records before the
	// end: a search finds it only after scanning almost everything.
	consoleKeyBack = 7
	// consoleBrowseBack puts the browsed timestamp this many records
	// before the end (or halfway, on a smaller topic).
	consoleBrowseBack = 1000
	// consoleMaxRecords bounds Records: keys have ten digits.
	consoleMaxRecords = 1_000_000_000
	// createTopicsBatch is how many topics one CreateTopics creates.
	createTopicsBatch = 1000
	// commitWorkers is how many groups commit at once.
	commitWorkers = 32
	// valueBuffer is the random bytes values are windows of.
	valueBuffer = 4 << 20
)

// valueOf is record i's value: size bytes of random from a start that
// jumps by a large prime from one record to the next.
func valueOf(random []byte, i, size int) []byte {
	at := (i * 1_000_003) % (len(random) - size + 1)
	return random[at : at+size]
}

// consoleNames are the seeded names of a prefix.
type consoleNames struct{ prefix string }

func (n consoleNames) topic(i int) string  { return fmt.Sprintf("%s-t%05d", n.prefix, i) }
func (n consoleNames) group(i int) string  { return fmt.Sprintf("%s-g%04d", n.prefix, i) }
func (n consoleNames) records() string     { return n.prefix + "-records" }
func (n consoleNames) topicPrefix() string { return n.prefix + "-t" }
func (n consoleNames) groupPrefix() string { return n.prefix + "-g" }

// consoleKey is record i's key.
func consoleKey(i int) []byte { return fmt.Appendf(nil, "key-%010d", i) }

// browseIndex is the record a browse by timestamp starts at.
func browseIndex(records int) int { return records - min(consoleBrowseBack, records/2) }

// seedConsole makes the topics, the records and the groups.
func seedConsole(ctx context.Context, cl *kgo.Client, cfg ConsoleConfig) (*ConsoleSeed, error) {
	names := consoleNames{cfg.Prefix}
	adm := kadm.NewClient(cl)
	seed := &ConsoleSeed{Topics: cfg.Topics, Groups: cfg.Groups, Records: cfg.Records, Size: cfg.Size,
		Partitions: cfg.Partitions, RecordsTopic: names.records()}

	began := time.Now()
	all := make([]string, 0, cfg.Topics)
	for i := range cfg.Topics {
		all = append(all, names.topic(i))
	}
	for from := 0; from < len(all); from += createTopicsBatch {
		if err := createTopics(ctx, adm, 1, all[from:min(from+createTopicsBatch, len(all))]); err != nil {
			return nil, err
		}
		cfg.logf("created %d of %d topics", min(from+createTopicsBatch, len(all)), len(all))
	}
	seed.TopicsSeconds = time.Since(began).Seconds()

	began = time.Now()
	if err := createTopics(ctx, adm, cfg.Partitions, []string{names.records()}); err != nil {
		return nil, err
	}
	ends, err := produceConsoleRecords(ctx, cfg, names.records())
	if err != nil {
		return nil, err
	}
	seed.RecordsSeconds = time.Since(began).Seconds()
	cfg.logf("produced %d records of %d bytes in %.1f s", cfg.Records, cfg.Size, seed.RecordsSeconds)

	began = time.Now()
	if err := commitConsoleGroups(ctx, adm, cfg, names, ends); err != nil {
		return nil, err
	}
	seed.GroupsSeconds = time.Since(began).Seconds()
	cfg.logf("committed offsets of %d groups in %.1f s", cfg.Groups, seed.GroupsSeconds)
	return seed, nil
}

// createTopics creates topics of partitions partitions (the broker's
// replication factor) in one request; a topic that exists already is an
// error that says what to do.
func createTopics(ctx context.Context, adm *kadm.Client, partitions int32, topics []string) error {
	resps, err := adm.CreateTopics(ctx, partitions, -1, nil, topics...)
	if err != nil {
		return fmt.Errorf("bench console: create %d topics: %w", len(topics), err)
	}
	for _, r := range resps.Sorted() {
		switch {
		case errors.Is(r.Err, kerr.TopicAlreadyExists):
			return fmt.Errorf("bench console: topic %s exists already: measure what is seeded with --no-seed, or seed under another --prefix", r.Topic)
		case r.Err != nil:
			return fmt.Errorf("bench console: create topic %s: %w (%s)", r.Topic, r.Err, r.ErrMessage)
		}
	}
	return nil
}

// produceConsoleRecords writes the records topic and returns its
// partitions' end offsets.
func produceConsoleRecords(ctx context.Context, cfg ConsoleConfig, topic string) (map[int32]int64, error) {
	opts := append(append([]kgo.Opt(nil), cfg.ClientOpts...),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchMaxBytes(batchMaxBytes),
		kgo.MaxBufferedRecords(100_000),
		kgo.ProducerLinger(5*time.Millisecond))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("bench console: %w", err)
	}
	defer cl.Close()
	// Values are windows of a random buffer at scattered starts: every
	// record's value differs and does not compress, as real data mostly
	// does not compress much. (One value for every record would compress
	// some twentyfold, and a fetch of a few hundred kilobytes would then
	// decode into tens of megabytes of records.)
	random := make([]byte, valueBuffer+cfg.Size)
	_, _ = rand.Read(random) // crypto/rand.Read never fails (Go 1.24+)
	base := time.Now().Add(-time.Duration(cfg.Records) * time.Millisecond).Truncate(time.Millisecond)
	err = produceAll(ctx, cl, cfg.Records, func(i int) *kgo.Record {
		return &kgo.Record{Topic: topic, Partition: int32(i % int(cfg.Partitions)), Key: consoleKey(i),
			Value: valueOf(random, i, cfg.Size), Timestamp: base.Add(time.Duration(i) * time.Millisecond)}
	})
	if err != nil {
		return nil, fmt.Errorf("bench console: produce to %s: %w", topic, err)
	}
	ends, err := topicEnds(ctx, kadm.NewClient(cl), topic)
	if err != nil {
		return nil, fmt.Errorf("bench console: %w", err)
	}
	return ends, nil
}

// produceAll produces records 0 to n-1 (record makes each) with cl and
// waits until every one is acknowledged; it fails with the first error
// and how many records failed.
func produceAll(ctx context.Context, cl *kgo.Client, n int, record func(i int) *kgo.Record) error {
	var (
		mu     sync.Mutex
		first  error
		failed int
	)
	for i := range n {
		cl.Produce(ctx, record(i), func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				if failed++; first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	if first != nil {
		return fmt.Errorf("%d of %d records not produced, the first: %w", failed, n, first)
	}
	return nil
}

// topicEnds lists topic's partitions' end offsets.
func topicEnds(ctx context.Context, adm *kadm.Client, topic string) (map[int32]int64, error) {
	listed, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	ends := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	return ends, nil
}

// commitConsoleGroups commits the groups' offsets, commitWorkers groups
// at a time.
func commitConsoleGroups(ctx context.Context, adm *kadm.Client, cfg ConsoleConfig, names consoleNames, ends map[int32]int64) error {
	next := make(chan int)
	errs := make([]error, commitWorkers)
	var wg sync.WaitGroup
	for w := range commitWorkers {
		wg.Go(func() {
			for g := range next {
				if errs[w] != nil {
					continue // drain: the first error is reported
				}
				errs[w] = commitGroup(ctx, adm, cfg, names, ends, g)
			}
		})
	}
	for g := range cfg.Groups {
		next <- g
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

// commitGroup commits group g's offsets.
func commitGroup(ctx context.Context, adm *kadm.Client, cfg ConsoleConfig, names consoleNames, ends map[int32]int64, g int) error {
	group := names.group(g)
	offs := kadm.Offsets{}
	for p, end := range ends {
		offs.Add(kadm.Offset{Topic: names.records(), Partition: p, At: end * int64(g%10+1) / 11, LeaderEpoch: -1})
	}
	if cfg.Topics > 0 {
		offs.Add(kadm.Offset{Topic: names.topic(g % cfg.Topics), Partition: 0, At: 0, LeaderEpoch: -1})
	}
	resps, err := adm.CommitOffsets(ctx, group, offs)
	if err == nil {
		err = resps.Error()
	}
	if err != nil {
		return fmt.Errorf("bench console: commit offsets of group %s: %w", group, err)
	}
	return nil
}

// consoleWant is what the timed operations must answer.
type consoleWant struct {
	names        consoleNames
	topics       int
	groups       int
	records      int
	key          string // the searched key
	keyPartition int32
	keyOffset    int64
	browseMs     int64 // the browsed timestamp
	browsePart   int32 // the record it must start at
	browseOffset int64
}

// consoleExpectations checks that the records topic holds cfg.Records
// records and reads back the two records the timed operations must find.
func consoleExpectations(ctx context.Context, cl *kgo.Client, cfg ConsoleConfig) (consoleWant, error) {
	names := consoleNames{cfg.Prefix}
	w := consoleWant{names: names, topics: cfg.Topics, groups: cfg.Groups, records: cfg.Records}
	ends, err := topicEnds(ctx, kadm.NewClient(cl), names.records())
	if err != nil {
		return w, fmt.Errorf("bench console: %w", err)
	}
	var total int64
	for _, e := range ends {
		total += e
	}
	if len(ends) != int(cfg.Partitions) || total != int64(cfg.Records) {
		return w, fmt.Errorf("bench console: topic %s has %d records on %d partitions, want %d on %d: was it seeded with these --records and --partitions?",
			names.records(), total, len(ends), cfg.Records, cfg.Partitions)
	}
	locate := func(i int) (int32, int64) { return int32(i % int(cfg.Partitions)), int64(i / int(cfg.Partitions)) }
	ki := cfg.Records - consoleKeyBack
	w.key = string(consoleKey(ki))
	w.keyPartition, w.keyOffset = locate(ki)
	if _, err := readSeeded(ctx, cfg.ClientOpts, names.records(), w.keyPartition, w.keyOffset, w.key); err != nil {
		return w, err
	}
	bi := browseIndex(cfg.Records)
	w.browsePart, w.browseOffset = locate(bi)
	r, err := readSeeded(ctx, cfg.ClientOpts, names.records(), w.browsePart, w.browseOffset, string(consoleKey(bi)))
	if err != nil {
		return w, err
	}
	w.browseMs = r.Timestamp.UnixMilli()
	return w, nil
}

// readSeeded reads the record at partition and offset of topic, which
// must have key.
func readSeeded(ctx context.Context, base []kgo.Opt, topic string, partition int32, offset int64, key string) (*kgo.Record, error) {
	opts := append(append([]kgo.Opt(nil), base...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().At(offset)}}),
		kgo.FetchMaxPartitionBytes(64<<10))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("bench console: %w", err)
	}
	defer cl.Close()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		fs := cl.PollRecords(rctx, 1)
		if err := rctx.Err(); err != nil {
			return nil, fmt.Errorf("bench console: read %s/%d at %d: %w", topic, partition, offset, err)
		}
		if err := fs.Err0(); err != nil {
			return nil, fmt.Errorf("bench console: read %s/%d at %d: %w", topic, partition, offset, err)
		}
		for _, r := range fs.Records() {
			if r.Offset != offset || string(r.Key) != key {
				return nil, fmt.Errorf("bench console: %s/%d at %d holds offset %d key %q, want key %q: was it seeded by this benchmark?",
					topic, partition, offset, r.Offset, r.Key, key)
			}
			return r, nil
		}
	}
}
