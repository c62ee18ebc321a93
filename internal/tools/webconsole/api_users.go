package webconsole

// api_users.go manages the cluster's SASL/SCRAM users (REST Proxy has no
// endpoint for them): GET /api/users lists them with their mechanisms,
// POST /api/users creates one, PUT /api/users/{name}/password changes a
// password, DELETE /api/users/{name} (?mechanism=...) deletes credentials.
// The work is package userctl's, on the user's own client: the cluster
// decides (ALTER on the cluster to change, DESCRIBE to list). Passwords are
// salted before they leave the console and are never logged.

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/courier-dev/courier/internal/broker/users"
	"github.com/courier-dev/courier/internal/tools/userctl"
	"github.com/twmb/franz-go/pkg/kerr"
)

// defaultIterations are the PBKDF2 rounds of a password set from the
// console, as `courier user create`'s default.
const defaultIterations = 8192

// scramUser is one user in GET /api/users.
type scramUser struct {
	Name        string          `json:"name"`
	Credentials []scramCredInfo `json:"credentials"`
}

// scramCredInfo is one credential of a user.
type scramCredInfo struct {
	Mechanism  string `json:"mechanism"`
	Iterations int    `json:"iterations"`
}

// userRequest is the body of a creation or a password change.
type userRequest struct {
	Name       string `json:"name"`
	Mechanism  string `json:"mechanism"`
	Password   string `json:"password"`
	Iterations int    `json:"iterations"`
}

// check fills the defaults and checks the request.
func (r *userRequest) check() (users.Mechanism, error) {
	if r.Mechanism == "" {
		r.Mechanism = string(users.ScramSHA512)
	}
	m, err := users.ParseMechanism(r.Mechanism)
	if err != nil {
		return "", badRequest("%v", err)
	}
	if r.Iterations == 0 {
		r.Iterations = defaultIterations
	}
	if err := users.ValidateIterations(r.Iterations); err != nil {
		return "", badRequest("%v", err)
	}
	if err := users.ValidateName(r.Name); err != nil {
		return "", badRequest("%v", err)
	}
	if r.Password == "" || len(r.Password) > maxPassword {
		return "", badRequest("a password of 1 to %d bytes is required", maxPassword)
	}
	return m, nil
}

// userStore is the user's view of the cluster's SCRAM users.
func (c *call) userStore() (userctl.ClusterUsers, error) {
	adm, err := c.Kafka().Admin()
	if err != nil {
		return userctl.ClusterUsers{}, err
	}
	return userctl.ClusterUsers{Admin: adm}, nil
}

// userRoutes registers the /api/users endpoints.
func (s *Server) userRoutes() {
	s.api("GET /api/users", func(c *call) error {
		st, err := c.userStore()
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(c.r.Context(), 15*time.Second)
		defer cancel()
		us, err := st.Users(ctx)
		if err != nil {
			return kafkaError("list users", err)
		}
		out := []scramUser{}
		for _, u := range us {
			su := scramUser{Name: u.Name, Credentials: []scramCredInfo{}}
			for _, ci := range u.Credentials {
				su.Credentials = append(su.Credentials, scramCredInfo{Mechanism: string(ci.Mechanism), Iterations: ci.Iterations})
			}
			out = append(out, su)
		}
		return c.JSON(http.StatusOK, map[string]any{"users": out})
	})
	s.api("POST /api/users", func(c *call) error {
		var req userRequest
		if err := c.Decode(&req); err != nil {
			return err
		}
		return c.setPassword(req, true)
	})
	s.api("PUT /api/users/{name}/password", func(c *call) error {
		var req userRequest
		if err := c.Decode(&req); err != nil {
			return err
		}
		req.Name = c.r.PathValue("name")
		return c.setPassword(req, false)
	})
	s.api("DELETE /api/users/{name}", func(c *call) error {
		name := c.r.PathValue("name")
		var mechs []users.Mechanism
		if v := c.r.URL.Query().Get("mechanism"); v != "" {
			m, err := users.ParseMechanism(v)
			if err != nil {
				return badRequest("%v", err)
			}
			mechs = append(mechs, m)
		}
		st, err := c.userStore()
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(c.r.Context(), 15*time.Second)
		defer cancel()
		done, err := userctl.DeleteUser(ctx, st, name, mechs...)
		c.Audit("user.delete", name, err, "mechanisms", len(done))
		if err != nil {
			return userError("delete user "+name, err)
		}
		deleted := make([]string, len(done))
		for i, m := range done {
			deleted[i] = string(m)
		}
		return c.JSON(http.StatusOK, map[string]any{"user": name, "deleted": deleted})
	})
}

// setPassword creates a user (create: refused if it has a credential for
// the mechanism already) or changes its password.
func (c *call) setPassword(req userRequest, create bool) error {
	m, err := req.check()
	if err != nil {
		return err
	}
	st, err := c.userStore()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.r.Context(), 15*time.Second)
	defer cancel()
	action := "user.password"
	if create {
		action = "user.create"
		us, err := st.Users(ctx)
		if err != nil {
			c.Audit(action, req.Name, err)
			return kafkaError("create user "+req.Name, err)
		}
		for _, u := range us {
			for _, ci := range u.Credentials {
				if u.Name == req.Name && ci.Mechanism == m {
					return &apiError{Status: http.StatusConflict, Code: 40901, Message: "user " + req.Name + " already has a " + string(m) + " password: change it instead"}
				}
			}
		}
	}
	err = userctl.CreateUser(ctx, st, req.Name, m, req.Password, req.Iterations)
	c.Audit(action, req.Name, err, "mechanism", string(m))
	if err != nil {
		return userError("set the password of "+req.Name, err)
	}
	status := http.StatusOK
	if create {
		status = http.StatusCreated
	}
	return c.JSON(status, map[string]any{"user": req.Name, "mechanism": m, "iterations": req.Iterations})
}

// userError maps userctl's errors: the cluster's keep their Kafka name;
// "not found" is 404.
func userError(what string, err error) error {
	var ae *apiError
	if errors.As(err, &ae) {
		return err
	}
	var ke *kerr.Error
	if msg := err.Error(); !errors.As(err, &ke) && (strings.Contains(msg, " not found") || strings.Contains(msg, " has no ")) {
		return notFound("%s: %v", what, err)
	}
	return kafkaError(what, err)
}
