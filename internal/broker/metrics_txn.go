package broker

// metrics_txn.go reports transactions on scrape: the transaction
// coordinator's ids by state and its counters (committed, aborted, timed
// out, expired ids, marker retries, records it could not store), and the
// group coordinator's transactional offsets (open transactions, pending
// offsets, and what commits and aborts did to them).

import (
	"github.com/prometheus/client_golang/prometheus"
)

// txnCollector collects both coordinators' transaction figures.
type txnCollector struct{ b *Broker }

var (
	descTxnIDs = prometheus.NewDesc("courier_transactional_ids", "Transactional ids the coordinator knows, by state: ongoing, completing (PrepareCommit/PrepareAbort, markers being written), or idle.", []string{"state"}, nil)
	descTxnEnd = prometheus.NewDesc("courier_transactions_total", "Transactions the coordinator completed since start, by result: committed, aborted, or timed_out (aborted by the coordinator because its producer went silent; also counted as aborted).", []string{"result"}, nil)

	descTxnExpired       = prometheus.NewDesc("courier_transactional_ids_expired_total", "Transactional ids forgotten after transactional.id.expiration.ms without use.", nil, nil)
	descTxnMarkerRetries = prometheus.NewDesc("courier_transaction_marker_retries_total", "Attempts to write a transaction's markers that left a partition or group to retry.", nil, nil)
	descTxnWriteFailures = prometheus.NewDesc("courier_transaction_state_write_failures_total", "Transaction state records that could not be stored (the request was answered NOT_COORDINATOR, or retried in the background).", nil, nil)
	descTxnOffsetsOpen   = prometheus.NewDesc("courier_group_transactions_open", "(group, producer) pairs with transactional offsets pending or on their way.", nil, nil)
	descTxnOffsetsPend   = prometheus.NewDesc("courier_group_transactional_offsets_pending", "Transactional offset commits waiting for their transaction to end.", nil, nil)
	descTxnOffsetsDone   = prometheus.NewDesc("courier_group_transactional_offsets_total", "Transactional offsets a committed transaction ended, by result: applied (now the group's offset) or superseded (the partition was committed again later in the log).", []string{"result"}, nil)
	descTxnGroupEnds     = prometheus.NewDesc("courier_group_transactions_total", "Transactions ended in a group (their offsets made visible or dropped), by result.", []string{"result"}, nil)
)

func (c txnCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descTxnIDs, descTxnEnd, descTxnExpired, descTxnMarkerRetries, descTxnWriteFailures,
		descTxnOffsetsOpen, descTxnOffsetsPend, descTxnOffsetsDone, descTxnGroupEnds} {
		ch <- d
	}
}

func (c txnCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	if t := c.b.txns; t != nil { // nil until Open has it
		s := t.Stats()
		gauge(descTxnIDs, float64(s.Ongoing), "ongoing")
		gauge(descTxnIDs, float64(s.Completing), "completing")
		gauge(descTxnIDs, float64(s.IDs-s.Ongoing-s.Completing), "idle")
		counter(descTxnEnd, float64(s.Committed), "committed")
		counter(descTxnEnd, float64(s.Aborted), "aborted")
		counter(descTxnEnd, float64(s.TimedOut), "timed_out")
		counter(descTxnExpired, float64(s.Expired))
		counter(descTxnMarkerRetries, float64(s.MarkerRetries))
		counter(descTxnWriteFailures, float64(s.WriteFailures))
	}
	if g := c.b.groups; g != nil {
		s := g.TxnStats()
		gauge(descTxnOffsetsOpen, float64(s.OpenTransactions))
		gauge(descTxnOffsetsPend, float64(s.PendingOffsets))
		counter(descTxnOffsetsDone, float64(s.OffsetsApplied), "applied")
		counter(descTxnOffsetsDone, float64(s.OffsetsSuperseded), "superseded")
		counter(descTxnGroupEnds, float64(s.Committed), "committed")
		counter(descTxnGroupEnds, float64(s.Aborted), "aborted")
	}
}
