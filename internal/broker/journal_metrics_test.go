package broker_test

// journal_metrics_test.go checks that the group offsets log's damage
// reaches /metrics: a broker opened on a log with a damaged record
// reports it in courier_journal_damaged_records_total{journal="groups"},
// beside the topic metadata journal's series (journal="topics").

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/courier-dev/courier/internal/broker"
	"github.com/courier-dev/courier/internal/broker/group"
)

func TestJournalDamageIsExported(t *testing.T) {
	dir := t.TempDir()
	groupsDir := filepath.Join(dir, "meta", "groups")
	c, err := group.Open(groupsDir)
	if err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 3; p++ {
		_, _, wait := c.CommitOffsets(9, "g", group.CommitRequest{Generation: -1, Offsets: []group.Commit{
			{TopicPartition: group.TopicPartition{Topic: "t", Partition: p}, Offset: 1},
		}})
		if err := wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	// Flip a byte in the body of the second of the three records.
	path := filepath.Join(groupsDir, "offsets.log")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	second := 8 + int(binary.BigEndian.Uint32(data))
	data[second+9] ^= 0xff
	os.WriteFile(path, data, 0o644)

	b, err := broker.Open(broker.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	families, err := b.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"courier_journal_damaged_records_total": 1,
		"courier_journal_torn_tails_total":      0,
		"courier_journal_write_failures_total":  0,
		"courier_journal_repairs_total":         0,
		"courier_journal_healthy":               1,
	}
	for _, f := range families {
		w, ok := want[f.GetName()]
		if !ok {
			continue
		}
		// One series per journal: the groups' has the damage, the
		// topics', the transactions' and the share groups' (healthy,
		// undamaged) are there too.
		byJournal := map[string]float64{}
		for _, m := range f.GetMetric() {
			byJournal[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
		wantTopics := 0.0
		if f.GetName() == "courier_journal_healthy" {
			wantTopics = 1
		}
		if len(byJournal) != 4 || byJournal["groups"] != w || byJournal["topics"] != wantTopics || byJournal["transactions"] != wantTopics || byJournal["share"] != wantTopics {
			t.Fatalf("%s = %v, want groups=%v topics=%v transactions=%v share=%v", f.GetName(), byJournal, w, wantTopics, wantTopics, wantTopics)
		}
		delete(want, f.GetName())
	}
	if len(want) != 0 {
		t.Fatalf("metrics missing: %v", want)
	}
}
