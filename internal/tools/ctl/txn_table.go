package ctl

// txn_table.go renders transaction listings, descriptions, producer states
// and hanging transactions as aligned plain-text tables, in the manner of
// table.go and with the fields kafka-transactions.sh shows. Unknown values
// (the -1 brokers send for "none") print as "-". Functions that show how
// long something has lasted take the time to measure to, so their output
// can be pinned by tests.

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteTxnList writes the transactions as a TRANSACTIONAL-ID / COORDINATOR /
// PRODUCER-ID / STATE table.
func WriteTxnList(w io.Writer, txns []TxnSummary) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "TRANSACTIONAL-ID\tCOORDINATOR\tPRODUCER-ID\tSTATE")
	for _, t := range txns {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", t.TransactionalID, t.Coordinator, num(t.ProducerID), orDash(t.State))
	}
	return tw.Flush()
}

// WriteTxnDescription writes the description as kafka-transactions.sh
// describe names its fields, one a line; the start time is shown both
// readable (UTC) and in Unix milliseconds, and the duration is measured
// to now.
func WriteTxnDescription(w io.Writer, d TxnDescription, now time.Time) error {
	start, duration := "-", "-"
	if d.StartMs >= 0 {
		t := time.UnixMilli(d.StartMs)
		start = fmt.Sprintf("%s (%d)", t.UTC().Format("2006-01-02T15:04:05.000Z"), d.StartMs)
		duration = since(t, now)
	}
	parts := make([]string, len(d.Partitions))
	for i, tp := range d.Partitions {
		parts[i] = tp.String()
	}
	tw := newTable(w)
	fmt.Fprintf(tw, "CoordinatorId:\t%d\n", d.CoordinatorID)
	fmt.Fprintf(tw, "TransactionalId:\t%s\n", d.TransactionalID)
	fmt.Fprintf(tw, "ProducerId:\t%s\n", num(d.ProducerID))
	fmt.Fprintf(tw, "ProducerEpoch:\t%s\n", num(int64(d.ProducerEpoch)))
	fmt.Fprintf(tw, "TransactionState:\t%s\n", orDash(d.State))
	fmt.Fprintf(tw, "TransactionTimeoutMs:\t%d\n", d.TimeoutMs)
	fmt.Fprintf(tw, "CurrentTransactionStartTime:\t%s\n", start)
	fmt.Fprintf(tw, "TransactionDuration:\t%s\n", duration)
	fmt.Fprintf(tw, "TopicPartitions:\t%s\n", orDash(strings.Join(parts, ",")))
	return tw.Flush()
}

// WriteProducers writes one line per producer of each partition:
// PARTITION, PRODUCER-ID, EPOCH, LAST-SEQUENCE, LAST-TIMESTAMP (Unix ms),
// COORDINATOR-EPOCH, TXN-START-OFFSET (the start of its open transaction,
// "-" if none). A partition that could not be described gets a line with
// its error; with no producer anywhere, it says so under the header.
func WriteProducers(w io.Writer, pps []PartitionProducers) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "PARTITION\tPRODUCER-ID\tEPOCH\tLAST-SEQUENCE\tLAST-TIMESTAMP\tCOORDINATOR-EPOCH\tTXN-START-OFFSET")
	rows := false
	for _, pp := range pps {
		if pp.Err != nil {
			fmt.Fprintf(tw, "%d\t-\t-\t-\t-\t-\t-\t%v\n", pp.Partition, pp.Err)
			rows = true
			continue
		}
		for _, p := range pp.Producers {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t%s\n", pp.Partition, p.ProducerID, p.ProducerEpoch,
				num(int64(p.LastSequence)), num(p.LastTimestamp), num(int64(p.CoordinatorEpoch)), num(p.TxnStartOffset))
			rows = true
		}
	}
	if !rows {
		fmt.Fprintln(tw, "(no active producers)")
	}
	return tw.Flush()
}

// WriteHanging writes the hanging transactions as kafka-transactions.sh
// find-hanging does (DURATION, measured to now from the producer's last
// write, is readable instead of in minutes), followed by the command that
// aborts the first one; with none, it writes "no hanging transactions".
func WriteHanging(w io.Writer, txns []ProducerState, now time.Time) error {
	if len(txns) == 0 {
		_, err := fmt.Fprintln(w, "no hanging transactions")
		return err
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tPRODUCER-ID\tEPOCH\tCOORDINATOR-EPOCH\tSTART-OFFSET\tLAST-TIMESTAMP\tDURATION")
	for _, t := range txns {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%d\t%s\t%s\n", t.Topic, t.Partition, t.ProducerID, t.ProducerEpoch,
			num(int64(t.CoordinatorEpoch)), t.TxnStartOffset, num(t.LastTimestamp), since(time.UnixMilli(t.LastTimestamp), now))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	f := txns[0]
	_, err := fmt.Fprintf(w, "\nabort one with: courier txn abort --topic %s --partition %d --start-offset %d\n", f.Topic, f.Partition, f.TxnStartOffset)
	return err
}

// since renders how long before now t was, to the second ("0s" for a t
// after now, as a clock skewed between broker and client may give).
func since(t, now time.Time) string {
	return max(now.Sub(t), 0).Round(time.Second).String()
}
