package broker

// 03_metadata.go answers Metadata: this node as the only broker, and the
// requested topics (all of them when the request names none) with this
// node leading every partition. Unknown topics are created when the
// request allows it and the broker is configured to.

import (
	"context"
	"errors"

	"github.com/courier-dev/courier/internal/broker/acl"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleMetadata(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.MetadataRequest)
	resp := r.ResponseKind().(*kmsg.MetadataResponse)
	host, port := b.advertised(req)
	resp.Brokers = []kmsg.MetadataResponseBroker{{NodeID: b.cfg.NodeID, Host: host, Port: port}}
	resp.ClusterID = &b.clusterID
	resp.ControllerID = b.cfg.NodeID

	// v0 asks for every topic with an empty list; later versions with null.
	if r.Topics == nil || (r.Version == 0 && len(r.Topics) == 0) {
		for _, t := range b.topics.List() {
			// Topics the principal may not DESCRIBE are left out silently.
			if b.allowed(req, opDescribe, rtTopic, t.Name) {
				resp.Topics = append(resp.Topics, b.metadataTopic(t))
			}
		}
		return b.metadataReply(req, r, resp)
	}
	// One request may create only so many topics (a client naming
	// thousands of unknown topics must not fill the broker in one go).
	creates := b.cfg.AutoCreateTopicsPerRequest
	for _, rt := range r.Topics {
		resp.Topics = append(resp.Topics, b.metadataRequestedTopic(req, rt, r.AllowAutoTopicCreation || r.Version < 4, &creates))
	}
	return b.metadataReply(req, r, resp)
}

// metadataReply fills the authorized-operations fields the request asks
// for (v8+; the cluster's only in v8-v10) and answers.
func (b *Broker) metadataReply(req *server.Request, r *kmsg.MetadataRequest, resp *kmsg.MetadataResponse) server.Reply {
	if r.Version >= 8 && r.IncludeTopicAuthorizedOperations {
		for i := range resp.Topics {
			if mt := &resp.Topics[i]; mt.ErrorCode == 0 && mt.Topic != nil {
				mt.AuthorizedOperations = b.authorizedOps(req, rtTopic, *mt.Topic)
			}
		}
	}
	if r.Version >= 8 && r.Version <= 10 && r.IncludeClusterAuthorizedOperations {
		resp.AuthorizedOperations = b.authorizedOps(req, rtCluster, acl.ClusterName)
	}
	return server.Immediate(resp)
}

// metadataRequestedTopic answers for one named (or, v10+, id-addressed)
// topic. Without DESCRIBE on it the answer is TOPIC_AUTHORIZATION_FAILED,
// whether it exists or not (a topic id is echoed, never its name); an
// unknown topic is auto-created only with CREATE on the cluster or on it.
//
// creates is what remains of the request's auto-creation budget.
func (b *Broker) metadataRequestedTopic(req *server.Request, rt kmsg.MetadataRequestTopic, allowCreate bool, creates *int) kmsg.MetadataResponseTopic {
	name := ""
	if rt.Topic != nil {
		name = *rt.Topic
	} else if n, ok := b.topicName(rt.TopicID); ok {
		name = n
	} else {
		mt := kmsg.NewMetadataResponseTopic()
		mt.TopicID = rt.TopicID
		mt.ErrorCode = kerr.UnknownTopicID.Code
		return mt
	}
	if !b.allowed(req, opDescribe, rtTopic, name) {
		mt := kmsg.NewMetadataResponseTopic()
		if rt.Topic != nil {
			mt.Topic = &name
		} else {
			mt.TopicID = rt.TopicID
		}
		mt.ErrorCode = kerr.TopicAuthorizationFailed.Code
		return mt
	}
	if t, ok := b.topics.Get(name); ok {
		return b.metadataTopic(t)
	}
	mt := kmsg.NewMetadataResponseTopic()
	mt.Topic = &name
	if err := topics.ValidateName(name); err != nil {
		mt.ErrorCode = kerr.InvalidTopicException.Code
		return mt
	}
	if !allowCreate || !b.cfg.AutoCreateTopics {
		mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return mt
	}
	if !b.allowedCluster(req, opCreate) && !b.allowed(req, opCreate, rtTopic, name) {
		mt.ErrorCode = kerr.TopicAuthorizationFailed.Code
		return mt
	}
	if *creates <= 0 {
		mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return mt
	}
	*creates--
	t, err := b.createTopic(name, b.cfg.DefaultPartitions, nil)
	if err != nil && !errors.Is(err, topics.ErrTopicExists) {
		b.cfg.Logger.Warn("auto-creating topic failed", "topic", name, "err", err)
		mt.ErrorCode = errorCode(err)
		return mt
	}
	if errors.Is(err, topics.ErrTopicExists) {
		t, _ = b.topics.Get(name)
	}
	b.cfg.Logger.Info("auto-created topic", "topic", name, "partitions", t.Partitions)
	return b.metadataTopic(t)
}

// metadataTopic describes an existing topic.
func (b *Broker) metadataTopic(t topics.Topic) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	name := t.Name
	mt.Topic = &name
	mt.TopicID = t.ID
	mt.IsInternal = t.Internal || topics.IsInternal(t.Name)
	mt.Partitions = make([]kmsg.MetadataResponseTopicPartition, t.Partitions)
	// A partition being created is in the metadata a moment before it is
	// served: answer it as Kafka does one whose leader is not elected yet.
	open := int32(len(b.topicPartitions(t.Name)))
	for i := range mt.Partitions {
		p := kmsg.NewMetadataResponseTopicPartition()
		p.Partition = int32(i)
		if int32(i) >= open {
			p.ErrorCode = kerr.LeaderNotAvailable.Code
		}
		p.Leader = b.cfg.NodeID
		p.LeaderEpoch = b.epoch
		p.Replicas = []int32{b.cfg.NodeID}
		p.ISR = []int32{b.cfg.NodeID}
		mt.Partitions[i] = p
	}
	return mt
}
