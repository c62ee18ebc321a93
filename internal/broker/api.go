package broker

// api.go is the table of APIs served: for each key, the versions advertised
// in ApiVersions and the handler. A key absent here is not served.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handlerFunc does a request's ordered work and returns how to finish it.
type handlerFunc func(b *Broker, ctx context.Context, req *server.Request) server.Reply

// api is one served API.
type api struct {
	min, max int16
	handle   handlerFunc
}

// apis maps API keys to their versions and handlers. Minimum versions
// start where the v2 record batch format does (Produce v3, Fetch v4):
// Courier stores only v2 batches.
var apis map[int16]api

func init() {
	apis = map[int16]api{
		kmsg.Produce.Int16():                 {3, 11, (*Broker).handleProduce},
		kmsg.Fetch.Int16():                   {4, 16, (*Broker).handleFetch},
		kmsg.ListOffsets.Int16():             {1, 11, (*Broker).handleListOffsets},
		kmsg.Metadata.Int16():                {0, 12, (*Broker).handleMetadata},
		kmsg.OffsetCommit.Int16():            {0, 10, (*Broker).handleOffsetCommit},
		kmsg.OffsetFetch.Int16():             {0, 10, (*Broker).handleOffsetFetch},
		kmsg.FindCoordinator.Int16():         {0, 6, (*Broker).handleFindCoordinator},
		kmsg.JoinGroup.Int16():               {0, 9, (*Broker).handleJoinGroup},
		kmsg.Heartbeat.Int16():               {0, 4, (*Broker).handleHeartbeat},
		kmsg.LeaveGroup.Int16():              {0, 5, (*Broker).handleLeaveGroup},
		kmsg.SyncGroup.Int16():               {0, 5, (*Broker).handleSyncGroup},
		kmsg.DescribeGroups.Int16():          {0, 6, (*Broker).handleDescribeGroups},
		kmsg.ListGroups.Int16():              {0, 5, (*Broker).handleListGroups},
		kmsg.SASLHandshake.Int16():           {0, 1, (*Broker).handleSASLHandshake}, // v0 only answered UNSUPPORTED_VERSION (conn_sasl.go)
		kmsg.ApiVersions.Int16():             {0, 4, (*Broker).handleAPIVersions},
		kmsg.CreateTopics.Int16():            {0, 7, (*Broker).handleCreateTopics},
		kmsg.DeleteTopics.Int16():            {0, 6, (*Broker).handleDeleteTopics},
		kmsg.DeleteRecords.Int16():           {0, 2, (*Broker).handleDeleteRecords},
		kmsg.InitProducerID.Int16():          {0, 5, (*Broker).handleInitProducerID},
		kmsg.OffsetForLeaderEpoch.Int16():    {0, 4, (*Broker).handleOffsetForLeaderEpoch},
		kmsg.DescribeACLs.Int16():            {0, 3, (*Broker).handleDescribeACLs},
		kmsg.CreateACLs.Int16():              {0, 3, (*Broker).handleCreateACLs},
		kmsg.DeleteACLs.Int16():              {0, 3, (*Broker).handleDeleteACLs},
		kmsg.DescribeConfigs.Int16():         {0, 4, (*Broker).handleDescribeConfigs},
		kmsg.AlterConfigs.Int16():            {0, 2, (*Broker).handleAlterConfigs},
		kmsg.DescribeLogDirs.Int16():         {0, 4, (*Broker).handleDescribeLogDirs},
		kmsg.SASLAuthenticate.Int16():        {0, 2, (*Broker).handleSASLAuthenticate},
		kmsg.DeleteGroups.Int16():            {0, 3, (*Broker).handleDeleteGroups},
		kmsg.OffsetDelete.Int16():            {0, 0, (*Broker).handleOffsetDelete},
		kmsg.CreatePartitions.Int16():        {0, 3, (*Broker).handleCreatePartitions},
		kmsg.IncrementalAlterConfigs.Int16(): {0, 1, (*Broker).handleIncrementalAlterConfigs},
		kmsg.DescribeCluster.Int16():         {0, 1, (*Broker).handleDescribeCluster},

		// Transactions (KIP-98, KIP-447, KIP-664, KIP-890 part 1). Not
		// advertised: the versions of KIP-890 part 2 ("transaction
		// version 2": EndTxn v5, Produce v12, TxnOffsetCommit v5+, which
		// clients may only send under it, WriteTxnMarkers v2), whose
		// epoch bump per transaction Courier does not do.
		kmsg.AddPartitionsToTxn.Int16():   {0, 5, (*Broker).handleAddPartitionsToTxn},
		kmsg.AddOffsetsToTxn.Int16():      {0, 4, (*Broker).handleAddOffsetsToTxn},
		kmsg.EndTxn.Int16():               {0, 4, (*Broker).handleEndTxn},
		kmsg.WriteTxnMarkers.Int16():      {0, 1, (*Broker).handleWriteTxnMarkers},
		kmsg.TxnOffsetCommit.Int16():      {0, 4, (*Broker).handleTxnOffsetCommit},
		kmsg.DescribeProducers.Int16():    {0, 0, (*Broker).handleDescribeProducers},
		kmsg.DescribeTransactions.Int16(): {0, 0, (*Broker).handleDescribeTransactions},
		kmsg.ListTransactions.Int16():     {0, 2, (*Broker).handleListTransactions},

		// Share groups (KIP-932; ShareFetch and ShareAcknowledge v2 are
		// KIP-1222's lock renewal). v0 of the first four was Kafka 4.0's
		// early access, which 4.1 removed.
		kmsg.ShareGroupHeartbeat.Int16():       {1, 1, (*Broker).handleShareGroupHeartbeat},
		kmsg.ShareGroupDescribe.Int16():        {1, 1, (*Broker).handleShareGroupDescribe},
		kmsg.ShareFetch.Int16():                {1, 2, (*Broker).handleShareFetch},
		kmsg.ShareAcknowledge.Int16():          {1, 2, (*Broker).handleShareAcknowledge},
		kmsg.DescribeShareGroupOffsets.Int16(): {0, 1, (*Broker).handleDescribeShareGroupOffsets},
		kmsg.AlterShareGroupOffsets.Int16():    {0, 0, (*Broker).handleAlterShareGroupOffsets},
		kmsg.DeleteShareGroupOffsets.Int16():   {0, 0, (*Broker).handleDeleteShareGroupOffsets},
		// KIP-848 consumer groups (gated by --group-protocols).
		kmsg.ConsumerGroupHeartbeat.Int16(): {0, 1, (*Broker).handleConsumerGroupHeartbeat},
		kmsg.ConsumerGroupDescribe.Int16():  {0, 1, (*Broker).handleConsumerGroupDescribe},

		// SCRAM users (KIP-554).
		kmsg.DescribeUserSCRAMCredentials.Int16(): {0, 0, (*Broker).handleDescribeUserSCRAMCredentials},
		kmsg.AlterUserSCRAMCredentials.Int16():    {0, 0, (*Broker).handleAlterUserSCRAMCredentials},
	}
}

// groupProtocolAPIs maps the APIs of the new group protocols to the
// protocol (Config.GroupProtocols) without which they are neither
// advertised nor served.
var groupProtocolAPIs = map[int16]string{
	kmsg.ConsumerGroupHeartbeat.Int16():    GroupProtocolConsumer,
	kmsg.ConsumerGroupDescribe.Int16():     GroupProtocolConsumer,
	kmsg.ShareGroupHeartbeat.Int16():       GroupProtocolShare,
	kmsg.ShareGroupDescribe.Int16():        GroupProtocolShare,
	kmsg.ShareFetch.Int16():                GroupProtocolShare,
	kmsg.ShareAcknowledge.Int16():          GroupProtocolShare,
	kmsg.DescribeShareGroupOffsets.Int16(): GroupProtocolShare,
	kmsg.AlterShareGroupOffsets.Int16():    GroupProtocolShare,
	kmsg.DeleteShareGroupOffsets.Int16():   GroupProtocolShare,
}

// Versions implements server.Handler. The APIs of a group protocol the
// broker was told not to serve (--group-protocols) are unknown to it, as
// to a Kafka broker with that protocol disabled.
func (b *Broker) Versions(key int16) (min, max int16, ok bool) {
	if p, gated := groupProtocolAPIs[key]; gated && !b.cfg.groupProtocolEnabled(p) {
		return 0, 0, false
	}
	a, ok := apis[key]
	return a.min, a.max, ok
}

// Handle implements server.Handler.
func (b *Broker) Handle(ctx context.Context, req *server.Request) server.Reply {
	a, ok := apis[req.Msg.Key()]
	if !ok { // the server checks Versions first; this is defence in depth
		return nil
	}
	return a.handle(b, ctx, req)
}
