package broker

// 33_alter_configs.go replaces topic configs wholesale (the legacy
// AlterConfigs: configs not named return to their defaults).

import (
	"context"
	"fmt"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleAlterConfigs(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.AlterConfigsRequest)
	resp := r.ResponseKind().(*kmsg.AlterConfigsResponse)
	for _, rr := range r.Resources {
		sr := kmsg.NewAlterConfigsResponseResource()
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
		configs := map[string]string{}
		for _, c := range rr.Configs {
			if c.Value != nil {
				configs[c.Name] = *c.Value
			}
		}
		err := b.alterTopicConfigs(rr.ResourceName, configs, r.ValidateOnly)
		sr.ErrorCode = errorCode(err)
		sr.ErrorMessage = errorMessage(err)
		resp.Resources = append(resp.Resources, sr)
	}
	return server.Immediate(resp)
}

// alterConfigsAuthCode checks ALTER_CONFIGS on a topic, or on the cluster
// for a broker resource: TOPIC_ or CLUSTER_AUTHORIZATION_FAILED, or 0.
func (b *Broker) alterConfigsAuthCode(req *server.Request, rt kmsg.ConfigResourceType, name string) int16 {
	switch rt {
	case kmsg.ConfigResourceTypeTopic:
		if !b.allowed(req, opAlterConfigs, rtTopic, name) {
			return kerr.TopicAuthorizationFailed.Code
		}
	case kmsg.ConfigResourceTypeBroker, kmsg.ConfigResourceTypeBrokerLogger:
		if !b.allowedCluster(req, opAlterConfigs) {
			return kerr.ClusterAuthorizationFailed.Code
		}
	}
	return 0
}

// alterTopicConfigs validates and (unless validateOnly) sets a topic's configs.
func (b *Broker) alterTopicConfigs(name string, configs map[string]string, validateOnly bool) error {
	if _, ok := b.topics.Get(name); !ok {
		return fmt.Errorf("%w: %s", topics.ErrUnknownTopic, name)
	}
	if err := topics.ValidateConfigs(configs); err != nil {
		return err
	}
	if validateOnly {
		return nil
	}
	_, err := b.setTopicConfigs(name, configs)
	return err
}
