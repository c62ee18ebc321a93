package webconsole

// api_overview.go answers GET /api/overview: the cluster at a glance.
// Brokers (with their racks), the controller, the cluster id and the
// topic and partition counts come from a Metadata request as the user (so
// a user sees the topics the ACLs let them describe). The throughput and
// disk figures come, on the embedded broker, from its Prometheus registry
// (Config.Metrics: the very figures /metrics serves); elsewhere from what
// the protocol tells: records in from the sum of end offsets, disk from
// DescribeLogDirs. Rates are the differences between this answer and the
// session's previous one; what cannot be known is null (the page shows
// "–") with a note saying why.

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// overviewSample is what one overview measured, kept in the session for
// the next one's rates. A negative value was not measured.
type overviewSample struct {
	at                    time.Time
	bytesIn, bytesOut     float64
	recordsIn, recordsOut float64
	measuredBytes, recs   bool
	measuredOut           bool
}

// overviewBroker is one broker as the overview shows it.
type overviewBroker struct {
	ID         int32   `json:"id"`
	Host       string  `json:"host"`
	Port       int32   `json:"port"`
	Rack       *string `json:"rack"`
	Controller bool    `json:"controller"`
}

// overviewInfo is GET /api/overview's answer.
type overviewInfo struct {
	ClusterID      string            `json:"cluster_id"`
	Controller     int32             `json:"controller"`
	Version        string            `json:"version"`
	Brokers        []overviewBroker  `json:"brokers"`
	Listeners      map[string]string `json:"listeners,omitempty"`
	Topics         int               `json:"topics"`
	InternalTopics int               `json:"internal_topics"`
	Partitions     int               `json:"partitions"`
	// Rates per second and the disk used; null when not known.
	BytesInPerSec    *float64 `json:"bytes_in_per_sec"`
	BytesOutPerSec   *float64 `json:"bytes_out_per_sec"`
	RecordsInPerSec  *float64 `json:"records_in_per_sec"`
	RecordsOutPerSec *float64 `json:"records_out_per_sec"`
	DiskBytes        *float64 `json:"disk_bytes"`
	// Source is "metrics" (the broker's /metrics figures) or "protocol".
	Source string `json:"source"`
	// Notes say why a figure is missing.
	Notes     []string  `json:"notes"`
	SampledAt time.Time `json:"sampled_at"`
}

// overviewRoutes registers GET /api/overview.
func (s *Server) overviewRoutes() {
	s.api("GET /api/overview", func(c *call) error {
		ctx, cancel := context.WithTimeout(c.r.Context(), 20*time.Second)
		defer cancel()
		info, err := c.overview(ctx)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, info)
	})
}

// overview gathers the figures.
func (c *call) overview(ctx context.Context) (*overviewInfo, error) {
	cl, err := c.Kafka().Client()
	if err != nil {
		return nil, err
	}
	meta, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	if err != nil {
		return nil, kafkaError("describe the cluster", err)
	}
	now := c.s.now()
	info := &overviewInfo{Controller: meta.ControllerID, Version: c.s.cfg.Version, Listeners: c.s.cfg.Listeners, Notes: []string{}, SampledAt: now.UTC()}
	if meta.ClusterID != nil {
		info.ClusterID = *meta.ClusterID
	}
	for _, b := range meta.Brokers {
		info.Brokers = append(info.Brokers, overviewBroker{ID: b.NodeID, Host: b.Host, Port: b.Port, Rack: b.Rack, Controller: b.NodeID == meta.ControllerID})
	}
	sort.Slice(info.Brokers, func(i, j int) bool { return info.Brokers[i].ID < info.Brokers[j].ID })
	var topics []string
	for _, t := range meta.Topics {
		if t.ErrorCode != 0 || t.Topic == nil {
			continue
		}
		info.Topics++
		if t.IsInternal {
			info.InternalTopics++
		}
		info.Partitions += len(t.Partitions)
		topics = append(topics, *t.Topic)
	}
	cur := overviewSample{at: now}
	if c.s.cfg.Metrics != nil {
		info.Source = "metrics"
		if err := metricsFigures(c.s.cfg.Metrics, &cur, info); err != nil {
			info.Notes = append(info.Notes, "the broker's metrics could not be read: "+err.Error())
		}
	} else {
		info.Source = "protocol"
		c.protocolFigures(ctx, topics, &cur, info)
		info.Notes = append(info.Notes, "bytes in and out and records out per second: the Kafka protocol does not tell them (the broker's own metrics do)")
	}
	c.rates(cur, info)
	return info, nil
}

// metricsFigures reads the embedded broker's registry: request and
// response bytes, the sum of end offsets (records written) and the
// partitions' sizes.
func metricsFigures(g prometheus.Gatherer, cur *overviewSample, info *overviewInfo) error {
	fams, err := g.Gather()
	if err != nil && len(fams) == 0 {
		return err
	}
	sum := func(name string) (float64, bool) {
		for _, f := range fams {
			if f.GetName() != name {
				continue
			}
			total := 0.0
			for _, m := range f.GetMetric() {
				total += promValue(m)
			}
			return total, true
		}
		return 0, false
	}
	in, okIn := sum("courier_bytes_in_total")
	out, okOut := sum("courier_bytes_out_total")
	cur.bytesIn, cur.bytesOut, cur.measuredBytes = in, out, okIn && okOut
	// Absent with no partitions at all: then nothing was written.
	cur.recordsIn, _ = sum("courier_partition_end_offset")
	cur.recs = true
	// Records out: those fetched, and those delivered to share groups.
	fetched, okFetched := sum("courier_records_out_total")
	shared, _ := sum("courier_share_records_acquired_total")
	cur.recordsOut, cur.measuredOut = fetched+shared, okFetched
	disk, _ := sum("courier_partition_size_bytes")
	info.DiskBytes = &disk
	return nil
}

// promValue is a counter's or gauge's value.
func promValue(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue()
	}
	return 0
}

// protocolFigures asks the cluster, as the user, for the end offsets of
// the topics they see and the log directories' sizes.
func (c *call) protocolFigures(ctx context.Context, topics []string, cur *overviewSample, info *overviewInfo) {
	adm, err := c.Kafka().Admin()
	if err != nil {
		info.Notes = append(info.Notes, err.Error())
		return
	}
	if len(topics) > 0 {
		ends, err := adm.ListEndOffsets(ctx, topics...)
		if err != nil && len(ends) == 0 {
			info.Notes = append(info.Notes, "records in per second: "+kafkaError("list end offsets", err).Error())
		} else {
			total := 0.0
			ends.Each(func(o kadm.ListedOffset) {
				if o.Err == nil {
					total += float64(o.Offset)
				}
			})
			cur.recordsIn, cur.recs = total, true
		}
	} else {
		cur.recs = true
	}
	dirs, err := adm.DescribeAllLogDirs(ctx, nil)
	var se *kadm.ShardErrors
	if err != nil && (!errors.As(err, &se) || len(dirs) == 0) {
		info.Notes = append(info.Notes, "disk used: "+kafkaError("describe log directories", err).Error())
		return
	}
	total := 0.0
	failed := false
	dirs.Each(func(d kadm.DescribedLogDir) {
		if d.Err != nil {
			failed = true
			return
		}
		total += float64(d.Size())
	})
	if failed || err != nil {
		info.Notes = append(info.Notes, "disk used: some brokers or directories did not answer; the figure is what the others hold")
	}
	info.DiskBytes = &total
}

// rates computes the per-second figures from the session's previous
// sample, and keeps cur for the next.
func (c *call) rates(cur overviewSample, info *overviewInfo) {
	ses := c.ses
	ses.mu.Lock()
	prev := ses.overview
	ses.overview = &cur
	ses.mu.Unlock()
	dt := 0.0
	if prev != nil {
		dt = cur.at.Sub(prev.at).Seconds()
	}
	if prev == nil || dt < 0.5 {
		info.Notes = append(info.Notes, "rates appear from the next refresh (they are measured between two)")
		return
	}
	rate := func(now, before float64) *float64 {
		r := max(0, (now-before)/dt) // a restarted counter is no negative rate
		return &r
	}
	if cur.measuredBytes && prev.measuredBytes {
		info.BytesInPerSec, info.BytesOutPerSec = rate(cur.bytesIn, prev.bytesIn), rate(cur.bytesOut, prev.bytesOut)
	}
	if cur.recs && prev.recs {
		info.RecordsInPerSec = rate(cur.recordsIn, prev.recordsIn)
	}
	if cur.measuredOut && prev.measuredOut {
		info.RecordsOutPerSec = rate(cur.recordsOut, prev.recordsOut)
	}
}
