package ctl

// protocols.go says whether a cluster serves the new group protocols.
// franz-go does not refuse a protocol the cluster lacks: a KIP-848 member
// silently joins with the classic protocol instead, and a share-group
// member retries its heartbeat forever. Tools that promise a protocol
// check first, and say what is missing.

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The group protocols RequireGroupProtocol knows, named as KIP-1043's group
// types.
const (
	ProtocolConsumer = "consumer" // KIP-848: ConsumerGroupHeartbeat, the broker assigns partitions
	ProtocolShare    = "share"    // KIP-932: share groups
)

// protocolAPI is a request a protocol needs, with the lowest version
// franz-go uses.
type protocolAPI struct {
	key kmsg.Key
	min int16
}

// protocolAPIs are what each protocol needs the cluster to advertise, and
// its name for a person.
var protocolAPIs = map[string]struct {
	name string
	apis []protocolAPI
}{
	// franz-go runs KIP-848 only from ConsumerGroupHeartbeat v1 (Kafka 4.0).
	ProtocolConsumer: {"KIP-848 consumer groups", []protocolAPI{{kmsg.ConsumerGroupHeartbeat, 1}}},
	ProtocolShare:    {"share groups (KIP-932)", []protocolAPI{{kmsg.ShareGroupHeartbeat, 1}, {kmsg.ShareFetch, 1}, {kmsg.ShareAcknowledge, 1}}},
}

// RequireGroupProtocol fails, naming the missing request, unless every
// broker of the cluster cl reaches that answers ApiVersions advertises
// what protocol (ProtocolConsumer or ProtocolShare) needs.
func RequireGroupProtocol(ctx context.Context, cl *kgo.Client, protocol string) error {
	p, ok := protocolAPIs[protocol]
	if !ok {
		return fmt.Errorf("unknown group protocol %q", protocol)
	}
	vs, err := kadm.NewClient(cl).ApiVersions(ctx)
	if err != nil {
		return fmt.Errorf("ApiVersions: %w", err)
	}
	answered := 0
	var missing error
	vs.Each(func(v kadm.BrokerApiVersions) {
		if v.Err != nil {
			return
		}
		answered++
		for _, a := range p.apis {
			if maxV, ok := v.KeyMaxVersion(int16(a.key)); (!ok || maxV < a.min) && missing == nil {
				missing = fmt.Errorf("the cluster does not support %s: broker %d does not offer %s v%d or later", p.name, v.NodeID, a.key.Name(), a.min)
			}
		}
	})
	if answered == 0 {
		return errors.New("ApiVersions: no broker answered")
	}
	return missing
}
