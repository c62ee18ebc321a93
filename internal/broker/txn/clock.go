package txn

// clock.go is the coordinator's seam for time: every deadline it keeps
// (transaction timeouts, id expiry, marker back-off, how long EndTxn waits
// for its markers) goes through a Clock, so tests move time by hand
// (group.FakeClock) and never sleep. The coordinators share one
// definition of it, the group coordinator's.

import "github.com/courier-dev/courier/internal/broker/group"

// Clock tells the time and runs functions later (group.Clock); its
// AfterFunc functions must not block.
type Clock = group.Clock

// Timer is a pending Clock.AfterFunc.
type Timer = group.Timer
