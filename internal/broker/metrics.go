package broker

// metrics.go exports the broker's Prometheus metrics: request counts and
// latencies per API, bytes in and out, connections, refused produced
// batches by reason, and each partition's offsets and size (collected on
// scrape, so the produce path pays nothing).

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
	rejected    *prometheus.CounterVec
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
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "courier_produce_rejected_batches_total",
			Help: "Produced batches refused by validation, by reason (storage.Reason*, and required_acks).",
		}, []string{"reason"}),
	}
	for i := range m.apiNames {
		m.apiNames[i] = kmsg.NameForKey(int16(i))
		if m.apiNames[i] == "" {
			m.apiNames[i] = "key_" + strconv.Itoa(i)
		}
	}
	m.registry.MustRegister(m.requests, m.latency, m.bytesIn, m.bytesOut, m.connections, m.rejected,
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

// BatchRejected counts a produced batch refused for reason.
func (m *Metrics) BatchRejected(reason string) { m.rejected.WithLabelValues(reason).Inc() }

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
