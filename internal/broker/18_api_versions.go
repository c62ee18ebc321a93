package broker

// 18_api_versions.go answers ApiVersions with exactly the versions served.

import (
	"context"
	"sort"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleAPIVersions(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.ApiVersionsRequest)
	resp := r.ResponseKind().(*kmsg.ApiVersionsResponse)
	keys := make([]int16, 0, len(apis))
	for k := range apis {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		a := apis[k]
		if _, _, ok := b.Versions(k); !ok {
			continue // a group protocol switched off (--group-protocols)
		}
		min := a.min
		if k == kmsg.Produce.Int16() {
			// librdkafka enables gzip/snappy/lz4 only if Produce v0 is
			// listed; Kafka 4 lists it for that reason too (KAFKA-18659)
			// while still refusing v0-2 requests, as the server does here.
			min = 0
		}
		resp.ApiKeys = append(resp.ApiKeys, kmsg.ApiVersionsResponseApiKey{ApiKey: k, MinVersion: min, MaxVersion: a.max})
	}
	return server.Immediate(resp)
}
