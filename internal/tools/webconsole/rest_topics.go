package webconsole

// rest_topics.go answers Confluent REST Proxy v3's topic and partition
// resources (KafkaTopic, KafkaTopicList, KafkaPartition,
// KafkaPartitionList): list, create (with configs, validate_only), describe
// and delete topics, list and describe partitions. Every request goes to
// the cluster as the signed-in user, so the cluster's ACLs decide: a
// Metadata request for all topics answers only the topics the user may
// describe.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// adminTimeout bounds one admin call made for a page or an API client.
const adminTimeout = 30 * time.Second

// topicResource is REST Proxy's KafkaTopic.
type topicResource struct {
	Kind                   string       `json:"kind"`
	Metadata               resourceMeta `json:"metadata"`
	ClusterID              string       `json:"cluster_id"`
	TopicName              string       `json:"topic_name"`
	IsInternal             bool         `json:"is_internal"`
	ReplicationFactor      int          `json:"replication_factor"`
	PartitionsCount        int          `json:"partitions_count"`
	Partitions             related      `json:"partitions"`
	Configs                related      `json:"configs"`
	PartitionReassignments related      `json:"partition_reassignments"`
	AuthorizedOperations   []string     `json:"authorized_operations"`
}

// partitionResource is REST Proxy's KafkaPartition.
type partitionResource struct {
	Kind        string       `json:"kind"`
	Metadata    resourceMeta `json:"metadata"`
	ClusterID   string       `json:"cluster_id"`
	TopicName   string       `json:"topic_name"`
	PartitionID int32        `json:"partition_id"`
	Leader      *related     `json:"leader"`
	Replicas    related      `json:"replicas"`
	Reassign    related      `json:"reassignment"`
}

// createTopicRequest is REST Proxy's CreateTopicRequest.
type createTopicRequest struct {
	TopicName         string        `json:"topic_name"`
	PartitionsCount   *int32        `json:"partitions_count"`
	ReplicationFactor *int16        `json:"replication_factor"`
	Configs           []configValue `json:"configs"`
	ValidateOnly      bool          `json:"validate_only"`
}

// configValue is a {name, value} pair of a create or alter request.
type configValue struct {
	Name      string  `json:"name"`
	Value     *string `json:"value"`
	Operation string  `json:"operation,omitempty"`
}

// timeout returns a context for one admin call of this request. It asks
// kadm for authorized operations, which also makes kadm ask the cluster
// for fresh metadata instead of its cache (up to 5 s old): a topic just
// created or deleted must show as such.
func (c *call) timeout() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(c.r.Context(), adminTimeout)
	return kadm.WithAuthorizedOps(ctx), cancel
}

// admin returns the user's admin client, its failure as an API error.
func (c *call) admin() (*kadm.Client, error) {
	adm, err := c.Kafka().Admin()
	if err != nil {
		return nil, kafkaError("connect to the cluster", err)
	}
	return adm, nil
}

// client returns the user's shared client (for requests, never to
// consume), its failure as an API error.
func (c *call) client() (*kgo.Client, error) {
	cl, err := c.Kafka().Client()
	if err != nil {
		return nil, kafkaError("connect to the cluster", err)
	}
	return cl, nil
}

// topicBase is the REST path of a topic.
func topicBase(cluster, topic string) string {
	return "/v3/clusters/" + cluster + "/topics/" + topic
}

// topicOf builds the KafkaTopic of a described topic.
func (c *call) topicOf(cluster string, td kadm.TopicDetail) topicResource {
	base := topicBase(cluster, td.Topic)
	rf := 0
	for _, p := range td.Partitions {
		rf = max(rf, len(p.Replicas))
	}
	ops := make([]string, 0, len(td.AuthorizedOperations))
	for _, op := range td.AuthorizedOperations {
		ops = append(ops, op.String())
	}
	return topicResource{
		Kind:                   "KafkaTopic",
		Metadata:               resourceMeta{Self: c.Self(base), ResourceName: "crn:///kafka=" + cluster + "/topic=" + td.Topic},
		ClusterID:              cluster,
		TopicName:              td.Topic,
		IsInternal:             td.IsInternal,
		ReplicationFactor:      rf,
		PartitionsCount:        len(td.Partitions),
		Partitions:             related{c.Self(base + "/partitions")},
		Configs:                related{c.Self(base + "/configs")},
		PartitionReassignments: related{c.Self(base + "/partitions/-/reassignment")},
		AuthorizedOperations:   ops,
	}
}

// partitionOf builds the KafkaPartition of a described partition.
func (c *call) partitionOf(cluster string, p kadm.PartitionDetail) partitionResource {
	base := topicBase(cluster, p.Topic) + "/partitions/" + strconv.Itoa(int(p.Partition))
	pr := partitionResource{
		Kind:        "KafkaPartition",
		Metadata:    resourceMeta{Self: c.Self(base), ResourceName: fmt.Sprintf("crn:///kafka=%s/topic=%s/partition=%d", cluster, p.Topic, p.Partition)},
		ClusterID:   cluster,
		TopicName:   p.Topic,
		PartitionID: p.Partition,
		Replicas:    related{c.Self(base + "/replicas")},
		Reassign:    related{c.Self(base + "/reassignment")},
	}
	if p.Leader >= 0 {
		pr.Leader = &related{c.Self(base + "/replicas/" + strconv.Itoa(int(p.Leader)))}
	}
	return pr
}

// describeTopic asks the cluster (as the user) about one topic: 404 when
// it does not exist, 403 when the user may not describe it.
func (c *call) describeTopic(ctx context.Context, topic string) (kadm.TopicDetail, error) {
	adm, err := c.admin()
	if err != nil {
		return kadm.TopicDetail{}, err
	}
	tds, err := adm.ListTopicsWithInternal(ctx, topic)
	if err != nil {
		return kadm.TopicDetail{}, kafkaError("describe topic "+topic, err)
	}
	td, ok := tds[topic]
	if !ok {
		return kadm.TopicDetail{}, notFoundTopic(topic)
	}
	if td.Err != nil {
		if errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
			return kadm.TopicDetail{}, notFoundTopic(topic)
		}
		return kadm.TopicDetail{}, kafkaError("describe topic "+topic, td.Err)
	}
	return td, nil
}

// pathTopic checks the path's cluster and describes its topic.
func (c *call) pathTopic() (string, kadm.TopicDetail, error) {
	cluster, err := c.Cluster()
	if err != nil {
		return "", kadm.TopicDetail{}, err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	td, err := c.describeTopic(ctx, c.r.PathValue("topic_name"))
	return cluster, td, err
}

// topicOpError is the API error of a change to topic (nil if none): err is
// the request's failure, topicErr and msg the topic's own error in the
// answer. An unknown topic is REST Proxy's 404.
func topicOpError(what, topic string, err, topicErr error, msg string) error {
	if err == nil && topicErr != nil {
		err = topicErr
		if msg != "" {
			err = fmt.Errorf("%w: %s", topicErr, msg)
		}
	}
	if err == nil {
		return nil
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return notFoundTopic(topic)
	}
	return kafkaError(what+" "+topic, err)
}

// notFoundTopic is REST Proxy's 404 for an unknown topic.
func notFoundTopic(topic string) error {
	return &apiError{Status: http.StatusNotFound, Code: 40403, Message: "topic " + topic + " not found (UNKNOWN_TOPIC_OR_PARTITION)"}
}

// restTopicRoutes registers the REST Proxy v3 topic and partition
// resources.
func (s *Server) restTopicRoutes() {
	s.api("GET /v3/clusters/{cluster_id}/topics", func(c *call) error {
		cluster, err := c.Cluster()
		if err != nil {
			return err
		}
		adm, err := c.admin()
		if err != nil {
			return err
		}
		ctx, cancel := c.timeout()
		defer cancel()
		tds, err := adm.ListTopicsWithInternal(ctx)
		if err != nil {
			return kafkaError("list topics", err)
		}
		out := make([]topicResource, 0, len(tds))
		for _, name := range tds.Names() {
			if td := tds[name]; td.Err == nil {
				out = append(out, c.topicOf(cluster, td))
			}
		}
		return c.List("KafkaTopicList", out)
	})
	s.api("POST /v3/clusters/{cluster_id}/topics", s.createTopic)
	s.api("GET /v3/clusters/{cluster_id}/topics/{topic_name}", func(c *call) error {
		cluster, td, err := c.pathTopic()
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, c.topicOf(cluster, td))
	})
	s.api("DELETE /v3/clusters/{cluster_id}/topics/{topic_name}", func(c *call) error {
		topic := c.r.PathValue("topic_name")
		if _, err := c.Cluster(); err != nil {
			return err
		}
		err := c.deleteTopic(topic)
		c.Audit("topic.delete", topic, err)
		if err != nil {
			return err
		}
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.api("GET /v3/clusters/{cluster_id}/topics/{topic_name}/partitions", func(c *call) error {
		cluster, td, err := c.pathTopic()
		if err != nil {
			return err
		}
		out := make([]partitionResource, 0, len(td.Partitions))
		for _, p := range td.Partitions.Sorted() {
			out = append(out, c.partitionOf(cluster, p))
		}
		return c.List("KafkaPartitionList", out)
	})
	s.api("GET /v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}", func(c *call) error {
		id, err := strconv.ParseInt(c.r.PathValue("partition_id"), 10, 32)
		if err != nil || id < 0 {
			return badRequest("partition_id %q is not a partition number", c.r.PathValue("partition_id"))
		}
		cluster, td, err := c.pathTopic()
		if err != nil {
			return err
		}
		p, ok := td.Partitions[int32(id)]
		if !ok {
			return notFound("topic %s has no partition %d (UNKNOWN_TOPIC_OR_PARTITION)", td.Topic, id)
		}
		return c.JSON(http.StatusOK, c.partitionOf(cluster, p))
	})
}

// createTopic answers POST /v3/clusters/{cluster_id}/topics: REST Proxy's
// create, 201 with the new KafkaTopic (also for validate_only, where
// nothing is created and the answer describes what would be).
func (s *Server) createTopic(c *call) error {
	cluster, err := c.Cluster()
	if err != nil {
		return err
	}
	var req createTopicRequest
	if err := c.Decode(&req); err != nil {
		return err
	}
	if err := validTopicName(req.TopicName); err != nil {
		return err
	}
	partitions, rf := int32(-1), int16(-1) // the cluster's defaults
	if req.PartitionsCount != nil {
		if *req.PartitionsCount < 1 {
			return badRequest("partitions_count must be at least 1 (or left out for the cluster's default)")
		}
		partitions = *req.PartitionsCount
	}
	if req.ReplicationFactor != nil {
		if *req.ReplicationFactor < 1 {
			return badRequest("replication_factor must be at least 1 (or left out for the cluster's default)")
		}
		rf = *req.ReplicationFactor
	}
	configs := make(map[string]*string, len(req.Configs))
	for _, cv := range req.Configs {
		if cv.Name == "" {
			return badRequest("a config without a name")
		}
		if _, dup := configs[cv.Name]; dup {
			return badRequest("config %s given twice", cv.Name)
		}
		configs[cv.Name] = cv.Value
	}
	adm, err := c.admin()
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	create := adm.CreateTopics
	if req.ValidateOnly {
		create = adm.ValidateCreateTopics
	}
	resps, err := create(ctx, partitions, rf, configs, req.TopicName)
	var resp kadm.CreateTopicResponse
	if err == nil {
		resp, err = resps.On(req.TopicName, nil)
	}
	if err = topicOpError("create topic", req.TopicName, err, resp.Err, resp.ErrMessage); err == nil {
		partitions, rf = resp.NumPartitions, resp.ReplicationFactor
	}
	if !req.ValidateOnly {
		c.Audit("topic.create", req.TopicName, err, "partitions", partitions, "replication_factor", rf)
	}
	if err != nil {
		return err
	}
	base := topicBase(cluster, req.TopicName)
	return c.JSON(http.StatusCreated, topicResource{
		Kind:                   "KafkaTopic",
		Metadata:               resourceMeta{Self: c.Self(base), ResourceName: "crn:///kafka=" + cluster + "/topic=" + req.TopicName},
		ClusterID:              cluster,
		TopicName:              req.TopicName,
		ReplicationFactor:      int(rf),
		PartitionsCount:        int(partitions),
		Partitions:             related{c.Self(base + "/partitions")},
		Configs:                related{c.Self(base + "/configs")},
		PartitionReassignments: related{c.Self(base + "/partitions/-/reassignment")},
		AuthorizedOperations:   []string{},
	})
}

// deleteTopic deletes topic as the user.
func (c *call) deleteTopic(topic string) error {
	adm, err := c.admin()
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	resps, err := adm.DeleteTopics(ctx, topic)
	var resp kadm.DeleteTopicResponse
	if err == nil {
		resp, err = resps.On(topic, nil)
	}
	return topicOpError("delete topic", topic, err, resp.Err, resp.ErrMessage)
}

// validTopicName checks a topic name as Kafka does (1 to 249 characters of
// [a-zA-Z0-9._-], not "." or ".."), so that a bad name gets a clear 400
// before any request.
func validTopicName(name string) error {
	switch {
	case name == "":
		return badRequest("topic_name is required")
	case len(name) > 249:
		return badRequest("topic name longer than 249 characters")
	case name == "." || name == "..":
		return badRequest("topic name cannot be %q", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return badRequest("topic name %q has %q: only ASCII letters, digits, '.', '_' and '-' are allowed", name, r)
		}
	}
	return nil
}

// sortedPartitions returns a topic's partition ids in order.
func sortedPartitions(td kadm.TopicDetail) []int32 {
	ids := make([]int32, 0, len(td.Partitions))
	for id := range td.Partitions {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
