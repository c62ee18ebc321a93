package broker

// 03_metadata.go answers Metadata: this node as the only broker, and the
// requested topics (all of them when the request names none) with this
// node leading every partition. Unknown topics are created when the
// request allows it and the broker is configured to.

import (
	"context"
	"errors"

	"github.com/courier-dev/courier/internal/server"
	"github.com/courier-dev/courier/internal/topics"
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
			resp.Topics = append(resp.Topics, b.metadataTopic(t))
		}
		return server.Immediate(resp)
	}
	for _, rt := range r.Topics {
		resp.Topics = append(resp.Topics, b.metadataRequestedTopic(rt, r.AllowAutoTopicCreation || r.Version < 4))
	}
	return server.Immediate(resp)
}

// metadataRequestedTopic answers for one named (or, v10+, id-addressed) topic.
func (b *Broker) metadataRequestedTopic(rt kmsg.MetadataRequestTopic, allowCreate bool) kmsg.MetadataResponseTopic {
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
	t, err := b.createTopic(name, b.cfg.DefaultPartitions, nil)
	if err != nil && !errors.Is(err, topics.ErrTopicExists) {
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
	mt.IsInternal = t.Internal
	mt.Partitions = make([]kmsg.MetadataResponseTopicPartition, t.Partitions)
	for i := range mt.Partitions {
		p := kmsg.NewMetadataResponseTopicPartition()
		p.Partition = int32(i)
		p.Leader = b.cfg.NodeID
		p.LeaderEpoch = 0
		p.Replicas = []int32{b.cfg.NodeID}
		p.ISR = []int32{b.cfg.NodeID}
		mt.Partitions[i] = p
	}
	return mt
}

// advertised is the address clients should use: the configured one, or
// the address this connection reached.
func (b *Broker) advertised(req *server.Request) (string, int32) {
	if b.cfg.AdvertisedHost != "" {
		return b.cfg.AdvertisedHost, b.cfg.AdvertisedPort
	}
	if req != nil && req.Conn != nil && req.Conn.Local != nil {
		if host, port, err := SplitHostPort(req.Conn.Local.String()); err == nil {
			return host, port
		}
	}
	return "127.0.0.1", 9092
}
