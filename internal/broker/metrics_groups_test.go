package broker

// metrics_groups_test.go checks that groups and what consumer groups did
// reach /metrics: groups by type and state, epoch bumps, target
// assignments and members removed by reason.

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestGroupMetrics(t *testing.T) {
	b := openAuthzBroker(t, false) // a classic group g-1 (offsets only)
	hb := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	hb.Version, hb.Group, hb.MemberID, hb.RebalanceTimeoutMillis = 1, "c-1", "m", 10000
	hb.SubscribedTopicNames, hb.Topics = []string{"a-1"}, []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	if r := as[*kmsg.ConsumerGroupHeartbeatResponse](t, b, "admin", hb); r.ErrorCode != 0 {
		t.Fatalf("heartbeat: %d", r.ErrorCode)
	}
	leave := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	leave.Version, leave.Group, leave.MemberID, leave.MemberEpoch = 1, "c-1", "m", -1
	as[*kmsg.ConsumerGroupHeartbeatResponse](t, b, "admin", leave)

	families, err := b.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() { // in label name order
				name += "/" + l.GetValue()
			}
			got[name] = value(m)
		}
	}
	for name, want := range map[string]float64{
		"courier_groups/Empty/classic":                                 1, // g-1
		"courier_groups/Empty/consumer":                                1, // c-1, left
		"courier_consumer_group_rebalances_total":                      2, // joined, left
		"courier_consumer_group_assignments_total":                     1,
		"courier_consumer_group_members_removed_total/left":            1,
		"courier_consumer_group_members_removed_total/session_timeout": 0,
		"courier_group_migrations_total":                               0,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
}

func value(m *dto.Metric) float64 {
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return m.GetGauge().GetValue()
}
