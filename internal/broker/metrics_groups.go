package broker

// metrics_groups.go reports the group coordinator's groups on scrape:
// how many groups of each type are in each state, and what KIP-848
// consumer groups did since start: group epoch bumps (rebalances), target
// assignments computed, groups converted between protocols, and members
// removed, by reason.

import (
	"github.com/prometheus/client_golang/prometheus"
)

// groupCollector collects the group figures.
type groupCollector struct{ b *Broker }

var (
	descGroups          = prometheus.NewDesc("courier_groups", "Groups the coordinator holds, by type (classic, consumer) and state (Kafka's names of the type's states).", []string{"type", "state"}, nil)
	descConsumerRebal   = prometheus.NewDesc("courier_consumer_group_rebalances_total", "KIP-848 consumer group epoch bumps since start: a member joined, left or changed its subscription, or its subscribed topics changed.", nil, nil)
	descConsumerAssign  = prometheus.NewDesc("courier_consumer_group_assignments_total", "KIP-848 target assignments computed since start (assignment epoch bumps).", nil, nil)
	descConsumerMigrate = prometheus.NewDesc("courier_group_migrations_total", "Groups with members converted between the classic and the consumer protocol since start (group.consumer.migration.policy).", nil, nil)
	descConsumerFenced  = prometheus.NewDesc("courier_consumer_group_members_removed_total", "KIP-848 consumer group members removed since start, by reason: left, session_timeout (no heartbeat within group.consumer.session.timeout.ms), rebalance_timeout (did not revoke partitions within its rebalance timeout).", []string{"reason"}, nil)
)

func (c groupCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descGroups, descConsumerRebal, descConsumerAssign, descConsumerMigrate, descConsumerFenced} {
		ch <- d
	}
}

func (c groupCollector) Collect(ch chan<- prometheus.Metric) {
	g := c.b.groups
	if g == nil { // nil until Open has it
		return
	}
	for _, n := range g.GroupCounts() {
		ch <- prometheus.MustNewConstMetric(descGroups, prometheus.GaugeValue, float64(n.Groups), n.Type, n.State)
	}
	s := g.ConsumerStats()
	ch <- prometheus.MustNewConstMetric(descConsumerRebal, prometheus.CounterValue, float64(s.Rebalances))
	ch <- prometheus.MustNewConstMetric(descConsumerAssign, prometheus.CounterValue, float64(s.Assignments))
	ch <- prometheus.MustNewConstMetric(descConsumerMigrate, prometheus.CounterValue, float64(s.Migrations))
	for reason, n := range s.Fenced {
		ch <- prometheus.MustNewConstMetric(descConsumerFenced, prometheus.CounterValue, float64(n), reason.String())
	}
}
