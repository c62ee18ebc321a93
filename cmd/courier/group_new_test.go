package main

// group_new_test.go drives the commands of the new group protocols through
// the root command, as a user would: `consume --group --protocol consumer`
// (KIP-848), `consume --share-group` with --reject-every and
// --release-every (KIP-932), `group describe` of both, and `group list
// --type`.

import (
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
)

// courierBroker returns the --brokers flag of a Courier broker.
func courierBroker(t *testing.T) string {
	t.Helper()
	return "--brokers=" + testbroker.Start(t).Addr
}

// setupJobs creates the topic jobs (two partitions) with six records in
// partition 0.
func setupJobs(t *testing.T, brokers string) {
	t.Helper()
	mustExec(t, "", "topic", "create", "jobs", "--partitions", "2", brokers)
	mustExec(t, "j1\nj2\nj3\nj4\nj5\nj6\n", "produce", "jobs", "--partition", "0", brokers)
}

func TestConsumerProtocolCommands(t *testing.T) {
	brokers := courierBroker(t)
	setupJobs(t, brokers)

	// A KIP-848 consumer group reads and commits; describe shows its type
	// and epochs.
	out, _ := mustExec(t, "", "consume", "jobs", "--group", "g848", "--protocol", "consumer", "--from-beginning", "-n", "6", "--timeout", "20s", brokers)
	if out != "j1\nj2\nj3\nj4\nj5\nj6\n" {
		t.Errorf("consume --protocol consumer: %q", out)
	}
	out, _ = mustExec(t, "", "group", "describe", "g848", brokers)
	t.Logf("describe g848:\n%s", out)
	for _, line := range [][]string{{"Type:", "consumer"}, {"Members:", "0"}, {"jobs", "0", "6", "6", "0", "-"}} {
		if !containsLine(out, line...) {
			t.Errorf("describe g848 lacks the line %q", line)
		}
	}

	// Seek moves the empty consumer group's offsets, as a classic group's.
	out, _ = mustExec(t, "", "group", "seek", "g848", "--topic", "jobs", "--partition", "0", "--to", "offset:4", brokers)
	if out != "TOPIC  PARTITION  PREVIOUS  NEW\njobs   0          6         4\n" {
		t.Errorf("seek a consumer group:\n%s", out)
	}
	out, _ = mustExec(t, "", "consume", "jobs", "--group", "g848", "--protocol", "consumer", "-n", "2", "--timeout", "20s", brokers)
	if out != "j5\nj6\n" {
		t.Errorf("consume after the seek: %q", out)
	}
	out, _ = mustExec(t, "", "group", "list", "--type", "consumer,classic", brokers)
	if hasRow(out, "g848", "consumer", "Empty") < 0 {
		t.Errorf("group list --type consumer,classic:\n%s", out)
	}
}

func TestShareGroupCommands(t *testing.T) {
	brokers := courierBroker(t)
	setupJobs(t, brokers)

	// A share group: every 3rd record printed is rejected, every 4th
	// released and printed again with delivery count 2.
	out, errOut := mustExec(t, "", "consume", "jobs", "--share-group", "workers", "--from-beginning", "--reject-every", "3", "--release-every", "4",
		"--format", `%v %d\n`, "-n", "7", "--timeout", "20s", brokers)
	t.Logf("consume --share-group:\n%s", out)
	if !strings.Contains(errOut, "share.auto.offset.reset set to earliest") {
		t.Errorf("stderr: %q", errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 7 {
		t.Fatalf("%d lines, want 7", len(lines))
	}
	released, first := strings.CutSuffix(lines[3], " 1") // the 4th printed
	if !first || !strings.Contains(out, released+" 2\n") {
		t.Errorf("the released record %q was not printed again with delivery count 2", lines[3])
	}
	out, _ = mustExec(t, "", "group", "describe", "workers", brokers)
	t.Logf("describe workers:\n%s", out)
	for _, line := range [][]string{{"Type:", "share"}, {"TOPIC", "PARTITION", "START-OFFSET"}, {"jobs", "0", "6", "6", "0", "0"}} {
		if hasRow(out, line...) < 0 {
			t.Errorf("describe workers lacks a line starting %q", line)
		}
	}
	// Seek moves the empty share group's start offset: the next member
	// gets the records from there again.
	out, _ = mustExec(t, "", "group", "seek", "workers", "--topic", "jobs", "--partition", "0", "--to", "offset:4", brokers)
	if out != "TOPIC  PARTITION  PREVIOUS  NEW\njobs   0          6         4\n" {
		t.Errorf("seek a share group:\n%s", out)
	}
	out, _ = mustExec(t, "", "consume", "jobs", "--share-group", "workers", "-n", "2", "--timeout", "20s", brokers)
	if out != "j5\nj6\n" {
		t.Errorf("consume after the seek: %q", out)
	}

	// The group configs --from-beginning set, and one set by hand.
	if out, _ := mustExec(t, "", "config", "alter", "--group", "workers", "--set", "share.delivery.count.limit=3", brokers); out != "altered configs of group workers\n" {
		t.Errorf("config alter --group: %q", out)
	}
	out, _ = mustExec(t, "", "config", "describe", "--group", "workers", brokers)
	if hasRow(out, "share.auto.offset.reset", "earliest") < 0 || hasRow(out, "share.delivery.count.limit", "3") < 0 {
		t.Errorf("config describe --group:\n%s", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ = mustExec(t, "", "group", "list", "--type", "share", brokers)
		if out == "GROUP    TYPE   STATE  PROTOCOL-TYPE\nworkers  share  Empty  share\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("group list --type share:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, _ = mustExec(t, "", "group", "list", "--type", "consumer,classic", brokers)
	if strings.Contains(out, "workers") {
		t.Errorf("group list --type consumer,classic:\n%s", out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"consume", "jobs", "--protocol", "consumer"}, "needs --group"},
		{[]string{"consume", "jobs", "--share-group", "w", "--group", "g"}, "not both"},
		{[]string{"consume", "jobs", "--reject-every", "2"}, "need --share-group"},
		{[]string{"group", "list", "--type", "queue"}, `unknown group type "queue"`},
		{[]string{"sink", "--share-group", "w", "--group", "g"}, "cannot be combined"},
		{[]string{"sink", "--share-group", "w", "--instance-id", "i"}, "cannot be combined"},
	} {
		if _, _, err := execCourier(t, "", append(tc.args, brokers)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}

// TestBenchGroupCommands runs `bench groups` and `bench rebalance` at a
// tiny size and checks their tables.
func TestBenchGroupCommands(t *testing.T) {
	brokers := courierBroker(t)
	out, _ := mustExec(t, "", "bench", "groups", "--records", "2000", "--consumers", "1,3", brokers)
	t.Logf("bench groups:\n%s", out)
	for _, row := range [][]string{{"|", "share", "|", "1", "|", "4", "|", "2000", "|"}, {"|", "classic", "|", "3", "|", "4", "|", "2000", "|"}} {
		if hasRow(out, row...) < 0 {
			t.Errorf("bench groups lacks a row starting %q", row)
		}
	}
	out, _ = mustExec(t, "", "bench", "rebalance", "--members", "1", "--partitions", "2", "--rounds", "1", brokers)
	t.Logf("bench rebalance:\n%s", out)
	for _, proto := range []string{"consumer", "classic"} {
		if hasRow(out, "|", proto, "|", "1+1", "|", "2", "|", "1", "|") < 0 {
			t.Errorf("bench rebalance lacks the %s row", proto)
		}
	}
	if _, _, err := execCourier(t, "", "bench", "rebalance", "--members", "4", "--partitions", "4", brokers); err == nil || !strings.Contains(err.Error(), "every member must be able to own one") {
		t.Errorf("rebalance with too few partitions: %v", err)
	}
}
