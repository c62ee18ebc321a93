package broker

// 10_find_coordinator.go answers FindCoordinator: this node coordinates
// every group and every transactional id, at the address Metadata
// advertises (DESCRIBE on the group or the TransactionalId resource is
// required), and every share-partition's state (key type SHARE, KIP-932:
// "group:topicId:partition", CLUSTER_ACTION as Kafka requires; a
// malformed key is INVALID_REQUEST). v4+ batches keys.
//
// As in Kafka, the first group lookup creates the internal topic
// __consumer_offsets, and the first transactional one __transaction_state,
// so that clients that look for them (to skip them in regex subscriptions,
// for instance) find them. Courier keeps committed offsets and transaction
// state in its own journals (packages group and txn), so the topics stay
// empty.
//
// The group coordinator's settings are chosen here too (groupOptions).

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var (
	errCoordinatorType = errors.New("unsupported coordinator key type")
	errShareKey        = errors.New("share coordinator keys are groupId:topicId:partition")
)

// validShareKey checks a SHARE coordinator key, "group:topicId:partition"
// (the group may itself hold colons; the topic id is base64).
func validShareKey(key string) bool {
	i := strings.LastIndexByte(key, ':')
	if i <= 0 {
		return false
	}
	if p, err := strconv.ParseInt(key[i+1:], 10, 32); err != nil || p < 0 {
		return false
	}
	j := strings.LastIndexByte(key[:i], ':')
	return j > 0 && i-j > 1
}

// Coordinator key types.
const (
	coordinatorGroup       = 0
	coordinatorTransaction = 1
	coordinatorShare       = 2
)

func (b *Broker) handleFindCoordinator(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.FindCoordinatorRequest)
	resp := r.ResponseKind().(*kmsg.FindCoordinatorResponse)
	keys := r.CoordinatorKeys
	if r.Version < 4 {
		keys = []string{r.CoordinatorKey}
	}
	switch r.CoordinatorType {
	case coordinatorGroup:
		b.ensureInternalTopic(offsetsTopic)
	case coordinatorTransaction:
		b.ensureInternalTopic(transactionStateTopic)
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
			if !b.allowed(req, opDescribe, rtTransactionalID, key) {
				c.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
				break
			}
			c.NodeID, c.Host, c.Port = b.cfg.NodeID, host, port
		case coordinatorShare:
			if !validShareKey(key) {
				c.ErrorCode = kerr.InvalidRequest.Code
				c.ErrorMessage = errorMessage(errShareKey)
				break
			}
			if !b.allowedCluster(req, opClusterAction) {
				c.ErrorCode = kerr.ClusterAuthorizationFailed.Code
				break
			}
			c.NodeID, c.Host, c.Port = b.cfg.NodeID, host, port
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

// ensureInternalTopic creates name (__consumer_offsets or
// __transaction_state), marked internal, unless it exists. Failure only
// costs clients the sight of it, so it is logged.
func (b *Broker) ensureInternalTopic(name string) {
	if _, ok := b.topics.Get(name); ok {
		return
	}
	_, err := b.createTopicWith(name, 1, nil, true)
	if err != nil && !errors.Is(err, topics.ErrTopicExists) {
		b.cfg.Logger.Error("create internal topic", "topic", name, "err", err)
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
	return append(opts, b.consumerGroupOptions()...)
}
