package broker

// 51_alter_user_scram_credentials.go handles AlterUserScramCredentials
// (KIP-554): deletions of a user's credential for a mechanism, and
// upsertions carrying the client's salt, iteration count and
// SaltedPassword (the password never reaches the broker), from which the
// broker derives StoredKey and ServerKey. It needs ALTER on the cluster.
// Each user is named at most once per request (else DUPLICATE_RESOURCE)
// and gets one result; every change is on disk before the answer.

import (
	"context"
	"errors"
	"fmt"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/users"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// scramAlteration is one user's change: a deletion or an upsertion.
type scramAlteration struct {
	del *kmsg.AlterUserSCRAMCredentialsRequestDeletion
	ups *kmsg.AlterUserSCRAMCredentialsRequestUpsertion
}

func (b *Broker) handleAlterUserSCRAMCredentials(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.AlterUserSCRAMCredentialsRequest)
	resp := r.ResponseKind().(*kmsg.AlterUserSCRAMCredentialsResponse)

	// One entry per user, in the order users first appear.
	var order []string
	alts := make(map[string]*scramAlteration)
	dup := make(map[string]bool)
	add := func(name string, a scramAlteration) {
		if _, seen := alts[name]; seen {
			dup[name] = true
			return
		}
		order = append(order, name)
		alts[name] = &a
	}
	for i := range r.Deletions {
		add(r.Deletions[i].Name, scramAlteration{del: &r.Deletions[i]})
	}
	for i := range r.Upsertions {
		add(r.Upsertions[i].Name, scramAlteration{ups: &r.Upsertions[i]})
	}

	allowed := b.allowed(req, kmsg.ACLOperationAlter, kmsg.ACLResourceTypeCluster, "kafka-cluster")
	for _, name := range order {
		res := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
		res.User = name
		var code *kerr.Error
		var msg string
		switch {
		case !allowed:
			code, msg = kerr.ClusterAuthorizationFailed, kerr.ClusterAuthorizationFailed.Description
		case dup[name]:
			code, msg = kerr.DuplicateResource, "a user credential cannot be altered twice in the same request"
		default:
			code, msg = b.alterSCRAM(name, alts[name])
		}
		if code != nil {
			res.ErrorCode = code.Code
			res.ErrorMessage = &msg
		}
		resp.Results = append(resp.Results, res)
	}
	return server.Immediate(resp)
}

// alterSCRAM applies one user's change and returns its error, nil if it
// succeeded.
func (b *Broker) alterSCRAM(name string, a *scramAlteration) (*kerr.Error, string) {
	if err := users.ValidateName(name); err != nil {
		return kerr.UnacceptableCredential, err.Error()
	}
	var code int8
	if a.del != nil {
		code = a.del.Mechanism
	} else {
		code = a.ups.Mechanism
	}
	mech, ok := scramMechanism(code)
	if !ok {
		return kerr.UnsupportedSaslMechanism, fmt.Sprintf("unknown SCRAM mechanism %d", code)
	}
	if a.del != nil {
		err := b.users.Delete(name, mech)
		switch {
		case errors.Is(err, users.ErrNotFound):
			return kerr.ResourceNotFound, fmt.Sprintf("attempt to delete a user credential that does not exist: %s %s", name, mech)
		case err != nil:
			b.cfg.Logger.Error("delete SCRAM credential", "user", name, "mechanism", mech, "err", err)
			return kerr.KafkaStorageError, err.Error()
		}
		b.cfg.Logger.Info("SCRAM credential deleted", "user", name, "mechanism", mech)
		return nil, ""
	}
	c, err := users.CredentialFromSaltedPassword(mech, a.ups.Salt, a.ups.SaltedPassword, int(a.ups.Iterations))
	if err != nil {
		return kerr.UnacceptableCredential, err.Error()
	}
	if err := b.users.Set(name, c); err != nil {
		b.cfg.Logger.Error("store SCRAM credential", "user", name, "mechanism", mech, "err", err)
		return kerr.KafkaStorageError, err.Error()
	}
	b.cfg.Logger.Info("SCRAM credential stored", "user", name, "mechanism", mech, "iterations", c.Iterations)
	return nil, ""
}
