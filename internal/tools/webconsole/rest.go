package webconsole

// rest.go holds what every Confluent REST Proxy v3 endpoint shares: the
// cluster resource (/v3/clusters, /v3/clusters/{cluster_id}), the check
// that a path's cluster_id is this cluster's, and the resource and list
// envelopes ({"kind", "metadata": {"self"}, ...}) REST Proxy clients parse.

import (
	"context"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// resourceMeta is a REST Proxy resource's "metadata".
type resourceMeta struct {
	Self         string `json:"self"`
	ResourceName string `json:"resource_name,omitempty"`
}

// listMeta is a REST Proxy list's "metadata".
type listMeta struct {
	Self string  `json:"self"`
	Next *string `json:"next"`
}

// restList is a REST Proxy list: {"kind": "KafkaTopicList", "metadata":
// ..., "data": [...]}.
type restList struct {
	Kind     string   `json:"kind"`
	Metadata listMeta `json:"metadata"`
	Data     any      `json:"data"`
}

// related is a REST Proxy link to a related collection.
type related struct {
	Related string `json:"related"`
}

// Self returns the absolute URL of path on this console, as REST Proxy's
// "self" links are.
func (c *call) Self(path string) string {
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.r.Host + path
}

// List answers a REST Proxy list of kind whose self link is the request's
// path.
func (c *call) List(kind string, data any) error {
	return c.JSON(http.StatusOK, restList{Kind: kind, Metadata: listMeta{Self: c.Self(c.r.URL.Path)}, Data: data})
}

// clusterID asks the cluster its id (Metadata), as the user.
func (c *call) clusterID(ctx context.Context) (string, error) {
	cl, err := c.Kafka().Client()
	if err != nil {
		return "", err
	}
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{} // no topics: just the cluster
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return "", kafkaError("ask the cluster its id", err)
	}
	if resp.ClusterID == nil {
		return "", nil
	}
	return *resp.ClusterID, nil
}

// Cluster checks the request's {cluster_id} against the cluster's own id
// and returns it: REST Proxy answers 404 for another cluster's id.
func (c *call) Cluster() (string, error) {
	ctx, cancel := context.WithTimeout(c.r.Context(), 15*time.Second)
	defer cancel()
	id, err := c.clusterID(ctx)
	if err != nil {
		return "", err
	}
	if want := c.r.PathValue("cluster_id"); want != id {
		return "", &apiError{Status: http.StatusNotFound, Code: 40403, Message: "unknown cluster " + want + " (this cluster is " + id + ")"}
	}
	return id, nil
}

// clusterResource is REST Proxy's KafkaCluster.
type clusterResource struct {
	Kind           string       `json:"kind"`
	Metadata       resourceMeta `json:"metadata"`
	ClusterID      string       `json:"cluster_id"`
	Controller     *related     `json:"controller,omitempty"`
	Acls           related      `json:"acls"`
	Brokers        related      `json:"brokers"`
	BrokerConfigs  related      `json:"broker_configs"`
	ConsumerGroups related      `json:"consumer_groups"`
	Topics         related      `json:"topics"`
}

// cluster builds the KafkaCluster resource of id.
func (c *call) cluster(id string) clusterResource {
	base := "/v3/clusters/" + id
	return clusterResource{
		Kind: "KafkaCluster", Metadata: resourceMeta{Self: c.Self(base), ResourceName: "crn:///kafka=" + id},
		ClusterID:      id,
		Acls:           related{c.Self(base + "/acls")},
		Brokers:        related{c.Self(base + "/brokers")},
		BrokerConfigs:  related{c.Self(base + "/broker-configs")},
		ConsumerGroups: related{c.Self(base + "/consumer-groups")},
		Topics:         related{c.Self(base + "/topics")},
	}
}

// restClusterRoutes registers /v3/clusters and /v3/clusters/{cluster_id}.
func (s *Server) restClusterRoutes() {
	s.api("GET /v3/clusters", func(c *call) error {
		id, err := c.clusterID(c.r.Context())
		if err != nil {
			return err
		}
		return c.List("KafkaClusterList", []clusterResource{c.cluster(id)})
	})
	s.api("GET /v3/clusters/{cluster_id}", func(c *call) error {
		id, err := c.Cluster()
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, c.cluster(id))
	})
}
