package webconsole

// api_audit.go answers GET /api/audit: the audit log's latest entries
// (newest first, at most auditKeep), for admins only (admin.go). Others
// get 403 saying why; the log itself (slog, message "audit") keeps
// everything.

import "net/http"

// auditRoutes registers GET /api/audit.
func (s *Server) auditRoutes() {
	s.api("GET /api/audit", func(c *call) error {
		if err := c.requireAdmin(); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"entries": c.s.audit.list(), "kept": auditKeep})
	})
}
