package server

import (
	"encoding/binary"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// servedAll serves every version kmsg knows of the keys it knows.
func servedAll(key int16) (int16, int16, bool) {
	r := kmsg.RequestForKey(key)
	if r == nil {
		return 0, 0, false
	}
	return 0, r.MaxVersion(), true
}

// encodeRequest returns a frame body (without the size prefix).
func encodeRequest(req kmsg.Request, corr int32) []byte {
	f := (&kmsg.RequestFormatter{}).AppendRequest(nil, req, corr)
	return f[4:]
}

func TestDecodeFrameRoundTrip(t *testing.T) {
	reqs := []kmsg.Request{
		&kmsg.ApiVersionsRequest{Version: 3, ClientSoftwareName: "x", ClientSoftwareVersion: "1"},
		&kmsg.MetadataRequest{Version: 12, Topics: []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("t")}}},
		&kmsg.ProduceRequest{Version: 9, Acks: -1, TimeoutMillis: 1000},
		&kmsg.FetchRequest{Version: 4, MaxWaitMillis: 10},
	}
	for _, req := range reqs {
		f, err := decodeFrame(encodeRequest(req, 7), servedAll)
		if err != nil {
			t.Fatalf("%s v%d: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
		}
		if f.corr != 7 || f.key != req.Key() || f.version != req.GetVersion() || f.msg == nil {
			t.Fatalf("%s: decoded %+v", kmsg.NameForKey(req.Key()), f)
		}
	}
}

func TestDecodeFrameRejects(t *testing.T) {
	onlyMetadataV1 := func(key int16) (int16, int16, bool) {
		if key == kmsg.Metadata.Int16() || key == kmsg.ApiVersions.Int16() {
			return 1, 1, true
		}
		return 0, 0, false
	}
	valid := encodeRequest(&kmsg.MetadataRequest{Version: 1}, 1)
	tests := []struct {
		name   string
		body   []byte
		reject bool // answered with a response instead of an error
	}{
		{"empty", nil, false},
		{"short header", valid[:5], false},
		{"unserved key", encodeRequest(&kmsg.ProduceRequest{Version: 9}, 1), false},
		{"unserved version", encodeRequest(&kmsg.MetadataRequest{Version: 9}, 1), false},
		{"unserved ApiVersions version", encodeRequest(&kmsg.ApiVersionsRequest{Version: 3}, 1), true},
		{"truncated body", valid[:len(valid)-2], false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := decodeFrame(tc.body, onlyMetadataV1)
			if tc.reject {
				resp, ok := f.reject.(*kmsg.ApiVersionsResponse)
				if err != nil || !ok || resp.ErrorCode != kerr.UnsupportedVersion.Code {
					t.Fatalf("want an UNSUPPORTED_VERSION answer, got %v %+v", err, f.reject)
				}
				return
			}
			if err == nil {
				t.Fatalf("decoded a bad frame: %+v", f)
			}
		})
	}
}

func TestEncodeResponseHeaders(t *testing.T) {
	// ApiVersions always uses response header v0; other flexible responses
	// carry an empty tag section after the correlation id.
	av := encodeResponse(nil, 9, &kmsg.ApiVersionsResponse{Version: 3})
	md := &kmsg.MetadataResponse{Version: 12}
	mdf := encodeResponse(nil, 9, md)
	if got := binary.BigEndian.Uint32(av); int(got) != len(av)-4 {
		t.Fatalf("size prefix %d for %d bytes", got, len(av)-4)
	}
	if want := 8 + 1 + len(md.AppendTo(nil)); len(mdf) != want {
		t.Fatalf("flexible response frame is %d bytes, want %d", len(mdf), want)
	}
	if want := 8 + len((&kmsg.ApiVersionsResponse{Version: 3}).AppendTo(nil)); len(av) != want {
		t.Fatalf("ApiVersions frame is %d bytes, want %d", len(av), want)
	}
}

// FuzzDecodeFrame feeds arbitrary frame bodies to the decoder: it must never
// panic, and whatever it accepts must carry a message of the header's key.
func FuzzDecodeFrame(f *testing.F) {
	for _, req := range []kmsg.Request{
		&kmsg.ApiVersionsRequest{Version: 3},
		&kmsg.MetadataRequest{Version: 12, Topics: []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("rider-updates")}}},
		&kmsg.ProduceRequest{Version: 9, Acks: -1, Topics: []kmsg.ProduceRequestTopic{{Topic: "t", Partitions: []kmsg.ProduceRequestTopicPartition{{Records: []byte{1, 2, 3}}}}}},
		&kmsg.FetchRequest{Version: 12, Topics: []kmsg.FetchRequestTopic{{Topic: "t", Partitions: []kmsg.FetchRequestTopicPartition{{FetchOffset: 5}}}}},
		&kmsg.CreateTopicsRequest{Version: 7, Topics: []kmsg.CreateTopicsRequestTopic{{Topic: "t", NumPartitions: 3}}},
		&kmsg.JoinGroupRequest{Version: 9, Group: "g", ProtocolType: "consumer"},
	} {
		f.Add(encodeRequest(req, 1))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fr, err := decodeFrame(body, servedAll)
		if err != nil || fr.reject != nil {
			return
		}
		if fr.msg == nil || fr.msg.Key() != fr.key || fr.msg.GetVersion() != fr.version {
			t.Fatalf("accepted frame with inconsistent message: %+v", fr)
		}
	})
}
