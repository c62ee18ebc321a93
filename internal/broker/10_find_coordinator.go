package broker

// 10_find_coordinator.go answers FindCoordinator: this node coordinates
// every group, at the address Metadata advertises. Transactional ids are
// refused with a non-retriable error (TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
// as InitProducerID refuses them) so that transactional clients fail at
// once instead of retrying COORDINATOR_NOT_AVAILABLE forever; other key
// types (share groups) get INVALID_REQUEST. v4+ batches keys.
//
// The group coordinator's settings are chosen here too (groupOptions).

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/courier-dev/courier/internal/group"
	"github.com/courier-dev/courier/internal/server"
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
	host, port := b.advertised(req)
	for _, key := range keys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key = key
		c.NodeID, c.Port = -1, -1
		switch r.CoordinatorType {
		case coordinatorGroup:
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

// groupRebalanceDelayEnv sets group.initial.rebalance.delay.ms until the
// broker config has a field for it; it is the variable a future
// --group-initial-rebalance-delay flag would map to.
const groupRebalanceDelayEnv = "COURIER_GROUP_INITIAL_REBALANCE_DELAY"

// groupOptions configures the group coordinator.
func (b *Broker) groupOptions() []group.Opt {
	opts := []group.Opt{group.WithLogger(b.cfg.Logger)}
	if v := os.Getenv(groupRebalanceDelayEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.cfg.Logger.Warn("ignoring bad "+groupRebalanceDelayEnv, "value", v, "err", err)
		} else {
			opts = append(opts, group.InitialRebalanceDelay(d))
		}
	}
	return opts
}
