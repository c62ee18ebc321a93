package broker

// 37_create_partitions.go raises topics' partition counts.

import (
	"context"
	"fmt"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleCreatePartitions(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.CreatePartitionsRequest)
	resp := r.ResponseKind().(*kmsg.CreatePartitionsResponse)
	for _, rt := range r.Topics {
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = rt.Topic
		if !b.allowed(req, opAlter, rtTopic, rt.Topic) {
			st.ErrorCode = kerr.TopicAuthorizationFailed.Code
			resp.Topics = append(resp.Topics, st)
			continue
		}
		err := b.createPartitions(rt, r.ValidateOnly)
		st.ErrorCode = errorCode(err)
		st.ErrorMessage = errorMessage(err)
		resp.Topics = append(resp.Topics, st)
	}
	return server.Immediate(resp)
}

// createPartitions validates and applies one topic's new count.
func (b *Broker) createPartitions(rt kmsg.CreatePartitionsRequestTopic, validateOnly bool) error {
	t, ok := b.topics.Get(rt.Topic)
	if !ok {
		return fmt.Errorf("%w: %s", topics.ErrUnknownTopic, rt.Topic)
	}
	if rt.Count <= t.Partitions {
		return fmt.Errorf("%w: topic %s has %d partitions; the new count %d must be larger", topics.ErrInvalidPartitions, rt.Topic, t.Partitions, rt.Count)
	}
	if rt.Count > topics.MaxPartitions {
		return fmt.Errorf("%w: %d is above the limit %d", topics.ErrInvalidPartitions, rt.Count, topics.MaxPartitions)
	}
	if rt.Assignment != nil {
		if len(rt.Assignment) != int(rt.Count-t.Partitions) {
			return fmt.Errorf("%w: %d assignments for %d new partitions", errInvalidReplicaAssignment, len(rt.Assignment), rt.Count-t.Partitions)
		}
		for _, a := range rt.Assignment {
			if len(a.Replicas) != 1 || a.Replicas[0] != b.cfg.NodeID {
				return fmt.Errorf("%w: replicas %v; the only broker is %d", errInvalidReplicaAssignment, a.Replicas, b.cfg.NodeID)
			}
		}
	}
	if validateOnly {
		return nil
	}
	_, err := b.addPartitions(rt.Topic, rt.Count)
	return err
}
