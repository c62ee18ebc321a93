package broker

// metrics_recovery.go counts what start-up recovery found and did, per kind
// of damage, so that an operator sees it in /metrics as well as in the log.

import (
	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// recoveryMetrics are the start-up damage counters.
type recoveryMetrics struct {
	events *prometheus.CounterVec
	bytes  *prometheus.CounterVec
}

func newRecoveryMetrics() recoveryMetrics {
	return recoveryMetrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "courier_log_recovery_events_total",
			Help: "What partition log recovery found at start, by kind: torn_tail (cut), damaged_region (moved to quarantine), " +
				"restamped_batch, offset_gap (offsets missing between segments), quarantined_file, index_rebuilt, snapshot_damaged (a producer-state snapshot that did not verify, moved to quarantine), snapshot_ignored (one that verified but could not be used).",
		}, []string{"kind"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "courier_log_recovery_bytes_total",
			Help: "Bytes partition log recovery took out of segments at start, by kind: torn_tail, damaged_region (kept in quarantine).",
		}, []string{"kind"}),
	}
}

// add counts one partition's recovery report.
func (m recoveryMetrics) add(r storage.RecoveryReport) {
	count := func(kind string, n int) {
		if n > 0 {
			m.events.WithLabelValues(kind).Add(float64(n))
		}
	}
	if r.TornTailBytes > 0 {
		count("torn_tail", 1)
		m.bytes.WithLabelValues("torn_tail").Add(float64(r.TornTailBytes))
	}
	count("damaged_region", r.DamagedRegions)
	if r.DamagedBytes > 0 {
		m.bytes.WithLabelValues("damaged_region").Add(float64(r.DamagedBytes))
	}
	count("restamped_batch", r.RestampedBatches)
	count("offset_gap", r.OffsetGaps)
	count("quarantined_file", r.QuarantinedFiles)
	count("index_rebuilt", r.IndexesRebuilt)
	count("snapshot_damaged", r.SnapshotsDamaged)
	count("snapshot_ignored", r.SnapshotsIgnored)
}
