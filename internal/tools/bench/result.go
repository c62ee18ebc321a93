package bench

// result.go holds what a run measured and its two renderings: text for
// people and one flat JSON object for scripts.

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"
)

// Throughput is what one side of a run moved.
type Throughput struct {
	Records int64         // records produced (acknowledged) or received
	Bytes   int64         // value bytes of those records
	Elapsed time.Duration // wall time the side took
	// Start is when the side started (set for produce), so that a script
	// can line the run up with what the broker did meanwhile.
	Start time.Time
}

// RecordsPerSec is the record rate, or 0 if nothing was timed.
func (t Throughput) RecordsPerSec() float64 {
	if t.Elapsed <= 0 {
		return 0
	}
	return float64(t.Records) / t.Elapsed.Seconds()
}

// MBPerSec is the value byte rate in 10^6 bytes per second.
func (t Throughput) MBPerSec() float64 {
	if t.Elapsed <= 0 {
		return 0
	}
	return float64(t.Bytes) / 1e6 / t.Elapsed.Seconds()
}

// Loss is what a consumer found wrong with the records it read.
type Loss struct {
	Missing      int      // sequence numbers never received
	Duplicates   int      // records received more than once
	Invalid      int      // records too short or out of the run's range
	FirstMissing []uint64 // a few missing sequence numbers, for errors

	// KeysLost counts, on a compacted topic, the keys of which no record
	// that may be the newest in the log arrived (see keys.go): a real
	// loss, unlike superseded records the cleaner removed.
	KeysLost int
	// FetchErrors counts errors fetches returned; kgo retries on its own,
	// so they matter only to explain missing records.
	FetchErrors    int
	LastFetchError error
}

// ok reports whether the consumer read every record exactly once or, on a
// compacted topic, no record twice and the newest record of every key.
func (l Loss) ok(compacted bool) bool {
	if compacted {
		return l.Duplicates == 0 && l.Invalid == 0 && l.KeysLost == 0
	}
	return l.Missing == 0 && l.Duplicates == 0 && l.Invalid == 0
}

// Result is what one run measured.
type Result struct {
	Topic             string
	Records           int
	Size              int
	Partitions        int32
	ReplicationFactor int16
	Producers         int
	Compression       string
	// Keys is the number of distinct record keys (0: records had none).
	Keys int
	// Compacted reports that the topic's cleanup.policy compacts, so the
	// consumers checked only what compaction promises (see keys.go).
	Compacted bool
	// Transactional reports that the producers wrote in transactions of
	// TxnRecords records each or, if that is 0, lasting TxnInterval, and
	// that the consumers read with isolation read_committed.
	Transactional bool
	TxnRecords    int
	TxnInterval   time.Duration

	// Produce is the producers' side, first Produce to last ack.
	Produce Throughput
	// Consume is the second consumer's side: the whole topic read from the
	// beginning after production finished.
	Consume Throughput
	// E2E is the latency the first consumer, running alongside the
	// producers, saw from Produce call to poll.
	E2E Latency
	// Commit is, in a transactional run, the latency of ending a
	// transaction: flushing its records and EndTransaction committing
	// it. Its Samples is the number of transactions.
	Commit Latency

	E2ELoss     Loss // what the first consumer found
	ConsumeLoss Loss // what the second consumer found
}

// Check returns an error if either consumer missed records or saw a record
// twice: with an idempotent producer, the log must hold each record once.
// On a compacted topic records superseded by a newer one of their key may
// be missing, but not the newest record of any key (see keys.go).
func (r Result) Check() error {
	for _, pass := range []struct {
		name string
		loss Loss
	}{{"end-to-end consumer", r.E2ELoss}, {"consumer", r.ConsumeLoss}} {
		l := pass.loss
		if l.ok(r.Compacted) {
			continue
		}
		var err error
		if r.Compacted {
			err = fmt.Errorf("bench: %s of the compacted topic: the newest record of %d of %d keys missing, %d duplicates, %d invalid (%d of %d records read; superseded ones may be missing)",
				pass.name, l.KeysLost, r.Keys, l.Duplicates, l.Invalid, r.Records-l.Missing, r.Records)
		} else {
			err = fmt.Errorf("bench: %s read %d of %d records: %d missing (first %v), %d duplicates, %d invalid",
				pass.name, r.Records-l.Missing, r.Records, l.Missing, l.FirstMissing, l.Duplicates, l.Invalid)
		}
		if l.LastFetchError != nil {
			err = fmt.Errorf("%w; %d fetch errors, the last: %w", err, l.FetchErrors, l.LastFetchError)
		}
		return err
	}
	return nil
}

// jsonResult is the flat JSON form of Result: one level, unique keys, rates
// and milliseconds as numbers, so a shell script can pick fields with sed.
type jsonResult struct {
	Topic             string `json:"topic"`
	Records           int    `json:"records"`
	Size              int    `json:"size"`
	Partitions        int32  `json:"partitions"`
	ReplicationFactor int16  `json:"replication_factor"`
	Producers         int    `json:"producers"`
	Compression       string `json:"compression"`
	Keys              int    `json:"keys"`
	Compacted         bool   `json:"compacted"`
	// Check is what the consumers checked: "exact" (every record once)
	// or "compacted" (no record twice, the newest of every key).
	Check string `json:"check"`

	Transactional bool    `json:"transactional"`
	TxnRecords    int     `json:"txn_records"`
	TxnIntervalMs float64 `json:"txn_interval_ms"`
	Transactions  int     `json:"transactions"`
	CommitP50Ms   float64 `json:"commit_p50_ms"`
	CommitP99Ms   float64 `json:"commit_p99_ms"`
	CommitMaxMs   float64 `json:"commit_max_ms"`
	CommitMeanMs  float64 `json:"commit_mean_ms"`

	ProduceSeconds       float64 `json:"produce_seconds"`
	ProduceRecordsPerSec float64 `json:"produce_records_per_sec"`
	ProduceMBPerSec      float64 `json:"produce_mb_per_sec"`
	ProduceStartUnixMs   int64   `json:"produce_start_unix_ms"`
	ProduceEndUnixMs     int64   `json:"produce_end_unix_ms"`

	ConsumeSeconds       float64 `json:"consume_seconds"`
	ConsumeRecordsPerSec float64 `json:"consume_records_per_sec"`
	ConsumeMBPerSec      float64 `json:"consume_mb_per_sec"`
	ConsumeMissing       int     `json:"consume_missing"`
	ConsumeDuplicates    int     `json:"consume_duplicates"`
	ConsumeKeysLost      int     `json:"consume_keys_lost"`

	E2ESamples    int     `json:"e2e_samples"`
	E2EP50Ms      float64 `json:"e2e_p50_ms"`
	E2EP99Ms      float64 `json:"e2e_p99_ms"`
	E2EP999Ms     float64 `json:"e2e_p999_ms"`
	E2EMaxMs      float64 `json:"e2e_max_ms"`
	E2EMeanMs     float64 `json:"e2e_mean_ms"`
	E2EMissing    int     `json:"e2e_missing"`
	E2EDuplicates int     `json:"e2e_duplicates"`
	E2EKeysLost   int     `json:"e2e_keys_lost"`
}

// MarshalJSON renders r as one flat object; see jsonResult.
func (r Result) MarshalJSON() ([]byte, error) {
	ms := func(d time.Duration) float64 { return round(float64(d)/1e6, 3) }
	return json.Marshal(jsonResult{
		Topic:             r.Topic,
		Records:           r.Records,
		Size:              r.Size,
		Partitions:        r.Partitions,
		ReplicationFactor: r.ReplicationFactor,
		Producers:         r.Producers,
		Compression:       r.Compression,
		Keys:              r.Keys,
		Compacted:         r.Compacted,
		Check:             r.checkName(),

		Transactional: r.Transactional,
		TxnRecords:    r.TxnRecords,
		TxnIntervalMs: ms(r.TxnInterval),
		Transactions:  r.Commit.Samples,
		CommitP50Ms:   ms(r.Commit.P50),
		CommitP99Ms:   ms(r.Commit.P99),
		CommitMaxMs:   ms(r.Commit.Max),
		CommitMeanMs:  ms(r.Commit.Mean),

		ProduceSeconds:       round(r.Produce.Elapsed.Seconds(), 3),
		ProduceRecordsPerSec: round(r.Produce.RecordsPerSec(), 0),
		ProduceMBPerSec:      round(r.Produce.MBPerSec(), 2),
		ProduceStartUnixMs:   unixMs(r.Produce.Start),
		ProduceEndUnixMs:     unixMs(r.Produce.Start.Add(r.Produce.Elapsed)),

		ConsumeSeconds:       round(r.Consume.Elapsed.Seconds(), 3),
		ConsumeRecordsPerSec: round(r.Consume.RecordsPerSec(), 0),
		ConsumeMBPerSec:      round(r.Consume.MBPerSec(), 2),
		ConsumeMissing:       r.ConsumeLoss.Missing,
		ConsumeDuplicates:    r.ConsumeLoss.Duplicates,
		ConsumeKeysLost:      r.ConsumeLoss.KeysLost,

		E2ESamples:    r.E2E.Samples,
		E2EP50Ms:      ms(r.E2E.P50),
		E2EP99Ms:      ms(r.E2E.P99),
		E2EP999Ms:     ms(r.E2E.P999),
		E2EMaxMs:      ms(r.E2E.Max),
		E2EMeanMs:     ms(r.E2E.Mean),
		E2EMissing:    r.E2ELoss.Missing,
		E2EDuplicates: r.E2ELoss.Duplicates,
		E2EKeysLost:   r.E2ELoss.KeysLost,
	})
}

// checkName names what Check checks, for the JSON form.
func (r Result) checkName() string {
	if r.Compacted {
		return "compacted"
	}
	return "exact"
}

// unixMs is t in milliseconds since the Unix epoch, 0 for the zero time.
func unixMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// round rounds x to digits decimal places.
func round(x float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(x*p) / p
}

// WriteText writes r for people, ending with a line that says what the
// consumers checked and what they found.
func (r Result) WriteText(w io.Writer) error {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }
	keys := "no keys"
	if r.Keys > 0 {
		keys = fmt.Sprintf("%d keys", r.Keys)
	}
	producing, reading, commit := "acks=all, idempotent", "", ""
	if r.Transactional {
		producing, reading = "acks=all, transactional", ", read_committed"
		every := fmt.Sprintf("every %s", r.TxnInterval)
		if r.TxnRecords > 0 {
			every = fmt.Sprintf("every %d records per producer", r.TxnRecords)
		}
		commit = fmt.Sprintf("commit    p50 %s  p99 %s  max %s  (%d transactions, %s; flush and EndTransaction)\n",
			ms(r.Commit.P50), ms(r.Commit.P99), ms(r.Commit.Max), r.Commit.Samples, every)
	}
	_, err := fmt.Fprintf(w, `topic %s: %d records of %d bytes, %s, %d partitions, %d producer(s), compression %s
produce   %12.0f rec/s %9.2f MB/s   %d records in %.2fs (%s)
%sconsume   %12.0f rec/s %9.2f MB/s   %d records in %.2fs (from the beginning, after producing%s)
e2e       p50 %s  p99 %s  p99.9 %s  max %s  (%d samples, consumer alongside the producers%s)
check     %s
`,
		r.Topic, r.Records, r.Size, keys, r.Partitions, r.Producers, r.Compression,
		r.Produce.RecordsPerSec(), r.Produce.MBPerSec(), r.Produce.Records, r.Produce.Elapsed.Seconds(), producing,
		commit,
		r.Consume.RecordsPerSec(), r.Consume.MBPerSec(), r.Consume.Records, r.Consume.Elapsed.Seconds(), reading,
		ms(r.E2E.P50), ms(r.E2E.P99), ms(r.E2E.P999), ms(r.E2E.Max), r.E2E.Samples, reading,
		r.checkText())
	return err
}

// checkText says what the consumers checked, and what they found.
func (r Result) checkText() string {
	verdict := "passed"
	if r.Check() != nil {
		verdict = "FAILED"
	}
	if !r.Compacted {
		return fmt.Sprintf("every record read exactly once by both consumers: %s", verdict)
	}
	return fmt.Sprintf("compacted topic: no record read twice and the newest record of all %d keys read, by both consumers: %s; "+
		"superseded records not read (the cleaner may remove them): %d end-to-end, %d consume",
		r.Keys, verdict, r.E2ELoss.Missing, r.ConsumeLoss.Missing)
}
