package console

// produce.go sends one record per input line and accounts for every record
// the cluster did not take.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ProduceConfig describes a produce run. The zero value of every field but
// Topic is a sensible default.
type ProduceConfig struct {
	Topic        string             // Topic receives the records.
	Key          []byte             // Key is every record's key; nil means no key.
	Partition    int32              // Partition pins every record to one partition; -1 lets the default (sticky, key-hashing) partitioner choose.
	Headers      []kgo.RecordHeader // Headers are added to every record.
	Acks         string             // Acks is "all" (default), "1" or "0"; 1 and 0 disable idempotent writes, and 0 (fire and forget) can lose records without an error.
	Compression  string             // Compression is none (default), gzip, snappy, lz4 or zstd.
	MaxLineBytes int                // MaxLineBytes is the longest line accepted; 0 means DefaultMaxLineBytes.
	// KeySeparator, if set, splits each line at its first occurrence into
	// the record's key and value (Kafka's console producer's parse.key and
	// key.separator, kcat's -K); a line without it fails.
	KeySeparator string
	// NullEmpty sends an empty value as null: a tombstone, which deletes
	// its key from a compacted topic (kcat's -Z).
	NullEmpty bool
}

// ProduceStats counts what a produce run did.
type ProduceStats struct {
	Topic    string        // Topic is where the records went.
	Records  int64         // Records is how many records the cluster acknowledged.
	Bytes    int64         // Bytes is the total value size of the acknowledged records.
	Failed   int64         // Failed is how many records were not delivered.
	FirstErr error         // FirstErr is the error of the first failed record.
	Elapsed  time.Duration // Elapsed is the wall time of the run.
}

// String is the one-line summary printed by courier produce -v.
func (s ProduceStats) String() string {
	rate := 0.0
	if sec := s.Elapsed.Seconds(); sec > 0 {
		rate = float64(s.Records) / sec
	}
	return fmt.Sprintf("produced %d records (%d value bytes) to %s in %s (%.0f records/s), %d failed",
		s.Records, s.Bytes, s.Topic, s.Elapsed.Round(time.Millisecond), rate, s.Failed)
}

// Produce sends one record per line of in to cfg.Topic, using a new client
// built from clientOpts (seed brokers, client ID) plus the options cfg
// implies. It returns once every record read is acknowledged or failed; the
// error reports the records that failed and any input error (such as a
// line over the limit, which ends the input). When ctx ends (Ctrl-C) it
// stops reading at once, even mid-wait for input, and records not yet
// acknowledged fail.
func Produce(ctx context.Context, clientOpts []kgo.Opt, cfg ProduceConfig, in io.Reader) (ProduceStats, error) {
	start := time.Now()
	st := ProduceStats{Topic: cfg.Topic}
	if cfg.Topic == "" {
		return st, errors.New("produce: empty topic name")
	}
	opts, err := cfg.clientOpts()
	if err != nil {
		return st, fmt.Errorf("produce to %s: %w", cfg.Topic, err)
	}
	// The batch cap is read when a partition is first produced to, which
	// is after the limit is learned below.
	var batchMax atomic.Int32
	batchMax.Store(defaultMaxMessageBytes)
	opts = append(opts, kgo.ProducerBatchMaxBytesFn(func(string) int32 { return batchMax.Load() }))
	cl, err := kgo.NewClient(append(clientOpts[:len(clientOpts):len(clientOpts)], opts...)...)
	if err != nil {
		return st, fmt.Errorf("produce to %s: create Kafka client: %w", cfg.Topic, err)
	}
	batchMax.Store(topicMaxMessageBytes(ctx, cl, cfg.Topic))

	var t tally
	lines := NewLineReader(in, cfg.MaxLineBytes)
	values, readDone := readValues(ctx, lines)
	inputEnded := false
feed:
	for {
		select {
		case <-ctx.Done():
			break feed
		case v, ok := <-values:
			if !ok {
				inputEnded = true
				break feed
			}
			t.pending.Add(1)
			r, err := cfg.record(v)
			if err != nil {
				t.promise(r, err)
				continue
			}
			cl.Produce(ctx, r, t.promise)
		}
	}
	// Flush fails only if ctx ends (Ctrl-C); Close then fails what is left,
	// and those records are reported below.
	var layout error
	if cl.Flush(ctx) == nil {
		t.pending.Wait()
		layout = t.missingTopic(ctx, cl, cfg)
	}
	cl.Close()
	t.pending.Wait()
	st.Records, st.Bytes, st.Failed, st.FirstErr = t.records, t.bytes, t.failed, t.firstErr
	st.Elapsed = time.Since(start)

	var errs []error
	if st.Failed > 0 {
		errs = append(errs, fmt.Errorf("%d of %d records failed: %w",
			st.Failed, st.Failed+st.Records, explainProduceErr(cfg, st.FirstErr, layout)))
	}
	if inputEnded {
		<-readDone // the reader closes values just before it is done
		if err := lines.Err(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return st, fmt.Errorf("produce to %s: %w", cfg.Topic, errors.Join(errs...))
	}
	return st, nil
}

// errNoKeySeparator fails a line without the key separator.
var errNoKeySeparator = errors.New("line has no key separator")

// record builds the record of one input line.
func (cfg ProduceConfig) record(line []byte) (*kgo.Record, error) {
	r := &kgo.Record{Topic: cfg.Topic, Key: cfg.Key, Value: line, Headers: cfg.Headers, Partition: cfg.Partition}
	if cfg.KeySeparator != "" {
		k, v, ok := bytes.Cut(line, []byte(cfg.KeySeparator))
		if !ok {
			return r, fmt.Errorf("%w %q: %.40q", errNoKeySeparator, cfg.KeySeparator, line)
		}
		r.Key, r.Value = k, v
	}
	if cfg.NullEmpty && len(r.Value) == 0 {
		r.Value = nil
	}
	return r, nil
}

// Validate reports the first setting of cfg that Produce would refuse, so
// that a caller can check the settings before it connects to anything.
func (cfg ProduceConfig) Validate() error {
	if cfg.Topic == "" {
		return errors.New("produce: empty topic name")
	}
	if _, err := cfg.clientOpts(); err != nil {
		return fmt.Errorf("produce to %s: %w", cfg.Topic, err)
	}
	if cfg.KeySeparator != "" && cfg.Key != nil {
		return fmt.Errorf("produce to %s: --key and --key-separator both set the key: give one", cfg.Topic)
	}
	return nil
}

// clientOpts returns the kgo options cfg implies.
func (cfg ProduceConfig) clientOpts() ([]kgo.Opt, error) {
	acks, idempotent, err := ParseAcks(cfg.Acks)
	if err != nil {
		return nil, err
	}
	codec, err := ParseCompression(cfg.Compression)
	if err != nil {
		return nil, err
	}
	maxLine := cfg.MaxLineBytes
	if maxLine <= 0 {
		maxLine = DefaultMaxLineBytes
	}
	if maxLine > maxLineLimit {
		return nil, fmt.Errorf("max line bytes %d: at most %d", maxLine, maxLineLimit)
	}
	opts := []kgo.Opt{
		// As other Kafka producers: a topic that does not exist is created
		// by a broker that creates topics on demand (Kafka's
		// auto.create.topics.enable, Courier's --auto-create-topics).
		kgo.AllowAutoTopicCreation(),
		kgo.RequiredAcks(acks),
		kgo.ProducerBatchCompression(codec),
		kgo.MaxBufferedBytes(max(64<<20, 4*maxLine)),
	}
	if !idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	if cfg.Partition >= 0 {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	return opts, nil
}

// maxLineLimit bounds MaxLineBytes: no broker takes a record near 1 GiB.
const maxLineLimit = 512 << 20

// missingTopicTimeout bounds the metadata request that explains a failed
// produce.
const missingTopicTimeout = 10 * time.Second

// missingTopic returns, after records failed in a way that may mean the
// topic or the pinned partition does not exist, checkTopic's verdict
// (errNoTopic, errNoPartition), else nil.
func (t *tally) missingTopic(ctx context.Context, cl *kgo.Client, cfg ProduceConfig) error {
	t.mu.Lock()
	failed, first := t.failed, t.firstErr
	t.mu.Unlock()
	if failed == 0 || !(cfg.Partition >= 0 || errors.Is(first, kerr.UnknownTopicOrPartition)) {
		return nil
	}
	mctx, cancel := context.WithTimeout(ctx, missingTopicTimeout)
	defer cancel()
	if err := checkTopic(mctx, cl, cfg.Topic, cfg.Partition); errors.Is(err, errNoTopic) || errors.Is(err, errNoPartition) {
		return err
	}
	return nil
}

// explainProduceErr rewrites the Kafka errors a user can act on. layout is
// checkTopic's verdict after the failure, if it found the topic or
// partition missing.
func explainProduceErr(cfg ProduceConfig, err, layout error) error {
	switch {
	case errors.Is(layout, errNoTopic):
		// The producer asked the cluster to create the topic.
		return &plainError{fmt.Sprintf("unknown topic %s: the cluster did not create it (its automatic topic creation, "+
			"auto.create.topics.enable or courier broker --auto-create-topics, is off); create it first: courier topic create %s",
			cfg.Topic, cfg.Topic), err}
	case errors.Is(layout, errNoPartition):
		return &plainError{layout.Error(), err}
	case errors.Is(err, context.Canceled), errors.Is(err, kgo.ErrClientClosed):
		return fmt.Errorf("interrupted before delivery: %w", err)
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		if cfg.Partition >= 0 {
			return &plainError{fmt.Sprintf("unknown topic %s or partition %d", cfg.Topic, cfg.Partition), err}
		}
		return &plainError{"unknown topic " + cfg.Topic, err}
	case errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge):
		return fmt.Errorf("record larger than the topic's max.message.bytes: %w", err)
	case errors.Is(err, kerr.TopicAuthorizationFailed):
		return fmt.Errorf("not authorized to write to topic %s: %w", cfg.Topic, err)
	case errors.Is(err, kerr.ClusterAuthorizationFailed):
		return fmt.Errorf("not authorized for idempotent writes (try --acks 1): %w", err)
	case errors.Is(err, kerr.InvalidRecord) && cfg.Key == nil && cfg.KeySeparator == "":
		// The commonest cause by far; the broker's own reason is in its log.
		return fmt.Errorf("the broker refused the records (a compacted topic, cleanup.policy=compact, needs a key on every record: give --key or --key-separator): %w", err)
	default:
		return err
	}
}

// plainError is an error whose message replaces its cause's wording while
// errors.Is still finds the cause.
type plainError struct {
	msg   string
	cause error
}

// Error returns the replacement message.
func (e *plainError) Error() string { return e.msg }

// Unwrap returns the cause.
func (e *plainError) Unwrap() error { return e.cause }

// tally counts the outcome of produced records from their promises.
type tally struct {
	pending  sync.WaitGroup // pending has one count per record not yet promised
	mu       sync.Mutex
	records  int64
	bytes    int64
	failed   int64
	firstErr error
}

// promise is the kgo promise of every record.
func (t *tally) promise(r *kgo.Record, err error) {
	t.mu.Lock()
	if err == nil {
		t.records++
		t.bytes += int64(len(r.Value))
	} else {
		t.failed++
		if t.firstErr == nil {
			t.firstErr = err
		}
	}
	t.mu.Unlock()
	t.pending.Done()
}
