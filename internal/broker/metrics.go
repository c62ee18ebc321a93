package broker

// metrics.go exports the broker's Prometheus metrics: request counts and
// latencies per API, bytes in and out, connections, each partition's
// offsets and size, and the journals' damage and repair counters (both
// collected on scrape, so the produce path pays nothing).

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Metrics implements server.Observer and collects partition gauges.
type Metrics struct {
	registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	bytesIn     prometheus.Counter
	bytesOut    prometheus.Counter
	connections prometheus.Gauge
	apiNames    [128]string
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
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "courier_connections", Help: "Open client connections."}),
	}
	for i := range m.apiNames {
		m.apiNames[i] = kmsg.NameForKey(int16(i))
		if m.apiNames[i] == "" {
			m.apiNames[i] = "key_" + strconv.Itoa(i)
		}
	}
	m.registry.MustRegister(m.requests, m.latency, m.bytesIn, m.bytesOut, m.connections,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// RequestDone records one answered request.
func (m *Metrics) RequestDone(key int16, latency time.Duration, in, out int) {
	name := "unknown"
	if key >= 0 && int(key) < len(m.apiNames) {
		name = m.apiNames[key]
	}
	m.requests.WithLabelValues(name).Inc()
	m.latency.WithLabelValues(name).Observe(latency.Seconds())
	m.bytesIn.Add(float64(in))
	m.bytesOut.Add(float64(out))
}

// ConnOpened counts a new connection.
func (m *Metrics) ConnOpened() { m.connections.Inc() }

// ConnClosed counts a closed connection.
func (m *Metrics) ConnClosed() { m.connections.Dec() }

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
)

func (c partitionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descEndOffset
	ch <- descStartOffset
	ch <- descSize
}

func (c partitionCollector) Collect(ch chan<- prometheus.Metric) {
	c.b.forEachPartition(func(p *partition) {
		idx := strconv.Itoa(int(p.index))
		ch <- prometheus.MustNewConstMetric(descEndOffset, prometheus.GaugeValue, float64(p.log.HighWatermark()), p.topic, idx)
		ch <- prometheus.MustNewConstMetric(descStartOffset, prometheus.GaugeValue, float64(p.log.LogStartOffset()), p.topic, idx)
		ch <- prometheus.MustNewConstMetric(descSize, prometheus.GaugeValue, float64(p.log.Size()), p.topic, idx)
	})
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
	if c.b.groups == nil {
		return // still opening
	}
	st := c.b.groups.JournalStats()
	healthy := 0.0
	if st.Healthy {
		healthy = 1
	}
	ch <- prometheus.MustNewConstMetric(descJournalDamaged, prometheus.CounterValue, float64(st.DamagedRecords), "groups")
	ch <- prometheus.MustNewConstMetric(descJournalTorn, prometheus.CounterValue, float64(st.TornTails), "groups")
	ch <- prometheus.MustNewConstMetric(descJournalFailures, prometheus.CounterValue, float64(st.WriteFailures), "groups")
	ch <- prometheus.MustNewConstMetric(descJournalRepairs, prometheus.CounterValue, float64(st.Repairs), "groups")
	ch <- prometheus.MustNewConstMetric(descJournalHealthy, prometheus.GaugeValue, healthy, "groups")
}
