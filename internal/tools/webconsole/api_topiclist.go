package webconsole

// api_topiclist.go answers GET /api/topics, the topic list page's rows,
// in bounded memory. Asked all at once, a cluster of 10,000 topics made
// the metadata, two ListOffsets and a DescribeLogDirs of every partition,
// their answers, kadm's maps of them and kgo's metadata cache live
// together: some 70 MB for a moment, in the broker's own process when the
// console is embedded (the garbage collector then keeps as much again as
// headroom), and kgo's cache of 10,000 topics stayed in each user's
// client. So the listing:
//   - asks one broker for every topic's metadata directly (kgo.Broker: the
//     client neither caches nor keeps it) and keeps of it only what a row
//     needs, a few dozen bytes a partition (listedTopic);
//   - then, listChunkPartitions partitions at a time, asks each partition's
//     leader for its start and end offsets and each broker for the sizes
//     of its replicas, fills the rows, and drops the answers before the
//     next chunk.
// A partition whose leader did not answer (moved, down) shows no records
// or size in this listing ("–" on the page), not an error for the list.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// listChunkPartitions is how many partitions one round of the listing asks
// offsets and sizes for (a topic is never split between rounds).
const listChunkPartitions = 2000

// listedPart is what the listing keeps of a partition: -1 is unknown.
type listedPart struct {
	id, leader       int32
	start, end, size int64
}

// listedTopic is what the listing keeps of a topic.
type listedTopic struct {
	name     string
	internal bool
	replicas int
	parts    []listedPart
}

// part returns the topic's partition id, or nil.
func (t *listedTopic) part(id int32) *listedPart {
	if int(id) < len(t.parts) && t.parts[id].id == id {
		return &t.parts[id] // partitions are numbered from 0: the usual case
	}
	for i := range t.parts {
		if t.parts[i].id == id {
			return &t.parts[i]
		}
	}
	return nil
}

// list answers GET /api/topics.
func (st *topicState) list(c *call) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	began := time.Now()
	topics, brokers, err := clusterTopics(ctx, cl)
	if err != nil {
		return kafkaError("list topics", err)
	}
	out := topicList{Topics: make([]topicRow, 0, len(topics))}
	var sizeErr error
	for from := 0; from < len(topics); {
		to, n := from, 0
		for to < len(topics) && (to == from || n+len(topics[to].parts) <= listChunkPartitions) {
			n += len(topics[to].parts)
			to++
		}
		chunk := topics[from:to]
		if err := chunkOffsets(ctx, cl, chunk); err != nil {
			return kafkaError("list the topics' offsets", err)
		}
		if sizeErr == nil { // sizes once refused are not asked again for every chunk
			sizeErr = chunkSizes(ctx, cl, brokers, chunk)
		}
		out.Topics = st.appendRows(out.Topics, chunk, sizeErr == nil)
		from = to
	}
	out.TookMs = time.Since(began).Milliseconds()
	if sizeErr != nil {
		out.SizeError = kafkaError("describe log dirs", sizeErr).Error()
	}
	return c.writeTopicList(out)
}

// writeTopicList answers list as JSON (topicList's shape) a row at a
// time: encoded whole, 10,000 rows were a buffer of some 2 MB, grown by
// doubling, and kept in encoding/json's pool afterwards.
func (c *call) writeTopicList(list topicList) error {
	c.w.Header().Set("Content-Type", "application/json")
	c.w.Header().Set("Cache-Control", "no-store")
	c.w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(c.w, 32<<10)
	enc := json.NewEncoder(bw)
	bw.WriteString(`{"topics":[`)
	for i := range list.Topics {
		if i > 0 {
			bw.WriteByte(',')
		}
		if err := enc.Encode(&list.Topics[i]); err != nil {
			return err
		}
	}
	bw.WriteString("]")
	if list.SizeError != "" {
		bw.WriteString(`,"size_error":`)
		if err := enc.Encode(list.SizeError); err != nil {
			return err
		}
	}
	fmt.Fprintf(bw, `,"took_ms":%d}`+"\n", list.TookMs)
	return bw.Flush()
}

// clusterTopics asks one broker for the metadata of every topic (those the
// user may describe: the others are left out, or answered with an error
// and skipped) and returns them by name, and the brokers' ids.
func clusterTopics(ctx context.Context, cl *kgo.Client) ([]listedTopic, []int32, error) {
	bs := cl.DiscoveredBrokers()
	if len(bs) == 0 {
		// A new client knows only its seeds: a metadata request of no
		// topics (which kgo does not cache) tells it the brokers.
		req := kmsg.NewPtrMetadataRequest()
		req.Topics = []kmsg.MetadataRequestTopic{}
		if _, err := req.RequestWith(ctx, cl); err != nil {
			return nil, nil, err
		}
		if bs = cl.DiscoveredBrokers(); len(bs) == 0 {
			return nil, nil, errors.New("the cluster named no brokers")
		}
	}
	req := kmsg.NewPtrMetadataRequest() // Topics nil: every topic
	var resp *kmsg.MetadataResponse
	var errs []error
	for _, b := range bs {
		kr, err := b.RetriableRequest(ctx, req)
		if err == nil {
			resp = kr.(*kmsg.MetadataResponse)
			break
		}
		errs = append(errs, err)
	}
	if resp == nil {
		return nil, nil, errors.Join(errs...)
	}
	topics := make([]listedTopic, 0, len(resp.Topics))
	for _, t := range resp.Topics {
		if t.Topic == nil || t.ErrorCode != 0 {
			continue
		}
		lt := listedTopic{name: *t.Topic, internal: t.IsInternal, parts: make([]listedPart, 0, len(t.Partitions))}
		for _, p := range t.Partitions {
			lt.replicas = max(lt.replicas, len(p.Replicas))
			leader := p.Leader
			if p.ErrorCode != 0 {
				leader = -1
			}
			lt.parts = append(lt.parts, listedPart{id: p.Partition, leader: leader, start: -1, end: -1, size: -1})
		}
		sort.Slice(lt.parts, func(i, j int) bool { return lt.parts[i].id < lt.parts[j].id })
		topics = append(topics, lt)
	}
	sort.Slice(topics, func(i, j int) bool { return topics[i].name < topics[j].name })
	brokers := make([]int32, 0, len(resp.Brokers))
	for _, b := range resp.Brokers {
		brokers = append(brokers, b.NodeID)
	}
	return topics, brokers, nil
}

// chunkOffsets fills the start and end offsets of the chunk's partitions:
// one ListOffsets per leader and timestamp, all at once. A leader that
// does not answer leaves its partitions unknown; only when none answers
// is it an error.
func chunkOffsets(ctx context.Context, cl *kgo.Client, chunk []listedTopic) error {
	byLeader := map[int32]*kmsg.ListOffsetsRequest{}
	for _, t := range chunk {
		for _, p := range t.parts {
			if p.leader < 0 {
				continue
			}
			req := byLeader[p.leader]
			if req == nil {
				req = kmsg.NewPtrListOffsetsRequest()
				req.ReplicaID = -1
				byLeader[p.leader] = req
			}
			if n := len(req.Topics); n == 0 || req.Topics[n-1].Topic != t.name {
				rt := kmsg.NewListOffsetsRequestTopic()
				rt.Topic = t.name
				req.Topics = append(req.Topics, rt)
			}
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition, rp.CurrentLeaderEpoch = p.id, -1
			rt := &req.Topics[len(req.Topics)-1]
			rt.Partitions = append(rt.Partitions, rp)
		}
	}
	if len(byLeader) == 0 {
		return nil
	}
	index := make(map[string]*listedTopic, len(chunk))
	for i := range chunk {
		index[chunk[i].name] = &chunk[i]
	}
	var fan fanOut
	for leader, req := range byLeader {
		for _, ts := range []int64{-2, -1} { // start, end
			fan.do(func() (kmsg.Response, error) {
				kr, err := listOffsetsAt(ctx, cl, leader, req, ts)
				if err != nil {
					err = fmt.Errorf("broker %d: %w", leader, err)
				}
				return kr, err
			}, func(kr kmsg.Response) {
				for _, rt := range kr.(*kmsg.ListOffsetsResponse).Topics {
					t := index[rt.Topic]
					if t == nil {
						continue
					}
					for _, rp := range rt.Partitions {
						p := t.part(rp.Partition)
						if p == nil || rp.ErrorCode != 0 || rp.Offset < 0 {
							continue
						}
						if ts == -2 {
							p.start = rp.Offset
						} else {
							p.end = rp.Offset
						}
					}
				}
			})
		}
	}
	if answered, errs := fan.wait(); answered == 0 {
		return errors.Join(errs...)
	}
	return nil
}

// listOffsetsAt sends leader the partitions of req at timestamp ts (req
// itself is shared between the timestamps, and kgo sets the version on
// the request it sends: it is copied).
func listOffsetsAt(ctx context.Context, cl *kgo.Client, leader int32, req *kmsg.ListOffsetsRequest, ts int64) (kmsg.Response, error) {
	r := *req
	r.Topics = make([]kmsg.ListOffsetsRequestTopic, len(req.Topics))
	for i, rt := range req.Topics {
		r.Topics[i] = rt
		r.Topics[i].Partitions = make([]kmsg.ListOffsetsRequestTopicPartition, len(rt.Partitions))
		for j, rp := range rt.Partitions {
			rp.Timestamp = ts
			r.Topics[i].Partitions[j] = rp
		}
	}
	return cl.Broker(int(leader)).RetriableRequest(ctx, &r)
}

// chunkSizes fills the sizes of the chunk's partitions (the largest of
// their replicas: the most complete copy) from every broker's
// DescribeLogDirs. It returns the refusal of a user who may not describe
// the cluster, or the failure when no broker answered; a broker that did
// not answer while others did leaves its replicas unknown.
func chunkSizes(ctx context.Context, cl *kgo.Client, brokers []int32, chunk []listedTopic) error {
	req := kmsg.NewPtrDescribeLogDirsRequest()
	index := make(map[string]*listedTopic, len(chunk))
	for i := range chunk {
		t := &chunk[i]
		index[t.name] = t
		rt := kmsg.NewDescribeLogDirsRequestTopic()
		rt.Topic = t.name
		for _, p := range t.parts {
			rt.Partitions = append(rt.Partitions, p.id)
		}
		req.Topics = append(req.Topics, rt)
	}
	var fan fanOut
	for _, id := range brokers {
		fan.do(func() (kmsg.Response, error) {
			r := *req // kgo sets the version on the request it sends
			kr, err := cl.Broker(int(id)).RetriableRequest(ctx, &r)
			if err == nil {
				err = kerr.ErrorForCode(kr.(*kmsg.DescribeLogDirsResponse).ErrorCode)
			}
			if err != nil {
				err = fmt.Errorf("broker %d: %w", id, err)
			}
			return kr, err
		}, func(kr kmsg.Response) {
			for _, d := range kr.(*kmsg.DescribeLogDirsResponse).Dirs {
				if d.ErrorCode != 0 {
					continue
				}
				for _, rt := range d.Topics {
					t := index[rt.Topic]
					if t == nil {
						continue
					}
					for _, rp := range rt.Partitions {
						if p := t.part(rp.Partition); p != nil && !rp.IsFuture {
							p.size = max(p.size, rp.Size)
						}
					}
				}
			}
		})
	}
	answered, errs := fan.wait()
	for _, err := range errs {
		if errors.Is(err, kerr.ClusterAuthorizationFailed) {
			return err
		}
	}
	if answered == 0 && len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

// fanOut sends requests at once and takes in their answers one at a
// time.
type fanOut struct {
	wg       sync.WaitGroup
	mu       sync.Mutex
	errs     []error
	answered int
}

// do sends a request (send) in a goroutine of its own and gives its
// answer to take, under the fan-out's lock, or keeps its error.
func (f *fanOut) do(send func() (kmsg.Response, error), take func(kmsg.Response)) {
	f.wg.Go(func() {
		kr, err := send()
		f.mu.Lock()
		defer f.mu.Unlock()
		if err != nil {
			f.errs = append(f.errs, err)
			return
		}
		f.answered++
		take(kr)
	})
}

// wait waits for every answer and says how many came, and the errors of
// the others.
func (f *fanOut) wait() (int, []error) {
	f.wg.Wait()
	return f.answered, f.errs
}

// appendRows appends the chunk's rows to rows, with their records, sizes
// (when sized) and the rates the sampler computes from them.
func (st *topicState) appendRows(rows []topicRow, chunk []listedTopic, sized bool) []topicRow {
	now := time.Now()
	first := len(rows)
	samples := make(map[string]topicSample, len(chunk))
	for _, t := range chunk {
		row := topicRow{Name: t.name, Internal: t.internal, Partitions: len(t.parts), Replication: t.replicas}
		var records, endSum, bytes int64
		known, hasSize := true, sized
		for _, p := range t.parts {
			if p.start < 0 || p.end < 0 {
				known = false
				continue
			}
			records += p.end - p.start
			endSum += p.end
			if p.size < 0 {
				hasSize = false
			}
			bytes += p.size
		}
		if known {
			row.Records = &records
			sample := topicSample{Records: endSum, Bytes: -1}
			if hasSize {
				row.Bytes = &bytes
				sample.Bytes = bytes
			}
			samples[t.name] = sample
		}
		rows = append(rows, row)
	}
	rates := st.rates.observe(now, samples)
	for i := first; i < len(rows); i++ {
		r := rates[rows[i].Name]
		rows[i].RecordsPerSec, rows[i].BytesPerSec = r.RecordsPerSec, r.BytesPerSec
	}
	return rows
}
