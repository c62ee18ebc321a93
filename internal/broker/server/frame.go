package server

// frame.go decodes request frames and encodes response frames with kmsg.

import (
	"encoding/binary"
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// frame is a decoded request frame.
type frame struct {
	key      int16
	version  int16
	corr     int32
	clientID string
	msg      kmsg.Request
	// reject, when set, is the response to send instead of handling msg.
	reject kmsg.Response
}

// versionsFunc reports the served versions of an API key.
type versionsFunc func(key int16) (min, max int16, ok bool)

// decodeFrame parses the request header and body. An ApiVersions request of
// a version not served is answered with UNSUPPORTED_VERSION in a v0
// response, as Kafka does so that clients can downgrade; any other bad frame
// is an error, which closes the connection (also as Kafka does: it cannot
// answer in a version it does not know).
func decodeFrame(body []byte, versions versionsFunc) (frame, error) {
	r := kbin.Reader{Src: body}
	f := frame{key: r.Int16(), version: r.Int16(), corr: r.Int32()}
	if cid := r.NullableString(); cid != nil {
		f.clientID = *cid
	}
	if err := r.Complete(); err != nil {
		return f, fmt.Errorf("truncated request header: %w", err)
	}
	min, max, ok := versions(f.key)
	if !ok {
		return f, fmt.Errorf("unsupported API key %d", f.key)
	}
	if f.version < min || f.version > max {
		if f.key == kmsg.ApiVersions.Int16() {
			f.reject = unsupportedAPIVersions(min, max)
			return f, nil
		}
		return f, fmt.Errorf("unsupported version %d of API key %d (serving %d-%d)", f.version, f.key, min, max)
	}
	msg := kmsg.RequestForKey(f.key)
	if msg == nil {
		return f, fmt.Errorf("unknown API key %d", f.key)
	}
	msg.SetVersion(f.version)
	if msg.IsFlexible() {
		kmsg.SkipTags(&r)
		if err := r.Complete(); err != nil {
			return f, fmt.Errorf("truncated request header tags: %w", err)
		}
	}
	if err := msg.ReadFrom(r.Src); err != nil {
		return f, fmt.Errorf("decode %s v%d: %w", kmsg.NameForKey(f.key), f.version, err)
	}
	f.msg = msg
	return f, nil
}

// unsupportedAPIVersions is the v0 answer to an ApiVersions request of a
// version not served.
func unsupportedAPIVersions(min, max int16) kmsg.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	resp.ApiKeys = []kmsg.ApiVersionsResponseApiKey{{ApiKey: kmsg.ApiVersions.Int16(), MinVersion: min, MaxVersion: max}}
	return resp
}

// encodeResponse appends a size-prefixed response frame to dst. ApiVersions
// responses always use header v0 (no tagged fields), so that a client that
// does not yet know the broker's versions can read them.
func encodeResponse(dst []byte, corr int32, resp kmsg.Response) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(corr))
	if resp.IsFlexible() && resp.Key() != kmsg.ApiVersions.Int16() {
		dst = append(dst, 0)
	}
	dst = resp.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}
