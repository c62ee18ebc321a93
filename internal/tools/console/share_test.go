package console

// share_test.go consumes in the new group protocols: a share group
// (KIP-932) that accepts, rejects and releases what it prints, and a
// KIP-848 consumer group; and checks that a cluster without either
// protocol is refused with a clear error rather than a silent fallback.

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestConsumeGroupSettingsErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  ConsumeConfig
		want string
	}{
		{ConsumeConfig{Topic: "t", Partition: -1, Protocol: "consumer"}, "needs --group"},
		{ConsumeConfig{Topic: "t", Partition: -1, Group: "g", Protocol: "next"}, `protocol "next": want classic or consumer`},
		{ConsumeConfig{Topic: "t", Partition: -1, Group: "g", ShareGroup: "s"}, "not both"},
		{ConsumeConfig{Topic: "t", Partition: 0, ShareGroup: "s"}, "drop --partition or --share-group"},
		{ConsumeConfig{Topic: "t", Partition: -1, ShareGroup: "s", Offset: "earliest"}, "drop --offset"},
		{ConsumeConfig{Topic: "t", Partition: -1, ShareGroup: "s", Isolation: "read_committed"}, "share.isolation.level"},
		{ConsumeConfig{Topic: "t", Partition: -1, RejectEvery: 3}, "need --share-group"},
		{ConsumeConfig{Topic: "t", Partition: -1, Group: "g", ReleaseEvery: 3}, "need --share-group"},
		{ConsumeConfig{Topic: "t", Partition: -1, ShareGroup: "s", RejectEvery: -1}, "must not be negative"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.cfg, err, tc.want)
		}
	}
	for _, ok := range []ConsumeConfig{
		{Topic: "t", Partition: -1, Group: "g", Protocol: "Consumer"},
		{Topic: "t", Partition: -1, Group: "g", Protocol: "classic"},
		{Topic: "t", Partition: -1, ShareGroup: "s", FromBeginning: true, RejectEvery: 3, ReleaseEvery: 5, Isolation: "read_uncommitted"},
	} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
}

func TestAckFor(t *testing.T) {
	cfg := ConsumeConfig{RejectEvery: 3, ReleaseEvery: 2}
	want := []kgo.AckStatus{kgo.AckAccept, kgo.AckRelease, kgo.AckReject, kgo.AckRelease, kgo.AckAccept, kgo.AckReject}
	for i, w := range want {
		if got := cfg.ackFor(i + 1); got != w {
			t.Errorf("record %d: %v, want %v", i+1, got, w)
		}
	}
	if got := (ConsumeConfig{}).ackFor(7); got != kgo.AckAccept {
		t.Errorf("default: %v", got)
	}
}

// shareLine is one printed line of a share-group run: "value dc".
type shareLine struct {
	value string
	dc    int
}

// parseShareLines parses output printed with the format "%v %d\n".
func parseShareLines(t *testing.T, out string) []shareLine {
	t.Helper()
	var ls []shareLine
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		v, d, ok := strings.Cut(l, " ")
		dc, err := strconv.Atoi(d)
		if !ok || err != nil || dc < 1 {
			t.Fatalf("bad line %q (want value and a delivery count >= 1)", l)
		}
		ls = append(ls, shareLine{v, dc})
	}
	return ls
}

// TestConsumeShareGroup runs `consume --share-group --reject-every 4
// --release-every 5` until every record is settled, replaying each run's
// acknowledgements from its output: a released record must come back with
// a higher delivery count, an accepted or rejected one never again, and
// every record must be printed.
func TestConsumeShareGroup(t *testing.T) {
	seeds, adm := shareCluster(t)
	createTopic(t, adm, "jobs", 2)
	const records = 20
	var in strings.Builder
	for i := range records {
		fmt.Fprintf(&in, "job-%02d\n", i)
	}
	if _, err := Produce(testCtx(t), seeds, ProduceConfig{Topic: "jobs", Partition: -1}, strings.NewReader(in.String())); err != nil {
		t.Fatal(err)
	}
	cfg := ConsumeConfig{Topic: "jobs", Partition: -1, ShareGroup: "workers", FromBeginning: true, RejectEvery: 4, ReleaseEvery: 5,
		Format: `%v %d\n`, Timeout: 2 * time.Second}
	var (
		lastDC   = map[string]int{}           // highest delivery count printed per value
		pending  = map[string]bool{}          // released, not yet printed again
		settled  = map[string]kgo.AckStatus{} // accepted or rejected
		rejected int
	)
	deadline := time.Now().Add(45 * time.Second)
	for run := 1; ; run++ {
		var out, warn bytes.Buffer
		cfg.Warnings = &warn
		n, err := Consume(testCtx(t), seeds, cfg, &out)
		if err != nil {
			t.Fatalf("run %d: %v (after %d records)", run, err, n)
		}
		lines := parseShareLines(t, out.String())
		if len(lines) != n {
			t.Fatalf("run %d: %d lines for %d records", run, len(lines), n)
		}
		for i, l := range lines {
			if s, ok := settled[l.value]; ok {
				t.Errorf("run %d: %s delivered again (count %d) after it was %v", run, l.value, l.dc, s)
			}
			if l.dc <= lastDC[l.value] {
				t.Errorf("run %d: %s delivered with count %d after count %d", run, l.value, l.dc, lastDC[l.value])
			}
			lastDC[l.value] = l.dc
			delete(pending, l.value)
			switch ack := cfg.ackFor(i + 1); ack {
			case kgo.AckRelease:
				pending[l.value] = true
			default:
				settled[l.value] = ack
				if ack == kgo.AckReject {
					rejected++
				}
			}
		}
		if w := warn.String(); w != "" && !strings.Contains(w, "share.auto.offset.reset set to earliest") {
			t.Errorf("run %d warned: %s", run, w)
		}
		t.Logf("run %d: %d records, %d settled, %d released and pending", run, n, len(settled), len(pending))
		if len(settled) == records && len(pending) == 0 && n == 0 {
			break // a whole quiet run after everything settled
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d runs: %d of %d records settled, released but not delivered again: %v", run, len(settled), records, pending)
		}
	}
	if rejected == 0 {
		t.Error("no record was rejected")
	}
	redelivered := 0
	for _, dc := range lastDC {
		if dc > 1 {
			redelivered++
		}
	}
	if redelivered == 0 {
		t.Error("no record was released and delivered again")
	}
	// The group lists as a share group.
	listed, err := adm.ListGroupsByType(testCtx(t), []string{"share"})
	if err != nil || len(listed) != 1 || listed["workers"].Group != "workers" {
		t.Errorf("share groups listed: %v, %v", listed, err)
	}
}

// TestConsumeConsumerProtocol consumes with --protocol consumer (KIP-848):
// the group is a consumer group and commits what was printed, as a
// classic one does.
func TestConsumeConsumerProtocol(t *testing.T) {
	seeds, adm := consumerProtocolCluster(t)
	createTopic(t, adm, "rides", 3)
	if _, err := Produce(testCtx(t), seeds, ProduceConfig{Topic: "rides", Partition: 0}, strings.NewReader("1\n2\n3\n4\n")); err != nil {
		t.Fatal(err)
	}
	cfg := ConsumeConfig{Topic: "rides", Partition: -1, Group: "g848", Protocol: ProtocolConsumer, FromBeginning: true, MaxRecords: 2}
	if got := consumeAll(t, seeds, cfg); got != "1\n2\n" {
		t.Errorf("first run: %q", got)
	}
	if got := consumeAll(t, seeds, cfg); got != "3\n4\n" {
		t.Errorf("second run: %q", got)
	}
	listed, err := adm.ListGroupsByType(testCtx(t), []string{"consumer"})
	if err != nil || listed["g848"].Group != "g848" {
		t.Errorf("consumer groups listed: %v, %v", listed, err)
	}
	commits, err := adm.FetchOffsets(testCtx(t), "g848")
	if o, ok := commits.Lookup("rides", 0); err != nil || !ok || o.At != 4 {
		t.Errorf("committed: %+v, %v", o, err)
	}
}

// TestConsumeProtocolUnsupported: --protocol consumer and --share-group
// on a cluster that does not advertise the protocol's APIs (a Courier
// broker with --group-protocols classic) fail at once, naming what is
// missing; franz-go alone would fall back to the classic protocol, or
// retry the share group's heartbeat forever.
func TestConsumeProtocolUnsupported(t *testing.T) {
	seeds, adm := brokerAdmin(t, func(c *run.Config) { c.Broker.GroupProtocols = []string{"classic"} })
	createTopic(t, adm, "t", 1)
	for _, tc := range []struct {
		cfg  ConsumeConfig
		want string
	}{
		{ConsumeConfig{Topic: "t", Partition: -1, Group: "g", Protocol: "consumer"}, "does not support KIP-848 consumer groups"},
		{ConsumeConfig{Topic: "t", Partition: -1, ShareGroup: "s"}, "does not support share groups (KIP-932): broker 1 does not offer ShareGroupHeartbeat"},
	} {
		tc.cfg.Timeout = 20 * time.Second
		start := time.Now()
		_, err := Consume(testCtx(t), seeds, tc.cfg, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, ErrTimeout) {
			t.Errorf("%+v: got %v, want %q", tc.cfg, err, tc.want)
		}
		if el := time.Since(start); el > 10*time.Second {
			t.Errorf("%+v: took %s", tc.cfg, el)
		}
	}
}

// shareCluster returns a Courier broker, which serves share groups.
func shareCluster(t *testing.T) ([]kgo.Opt, *kadm.Client) {
	t.Helper()
	return brokerAdmin(t)
}

// consumerProtocolCluster returns a Courier broker, which serves KIP-848
// consumer groups.
func consumerProtocolCluster(t *testing.T) ([]kgo.Opt, *kadm.Client) {
	t.Helper()
	return brokerAdmin(t)
}
