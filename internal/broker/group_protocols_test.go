package broker

// group_protocols_test.go checks --group-protocols: its parsing and the
// APIs it hides.

import (
	"context"
	"slices"
	"testing"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestParseGroupProtocols(t *testing.T) {
	for _, tc := range []struct {
		in      []string
		want    []string
		wantErr bool
	}{
		{in: []string{"classic", "consumer", "share"}, want: []string{"classic", "consumer", "share"}},
		{in: []string{" Classic ", "consumer", "classic", ""}, want: []string{"classic", "consumer"}},
		{in: []string{"classic"}, want: []string{"classic"}},
		{in: []string{"consumer", "share"}, wantErr: true}, // classic is required, as in Kafka
		{in: []string{"classic", "streams"}, wantErr: true},
		{in: nil, wantErr: true},
	} {
		got, err := ParseGroupProtocols(tc.in)
		if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
			t.Errorf("ParseGroupProtocols(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestGroupProtocolsHideAPIs: a protocol left out of --group-protocols
// takes its APIs out of ApiVersions (and so out of what the server
// accepts), and only those.
func TestGroupProtocolsHideAPIs(t *testing.T) {
	classicOnly := &Broker{cfg: Config{GroupProtocols: []string{GroupProtocolClassic}}}
	all := &Broker{cfg: Config{}.withDefaults()}
	for key, proto := range groupProtocolAPIs {
		if _, _, ok := classicOnly.Versions(key); ok {
			t.Errorf("API %d (%s) is served with --group-protocols classic", key, proto)
		}
		_, _, served := all.Versions(key)
		_, implemented := apis[key]
		if served != implemented {
			t.Errorf("API %d (%s): served %v with every protocol on, implemented %v", key, proto, served, implemented)
		}
	}
	for _, key := range []int16{kmsg.JoinGroup.Int16(), kmsg.SyncGroup.Int16(), kmsg.Heartbeat.Int16(), kmsg.OffsetCommit.Int16()} {
		if _, _, ok := classicOnly.Versions(key); !ok {
			t.Errorf("classic API %d is not served with --group-protocols classic", key)
		}
	}
	req := &server.Request{Msg: kmsg.NewPtrApiVersionsRequest()}
	resp := classicOnly.handleAPIVersions(context.Background(), req)(context.Background()).(*kmsg.ApiVersionsResponse)
	for _, k := range resp.ApiKeys {
		if _, gated := groupProtocolAPIs[k.ApiKey]; gated {
			t.Errorf("ApiVersions lists API %d with --group-protocols classic", k.ApiKey)
		}
	}
}
