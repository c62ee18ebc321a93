package main

// group_test.go drives `consume --group` and the group commands through the
// root command, as a user would, against a real Courier broker (package
// testbroker) on a random 127.0.0.1 port.

import (
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
)

// containsLine reports whether out has a line whose fields are fields.
func containsLine(out string, fields ...string) bool {
	want := strings.Join(fields, " ")
	for _, l := range strings.Split(out, "\n") {
		if strings.Join(strings.Fields(l), " ") == want {
			return true
		}
	}
	return false
}

// hasRow returns the number of fields after the given leading fields in the
// first line of out that starts with them, or -1 if no line does.
func hasRow(out string, leading ...string) int {
	if f := rowFields(out, leading...); f != nil {
		return len(f) - len(leading)
	}
	return -1
}

// rowFields returns the fields of the first line of out that starts with
// the given leading fields, or nil if none does.
func rowFields(out string, leading ...string) []string {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= len(leading) && strings.Join(f[:len(leading)], " ") == strings.Join(leading, " ") {
			return f
		}
	}
	return nil
}

func TestGroupCommands(t *testing.T) {
	b := testbroker.Start(t)
	brokers := "--brokers=" + b.Addr
	mustExec(t, "", "topic", "create", "rider-updates", "--partitions", "2", brokers)
	mustExec(t, "a\nb\nc\nd\n", "produce", "rider-updates", "--partition", "0", brokers)

	// consume --group reads from the start and commits what it printed.
	out, _ := mustExec(t, "", "consume", "rider-updates", "--group", "user-1", "--from-beginning", "-n", "4", "--timeout", "10s", brokers)
	if out != "a\nb\nc\nd\n" {
		t.Errorf("consume --group: %q", out)
	}
	out, _ = mustExec(t, "", "group", "describe", "user-1", brokers)
	t.Logf("describe:\n%s", out)
	for _, line := range [][]string{
		{"Type:", "classic"}, {"State:", "Empty"}, {"Protocol", "type:", "consumer"}, {"Members:", "0"}, {"Total", "lag:", "0"},
		{"TOPIC", "PARTITION", "COMMITTED", "END-OFFSET", "LAG", "MEMBER-ID"},
		{"rider-updates", "0", "4", "4", "0", "-"},
		{"rider-updates", "1", "-", "0", "0", "-"},
	} {
		if !containsLine(out, line...) {
			t.Errorf("describe lacks the line %q", line)
		}
	}
	out, _ = mustExec(t, "", "group", "list", brokers)
	if out != "GROUP   TYPE     STATE  PROTOCOL-TYPE\nuser-1  classic  Empty  consumer\n" {
		t.Errorf("list:\n%s", out)
	}
	if out, _ = mustExec(t, "", "group", "list", "--state", "Stable,PreparingRebalance", brokers); out != "GROUP  TYPE  STATE  PROTOCOL-TYPE\n" {
		t.Errorf("list --state Stable:\n%s", out)
	}

	out, _ = mustExec(t, "", "group", "seek", "user-1", "--topic", "rider-updates", "--partition", "0", "--to", "offset:2", brokers)
	if out != "TOPIC          PARTITION  PREVIOUS  NEW\nrider-updates  0          4         2\n" {
		t.Errorf("seek:\n%s", out)
	}
	out, _ = mustExec(t, "", "group", "seek", "user-1", "--topic", "rider-updates", "--to", "earliest", "--dry-run", brokers)
	if !containsLine(out, "rider-updates", "0", "2", "0") || !strings.HasSuffix(out, "dry run: offsets of group user-1 not changed\n") {
		t.Errorf("seek --dry-run:\n%s", out)
	}

	// A member resumes at the sought offset. While it is active, seek and
	// delete are refused; one more record lets it finish.
	done := make(chan string, 1)
	go func() {
		out, _, err := execCourier(t, "", "consume", "rider-updates", "--group", "user-1", "-n", "3", "--timeout", "10s", brokers)
		if err != nil {
			out += err.Error()
		}
		done <- out
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _, _ = execCourier(t, "", "group", "describe", "user-1", brokers)
		if containsLine(out, "State:", "Stable") && hasRow(out, "rider-updates", "0", "2", "4", "2") == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the consumer did not join within 10s:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !containsLine(out, "Members:", "1") || !strings.Contains(out, "ASSIGNED\n") || !strings.Contains(out, "rider-updates:0,1\n") {
		t.Errorf("describe with a member:\n%s", out)
	}
	_, _, err := execCourier(t, "", "group", "seek", "user-1", "--topic", "rider-updates", "--to", "latest", brokers)
	if err == nil || !strings.HasPrefix(err.Error(), "cannot seek group user-1: it has active members (state Stable)") {
		t.Errorf("seek while active: %v", err)
	}
	_, _, err = execCourier(t, "", "group", "delete", "user-1", brokers)
	if err == nil || err.Error() != "cannot delete group user-1: it has active members (NON_EMPTY_GROUP); stop its consumers and retry" {
		t.Errorf("delete while active: %v", err)
	}
	mustExec(t, "e\n", "produce", "rider-updates", "--partition", "0", brokers)
	if out := <-done; out != "c\nd\ne\n" {
		t.Errorf("consume after seeking to offset 2: %q", out)
	}

	out, _ = mustExec(t, "", "group", "delete", "user-1", brokers)
	if out != "deleted group user-1\n" {
		t.Errorf("delete: %q", out)
	}
	for _, args := range [][]string{
		{"group", "describe", "user-1"},
		{"group", "delete", "user-1"},
	} {
		if _, _, err := execCourier(t, "", append(args, brokers)...); err == nil || err.Error() != "unknown group user-1" {
			t.Errorf("%s: %v", strings.Join(args, " "), err)
		}
	}
	for _, args := range [][]string{
		{"group", "seek", "user-1", "--topic", "rider-updates", "--to", "bogus"},
		{"group", "seek", "user-1", "--to", "latest"},
		{"group", "seek", "user-1", "--topic", "rider-updates"},
		{"group", "seek", "user-1", "--topic", "nope", "--to", "latest"},
		{"group", "delete"},
		{"group", "describe", "a", "b"},
		{"group", "list", "extra"},
	} {
		if _, _, err := execCourier(t, "", append(args, brokers)...); err == nil {
			t.Errorf("%s: no error", strings.Join(args, " "))
		}
	}
}

// TestTopicCreateDefaults: without --partitions and --replication-factor,
// topic create asks for the broker's defaults, as kafka-topics.sh does,
// and its help says so.
func TestTopicCreateDefaults(t *testing.T) {
	b := testbroker.Start(t, func(c *run.Config) { c.Broker.DefaultPartitions = 3 })
	out, _ := mustExec(t, "", "topic", "create", "plain", "--brokers", b.Addr)
	if out != "created topic plain (partitions 3, replication factor 1)\n" {
		t.Errorf("create: %q", out)
	}
	help, _ := mustExec(t, "", "topic", "create", "--help")
	for _, want := range []string{"the broker's default, num.partitions", "default.replication.factor", "without --partitions or --replication-factor"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
}
