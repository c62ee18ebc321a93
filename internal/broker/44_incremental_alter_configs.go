package broker

// 44_incremental_alter_configs.go sets or deletes individual topic configs;
// the others keep their values. The change takes the path AlterConfigs
// takes (alter_configs.go).

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleIncrementalAlterConfigs(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.IncrementalAlterConfigsRequest)
	resp := r.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	for _, rr := range r.Resources {
		c := configChange{resourceType: rr.ResourceType, resource: rr.ResourceName}
		for _, cfg := range rr.Configs {
			c.ops = append(c.ops, configOp{name: cfg.Name, op: cfg.Op, value: cfg.Value})
		}
		sr := kmsg.NewIncrementalAlterConfigsResponseResource()
		sr.ResourceType = rr.ResourceType
		sr.ResourceName = rr.ResourceName
		sr.ErrorCode, sr.ErrorMessage = b.alterConfigs(req, c, r.ValidateOnly)
		resp.Resources = append(resp.Resources, sr)
	}
	return server.Immediate(resp)
}
