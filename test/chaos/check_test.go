package chaos

// check_test.go holds the final checks, run after a clean stop and start:
// records, commits, topics and what recovery left in the data directory.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// maxProblems bounds the failures one check reports in detail.
const maxProblems = 20

// problems reports failures through t.Errorf, the first maxProblems in
// detail and then a count.
type problems struct {
	t    *testing.T
	what string
	n    int
}

func (p *problems) errorf(format string, args ...any) {
	p.t.Helper()
	if p.n++; p.n <= maxProblems {
		p.t.Errorf(format, args...)
	}
}

func (p *problems) done() {
	p.t.Helper()
	if p.n > maxProblems {
		p.t.Errorf("%s: %d problems in all", p.what, p.n)
	}
}

// readTopic reads every partition of topic from its start to its high
// watermark, without a group. It fails the test if that takes over 60s.
func readTopic(t *testing.T, adm *kadm.Client, addr, topic string) map[int32][]*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	want := make(map[int32]int64)
	start := make(map[int32]kgo.Offset)
	ends.Each(func(o kadm.ListedOffset) {
		want[o.Partition] = o.Offset
		start[o.Partition] = kgo.NewOffset().AtStart()
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}),
		kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := make(map[int32][]*kgo.Record)
	next := make(map[int32]int64) // offset after the last record read
	for {
		done := true
		for p, end := range want {
			if next[p] < end {
				done = false
			}
		}
		if done {
			return got
		}
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: read up to %v of end offsets %v after 60s", topic, next, want)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("reading %s[%d]: %v", tp, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset < want[r.Partition] {
				got[r.Partition] = append(got[r.Partition], r)
				next[r.Partition] = r.Offset + 1
			}
		})
	}
}

// recordStats is what checkRecords counted.
type recordStats struct {
	stored, acked, unacked int // unacked: stored, never acknowledged
}

// checkRecords checks topic's records against the ledger: offsets are
// dense from 0 (recovery cut only what was never acknowledged, and a
// failed write left no hole), each record is one the test produced to this
// topic and partition (n % partitions), numbers strictly increase per
// partition, none is stored twice, and every acknowledged record is at its
// acknowledged offset.
func checkRecords(t *testing.T, topic string, partitions int32, got map[int32][]*kgo.Record, acked map[int]position) recordStats {
	t.Helper()
	pr := &problems{t: t, what: "records of " + topic}
	defer pr.done()
	seen := make(map[int]position)
	var st recordStats
	for p := range partitions {
		prev := -1
		for i, r := range got[p] {
			st.stored++
			if r.Offset != int64(i) {
				pr.errorf("%s[%d]: record %d has offset %d (offsets must be dense from 0)", topic, p, i, r.Offset)
			}
			tp, n, ok := parseValue(r.Value)
			if !ok || tp != topic {
				pr.errorf("%s[%d]@%d holds %q, not a record produced to %s", topic, p, r.Offset, r.Value, topic)
				continue
			}
			if int32(n)%partitions != p {
				pr.errorf("%s[%d]@%d: record %d belongs in partition %d", topic, p, r.Offset, n, int32(n)%partitions)
			}
			if first, dup := seen[n]; dup {
				pr.errorf("%s: record %d is stored twice, at [%d]@%d and [%d]@%d (idempotence broken)", topic, n, first.partition, first.offset, p, r.Offset)
			} else if n <= prev {
				pr.errorf("%s[%d]@%d: record %d after record %d (numbers must strictly increase per partition)", topic, p, r.Offset, n, prev)
			}
			seen[n] = position{p, r.Offset}
			prev = max(prev, n)
			if _, ok := acked[n]; !ok {
				st.unacked++
			}
		}
	}
	for n, a := range acked {
		st.acked++
		s, ok := seen[n]
		switch {
		case !ok:
			pr.errorf("%s: acknowledged record %d ([%d]@%d) is missing", topic, n, a.partition, a.offset)
		case s != a:
			pr.errorf("%s: record %d was acknowledged at [%d]@%d but is at [%d]@%d", topic, n, a.partition, a.offset, s.partition, s.offset)
		}
	}
	return st
}

// checkCommits checks that group's committed offsets are at or above the
// last acknowledged commits (never rolled back) and at or below the end of
// their partitions.
func checkCommits(t *testing.T, adm *kadm.Client, group string, acked map[topicPartition]int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := adm.FetchOffsets(ctx, group)
	if err == nil {
		err = got.Error()
	}
	if err != nil {
		t.Fatalf("fetch the offsets of %s: %v", group, err)
	}
	var topics []string
	for tp := range acked {
		topics = append(topics, tp.topic)
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets: %v", err)
	}
	pr := &problems{t: t, what: "commits of " + group}
	defer pr.done()
	for tp, a := range acked {
		o, ok := got.Lookup(tp.topic, tp.partition)
		switch {
		case !ok:
			pr.errorf("group %s: %s has no committed offset; %d was acknowledged", group, tp, a)
		case o.At < a:
			pr.errorf("group %s: %s committed %d, below the acknowledged %d (rolled back)", group, tp, o.At, a)
		}
		if end, eok := ends.Lookup(tp.topic, tp.partition); ok && eok && o.At > end.Offset {
			pr.errorf("group %s: %s committed %d, beyond the partition's end %d", group, tp, o.At, end.Offset)
		}
	}
}

// checkTopics checks the topics the broker lists: every main topic with
// its partitions, every churn topic whose creation was acknowledged and
// that was not deleted, none whose deletion was acknowledged, and nothing
// else.
func checkTopics(t *testing.T, adm *kadm.Client, want map[string]int32, names []string, churned map[string]churnTopic) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	listed, err := adm.ListTopicsWithInternal(ctx)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		t.Fatalf("list topics: %v", err)
	}
	pr := &problems{t: t, what: "topics"}
	defer pr.done()
	for name, parts := range want {
		if d, ok := listed[name]; !ok || int32(len(d.Partitions)) != parts {
			pr.errorf("topic %s: listed %v with %d partitions, want %d", name, ok, len(d.Partitions), parts)
		}
	}
	for _, name := range names {
		_, ok := listed[name]
		switch ct := churned[name]; {
		case ct.state == topicLive && !ok:
			pr.errorf("topic %s: its creation was acknowledged and it was never deleted, but it is gone", name)
		case ct.state == topicDeleted && ok:
			pr.errorf("topic %s: its deletion was acknowledged, but it is back", name)
		}
	}
	for name, d := range listed {
		if _, main := want[name]; !main && !d.IsInternal && !strings.HasPrefix(name, "churn-") {
			pr.errorf("topic %s is listed, but the test never created it", name)
		}
	}
}

var (
	// quarantined matches DATA/quarantine entries:
	// "<topic>-<partition>.<why>-<ms>".
	quarantined = regexp.MustCompile(`^(.+)-(\d+)\.([a-z]+)-\d+$`)
	// partitionDir matches a partition directory: "<topic>-<partition>".
	partitionDir = regexp.MustCompile(`^(.+)-\d+$`)
)

// checkDataDir walks the data directory for what recovery left: partition
// quarantine folders may hold only torn tails (at most one per torn_tail
// event), DATA/quarantine only partition directories of churn topics an
// unanswered operation explains, and no file may be named damaged. No
// directory of a deleted topic remains. It returns the number of
// torn-tail files and of DATA/quarantine entries.
func checkDataDir(t *testing.T, dataDir string, churned map[string]churnTopic, tornTailEvents float64) (tornTails, entries int) {
	t.Helper()
	pr := &problems{t: t, what: "data directory"}
	defer pr.done()
	err := filepath.WalkDir(dataDir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dataDir, path)
		parts := strings.Split(rel, string(filepath.Separator))
		switch {
		case strings.Contains(d.Name(), "damaged"):
			pr.errorf("%s: recovery found damage (only torn tails are expected after SIGKILLs and full disks)", rel)
		case len(parts) == 4 && parts[0] == "logs" && parts[2] == "quarantine":
			if strings.HasSuffix(d.Name(), ".torn-tail") {
				tornTails++
			} else {
				pr.errorf("%s: quarantined by recovery, and not a torn tail", rel)
			}
		case len(parts) == 2 && parts[0] == "quarantine":
			entries++
			m := quarantined.FindStringSubmatch(d.Name())
			if m == nil || m[3] != "unknown" || !churned[m[1]].uncertain {
				pr.errorf("%s: quarantined, and no unanswered topic operation explains it", rel)
			}
			if d.IsDir() {
				return filepath.SkipDir
			}
		case len(parts) == 2 && parts[0] == "logs":
			if strings.HasSuffix(d.Name(), "-delete") {
				pr.errorf("%s: a deleted partition's directory is still there after a restart", rel)
			}
			if m := partitionDir.FindStringSubmatch(d.Name()); m != nil && churned[m[1]].state == topicDeleted {
				pr.errorf("%s: the directory of a deleted topic", rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("walk %s: %v", dataDir, err)
	}
	if float64(tornTails) > tornTailEvents {
		pr.errorf("%d torn tails in quarantine, but recovery counted %g torn_tail events", tornTails, tornTailEvents)
	}
	return tornTails, entries
}

// checkRecoveryTotals checks the recovery counters added up over every
// start: with SIGKILLs and full disks only, recovery may cut torn tails
// and rebuild indexes, nothing else; and no panic was counted.
func checkRecoveryTotals(t *testing.T, startup, runtime totals, quarantineEntries int) {
	t.Helper()
	for _, kind := range []string{"damaged_region", "restamped_batch", "offset_gap", "quarantined_file"} {
		if v := startup[fmt.Sprintf(`courier_log_recovery_events_total{kind=%q}`, kind)]; v != 0 {
			t.Errorf("recovery counted %g %s events; SIGKILLs and full disks should leave only torn tails", v, kind)
		}
	}
	for k, v := range startup {
		switch {
		case strings.HasPrefix(k, "courier_journal_damaged_records_total") && v != 0:
			t.Errorf("%s = %g: the offsets journal was damaged", k, v)
		case strings.HasPrefix(k, "courier_quarantined_total") && k != `courier_quarantined_total{reason="unknown"}` && v != 0:
			t.Errorf("%s = %g: the broker quarantined metadata", k, v)
		}
	}
	if got := startup[`courier_quarantined_total{reason="unknown"}`]; got != float64(quarantineEntries) {
		t.Errorf("courier_quarantined_total{reason=\"unknown\"} added up to %g, but DATA/quarantine holds %d entries", got, quarantineEntries)
	}
	for k, v := range runtime {
		if strings.Contains(k, "panics_total") && v != 0 {
			t.Errorf("%s = %g", k, v)
		}
	}
}
