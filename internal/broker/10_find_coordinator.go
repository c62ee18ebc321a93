package broker

// 10_find_coordinator.go answers FindCoordinator: this node coordinates
// every group, at the address Metadata advertises. Transactional ids are
// refused with a non-retriable error (TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
// as InitProducerID refuses them) so that transactional clients fail at
// once instead of retrying COORDINATOR_NOT_AVAILABLE forever; other key
// types (share groups) get INVALID_REQUEST. v4+ batches keys.
//
// As in Kafka, the first group lookup creates the internal topic
// __consumer_offsets, so that clients that look for it (to skip it in
// regex subscriptions, for instance) find it. Courier keeps committed
// offsets in its own log (package group), so the topic stays empty.
//
// The group coordinator's settings are chosen here too (groupOptions).

import (
	"context"
	"errors"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var (
	errNoTransactions  = errors.New("transactions are not supported by this broker")
	errCoordinatorType = errors.New("unsupported coordinator key type")
)

// Coordinator key types.
const (
	coordinatorGroup       = 0
	coordinatorTransaction = 1
)

func (b *Broker) handleFindCoordinator(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.FindCoordinatorRequest)
	resp := r.ResponseKind().(*kmsg.FindCoordinatorResponse)
	keys := r.CoordinatorKeys
	if r.Version < 4 {
		keys = []string{r.CoordinatorKey}
	}
	if r.CoordinatorType == coordinatorGroup {
		b.ensureOffsetsTopic()
	}
	host, port := b.advertised(req)
	for _, key := range keys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key = key
		c.NodeID, c.Port = -1, -1
		switch r.CoordinatorType {
		case coordinatorGroup:
			if !b.allowed(req, opDescribe, rtGroup, key) {
				c.ErrorCode = kerr.GroupAuthorizationFailed.Code
				break
			}
			c.NodeID, c.Host, c.Port = b.cfg.NodeID, host, port
		case coordinatorTransaction:
			c.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
			c.ErrorMessage = errorMessage(errNoTransactions)
		default:
			c.ErrorCode = kerr.InvalidRequest.Code
			c.ErrorMessage = errorMessage(errCoordinatorType)
		}
		resp.Coordinators = append(resp.Coordinators, c)
	}
	if r.Version < 4 {
		c := resp.Coordinators[0]
		resp.ErrorCode, resp.ErrorMessage = c.ErrorCode, c.ErrorMessage
		resp.NodeID, resp.Host, resp.Port = c.NodeID, c.Host, c.Port
		resp.Coordinators = nil
	}
	return server.Immediate(resp)
}

// offsetsTopic is Kafka's internal topic of committed offsets.
const offsetsTopic = "__consumer_offsets"

// ensureOffsetsTopic creates __consumer_offsets, marked internal, unless
// it exists. Failure only costs clients the sight of it, so it is logged.
func (b *Broker) ensureOffsetsTopic() {
	if _, ok := b.topics.Get(offsetsTopic); ok {
		return
	}
	_, err := b.createTopicWith(offsetsTopic, 1, nil, true)
	if err != nil && !errors.Is(err, topics.ErrTopicExists) {
		b.cfg.Logger.Error("create internal topic", "topic", offsetsTopic, "err", err)
	}
}

// groupOptions configures the group coordinator.
func (b *Broker) groupOptions() []group.Opt {
	opts := []group.Opt{group.WithLogger(b.levels.Logger(loggerGroup)), group.OnPanic(b.metrics.BackgroundPanicked)}
	if b.cfg.GroupInitialRebalanceDelay >= 0 {
		opts = append(opts, group.InitialRebalanceDelay(b.cfg.GroupInitialRebalanceDelay))
	}
	if b.cfg.OffsetsRetention > 0 {
		opts = append(opts, group.OffsetsRetention(b.cfg.OffsetsRetention))
	}
	return opts
}
