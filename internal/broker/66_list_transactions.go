package broker

// 66_list_transactions.go lists the transactional ids the requester may
// DESCRIBE (KIP-664), filtered by state, producer id, how long the
// transaction has run (v1, KIP-994) and a regular expression on the id
// (v2, RE2 syntax as Kafka's). Unknown state names are returned, not an
// error, as in Kafka.

import (
	"context"
	"regexp"
	"time"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/txn"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleListTransactions(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.ListTransactionsRequest)
	resp := r.ResponseKind().(*kmsg.ListTransactionsResponse)
	var states []string
	for _, s := range r.StateFilters {
		if txn.KnownState(s) {
			states = append(states, s)
		} else {
			resp.UnknownStateFilters = append(resp.UnknownStateFilters, s)
		}
	}
	if len(r.StateFilters) > 0 && len(states) == 0 {
		return server.Immediate(resp) // only unknown states: nothing matches
	}
	var pattern *regexp.Regexp
	if r.TransactionalIDPattern != nil && *r.TransactionalIDPattern != "" {
		var err error
		if pattern, err = regexp.Compile(*r.TransactionalIDPattern); err != nil {
			resp.ErrorCode = kerr.InvalidRegularExpression.Code
			return server.Immediate(resp)
		}
	}
	var running time.Duration
	if r.DurationFilterMillis > 0 {
		running = time.Duration(r.DurationFilterMillis) * time.Millisecond
	}
	for _, t := range b.txns.List(states, r.ProducerIDFilters, running) {
		if pattern != nil && !pattern.MatchString(t.ID) {
			continue
		}
		if !b.allowed(req, opDescribe, rtTransactionalID, t.ID) {
			continue
		}
		ts := kmsg.NewListTransactionsResponseTransactionState()
		ts.TransactionalID, ts.ProducerID, ts.TransactionState = t.ID, t.ProducerID, t.State
		resp.TransactionStates = append(resp.TransactionStates, ts)
	}
	return server.Immediate(resp)
}
