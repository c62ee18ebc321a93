package broker

// metrics.go exports the broker's Prometheus metrics: request counts and
// latencies per API, bytes in and out, connections, frames refused from
// their size, refused produced batches by reason, recovered panics, the
// memory budgets (queued requests, fetch memory), each partition's offsets
// and size, and the journals' damage and repair counters (both collected
// on scrape, so the produce path pays nothing).

import (
	"strconv"
	"time"

	"github.com/courier-dev/courier/internal/broker/cleaner"
	"github.com/courier-dev/courier/internal/broker/journal"
	"github.com/courier-dev/courier/internal/broker/membudget"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Metrics implements server.Observer and collects partition gauges.
type Metrics struct {
	registry        *prometheus.Registry
	requests        *prometheus.CounterVec
	latency         *prometheus.HistogramVec
	bytesIn         prometheus.Counter
	bytesOut        prometheus.Counter
	recordsOut      prometheus.Counter
	connections     prometheus.Gauge
	rejected        *prometheus.CounterVec
	panics          *prometheus.CounterVec
	bgPanics        *prometheus.CounterVec
	rejectedBatches *prometheus.CounterVec
	apiNames        [128]string
	// recovery counts start-up damage (metrics_recovery.go); quarantined
	// counts data directory entries moved aside, by reason.
	recovery    recoveryMetrics
	quarantined *prometheus.CounterVec
	// brokerConfigsIgnored counts the entries of broker-configs.json not
	// used (dynamic_configs.go).
	brokerConfigsIgnored prometheus.Gauge
}

func newMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "courier_requests_total", Help: "Kafka requests answered, by API.",
		}, []string{"api"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "courier_request_seconds",
			Help:    "Time from a request's arrival to its response being written, by API.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"api"}),
		bytesIn:     prometheus.NewCounter(prometheus.CounterOpts{Name: "courier_bytes_in_total", Help: "Request bytes read."}),
		bytesOut:    prometheus.NewCounter(prometheus.CounterOpts{Name: "courier_bytes_out_total", Help: "Response bytes written."}),
		recordsOut:  prometheus.NewCounter(prometheus.CounterOpts{Name: "courier_records_out_total", Help: "Records sent in Fetch responses (transaction markers not counted; share groups' deliveries are courier_share_records_acquired_total)."}),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "courier_connections", Help: "Open client connections."}),
		recovery:    newRecoveryMetrics(),
		quarantined: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "courier_quarantined_total",
			Help: "Data directory entries the broker moved to DATA/quarantine at start, by reason (unknown directory, damaged metadata).",
		}, []string{"reason"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "courier_rejected_frames_total",
			Help: "Request frames refused from their declared size, before their body was read (each closed its connection), by reason: too_small, too_large (--max-request-bytes), too_large_before_auth (--sasl-max-receive-size).",
		}, []string{"reason"}),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "courier_request_panics_total",
			Help: "Panics recovered while serving a request, by API (\"none\": between requests); each closed its connection.",
		}, []string{"api"}),
		bgPanics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "courier_background_panics_total",
			Help: "Panics recovered in background work that requests start (group coordinator timers), by task.",
		}, []string{"task"}),
		rejectedBatches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "courier_produce_rejected_batches_total",
			Help: "Produced batches refused by validation, by reason (storage.Reason*, required_acks, and internal_topic).",
		}, []string{"reason"}),
		brokerConfigsIgnored: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "courier_broker_configs_ignored",
			Help: "Entries of DATA/meta/broker-configs.json not used because this build does not accept them (an unknown name or an invalid value); they are kept in the file and logged at start.",
		}),
	}
	for i := range m.apiNames {
		m.apiNames[i] = kmsg.NameForKey(int16(i))
		if m.apiNames[i] == "" {
			m.apiNames[i] = "key_" + strconv.Itoa(i)
		}
	}
	m.registry.MustRegister(m.requests, m.latency, m.bytesIn, m.bytesOut, m.recordsOut, m.connections, m.rejected, m.panics, m.bgPanics,
		m.rejectedBatches, m.brokerConfigsIgnored, m.recovery.events, m.recovery.bytes, m.quarantined,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// apiName is the metric label of an API key.
func (m *Metrics) apiName(key int16) string {
	if key >= 0 && int(key) < len(m.apiNames) {
		return m.apiNames[key]
	}
	if key < 0 {
		return "none"
	}
	return "unknown"
}

// RequestDone records one answered request.
func (m *Metrics) RequestDone(key int16, latency time.Duration, in, out int) {
	name := m.apiName(key)
	m.requests.WithLabelValues(name).Inc()
	m.latency.WithLabelValues(name).Observe(latency.Seconds())
	m.bytesIn.Add(float64(in))
	m.bytesOut.Add(float64(out))
}

// RecordsFetched counts records sent in a Fetch response.
func (m *Metrics) RecordsFetched(n int64) { m.recordsOut.Add(float64(n)) }

// BatchRejected counts a produced batch refused for reason.
func (m *Metrics) BatchRejected(reason string) { m.rejectedBatches.WithLabelValues(reason).Inc() }

// ConnOpened counts a new connection.
func (m *Metrics) ConnOpened() { m.connections.Inc() }

// ConnClosed counts a closed connection.
func (m *Metrics) ConnClosed() { m.connections.Dec() }

// FrameRejected counts a frame refused from its size.
func (m *Metrics) FrameRejected(reason string) { m.rejected.WithLabelValues(reason).Inc() }

// RequestPanicked counts a recovered panic.
func (m *Metrics) RequestPanicked(key int16) { m.panics.WithLabelValues(m.apiName(key)).Inc() }

// BackgroundPanicked counts a panic recovered in background work.
func (m *Metrics) BackgroundPanicked(task string) { m.bgPanics.WithLabelValues(task).Inc() }

// ObserveServer exports the network server's queued-request budget:
// courier_queued_request_bytes and courier_queued_request_waits_total.
func (m *Metrics) ObserveServer(s *server.Server) {
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "courier_queued_request_bytes",
			Help: "Request bytes read but not yet answered, across connections (bounded by --max-queued-request-bytes).",
		}, func() float64 { return float64(s.QueuedRequestBytes()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "courier_queued_request_waits_total",
			Help: "Times a connection's reader waited for --max-queued-request-bytes before reading a frame.",
		}, func() float64 { return float64(s.QueuedRequestWaits()) }))
}

// observeFetchMemory exports the fetch memory budget.
func (m *Metrics) observeFetchMemory(b *membudget.Budget) {
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "courier_fetch_memory_bytes",
			Help: "Fetched record bytes held until their responses are written (bounded by --fetch-memory-bytes).",
		}, func() float64 { return float64(b.InUse()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "courier_fetch_memory_waits_total",
			Help: "Fetches that waited for --fetch-memory-bytes before reading.",
		}, func() float64 { return float64(b.Waits()) }))
}

// Metrics returns the broker's metrics: pass it to server.Config.Observer.
func (b *Broker) Metrics() *Metrics { return b.metrics }

// Registry returns the Prometheus registry holding every broker metric.
func (b *Broker) Registry() *prometheus.Registry {
	return b.metrics.registry
}

// partitionCollector reports partition offsets and sizes on scrape.
type partitionCollector struct{ b *Broker }

var (
	descEndOffset   = prometheus.NewDesc("courier_partition_end_offset", "Next offset to be written (high watermark).", []string{"topic", "partition"}, nil)
	descStartOffset = prometheus.NewDesc("courier_partition_start_offset", "First offset still in the log.", []string{"topic", "partition"}, nil)
	descSize        = prometheus.NewDesc("courier_partition_size_bytes", "Bytes of segment files on disk.", []string{"topic", "partition"}, nil)
	descDirtyRatio  = prometheus.NewDesc("courier_partition_dirty_ratio", "Compacted partitions: the share of cleanable bytes not yet compacted (the cleaner takes a partition at min.cleanable.dirty.ratio).", []string{"topic", "partition"}, nil)
	descSinceClean  = prometheus.NewDesc("courier_partition_seconds_since_clean", "Compacted partitions: seconds since the cleaner last finished with the partition (absent until it has, since start).", []string{"topic", "partition"}, nil)
)

func (c partitionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descEndOffset
	ch <- descStartOffset
	ch <- descSize
	ch <- descDirtyRatio
	ch <- descSinceClean
}

func (c partitionCollector) Collect(ch chan<- prometheus.Metric) {
	c.b.forEachPartition(func(p *partition) {
		idx := strconv.Itoa(int(p.index))
		ch <- prometheus.MustNewConstMetric(descEndOffset, prometheus.GaugeValue, float64(p.log.HighWatermark()), p.topic, idx)
		ch <- prometheus.MustNewConstMetric(descStartOffset, prometheus.GaugeValue, float64(p.log.LogStartOffset()), p.topic, idx)
		ch <- prometheus.MustNewConstMetric(descSize, prometheus.GaugeValue, float64(p.log.Size()), p.topic, idx)
		if st := p.log.CleanerState(); st.Compacted {
			ch <- prometheus.MustNewConstMetric(descDirtyRatio, prometheus.GaugeValue, st.DirtyRatio, p.topic, idx)
			if !st.LastCleaned.IsZero() {
				ch <- prometheus.MustNewConstMetric(descSinceClean, prometheus.GaugeValue, time.Since(st.LastCleaned).Seconds(), p.topic, idx)
			}
		}
	})
}

// observeCleaner exports the log cleaner's counters.
func (m *Metrics) observeCleaner(c *cleaner.Manager) {
	counter := func(name, help string, v func(cleaner.Stats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v(c.Stats())) })
	}
	m.registry.MustRegister(
		counter("courier_cleaner_runs_total", "Cleanings of a compacted partition by the log cleaner.", func(s cleaner.Stats) int64 { return s.Runs }),
		counter("courier_cleaner_failures_total", "Cleanings that failed (logged; the partition kept its data).", func(s cleaner.Stats) int64 { return s.Failures }),
		counter("courier_cleaner_bytes_read_total", "Segment bytes the cleaner read.", func(s cleaner.Stats) int64 { return s.BytesRead }),
		counter("courier_cleaner_bytes_written_total", "Cleaned segment bytes the cleaner wrote.", func(s cleaner.Stats) int64 { return s.BytesWritten }),
		counter("courier_cleaner_records_removed_total", "Records the cleaner removed because a newer record has their key.", func(s cleaner.Stats) int64 { return s.RecordsRemoved }),
		counter("courier_cleaner_tombstones_removed_total", "Tombstones the cleaner removed after delete.retention.ms.", func(s cleaner.Stats) int64 { return s.TombstonesRemoved }),
		counter("courier_cleaner_aborted_records_removed_total", "Records of aborted transactions the cleaner removed.", func(s cleaner.Stats) int64 { return s.AbortedRecordsRemoved }),
		counter("courier_cleaner_markers_removed_total", "Transaction markers the cleaner removed (nothing of their transaction left, and older than delete.retention.ms).", func(s cleaner.Stats) int64 { return s.MarkersRemoved }),
	)
}

// journalCollector reports the durable-state journals' counters on scrape
// (internal/journal: records skipped as damaged and torn tails cut at
// start, failed writes, self-repairs), labelled by journal.
type journalCollector struct{ b *Broker }

var (
	descJournalDamaged  = prometheus.NewDesc("courier_journal_damaged_records_total", "Damaged records (or regions) skipped when the journal was opened; each is logged with its file and byte offset.", []string{"journal"}, nil)
	descJournalTorn     = prometheus.NewDesc("courier_journal_torn_tails_total", "Torn tails (appends a crash cut short) cut when the journal was opened.", []string{"journal"}, nil)
	descJournalFailures = prometheus.NewDesc("courier_journal_write_failures_total", "Journal writes, fsyncs or compaction renames that failed (e.g. disk full); their batches were reported failed.", []string{"journal"}, nil)
	descJournalRepairs  = prometheus.NewDesc("courier_journal_repairs_total", "Times a journal rewrote itself from its durable state after a failed write and went on.", []string{"journal"}, nil)
	descJournalHealthy  = prometheus.NewDesc("courier_journal_healthy", "1 when the journal can write, 0 while it waits to repair itself after a failed write.", []string{"journal"}, nil)
)

func (c journalCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descJournalDamaged, descJournalTorn, descJournalFailures, descJournalRepairs, descJournalHealthy} {
		ch <- d
	}
}

func (c journalCollector) Collect(ch chan<- prometheus.Metric) {
	// Until Open has them (a scrape may come while it runs), a journal
	// is left out.
	if c.b.groups != nil {
		collectJournal(ch, "groups", c.b.groups.JournalStats())
	}
	if c.b.topics != nil {
		collectJournal(ch, "topics", c.b.topics.JournalStats())
	}
	if c.b.txns != nil {
		collectJournal(ch, "transactions", c.b.txns.JournalStats())
	}
	if c.b.share != nil {
		collectJournal(ch, "share", c.b.share.JournalStats())
	}
}

// collectJournal sends one journal's counters, labelled with its name.
func collectJournal(ch chan<- prometheus.Metric, name string, st journal.Stats) {
	healthy := 0.0
	if st.Healthy {
		healthy = 1
	}
	ch <- prometheus.MustNewConstMetric(descJournalDamaged, prometheus.CounterValue, float64(st.DamagedRecords), name)
	ch <- prometheus.MustNewConstMetric(descJournalTorn, prometheus.CounterValue, float64(st.TornTails), name)
	ch <- prometheus.MustNewConstMetric(descJournalFailures, prometheus.CounterValue, float64(st.WriteFailures), name)
	ch <- prometheus.MustNewConstMetric(descJournalRepairs, prometheus.CounterValue, float64(st.Repairs), name)
	ch <- prometheus.MustNewConstMetric(descJournalHealthy, prometheus.GaugeValue, healthy, name)
}
