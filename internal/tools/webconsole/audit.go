package webconsole

// audit.go is the audit log: every change a user makes through the
// console (topic created, offsets reset, ACL removed, ...), whether it
// succeeded or the cluster refused it, in the log (slog, message "audit")
// and in a bounded in-memory list that admins read on the audit page.

import (
	"log/slog"
	"sync"
	"time"
)

// auditKeep bounds the entries kept in memory for the audit page.
const auditKeep = 1000

// AuditEntry is one change made through the console.
type AuditEntry struct {
	Time   time.Time `json:"time"`
	User   string    `json:"user"`
	IP     string    `json:"ip"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	OK     bool      `json:"ok"`
	Error  string    `json:"error,omitempty"`
}

// auditLog keeps the latest entries and logs each.
type auditLog struct {
	log *slog.Logger

	mu      sync.Mutex
	entries []AuditEntry // ring of at most auditKeep, oldest first
}

// newAuditLog returns an empty audit log writing to log.
func newAuditLog(log *slog.Logger) *auditLog { return &auditLog{log: log} }

// record adds an entry.
func (a *auditLog) record(user, ip, action, target string, err error, attrs ...any) {
	e := AuditEntry{Time: time.Now().UTC(), User: user, IP: ip, Action: action, Target: target, OK: err == nil}
	if err != nil {
		e.Error = err.Error()
	}
	args := append([]any{"user", user, "ip", ip, "action", action, "target", target, "ok", e.OK}, attrs...)
	if err != nil {
		args = append(args, "err", e.Error)
	}
	a.log.Info("audit", args...)
	a.mu.Lock()
	if len(a.entries) == auditKeep {
		a.entries = append(a.entries[:0], a.entries[1:]...)
	}
	a.entries = append(a.entries, e)
	a.mu.Unlock()
}

// list returns the entries, newest first.
func (a *auditLog) list() []AuditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]AuditEntry, len(a.entries))
	for i, e := range a.entries {
		out[len(out)-1-i] = e
	}
	return out
}
