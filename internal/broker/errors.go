package broker

// errors.go maps internal errors to Kafka error codes.

import (
	"errors"
	"fmt"

	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/twmb/franz-go/pkg/kerr"
)

// errorCode returns the Kafka error code for err (0 for nil).
func errorCode(err error) int16 {
	var ae *apiError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ae):
		return ae.code.Code
	case errors.Is(err, storage.ErrCorruptMessage):
		return kerr.CorruptMessage.Code
	case errors.Is(err, storage.ErrMessageTooLarge):
		return kerr.MessageTooLarge.Code
	case errors.Is(err, storage.ErrOutOfOrderSequence):
		return kerr.OutOfOrderSequenceNumber.Code
	case errors.Is(err, storage.ErrInvalidProducerEpoch):
		return kerr.InvalidProducerEpoch.Code
	case errors.Is(err, storage.ErrInvalidTxnState):
		return kerr.InvalidTxnState.Code
	case errors.Is(err, storage.ErrCoordinatorFenced):
		return kerr.TransactionCoordinatorFenced.Code
	case errors.Is(err, storage.ErrInvalidRecord):
		return kerr.InvalidRecord.Code
	case errors.Is(err, storage.ErrInvalidTimestamp):
		return kerr.InvalidTimestamp.Code
	case errors.Is(err, storage.ErrUnsupportedCompression):
		return kerr.UnsupportedCompressionType.Code
	case errors.Is(err, storage.ErrOffsetOutOfRange):
		return kerr.OffsetOutOfRange.Code
	case errors.Is(err, topics.ErrTopicExists):
		return kerr.TopicAlreadyExists.Code
	case errors.Is(err, topics.ErrUnknownTopic):
		return kerr.UnknownTopicOrPartition.Code
	case errors.Is(err, topics.ErrInvalidTopic):
		return kerr.InvalidTopicException.Code
	case errors.Is(err, topics.ErrInvalidPartitions):
		return kerr.InvalidPartitions.Code
	case errors.Is(err, topics.ErrInvalidConfig):
		return kerr.InvalidConfig.Code
	case errors.Is(err, errInvalidReplicationFactor):
		return kerr.InvalidReplicationFactor.Code
	case errors.Is(err, errInvalidReplicaAssignment):
		return kerr.InvalidReplicaAssignment.Code
	case errors.As(err, new(errPartitionLimit)):
		return kerr.PolicyViolation.Code
	case errors.Is(err, errInvalidRequest):
		return kerr.InvalidRequest.Code
	default:
		return kerr.KafkaStorageError.Code
	}
}

// errorMessage returns err's text for responses that carry one, or nil.
func errorMessage(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}

// apiError is an error answered with a given Kafka code and exactly its
// message, for answers whose text Kafka's clients and tools show as is
// ("Invalid config value for resource ...").
type apiError struct {
	code *kerr.Error
	msg  string
}

func (e *apiError) Error() string { return e.msg }

// newAPIError returns an apiError with a formatted message.
func newAPIError(code *kerr.Error, format string, args ...any) error {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

var (
	// errInvalidRequest is a request that contradicts itself or the
	// protocol (a config named twice): INVALID_REQUEST.
	errInvalidRequest           = errors.New("invalid request")
	errInvalidReplicationFactor = errors.New("invalid replication factor")
	errInvalidReplicaAssignment = errors.New("invalid replica assignment")
)
