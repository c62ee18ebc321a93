package webconsole

// api.go is the plumbing of the JSON API: a handler gets a call (the
// request, the signed-in user's Kafka session) and returns an error;
// errors become JSON in Confluent REST Proxy v3's shape
// ({"error_code": 40403, "message": "..."}), Kafka's own error names kept in
// the message so that a refused user sees what the cluster said.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// maxBodyBytes bounds a request body: produced messages and configs are
// small; anything larger is refused rather than read.
const maxBodyBytes = 4 << 20

// call is one API request being answered.
type call struct {
	w   http.ResponseWriter
	r   *http.Request
	s   *Server
	ses *session
}

// Kafka returns the signed-in user's Kafka session.
func (c *call) Kafka() *KafkaSession { return c.ses.kafka }

// User returns the signed-in user's name ("" when anonymous).
func (c *call) User() string { return c.ses.user }

// JSON answers status with v encoded as JSON.
func (c *call) JSON(status int, v any) error {
	c.w.Header().Set("Content-Type", "application/json")
	c.w.Header().Set("Cache-Control", "no-store")
	c.w.WriteHeader(status)
	return json.NewEncoder(c.w).Encode(v)
}

// Decode reads the request's JSON body into v, refusing unknown fields'
// absence of a body, oversized bodies and trailing data.
func (c *call) Decode(v any) error {
	body := http.MaxBytesReader(c.w, c.r.Body, maxBodyBytes)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return badRequest("the request needs a JSON body")
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{Status: http.StatusRequestEntityTooLarge, Code: 41300, Message: fmt.Sprintf("request body over %d bytes", maxBodyBytes)}
		}
		return badRequest("invalid JSON body: %v", err)
	}
	if dec.More() {
		return badRequest("invalid JSON body: data after the JSON value")
	}
	return nil
}

// Audit records a change the user made (or tried to: err != nil) in the
// audit log: action is what was done ("topic.create"), target what it was
// done to.
func (c *call) Audit(action, target string, err error, attrs ...any) {
	c.s.audit.record(c.ses.user, remoteIP(c.r), action, target, err, attrs...)
}

// apiFunc answers one API request.
type apiFunc func(c *call) error

// apiError is an error answered to the client: an HTTP status and REST
// Proxy's error code (the status times 100 plus a detail, as 40403).
type apiError struct {
	Status  int    `json:"-"`
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Message }

// badRequest is a 400 with a message.
func badRequest(format string, args ...any) error {
	return &apiError{Status: http.StatusBadRequest, Code: 40000, Message: fmt.Sprintf(format, args...)}
}

// notFound is a 404 with a message.
func notFound(format string, args ...any) error {
	return &apiError{Status: http.StatusNotFound, Code: 40400, Message: fmt.Sprintf(format, args...)}
}

// kafkaError turns an error from the cluster into an apiError whose
// message keeps Kafka's error name (TOPIC_AUTHORIZATION_FAILED, ...) and
// whose status says what kind of refusal it was. what says what was being
// done ("delete topic orders").
func kafkaError(what string, err error) error {
	var ae *apiError
	if errors.As(err, &ae) {
		return err
	}
	status, code := http.StatusInternalServerError, 50002
	var ke *kerr.Error
	if errors.As(err, &ke) {
		switch {
		case errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.GroupAuthorizationFailed),
			errors.Is(err, kerr.ClusterAuthorizationFailed), errors.Is(err, kerr.TransactionalIDAuthorizationFailed),
			errors.Is(err, kerr.DelegationTokenAuthorizationFailed), errors.Is(err, kerr.SecurityDisabled):
			status, code = http.StatusForbidden, 40301
		case errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.UnknownTopicID),
			errors.Is(err, kerr.GroupIDNotFound), errors.Is(err, kerr.ResourceNotFound),
			errors.Is(err, kerr.TransactionalIDNotFound):
			status, code = http.StatusNotFound, 40403
		case errors.Is(err, kerr.TopicAlreadyExists):
			status, code = http.StatusBadRequest, 40002
		case errors.Is(err, kerr.NonEmptyGroup), errors.Is(err, kerr.UnknownMemberID),
			errors.Is(err, kerr.RebalanceInProgress):
			status, code = http.StatusConflict, 40900
		case errors.Is(err, kerr.InvalidRequest), errors.Is(err, kerr.InvalidConfig),
			errors.Is(err, kerr.InvalidPartitions), errors.Is(err, kerr.InvalidReplicationFactor),
			errors.Is(err, kerr.InvalidTopicException), errors.Is(err, kerr.PolicyViolation),
			errors.Is(err, kerr.InvalidGroupID), errors.Is(err, kerr.UnsupportedVersion),
			errors.Is(err, kerr.TopicDeletionDisabled), errors.Is(err, kerr.InvalidRecord),
			errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge),
			errors.Is(err, kerr.OffsetOutOfRange):
			status, code = http.StatusBadRequest, 40000+int(ke.Code)%100
		}
	}
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf("%s: %v", what, err)}
}

// writeError answers err. Errors that are not apiErrors are the console's
// own failures: logged, and answered as a 500 with their message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		s.log.Warn("console request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = &apiError{Status: http.StatusInternalServerError, Code: 50001, Message: err.Error()}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(ae.Status)
	_ = json.NewEncoder(w).Encode(ae)
}

// api registers an API endpoint: pattern is an http.ServeMux pattern with
// its method ("GET /v3/clusters/{cluster_id}/topics"). Every endpoint needs
// a signed-in user (when the console has sign-in); those whose method
// changes something (POST, PUT, PATCH, DELETE) are checked against CSRF.
func (s *Server) api(pattern string, h apiFunc) {
	method, _, _ := strings.Cut(pattern, " ")
	change := method != http.MethodGet && method != http.MethodHead
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		ses, err := s.authenticate(w, r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if change {
			if err := s.checkCSRF(r, ses); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		c := &call{w: w, r: r, s: s, ses: ses}
		if err := h(c); err != nil {
			s.writeError(w, r, err)
		}
	})
}
