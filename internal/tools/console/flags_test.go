package console

// flags_test.go checks the parsing of headers, acks, compression and start
// offsets, and the wording of produce errors.

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestParseHeaders(t *testing.T) {
	got, err := ParseHeaders([]string{"trace=abc", "empty=", "eq=a=b", "list=x,y", "trace=again"})
	if err != nil {
		t.Fatal(err)
	}
	want := []kgo.RecordHeader{{Key: "trace", Value: []byte("abc")}, {Key: "empty", Value: []byte{}},
		{Key: "eq", Value: []byte("a=b")}, {Key: "list", Value: []byte("x,y")}, {Key: "trace", Value: []byte("again")}}
	if len(got) != len(want) {
		t.Fatalf("got %d headers, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Key != want[i].Key || string(got[i].Value) != string(want[i].Value) {
			t.Errorf("header %d = %s=%q, want %s=%q", i, got[i].Key, got[i].Value, want[i].Key, want[i].Value)
		}
	}
	if h, err := ParseHeaders(nil); h != nil || err != nil {
		t.Errorf("ParseHeaders(nil) = %v, %v", h, err)
	}
	for _, bad := range []string{"novalue", "=v", ""} {
		if _, err := ParseHeaders([]string{bad}); err == nil {
			t.Errorf("ParseHeaders(%q): no error", bad)
		}
	}
}

func TestParseAcks(t *testing.T) {
	for _, tc := range []struct {
		in         string
		want       kgo.Acks
		idempotent bool
	}{
		{"", kgo.AllISRAcks(), true},
		{"all", kgo.AllISRAcks(), true},
		{"ALL", kgo.AllISRAcks(), true},
		{"-1", kgo.AllISRAcks(), true},
		{"1", kgo.LeaderAck(), false},
		{"0", kgo.NoAck(), false},
	} {
		got, idem, err := ParseAcks(tc.in)
		if err != nil || got != tc.want || idem != tc.idempotent {
			t.Errorf("ParseAcks(%q) = %v, %v, %v", tc.in, got, idem, err)
		}
	}
	for _, bad := range []string{"2", "none", "leader"} {
		if _, _, err := ParseAcks(bad); err == nil {
			t.Errorf("ParseAcks(%q): no error", bad)
		}
	}
}

func TestParseCompression(t *testing.T) {
	for in, want := range map[string]kgo.CompressionCodec{
		"": kgo.NoCompression(), "none": kgo.NoCompression(), "gzip": kgo.GzipCompression(),
		"snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(), "ZSTD": kgo.ZstdCompression(),
	} {
		if got, err := ParseCompression(in); err != nil || got != want {
			t.Errorf("ParseCompression(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseCompression("brotli"); err == nil {
		t.Error("ParseCompression(brotli): no error")
	}
}

func TestStartOffset(t *testing.T) {
	for _, tc := range []struct {
		from      bool
		offset    string
		partition int32
		want      kgo.Offset
	}{
		{false, "", -1, kgo.NewOffset().AtEnd()},
		{true, "", -1, kgo.NewOffset().AtStart()},
		{false, "earliest", -1, kgo.NewOffset().AtStart()},
		{false, "latest", 3, kgo.NewOffset().AtEnd()},
		{false, "42", 0, kgo.NewOffset().At(42)},
		{false, "0", 2, kgo.NewOffset().At(0)},
	} {
		got, err := StartOffset(tc.from, tc.offset, tc.partition)
		if err != nil || got.String() != tc.want.String() {
			t.Errorf("StartOffset(%v, %q, %d) = %v, %v; want %v", tc.from, tc.offset, tc.partition, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		from      bool
		offset    string
		partition int32
	}{
		{true, "earliest", -1}, // both given
		{false, "42", -1},      // number without a partition
		{false, "-5", 0},
		{false, "soon", 0},
	} {
		if _, err := StartOffset(tc.from, tc.offset, tc.partition); err == nil {
			t.Errorf("StartOffset(%v, %q, %d): no error", tc.from, tc.offset, tc.partition)
		}
	}
}

func TestExplainProduceErr(t *testing.T) {
	cfg := ProduceConfig{Topic: "rides", Partition: -1}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{kerr.UnknownTopicOrPartition, "unknown topic rides"},
		{kerr.MessageTooLarge, "record larger than the topic's max.message.bytes: MESSAGE_TOO_LARGE"},
		{context.Canceled, "interrupted before delivery: context canceled"},
		{kgo.ErrClientClosed, "interrupted before delivery: client closed"},
		{kerr.TopicAuthorizationFailed, "not authorized to write to topic rides"},
	} {
		got := explainProduceErr(cfg, tc.err, nil)
		if !strings.HasPrefix(got.Error(), tc.want) || !errors.Is(got, tc.err) {
			t.Errorf("%v: got %q, want prefix %q", tc.err, got, tc.want)
		}
	}
	cfg.Partition = 4
	if got := explainProduceErr(cfg, kerr.UnknownTopicOrPartition, nil).Error(); got != "unknown topic rides or partition 4" {
		t.Errorf("with a partition: %q", got)
	}
}
