package webconsole

import (
	"fmt"
	"net/http"
	"testing"
)

// TestTopicListChunks: the topic list asks offsets and sizes a chunk of
// partitions at a time, and every chunk's rows are right: topics of 100
// partitions fill two chunks, a topic wider than a chunk is one chunk of
// its own (never split), and records produced to the first, a middle and
// the last partitions are counted where they were written. On a
// three-broker kfake cluster, where partitions lead on every broker.
func TestTopicListChunks(t *testing.T) {
	tc, c := startConsoleKfake(t, Config{})
	seeds := c.ListenAddrs()
	const narrow = 25
	for i := range narrow {
		createTopic(t, seeds, fmt.Sprintf("t%02d", i), 100)
	}
	createTopic(t, seeds, "wide", listChunkPartitions+3)
	produced := map[string]struct {
		partition int32
		n         int
	}{"t00": {0, 1}, "t19": {99, 2}, "t20": {0, 5}, "t24": {50, 3}, "wide": {listChunkPartitions + 2, 4}}
	for topic, p := range produced {
		produceTimed(t, seeds, topic, p.partition, p.n)
	}
	var list topicList
	tc.mustJSON("GET", "/api/topics", nil, http.StatusOK, &list)
	if len(list.Topics) != narrow+1 || list.SizeError != "" {
		t.Fatalf("%d topics listed, size error %q", len(list.Topics), list.SizeError)
	}
	for i, row := range list.Topics {
		want := fmt.Sprintf("t%02d", i)
		parts := 100
		if i == narrow {
			want, parts = "wide", listChunkPartitions+3
		}
		records := int64(produced[row.Name].n)
		if row.Name != want || row.Partitions != parts || row.Replication != 1 ||
			row.Records == nil || *row.Records != records || row.Bytes == nil || (*row.Bytes > 0) != (records > 0) {
			t.Errorf("row %d: %+v (records %v, bytes %v), want %s of %d partitions and %d records",
				i, row, deref(row.Records), deref(row.Bytes), want, parts, records)
		}
	}
}

// deref is *p, or -1 for nil.
func deref(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}
