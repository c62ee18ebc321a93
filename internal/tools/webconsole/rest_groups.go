package webconsole

// rest_groups.go is Confluent REST Proxy v3's consumer groups, in its paths
// and shapes, so that REST Proxy clients work against the console:
//
//	GET /v3/clusters/{cluster_id}/consumer-groups                           KafkaConsumerGroupList
//	GET .../consumer-groups/{consumer_group_id}                             KafkaConsumerGroup
//	GET .../consumer-groups/{consumer_group_id}/consumers                   KafkaConsumerList
//	GET .../consumers/{consumer_id}                                         KafkaConsumer
//	GET .../consumers/{consumer_id}/assignments                             KafkaConsumerAssignmentList
//	GET .../consumer-groups/{consumer_group_id}/lags                        KafkaConsumerLagList
//	GET .../lags/{topic_name}/partitions/{partition_id}                     KafkaConsumerLag
//	GET .../consumer-groups/{consumer_group_id}/lag-summary                 KafkaConsumerGroupLagSummary
//
// As in REST Proxy, these are the groups that commit offsets (classic and
// KIP-848 consumer groups; a share group is 404 here), and the lags are
// those of the partitions the group has committed (current_offset), with
// the consumer assigned each ("" when none).

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/courier-dev/courier/internal/tools/ctl"
)

// restGroup is REST Proxy's KafkaConsumerGroup.
type restGroup struct {
	Kind              string       `json:"kind"`
	Metadata          resourceMeta `json:"metadata"`
	ClusterID         string       `json:"cluster_id"`
	ConsumerGroupID   string       `json:"consumer_group_id"`
	IsSimple          bool         `json:"is_simple"`
	PartitionAssignor string       `json:"partition_assignor"`
	State             string       `json:"state"`
	Type              string       `json:"type"`
	IsMixed           bool         `json:"is_mixed_consumer_group"`
	Coordinator       related      `json:"coordinator"`
	Consumers         related      `json:"consumers"`
	LagSummary        related      `json:"lag_summary"`
}

// restConsumer is REST Proxy's KafkaConsumer.
type restConsumer struct {
	Kind            string       `json:"kind"`
	Metadata        resourceMeta `json:"metadata"`
	ClusterID       string       `json:"cluster_id"`
	ConsumerGroupID string       `json:"consumer_group_id"`
	ConsumerID      string       `json:"consumer_id"`
	InstanceID      *string      `json:"instance_id"`
	ClientID        string       `json:"client_id"`
	Assignments     related      `json:"assignments"`
}

// restAssignment is REST Proxy's KafkaConsumerAssignment.
type restAssignment struct {
	Kind            string       `json:"kind"`
	Metadata        resourceMeta `json:"metadata"`
	ClusterID       string       `json:"cluster_id"`
	ConsumerGroupID string       `json:"consumer_group_id"`
	ConsumerID      string       `json:"consumer_id"`
	TopicName       string       `json:"topic_name"`
	PartitionID     int32        `json:"partition_id"`
	Partition       related      `json:"partition"`
	Lag             related      `json:"lag"`
}

// restLag is REST Proxy's KafkaConsumerLag.
type restLag struct {
	Kind            string       `json:"kind"`
	Metadata        resourceMeta `json:"metadata"`
	ClusterID       string       `json:"cluster_id"`
	ConsumerGroupID string       `json:"consumer_group_id"`
	TopicName       string       `json:"topic_name"`
	PartitionID     int32        `json:"partition_id"`
	CurrentOffset   int64        `json:"current_offset"`
	LogEndOffset    int64        `json:"log_end_offset"`
	Lag             int64        `json:"lag"`
	ConsumerID      string       `json:"consumer_id"`
	InstanceID      *string      `json:"instance_id"`
	ClientID        string       `json:"client_id"`
}

// restLagSummary is REST Proxy's KafkaConsumerGroupLagSummary.
type restLagSummary struct {
	Kind              string       `json:"kind"`
	Metadata          resourceMeta `json:"metadata"`
	ClusterID         string       `json:"cluster_id"`
	ConsumerGroupID   string       `json:"consumer_group_id"`
	MaxLagConsumerID  string       `json:"max_lag_consumer_id"`
	MaxLagInstanceID  *string      `json:"max_lag_instance_id"`
	MaxLagClientID    string       `json:"max_lag_client_id"`
	MaxLagTopicName   string       `json:"max_lag_topic_name"`
	MaxLagPartitionID int32        `json:"max_lag_partition_id"`
	MaxLag            int64        `json:"max_lag"`
	TotalLag          int64        `json:"total_lag"`
	MaxLagConsumer    related      `json:"max_lag_consumer"`
	MaxLagPartition   related      `json:"max_lag_partition"`
}

// restGroupCall is a REST call about one consumer group: the cluster's id,
// the group's description, and the paths of its resources.
type restGroupCall struct {
	*call
	cluster string
	d       ctl.GroupDescription
}

// base is the path of the group's resource, or of a resource below it
// (rest: path pieces, the names in them escaped with seg).
func (g restGroupCall) base(rest ...string) string {
	return "/v3/clusters/" + seg(g.cluster) + "/consumer-groups/" + seg(g.d.Group) + strings.Join(rest, "")
}

// topicPath is the path of partition p of topic on this cluster.
func (g restGroupCall) topicPath(topic string, p int32) string {
	return "/v3/clusters/" + seg(g.cluster) + "/topics/" + seg(topic) + "/partitions/" + strconv.Itoa(int(p))
}

// seg escapes a name for a path segment: group and member ids may hold
// any character, '/' and '?' included.
func seg(s string) string { return url.PathEscape(s) }

// crn is REST Proxy's resource name of the group, or of one below it.
func (g restGroupCall) crn(rest ...string) string {
	return "crn:///kafka=" + g.cluster + "/consumer-group=" + g.d.Group + strings.Join(rest, "")
}

// meta is the metadata of the resource at path base(rest...).
func (g restGroupCall) meta(crn string, rest ...string) resourceMeta {
	return resourceMeta{Self: g.Self(g.base(rest...)), ResourceName: g.crn(crn)}
}

// restGroupAPI registers a REST endpoint about one consumer group: fn gets
// the group described as the user.
func (s *Server) restGroupAPI(pattern string, fn func(g restGroupCall) error) {
	s.api("GET /v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}"+pattern, func(c *call) error {
		id, err := c.Cluster()
		if err != nil {
			return err
		}
		group := c.r.PathValue("consumer_group_id")
		d, err := c.describeGroup(group)
		if err != nil {
			return err
		}
		if d.Type != "classic" && d.Type != "consumer" {
			return notFound("group %s is a %s group: consumer-groups are the classic and consumer groups", group, d.Type)
		}
		return fn(restGroupCall{call: c, cluster: id, d: d})
	})
}

// restGroupRoutes registers REST Proxy's consumer-groups resources.
func (s *Server) restGroupRoutes() {
	s.api("GET /v3/clusters/{cluster_id}/consumer-groups", func(c *call) error {
		id, err := c.Cluster()
		if err != nil {
			return err
		}
		a, ctx, cancel, err := c.ctlAdmin()
		if err != nil {
			return err
		}
		defer cancel()
		ds, _, err := describeAll(ctx, a, false, "classic", "consumer")
		if err != nil {
			return ctlError("list groups", err)
		}
		out := make([]restGroup, 0, len(ds))
		for _, d := range ds {
			if d.Err == nil {
				out = append(out, restGroupCall{call: c, cluster: id, d: d}.group())
			}
		}
		return c.List("KafkaConsumerGroupList", out)
	})
	s.restGroupAPI("", func(g restGroupCall) error { return g.JSON(http.StatusOK, g.group()) })
	s.restGroupAPI("/consumers", func(g restGroupCall) error {
		out := make([]restConsumer, 0, len(g.d.Members))
		for _, m := range g.d.Members {
			out = append(out, g.consumer(m))
		}
		return g.List("KafkaConsumerList", out)
	})
	s.restGroupAPI("/consumers/{consumer_id}", func(g restGroupCall) error {
		m, err := g.member()
		if err != nil {
			return err
		}
		return g.JSON(http.StatusOK, g.consumer(m))
	})
	s.restGroupAPI("/consumers/{consumer_id}/assignments", func(g restGroupCall) error {
		m, err := g.member()
		if err != nil {
			return err
		}
		out := []restAssignment{}
		for _, tp := range memberParts(m.Assigned) {
			for _, p := range tp.Partitions {
				out = append(out, g.assignment(m, tp.Topic, p))
			}
		}
		return g.List("KafkaConsumerAssignmentList", out)
	})
	s.restGroupAPI("/lags", func(g restGroupCall) error {
		out := []restLag{}
		for _, o := range g.d.Offsets {
			if o.Committed >= 0 && o.End >= 0 {
				out = append(out, g.lag(o))
			}
		}
		return g.List("KafkaConsumerLagList", out)
	})
	s.restGroupAPI("/lags/{topic_name}/partitions/{partition_id}", func(g restGroupCall) error {
		topic, pid := g.r.PathValue("topic_name"), g.r.PathValue("partition_id")
		p, err := strconv.ParseInt(pid, 10, 32)
		if err != nil || p < 0 {
			return badRequest("invalid partition id %q", pid)
		}
		for _, o := range g.d.Offsets {
			if o.Topic == topic && o.Partition == int32(p) && o.Committed >= 0 && o.End >= 0 {
				return g.JSON(http.StatusOK, g.lag(o))
			}
		}
		return notFound("group %s has no committed offset on partition %d of topic %s", g.d.Group, p, topic)
	})
	s.restGroupAPI("/lag-summary", func(g restGroupCall) error { return g.JSON(http.StatusOK, g.lagSummary()) })
}

// group is the KafkaConsumerGroup resource.
func (g restGroupCall) group() restGroup {
	typ, mixed := "CLASSIC", false
	if g.d.Type == "consumer" {
		typ = "CONSUMER"
		for _, m := range g.d.Members {
			mixed = mixed || m.Classic
		}
	}
	coord := g.Self("/v3/clusters/" + seg(g.cluster) + "/brokers/" + strings.SplitN(g.d.Coordinator, " ", 2)[0])
	return restGroup{
		Kind: "KafkaConsumerGroup", Metadata: g.meta(""), ClusterID: g.cluster, ConsumerGroupID: g.d.Group,
		IsSimple: g.d.Type == "classic" && g.d.ProtocolType == "", PartitionAssignor: g.d.Protocol,
		State: restState(g.d.State), Type: typ, IsMixed: mixed,
		Coordinator: related{coord}, Consumers: related{g.Self(g.base("/consumers"))}, LagSummary: related{g.Self(g.base("/lag-summary"))},
	}
}

// restState spells a group state as REST Proxy does (PreparingRebalance
// is PREPARING_REBALANCE; a state it does not know is UNKNOWN).
func restState(s string) string {
	switch s {
	case "Empty", "Stable", "Dead", "PreparingRebalance", "CompletingRebalance", "Assigning", "Reconciling":
		var b strings.Builder
		for i, r := range s {
			if i > 0 && r >= 'A' && r <= 'Z' {
				b.WriteByte('_')
			}
			b.WriteRune(r)
		}
		return strings.ToUpper(b.String())
	}
	return "UNKNOWN"
}

// member returns the member the path's {consumer_id} names, or a 404.
func (g restGroupCall) member() (ctl.GroupMember, error) {
	id := g.r.PathValue("consumer_id")
	for _, m := range g.d.Members {
		if m.MemberID == id {
			return m, nil
		}
	}
	return ctl.GroupMember{}, notFound("group %s has no consumer %s", g.d.Group, id)
}

// instanceID is REST Proxy's instance_id: null when the member is not
// static.
func instanceID(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// consumer is the KafkaConsumer resource of m.
func (g restGroupCall) consumer(m ctl.GroupMember) restConsumer {
	return restConsumer{
		Kind: "KafkaConsumer", Metadata: g.meta("/consumer="+m.MemberID, "/consumers/", seg(m.MemberID)),
		ClusterID: g.cluster, ConsumerGroupID: g.d.Group, ConsumerID: m.MemberID, InstanceID: instanceID(m.InstanceID), ClientID: m.ClientID,
		Assignments: related{g.Self(g.base("/consumers/", seg(m.MemberID), "/assignments"))},
	}
}

// assignment is the KafkaConsumerAssignment resource of partition p of
// topic assigned to m.
func (g restGroupCall) assignment(m ctl.GroupMember, topic string, p int32) restAssignment {
	ps := strconv.Itoa(int(p))
	return restAssignment{
		Kind:      "KafkaConsumerAssignment",
		Metadata:  g.meta("/consumer="+m.MemberID+"/assignment="+topic+"/partition="+ps, "/consumers/", seg(m.MemberID), "/assignments/", seg(topic), "/partitions/", ps),
		ClusterID: g.cluster, ConsumerGroupID: g.d.Group, ConsumerID: m.MemberID, TopicName: topic, PartitionID: p,
		Partition: related{g.Self(g.topicPath(topic, p))},
		Lag:       related{g.Self(g.base("/lags/", seg(topic), "/partitions/", ps))},
	}
}

// lag is the KafkaConsumerLag resource of o.
func (g restGroupCall) lag(o ctl.GroupOffset) restLag {
	ps := strconv.Itoa(int(o.Partition))
	out := restLag{
		Kind: "KafkaConsumerLag", Metadata: g.meta("/lag="+o.Topic+"/partition="+ps, "/lags/", seg(o.Topic), "/partitions/", ps),
		ClusterID: g.cluster, ConsumerGroupID: g.d.Group, TopicName: o.Topic, PartitionID: o.Partition,
		CurrentOffset: o.Committed, LogEndOffset: o.End, Lag: max(o.End-o.Committed, 0), ConsumerID: o.MemberID, ClientID: o.ClientID,
	}
	for _, m := range g.d.Members {
		if m.MemberID == o.MemberID && o.MemberID != "" {
			out.InstanceID = instanceID(m.InstanceID)
		}
	}
	return out
}

// lagSummary is the KafkaConsumerGroupLagSummary resource: the total lag
// of the committed partitions and where the largest is.
func (g restGroupCall) lagSummary() restLagSummary {
	out := restLagSummary{Kind: "KafkaConsumerGroupLagSummary", Metadata: g.meta("/lag-summary", "/lag-summary"),
		ClusterID: g.cluster, ConsumerGroupID: g.d.Group}
	var top *restLag
	for _, o := range g.d.Offsets {
		if o.Committed < 0 || o.End < 0 {
			continue
		}
		l := g.lag(o)
		out.TotalLag += l.Lag
		if top == nil || l.Lag > top.Lag {
			top = &l
		}
	}
	if top != nil {
		out.MaxLag, out.MaxLagTopicName, out.MaxLagPartitionID = top.Lag, top.TopicName, top.PartitionID
		out.MaxLagConsumerID, out.MaxLagInstanceID, out.MaxLagClientID = top.ConsumerID, top.InstanceID, top.ClientID
		out.MaxLagPartition = related{g.Self(g.topicPath(top.TopicName, top.PartitionID))}
		if top.ConsumerID != "" {
			out.MaxLagConsumer = related{g.Self(g.base("/consumers/", seg(top.ConsumerID)))}
		}
	}
	return out
}
