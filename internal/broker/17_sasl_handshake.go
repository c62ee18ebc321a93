package broker

// 17_sasl_handshake.go answers SaslHandshake where the network layer lets it
// through: on listeners without SASL (PLAINTEXT, SSL), or after a SASL
// connection authenticated without support for re-authentication. SASL
// listeners' handshakes are run by package server, which owns the
// connection's state. Like Kafka, the answer is ILLEGAL_SASL_STATE.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleSASLHandshake(_ context.Context, req *server.Request) server.Reply {
	resp := req.Msg.(*kmsg.SASLHandshakeRequest).ResponseKind().(*kmsg.SASLHandshakeResponse)
	resp.ErrorCode = kerr.IllegalSaslState.Code
	return server.Immediate(resp)
}
