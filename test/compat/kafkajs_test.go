package compat

// kafkajs_test.go runs kafkajs/compat.js (kafkajs 2.2.4) against the broker:
// admin calls, produces with explicit partitions, keys, headers, timestamps,
// acks -1 and 1, gzip and idempotence, then a read-back. It compares the
// script's JSON report with what it asked the script to send.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// jsMessage is one message of the script's spec, and (with Offset) one
// record read back. Key and Value are base64 in JSON, null when nil.
type jsMessage struct {
	Partition int32      `json:"partition"`
	Offset    string     `json:"offset,omitempty"`
	Key       []byte     `json:"key"`
	Value     []byte     `json:"value"`
	Headers   [][]string `json:"headers"` // [name, base64 value] pairs
	Timestamp string     `json:"timestamp"`
}

// jsSend is one producer.send call.
type jsSend struct {
	Acks        int         `json:"acks"`
	Compression string      `json:"compression"`
	Idempotent  bool        `json:"idempotent"`
	Messages    []jsMessage `json:"messages"`
}

// jsSpec is the script's input.
type jsSpec struct {
	Brokers        []string `json:"brokers"`
	Topic          string   `json:"topic"`
	NumPartitions  int32    `json:"numPartitions"`
	TimestampQuery string   `json:"timestampQuery"`
	Sends          []jsSend `json:"sends"`
}

type jsOffsets struct {
	Partition int32  `json:"partition"`
	Low       string `json:"low"`
	High      string `json:"high"`
}

type jsPartitionMetadata struct {
	PartitionErrorCode int16   `json:"partitionErrorCode"`
	PartitionID        int32   `json:"partitionId"`
	Leader             int32   `json:"leader"`
	Replicas           []int32 `json:"replicas"`
	ISR                []int32 `json:"isr"`
}

type jsTopicMetadata struct {
	Name       string                `json:"name"`
	Partitions []jsPartitionMetadata `json:"partitions"`
}

type jsSendResult struct {
	Partition  int32  `json:"partition"`
	ErrorCode  int16  `json:"errorCode"`
	BaseOffset string `json:"baseOffset"`
}

type jsPartitionOffset struct {
	Partition int32  `json:"partition"`
	Offset    string `json:"offset"`
}

// jsOutput is the script's report (the `out` object of compat.js).
type jsOutput struct {
	CreateTopics       bool                `json:"createTopics"`
	CreateTopicsAgain  bool                `json:"createTopicsAgain"`
	ListTopics         []string            `json:"listTopics"`
	Metadata           []jsTopicMetadata   `json:"metadata"`
	OffsetsBefore      []jsOffsets         `json:"offsetsBefore"`
	SendResults        [][]jsSendResult    `json:"sendResults"`
	OffsetsAfter       []jsOffsets         `json:"offsetsAfter"`
	OffsetsByTimestamp []jsPartitionOffset `json:"offsetsByTimestamp"`
	Records            []jsMessage         `json:"records"`
}

// hdr is a header pair in the spec's form.
func hdr(name, value string) []string {
	return []string{name, base64.StdEncoding.EncodeToString([]byte(value))}
}

// kafkajsSends builds the sends: every byte value, unicode, empty and null
// keys and values, repeated header names, acks -1 and 1, gzip, idempotence.
// Timestamps rise by a second per message, from base.
func kafkajsSends(base int64) []jsSend {
	n := 0
	msg := func(p int32, key, value []byte, headers ...[]string) jsMessage {
		n++
		return jsMessage{Partition: p, Key: key, Value: value, Headers: headers, Timestamp: strconv.FormatInt(base+int64(n-1)*1000, 10)}
	}
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	first := jsSend{Acks: -1, Compression: "none", Messages: []jsMessage{
		msg(0, []byte("k1"), []byte("hello world"), hdr("trace", "abc 123"), hdr("empty", "")),
		msg(1, []byte("ключ"), []byte("unicode: héllo wörld ✓ 日本語 🚀"), hdr("utf-✓", "ü")),
		msg(0, []byte{}, []byte("an empty key")),
		msg(1, nil, []byte("a null key")),
		msg(0, []byte("empty-value"), []byte{}),
		msg(1, []byte("tombstone"), nil, hdr("why", "deleted")),
		msg(0, allBytes, allBytes, hdr("bin", string(allBytes))),
		msg(1, []byte("dup"), []byte("repeated header name"), hdr("dup", "first"), hdr("dup", "second"), hdr("other", "x")),
		msg(0, []byte("nl"), []byte("line one\nline two\r\n")),
	}}
	second := jsSend{Acks: 1, Compression: "none"}
	for i := range 6 {
		second.Messages = append(second.Messages, msg(int32(i%2), []byte(fmt.Sprintf("acks1-%d", i)), []byte(fmt.Sprintf("acks=1 value %d", i))))
	}
	gz := jsSend{Acks: -1, Compression: "gzip"}
	for i := range 40 {
		gz.Messages = append(gz.Messages, msg(int32(i%2), []byte(fmt.Sprintf("gz-%02d", i)), []byte(fmt.Sprintf("gzip value %02d %s", i, strings.Repeat("compressible ", 8))), hdr("i", strconv.Itoa(i))))
	}
	idem := jsSend{Acks: -1, Compression: "none", Idempotent: true}
	for i := range 6 {
		idem.Messages = append(idem.Messages, msg(int32(i%2), []byte(fmt.Sprintf("idem-%d", i)), []byte(fmt.Sprintf("idempotent value %d", i))))
	}
	return []jsSend{first, second, gz, idem}
}

func TestKafkajs(t *testing.T) {
	node, dir := requireKafkajs(t)
	b := startBroker(t)
	const topic = "kafkajs-compat"
	base := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC).UnixMilli()
	sends := kafkajsSends(base)
	// Between the 4th and 5th messages: partition 0's 3rd record, partition
	// 1's 3rd record.
	query := base + 3500
	spec := jsSpec{
		Brokers:        []string{b.Addr()},
		Topic:          topic,
		NumPartitions:  2,
		TimestampQuery: strconv.FormatInt(query, 10),
		Sends:          sends,
	}
	in, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := run(t, in, nil, node, filepath.Join(dir, "compat.js"))
	defer func() {
		if t.Failed() && len(stderr) > 0 {
			t.Logf("compat.js stderr (kafkajs logs its expected CreateTopics error for the second create):\n%s", stderr)
		}
	}()
	if err != nil {
		t.Fatalf("node compat.js: %v\nstdout:\n%s", err, stdout)
	}
	var got jsOutput
	if err := json.Unmarshal(stdout, &got); err != nil {
		t.Fatalf("compat.js output: %v\n%s", err, stdout)
	}

	// What the broker must have reported and stored.
	var want jsOutput
	want.CreateTopics, want.CreateTopicsAgain = true, false
	want.ListTopics = []string{topic}
	one := []int32{1}
	want.Metadata = []jsTopicMetadata{{Name: topic, Partitions: []jsPartitionMetadata{
		{PartitionID: 0, Leader: 1, Replicas: one, ISR: one},
		{PartitionID: 1, Leader: 1, Replicas: one, ISR: one},
	}}}
	want.OffsetsBefore = []jsOffsets{{0, "0", "0"}, {1, "0", "0"}}
	next := []int64{0, 0}
	var perPartition [2][]jsMessage
	for _, s := range sends {
		var res []jsSendResult
		for p := range int32(2) {
			first := next[p]
			for _, m := range s.Messages {
				if m.Partition != p {
					continue
				}
				m.Offset = strconv.FormatInt(next[p], 10)
				if m.Headers == nil {
					m.Headers = [][]string{}
				}
				next[p]++
				perPartition[p] = append(perPartition[p], m)
			}
			if next[p] > first {
				res = append(res, jsSendResult{Partition: p, BaseOffset: strconv.FormatInt(first, 10)})
			}
		}
		want.SendResults = append(want.SendResults, res)
	}
	want.OffsetsAfter = []jsOffsets{{0, "0", strconv.FormatInt(next[0], 10)}, {1, "0", strconv.FormatInt(next[1], 10)}}
	for p := range int32(2) {
		off := strconv.FormatInt(next[p], 10) // none at or after: kafkajs reports the high watermark
		for _, m := range perPartition[p] {
			if ts, _ := strconv.ParseInt(m.Timestamp, 10, 64); ts >= query {
				off = m.Offset
				break
			}
		}
		want.OffsetsByTimestamp = append(want.OffsetsByTimestamp, jsPartitionOffset{p, off})
	}
	want.Records = append(perPartition[0], perPartition[1]...)

	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Errorf("%s:\n got %s\nwant %s", what, g, w)
		}
	}
	check("createTopics", got.CreateTopics, want.CreateTopics)
	check("createTopics of an existing topic", got.CreateTopicsAgain, want.CreateTopicsAgain)
	check("listTopics", got.ListTopics, want.ListTopics)
	check("fetchTopicMetadata", got.Metadata, want.Metadata)
	check("fetchTopicOffsets before producing", got.OffsetsBefore, want.OffsetsBefore)
	check("producer.send results", got.SendResults, want.SendResults)
	check("fetchTopicOffsets after producing", got.OffsetsAfter, want.OffsetsAfter)
	check(fmt.Sprintf("fetchTopicOffsetsByTimestamp(base+%d)", query-base), got.OffsetsByTimestamp, want.OffsetsByTimestamp)
	if len(got.Records) != len(want.Records) {
		t.Errorf("read back %d records, want %d", len(got.Records), len(want.Records))
	}
	for i := range min(len(got.Records), len(want.Records)) {
		check(fmt.Sprintf("record %d (partition %d offset %s)", i, want.Records[i].Partition, want.Records[i].Offset), got.Records[i], want.Records[i])
	}
}
