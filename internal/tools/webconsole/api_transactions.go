package webconsole

// api_transactions.go is the transactions page's API, package ctl's
// transaction tools (those of `courier txn`) on the user's own client:
// GET /api/transactions lists the transactional ids (?state= filters),
// GET /api/transactions/{id} describes one, GET /api/transactions:hanging
// finds the hanging ones (?topic=, ?max_timeout_ms=), POST
// /api/transactions:abort writes an ABORT marker for one of them (it needs
// CLUSTER_ACTION on the cluster; the cluster's refusal is shown).

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/courier-dev/courier/internal/tools/ctl"
)

// txnPartition is a partition as the page shows it.
type txnPartition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

// txnInfo is one transactional id, listed or described.
type txnInfo struct {
	TransactionalID string         `json:"transactional_id"`
	Coordinator     int32          `json:"coordinator"`
	ProducerID      int64          `json:"producer_id"`
	ProducerEpoch   *int16         `json:"producer_epoch,omitempty"`
	State           string         `json:"state"`
	TimeoutMs       *int32         `json:"timeout_ms,omitempty"`
	StartMs         *int64         `json:"start_ms,omitempty"`
	Partitions      []txnPartition `json:"partitions,omitempty"`
}

// hangingTxn is a hanging transaction: an open transaction on a partition
// that no coordinator will finish.
type hangingTxn struct {
	Topic            string `json:"topic"`
	Partition        int32  `json:"partition"`
	ProducerID       int64  `json:"producer_id"`
	ProducerEpoch    int16  `json:"producer_epoch"`
	CoordinatorEpoch int32  `json:"coordinator_epoch"`
	StartOffset      int64  `json:"start_offset"`
	LastTimestamp    int64  `json:"last_timestamp"`
}

// abortRequest is POST /api/transactions:abort's body: the partition and
// the start offset of the transaction to abort (as find-hanging shows).
type abortRequest struct {
	Topic       string `json:"topic"`
	Partition   *int32 `json:"partition"`
	StartOffset *int64 `json:"start_offset"`
}

// txnAdmin returns ctl's tools on the user's client.
func (c *call) txnAdmin() (*ctl.Admin, error) {
	cl, err := c.Kafka().Client()
	if err != nil {
		return nil, err
	}
	return ctl.Over(cl), nil
}

// txnRoutes registers the /api/transactions endpoints.
func (s *Server) txnRoutes() {
	s.api("GET /api/transactions", func(c *call) error {
		a, err := c.txnAdmin()
		if err != nil {
			return err
		}
		var states []string
		if v := c.r.URL.Query().Get("state"); v != "" {
			states = strings.Split(v, ",")
		}
		ctx, cancel := context.WithTimeout(c.r.Context(), 20*time.Second)
		defer cancel()
		list, err := a.ListTransactions(ctx, states, nil)
		if err != nil && list == nil {
			return kafkaError("list transactions", err)
		}
		out := make([]txnInfo, 0, len(list))
		for _, t := range list {
			out = append(out, txnInfo{TransactionalID: t.TransactionalID, Coordinator: t.Coordinator, ProducerID: t.ProducerID, State: t.State})
		}
		ans := map[string]any{"transactions": out}
		if err != nil {
			ans["warning"] = err.Error() // some brokers did not answer
		}
		return c.JSON(http.StatusOK, ans)
	})
	s.api("GET /api/transactions/{id}", func(c *call) error {
		a, err := c.txnAdmin()
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(c.r.Context(), 20*time.Second)
		defer cancel()
		d, err := a.DescribeTransaction(ctx, c.r.PathValue("id"))
		if err != nil {
			return kafkaError("describe transaction", err)
		}
		t := txnInfo{TransactionalID: d.TransactionalID, Coordinator: d.CoordinatorID, ProducerID: d.ProducerID,
			ProducerEpoch: &d.ProducerEpoch, State: d.State, TimeoutMs: &d.TimeoutMs, StartMs: &d.StartMs, Partitions: []txnPartition{}}
		for _, p := range d.Partitions {
			t.Partitions = append(t.Partitions, txnPartition{Topic: p.Topic, Partition: p.Partition})
		}
		return c.JSON(http.StatusOK, t)
	})
	s.api("GET /api/transactions:hanging", func(c *call) error {
		a, err := c.txnAdmin()
		if err != nil {
			return err
		}
		q := c.r.URL.Query()
		spec := ctl.HangingSpec{Topic: q.Get("topic"), Partition: -1, Now: c.s.now()}
		if v := q.Get("max_timeout_ms"); v != "" {
			ms, err := strconv.ParseInt(v, 10, 64)
			if err != nil || ms <= 0 {
				return badRequest("max_timeout_ms %q: want a number of milliseconds above 0", v)
			}
			spec.MaxTimeout = time.Duration(ms) * time.Millisecond
		}
		ctx, cancel := context.WithTimeout(c.r.Context(), 30*time.Second)
		defer cancel()
		found, err := a.FindHanging(ctx, spec)
		if err != nil && found == nil {
			return kafkaError("find hanging transactions", err)
		}
		out := make([]hangingTxn, 0, len(found))
		for _, p := range found {
			out = append(out, hangingTxn{Topic: p.Topic, Partition: p.Partition, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch,
				CoordinatorEpoch: p.CoordinatorEpoch, StartOffset: p.TxnStartOffset, LastTimestamp: p.LastTimestamp})
		}
		ans := map[string]any{"hanging": out}
		if err != nil {
			ans["warning"] = err.Error() // some partitions could not be searched
		}
		return c.JSON(http.StatusOK, ans)
	})
	s.api("POST /api/transactions:abort", func(c *call) error {
		var req abortRequest
		if err := c.Decode(&req); err != nil {
			return err
		}
		spec, err := ctl.AbortFlags{Topic: req.Topic, Partition: req.Partition, StartOffset: req.StartOffset}.Spec()
		if err != nil {
			return badRequest("abort: %s", strings.ReplaceAll(strings.ReplaceAll(err.Error(), "--start-offset", "start_offset"), "--", ""))
		}
		if spec.StartOffset < 0 {
			return badRequest("abort: give the start_offset of the transaction (find it with the hanging transactions)")
		}
		a, err := c.txnAdmin()
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(c.r.Context(), 30*time.Second)
		defer cancel()
		target := ctl.TopicPartition{Topic: spec.Topic, Partition: spec.Partition}.String() + "@" + strconv.FormatInt(spec.StartOffset, 10)
		done, err := a.AbortTransaction(ctx, spec)
		c.Audit("transaction.abort", target, err)
		if err != nil {
			return kafkaError("abort the transaction at "+target, err)
		}
		return c.JSON(http.StatusOK, map[string]any{"aborted": done.String(), "producer_id": done.ProducerID, "producer_epoch": done.ProducerEpoch})
	})
}
