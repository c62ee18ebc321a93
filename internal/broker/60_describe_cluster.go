package broker

// 60_describe_cluster.go describes the one-node cluster.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/acl"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDescribeCluster(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.DescribeClusterRequest)
	resp := r.ResponseKind().(*kmsg.DescribeClusterResponse)
	if !b.allowedCluster(req, opDescribe) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return server.Immediate(resp)
	}
	if r.IncludeClusterAuthorizedOperations {
		resp.ClusterAuthorizedOperations = b.authorizedOps(req, rtCluster, acl.ClusterName)
	}
	host, port := b.advertised(req)
	resp.ClusterID = b.clusterID
	resp.ControllerID = b.cfg.NodeID
	resp.Brokers = []kmsg.DescribeClusterResponseBroker{{NodeID: b.cfg.NodeID, Host: host, Port: port}}
	return server.Immediate(resp)
}
