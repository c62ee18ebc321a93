package broker

// 36_sasl_authenticate.go answers SaslAuthenticate where the network layer
// lets it through (listeners without SASL): ILLEGAL_SASL_STATE, as Kafka
// answers it outside an exchange. On SASL listeners package server runs the
// exchange.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleSASLAuthenticate(_ context.Context, req *server.Request) server.Reply {
	resp := req.Msg.(*kmsg.SASLAuthenticateRequest).ResponseKind().(*kmsg.SASLAuthenticateResponse)
	resp.ErrorCode = kerr.IllegalSaslState.Code
	resp.ErrorMessage = kmsg.StringPtr("SaslAuthenticate on a listener without SASL, or outside a SASL exchange")
	return server.Immediate(resp)
}
