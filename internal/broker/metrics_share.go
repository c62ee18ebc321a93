package broker

// metrics_share.go reports share groups on scrape (package share): the
// groups, members and sessions, the records in flight by state, and the
// totals since start of acquisitions, acknowledgements by type, records
// archived at the delivery limit, lock expiries and state the journal
// could not store.

import (
	"github.com/prometheus/client_golang/prometheus"
)

// shareCollector collects the share coordinator's figures.
type shareCollector struct{ b *Broker }

var (
	descShareGroups    = prometheus.NewDesc("courier_share_groups", "Share groups (KIP-932).", nil, nil)
	descShareMembers   = prometheus.NewDesc("courier_share_group_members", "Members of all share groups.", nil, nil)
	descShareSessions  = prometheus.NewDesc("courier_share_sessions", "Open share sessions.", nil, nil)
	descSharePartition = prometheus.NewDesc("courier_share_partitions", "Share-partitions with state (group, topic, partition).", nil, nil)
	descShareInFlight  = prometheus.NewDesc("courier_share_records_in_flight", "Records between the share-partition start and end offsets not yet acknowledged or archived, by state: acquired (locked by a member) or available.", []string{"state"}, nil)
	descShareAcquired  = prometheus.NewDesc("courier_share_records_acquired_total", "Records handed to share group members (each delivery counts).", nil, nil)
	descShareAcks      = prometheus.NewDesc("courier_share_acknowledgements_total", "Records acknowledged by share group members, by type: accept, release, reject, gap (an offset the member got no record for), renew (lock renewed).", []string{"type"}, nil)
	descShareArchived  = prometheus.NewDesc("courier_share_records_archived_at_limit_total", "Records archived because they reached share.delivery.count.limit.", nil, nil)
	descShareExpiries  = prometheus.NewDesc("courier_share_lock_expiries_total", "Acquisition locks that expired (the record became available again, or was archived at the limit).", nil, nil)
	descShareMemberExp = prometheus.NewDesc("courier_share_member_session_expiries_total", "Share group members removed because their session timed out.", nil, nil)
	descShareWriteFail = prometheus.NewDesc("courier_share_state_write_failures_total", "Share state changes the journal could not store (the request was answered KAFKA_STORAGE_ERROR).", nil, nil)
)

func (c shareCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descShareGroups, descShareMembers, descShareSessions, descSharePartition, descShareInFlight,
		descShareAcquired, descShareAcks, descShareArchived, descShareExpiries, descShareMemberExp, descShareWriteFail} {
		ch <- d
	}
}

func (c shareCollector) Collect(ch chan<- prometheus.Metric) {
	if c.b.share == nil { // until Open has it
		return
	}
	s := c.b.share.Stats()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(descShareGroups, float64(s.Groups))
	gauge(descShareMembers, float64(s.Members))
	gauge(descShareSessions, float64(s.Sessions))
	gauge(descSharePartition, float64(s.SharePartitions))
	gauge(descShareInFlight, float64(s.Acquired), "acquired")
	gauge(descShareInFlight, float64(s.Available), "available")
	counter(descShareAcquired, s.RecordsAcquired)
	counter(descShareAcks, s.Accepted, "accept")
	counter(descShareAcks, s.Released, "release")
	counter(descShareAcks, s.Rejected, "reject")
	counter(descShareAcks, s.Gaps, "gap")
	counter(descShareAcks, s.Renewed, "renew")
	counter(descShareArchived, s.ArchivedAtLimit)
	counter(descShareExpiries, s.LockExpiries)
	counter(descShareMemberExp, s.MemberExpiries)
	counter(descShareWriteFail, s.WriteFailures)
}
