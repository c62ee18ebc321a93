package webconsole

// api_topics.go answers the console's own topic endpoints, which REST Proxy
// v3 has no equivalent of:
//   - GET /api/topics: the topic list page's rows: partitions, records (end
//     minus start offsets), size (DescribeLogDirs), records/s and bytes/s
//     (topicrates.go), internal flag; only the topics the user may describe;
//   - GET /api/topics/{topic}: a topic's page: its partitions with leader,
//     replicas, start and end offsets and size;
//   - POST /api/topics/{topic}/partitions {"partitions_count": N}: add
//     partitions (CreatePartitions).

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicRow is one row of the topic list. Nil numbers are unknown: the
// user may not be allowed to ask, or the cluster did not say.
type topicRow struct {
	Name          string   `json:"name"`
	Internal      bool     `json:"internal"`
	Partitions    int      `json:"partitions"`
	Replication   int      `json:"replication_factor"`
	Records       *int64   `json:"records"`
	Bytes         *int64   `json:"bytes"`
	RecordsPerSec *float64 `json:"records_per_sec"`
	BytesPerSec   *float64 `json:"bytes_per_sec"`
}

// topicList is GET /api/topics's answer.
type topicList struct {
	Topics []topicRow `json:"topics"`
	// SizeError says why sizes are unknown (e.g. the user may not describe
	// the cluster's log directories), "" when they are known.
	SizeError string `json:"size_error,omitempty"`
	// TookMs is how long the cluster took to answer.
	TookMs int64 `json:"took_ms"`
}

// partitionRow is one partition on a topic's page.
type partitionRow struct {
	Partition int32   `json:"partition"`
	Leader    int32   `json:"leader"`
	Replicas  []int32 `json:"replicas"`
	ISR       []int32 `json:"isr"`
	Start     *int64  `json:"start_offset"`
	End       *int64  `json:"end_offset"`
	Bytes     *int64  `json:"bytes"`
	Error     string  `json:"error,omitempty"`
}

// topicPage is GET /api/topics/{topic}'s answer.
type topicPage struct {
	Name       string         `json:"name"`
	Internal   bool           `json:"internal"`
	Partitions []partitionRow `json:"partitions"`
	SizeError  string         `json:"size_error,omitempty"`
}

// topicState is what the topic endpoints keep between requests.
type topicState struct {
	rates *rateSampler
	tails tailState
}

// topicRoutes registers the console's topic endpoints and REST Proxy's
// topic, partition and config resources.
func (s *Server) topicRoutes() {
	st := &topicState{rates: newRateSampler()}
	s.restTopicRoutes()
	s.restConfigRoutes()
	s.api("GET /api/topics", st.list)
	s.api("GET /api/topics/{topic}", st.page)
	s.api("POST /api/topics/{topic}/partitions", st.addPartitions)
	s.api("GET /api/topics/{topic}/messages", st.messages)
	s.api("GET /api/topics/{topic}/tail", st.tail)
	s.api("POST /v3/clusters/{cluster_id}/topics/{topic_name}/records", st.produceRecords)
}

// offsetsAndSizesOf lists the start and end offsets of topics' partitions
// and (withSizes) their sizes, concurrently. Sizes need the right to describe the cluster:
// without it sizeErr says so and sizes is nil.
func offsetsAndSizesOf(ctx context.Context, cl *kgo.Client, adm *kadm.Client, tds kadm.TopicDetails, withSizes bool) (starts, ends kadm.ListedOffsets, sizes map[string]map[int32]int64, sizeErr error, err error) {
	if len(tds) == 0 {
		return kadm.ListedOffsets{}, kadm.ListedOffsets{}, map[string]map[int32]int64{}, nil, nil
	}
	var wg sync.WaitGroup
	var errStart, errEnd error
	wg.Add(2)
	go func() { defer wg.Done(); starts, errStart = listOffsets(ctx, cl, tds, -2) }()
	go func() { defer wg.Done(); ends, errEnd = listOffsets(ctx, cl, tds, -1) }()
	if withSizes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Only these topics' partitions: the whole cluster's would
			// be an answer of every partition for a page of a few.
			var dirs kadm.DescribedAllLogDirs
			dirs, sizeErr = adm.DescribeAllLogDirs(ctx, tds.TopicsSet())
			if sizeErr != nil && len(dirs) > 0 && !errors.Is(sizeErr, kerr.ClusterAuthorizationFailed) {
				// Some brokers answered: use what they said (partitions
				// of the others have no size).
				sizeErr = nil
			}
			if sizeErr == nil {
				sizes = replicaSizes(dirs)
			}
		}()
	}
	wg.Wait()
	if err = errors.Join(errStart, errEnd); err != nil {
		return nil, nil, nil, nil, err
	}
	return starts, ends, sizes, sizeErr, nil
}

// listOffsets lists the offsets at timestamp (-2: start, -1: end) of every
// partition of tds in one ListOffsets request, which the client splits by
// partition leader. (kadm's ListStartOffsets would first ask for the
// topics' metadata again: with 10,000 topics that is most of the time.) A
// partition's error is kept in its entry.
func listOffsets(ctx context.Context, cl *kgo.Client, tds kadm.TopicDetails, timestamp int64) (kadm.ListedOffsets, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	for name, td := range tds {
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = name
		for id := range td.Partitions {
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = id, timestamp, -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	out := kadm.ListedOffsets{}
	var errs []error
	for _, shard := range cl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			errs = append(errs, shard.Err)
			continue
		}
		for _, t := range shard.Resp.(*kmsg.ListOffsetsResponse).Topics {
			m := out[t.Topic]
			if m == nil {
				m = map[int32]kadm.ListedOffset{}
				out[t.Topic] = m
			}
			for _, p := range t.Partitions {
				m[p.Partition] = kadm.ListedOffset{Topic: t.Topic, Partition: p.Partition, Timestamp: p.Timestamp,
					Offset: p.Offset, LeaderEpoch: p.LeaderEpoch, Err: kerr.ErrorForCode(p.ErrorCode)}
			}
		}
	}
	if len(out) == 0 && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// replicaSizes is each partition's size: the largest of its replicas (the
// most complete copy), not their sum, so that a replicated topic's size is
// that of its data.
func replicaSizes(dirs kadm.DescribedAllLogDirs) map[string]map[int32]int64 {
	out := map[string]map[int32]int64{}
	dirs.Each(func(d kadm.DescribedLogDir) {
		if d.Err != nil {
			return
		}
		for topic, ps := range d.Topics {
			m := out[topic]
			if m == nil {
				m = map[int32]int64{}
				out[topic] = m
			}
			for p, dp := range ps {
				if dp.IsFuture {
					continue
				}
				m[p] = max(m[p], dp.Size)
			}
		}
	})
	return out
}

// page answers GET /api/topics/{topic}.
func (st *topicState) page(c *call) error {
	topic := c.r.PathValue("topic")
	ctx, cancel := c.timeout()
	defer cancel()
	td, err := c.describeTopic(ctx, topic)
	if err != nil {
		return err
	}
	adm, err := c.admin()
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	starts, ends, sizes, sizeErr, err := offsetsAndSizesOf(ctx, cl, adm, kadm.TopicDetails{topic: td}, true)
	if err != nil {
		return kafkaError("list the offsets of topic "+topic, err)
	}
	out := topicPage{Name: topic, Internal: td.IsInternal, Partitions: []partitionRow{}}
	if sizeErr != nil {
		out.SizeError = kafkaError("describe log dirs", sizeErr).Error()
	}
	for _, id := range sortedPartitions(td) {
		p := td.Partitions[id]
		row := partitionRow{Partition: id, Leader: p.Leader, Replicas: p.Replicas, ISR: p.ISR}
		if p.Err != nil {
			row.Error = p.Err.Error()
		}
		if s, ok := starts.Lookup(topic, id); ok && s.Err == nil {
			row.Start = &s.Offset
		} else if ok {
			row.Error = s.Err.Error()
		}
		if e, ok := ends.Lookup(topic, id); ok && e.Err == nil {
			row.End = &e.Offset
		} else if ok {
			row.Error = e.Err.Error()
		}
		if b, ok := sizes[topic][id]; ok {
			row.Bytes = &b
		}
		out.Partitions = append(out.Partitions, row)
	}
	return c.JSON(http.StatusOK, out)
}

// addPartitions answers POST /api/topics/{topic}/partitions: the topic gets
// partitions_count partitions in all (more than it has).
func (st *topicState) addPartitions(c *call) error {
	topic := c.r.PathValue("topic")
	var req struct {
		PartitionsCount int `json:"partitions_count"`
	}
	if err := c.Decode(&req); err != nil {
		return err
	}
	if req.PartitionsCount < 1 {
		return badRequest("partitions_count must be the topic's new number of partitions (more than it has)")
	}
	adm, err := c.admin()
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	resps, err := adm.UpdatePartitions(ctx, req.PartitionsCount, topic)
	var r kadm.CreatePartitionsResponse
	if err == nil {
		r, err = resps.On(topic, nil)
	}
	err = topicOpError("add partitions to topic", topic, err, r.Err, r.ErrMessage)
	c.Audit("topic.partitions", topic, err, "partitions_count", req.PartitionsCount)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"topic_name": topic, "partitions_count": req.PartitionsCount})
}
