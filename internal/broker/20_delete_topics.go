package broker

// 20_delete_topics.go deletes topics named by name or (v6+) by id.

import (
	"context"
	"fmt"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDeleteTopics(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.DeleteTopicsRequest)
	resp := r.ResponseKind().(*kmsg.DeleteTopicsResponse)
	type target struct {
		name *string
		id   [16]byte
	}
	var targets []target
	if r.Version >= 6 {
		for _, t := range r.Topics {
			targets = append(targets, target{name: t.Topic, id: t.TopicID})
		}
	} else {
		for _, name := range r.TopicNames {
			n := name
			targets = append(targets, target{name: &n})
		}
	}
	for _, t := range targets {
		st := kmsg.NewDeleteTopicsResponseTopic()
		st.TopicID = t.id
		name := ""
		if t.name != nil {
			name = *t.name
		} else if n, ok := b.topicName(t.id); ok {
			name = n
		} else {
			st.ErrorCode = kerr.UnknownTopicID.Code
			resp.Topics = append(resp.Topics, st)
			continue
		}
		n := name
		st.Topic = &n
		if !b.allowed(req, opDelete, rtTopic, name) {
			if t.name == nil && !b.allowed(req, opDescribe, rtTopic, name) {
				st.Topic = nil // named by id: the name is not the client's to see
			}
			st.ErrorCode = kerr.TopicAuthorizationFailed.Code
			resp.Topics = append(resp.Topics, st)
			continue
		}
		deleted, err := b.deleteTopic(name)
		if err != nil {
			if _, known := b.topics.Get(name); !known {
				err = fmt.Errorf("%w: %s", topics.ErrUnknownTopic, name)
			}
			st.ErrorCode = errorCode(err)
			st.ErrorMessage = errorMessage(err)
		} else {
			st.TopicID = deleted.ID
			b.cfg.Logger.Info("deleted topic", "topic", name)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return server.Immediate(resp)
}
