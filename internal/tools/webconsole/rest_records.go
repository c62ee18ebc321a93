package webconsole

// rest_records.go answers REST Proxy v3's produce endpoint, POST
// /v3/clusters/{cluster_id}/topics/{topic_name}/records: a record in REST
// Proxy's shape (partition_id, headers [{name, value (base64)}], key and
// value {type: BINARY|JSON|STRING, data}, timestamp), or several of them
// one after another in one body (REST Proxy's streaming mode), each
// answered in REST Proxy's ProduceResponse shape (error_code 200,
// partition_id, offset, timestamp, key and value type and size). The
// record is produced as the user, and acknowledged by all in-sync replicas
// before the answer.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// produceData is a key or value of a produce request.
type produceData struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// produceHeader is a header of a produce request (value base64, or null).
type produceHeader struct {
	Name  string  `json:"name"`
	Value *string `json:"value"`
}

// produceRequest is REST Proxy's ProduceRequest.
type produceRequest struct {
	PartitionID *int32          `json:"partition_id"`
	Headers     []produceHeader `json:"headers"`
	Key         *produceData    `json:"key"`
	Value       *produceData    `json:"value"`
	Timestamp   *time.Time      `json:"timestamp"`
}

// producedData is the type and size of a produced key or value.
type producedData struct {
	Type string `json:"type"`
	Size int    `json:"size"`
}

// produceResponse is REST Proxy's ProduceResponse.
type produceResponse struct {
	ErrorCode   int           `json:"error_code"`
	Message     string        `json:"message,omitempty"`
	ClusterID   string        `json:"cluster_id,omitempty"`
	TopicName   string        `json:"topic_name,omitempty"`
	PartitionID *int32        `json:"partition_id,omitempty"`
	Offset      *int64        `json:"offset,omitempty"`
	Timestamp   *string       `json:"timestamp,omitempty"`
	Key         *producedData `json:"key,omitempty"`
	Value       *producedData `json:"value,omitempty"`
}

// maxProduceRecords bounds the records of one streamed request.
const maxProduceRecords = 1000

// payload decodes a key or value: BINARY is base64, STRING a JSON string
// taken as is, JSON any JSON value (its bytes, compacted). A missing data
// or JSON null is a null key or value.
func payload(what string, d *produceData) ([]byte, *producedData, error) {
	if d == nil || len(d.Data) == 0 || string(d.Data) == "null" {
		if d == nil {
			return nil, nil, nil
		}
		return nil, &producedData{Type: d.Type}, nil
	}
	var b []byte
	switch d.Type {
	case "BINARY":
		var s string
		if err := json.Unmarshal(d.Data, &s); err != nil {
			return nil, nil, badRequest("%s: BINARY data must be a base64 string", what)
		}
		var err error
		if b, err = base64.StdEncoding.DecodeString(s); err != nil {
			return nil, nil, badRequest("%s: BINARY data is not base64: %v", what, err)
		}
	case "STRING":
		var s string
		if err := json.Unmarshal(d.Data, &s); err != nil {
			return nil, nil, badRequest("%s: STRING data must be a JSON string", what)
		}
		b = []byte(s)
	case "JSON", "":
		var buf bytes.Buffer
		if err := json.Compact(&buf, d.Data); err != nil {
			return nil, nil, badRequest("%s: JSON data is not valid JSON: %v", what, err)
		}
		b = buf.Bytes()
		d.Type = "JSON"
	case "AVRO", "PROTOBUF", "JSONSCHEMA":
		return nil, nil, badRequest("%s: type %s needs a schema registry, which the console has not: produce BINARY, JSON or STRING", what, d.Type)
	default:
		return nil, nil, badRequest("%s: type %q is not BINARY, JSON or STRING", what, d.Type)
	}
	return b, &producedData{Type: d.Type, Size: len(b)}, nil
}

// recordOf builds the record of a produce request.
func recordOf(topic string, req *produceRequest) (*kgo.Record, *producedData, *producedData, error) {
	r := &kgo.Record{Topic: topic, Partition: -1}
	if req.PartitionID != nil {
		if *req.PartitionID < 0 {
			return nil, nil, nil, badRequest("partition_id must be 0 or more")
		}
		r.Partition = *req.PartitionID
	}
	var err error
	var k, v *producedData
	if r.Key, k, err = payload("key", req.Key); err != nil {
		return nil, nil, nil, err
	}
	if r.Value, v, err = payload("value", req.Value); err != nil {
		return nil, nil, nil, err
	}
	for _, h := range req.Headers {
		if h.Name == "" {
			return nil, nil, nil, badRequest("a header without a name")
		}
		var val []byte
		if h.Value != nil {
			if val, err = base64.StdEncoding.DecodeString(*h.Value); err != nil {
				return nil, nil, nil, badRequest("header %s: value is not base64: %v", h.Name, err)
			}
		}
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Name, Value: val})
	}
	if req.Timestamp != nil {
		r.Timestamp = *req.Timestamp
	}
	return r, k, v, nil
}

// partitioner places a record: its partition_id when given, else by key
// as Kafka's clients do (murmur2, kgo's sticky-key partitioner), else at
// random.
func partitioner() kgo.Partitioner {
	byKey := kgo.StickyKeyPartitioner(nil)
	return kgo.BasicConsistentPartitioner(func(topic string) func(*kgo.Record, int) int {
		keyed := byKey.ForTopic(topic)
		return func(r *kgo.Record, n int) int {
			switch {
			case r.Partition >= 0:
				return int(r.Partition)
			case r.Key != nil:
				return keyed.Partition(r, n)
			default:
				return rand.IntN(n)
			}
		}
	})
}

// produceRecords answers the produce endpoint.
func (st *topicState) produceRecords(c *call) error {
	cluster, err := c.Cluster()
	if err != nil {
		return err
	}
	topic := c.r.PathValue("topic_name")
	ctx, cancel := c.timeout()
	defer cancel()
	td, err := c.describeTopic(ctx, topic)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.w, c.r.Body, maxBodyBytes))
	var reqs []produceRequest
	for {
		var req produceRequest
		if err := dec.Decode(&req); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return badRequest("invalid JSON body: %v", err)
		}
		if reqs = append(reqs, req); len(reqs) > maxProduceRecords {
			return badRequest("more than %d records in one request", maxProduceRecords)
		}
	}
	if len(reqs) == 0 {
		return badRequest("the request needs a JSON body: a record")
	}
	cl, err := c.Kafka().NewClient(kgo.RecordPartitioner(partitioner()), kgo.ProducerLinger(0))
	if err != nil {
		return kafkaError("create a producer", err)
	}
	defer cl.Close()
	out := make([]produceResponse, 0, len(reqs))
	for i := range reqs {
		resp, err := produceOne(ctx, cl, cluster, topic, int32(len(td.Partitions)), &reqs[i])
		if err != nil {
			c.Audit("record.produce", topic, err)
		} else {
			c.Audit("record.produce", topic, nil, "partition", *resp.PartitionID, "offset", *resp.Offset)
		}
		if err != nil {
			if len(reqs) == 1 {
				return err
			}
			ae := kafkaError("produce to topic "+topic, err).(*apiError)
			resp = produceResponse{ErrorCode: ae.Code, Message: ae.Message}
		}
		out = append(out, resp)
	}
	c.w.Header().Set("Content-Type", "application/json")
	c.w.Header().Set("Cache-Control", "no-store")
	c.w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(c.w)
	for _, resp := range out {
		if err := enc.Encode(resp); err != nil {
			return nil // the client went away; nothing left to tell it
		}
	}
	return nil
}

// produceOne produces one record and waits for its acknowledgement.
func produceOne(ctx context.Context, cl *kgo.Client, cluster, topic string, partitions int32, req *produceRequest) (produceResponse, error) {
	r, k, v, err := recordOf(topic, req)
	if err != nil {
		return produceResponse{}, err
	}
	if r.Partition >= partitions {
		return produceResponse{}, notFound("topic %s has no partition %d (UNKNOWN_TOPIC_OR_PARTITION)", topic, r.Partition)
	}
	res := cl.ProduceSync(ctx, r)
	if err := res.FirstErr(); err != nil {
		return produceResponse{}, kafkaError("produce to topic "+topic, err)
	}
	got := res[0].Record
	ts := got.Timestamp.UTC().Format(time.RFC3339Nano)
	return produceResponse{
		ErrorCode: http.StatusOK, ClusterID: cluster, TopicName: topic,
		PartitionID: &got.Partition, Offset: &got.Offset, Timestamp: &ts, Key: k, Value: v,
	}, nil
}
