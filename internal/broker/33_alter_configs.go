package broker

// 33_alter_configs.go replaces topic configs wholesale (the legacy
// AlterConfigs: configs not named return to their defaults). The change
// takes the path IncrementalAlterConfigs takes (alter_configs.go).

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleAlterConfigs(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.AlterConfigsRequest)
	resp := r.ResponseKind().(*kmsg.AlterConfigsResponse)
	for _, rr := range r.Resources {
		c := configChange{resourceType: rr.ResourceType, resource: rr.ResourceName, replace: true}
		for _, cfg := range rr.Configs {
			c.ops = append(c.ops, configOp{name: cfg.Name, op: kmsg.IncrementalAlterConfigOpSet, value: cfg.Value})
		}
		sr := kmsg.NewAlterConfigsResponseResource()
		sr.ResourceType = rr.ResourceType
		sr.ResourceName = rr.ResourceName
		sr.ErrorCode, sr.ErrorMessage = b.alterConfigs(req, c, r.ValidateOnly)
		resp.Resources = append(resp.Resources, sr)
	}
	return server.Immediate(resp)
}
