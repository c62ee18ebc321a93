package broker

// 44_incremental_alter_configs.go sets or deletes individual topic configs.

import (
	"context"
	"fmt"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleIncrementalAlterConfigs(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.IncrementalAlterConfigsRequest)
	resp := r.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	for _, rr := range r.Resources {
		sr := kmsg.NewIncrementalAlterConfigsResponseResource()
		sr.ResourceType = rr.ResourceType
		sr.ResourceName = rr.ResourceName
		if code := b.alterConfigsAuthCode(req, rr.ResourceType, rr.ResourceName); code != 0 {
			sr.ErrorCode = code
			resp.Resources = append(resp.Resources, sr)
			continue
		}
		if rr.ResourceType != kmsg.ConfigResourceTypeTopic {
			sr.ErrorCode = kerr.InvalidRequest.Code
			sr.ErrorMessage = errorMessage(fmt.Errorf("only topic configs can be altered"))
			resp.Resources = append(resp.Resources, sr)
			continue
		}
		err := b.incrementalAlter(rr, r.ValidateOnly)
		sr.ErrorCode = errorCode(err)
		sr.ErrorMessage = errorMessage(err)
		resp.Resources = append(resp.Resources, sr)
	}
	return server.Immediate(resp)
}

// incrementalAlter applies SET and DELETE operations to a topic's configs.
// APPEND and SUBTRACT apply to list configs, which Courier has none of.
func (b *Broker) incrementalAlter(rr kmsg.IncrementalAlterConfigsRequestResource, validateOnly bool) error {
	t, ok := b.topics.Get(rr.ResourceName)
	if !ok {
		return fmt.Errorf("%w: %s", topics.ErrUnknownTopic, rr.ResourceName)
	}
	configs := t.Configs
	for _, c := range rr.Configs {
		switch c.Op {
		case kmsg.IncrementalAlterConfigOpSet:
			if c.Value == nil {
				return fmt.Errorf("%w: %s: SET without a value", topics.ErrInvalidConfig, c.Name)
			}
			configs[c.Name] = *c.Value
		case kmsg.IncrementalAlterConfigOpDelete:
			if _, known := topics.LookupConfig(c.Name); !known {
				return fmt.Errorf("%w: unknown config %q", topics.ErrInvalidConfig, c.Name)
			}
			delete(configs, c.Name)
		default:
			return fmt.Errorf("%w: %s: operation %v applies to list configs only", topics.ErrInvalidConfig, c.Name, c.Op)
		}
	}
	return b.alterTopicConfigs(rr.ResourceName, configs, validateOnly)
}
