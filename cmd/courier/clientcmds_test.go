package main

// clientcmds_test.go drives the topic, produce and consume commands through
// the root command, as a user would, against franz-go's in-memory Kafka
// cluster (kfake) on a random 127.0.0.1 port.

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// execCourier runs courier with args and stdin as main does, returning
// stdout, stderr, and, if the exit status is not 0, an error holding the
// one line of stderr that reports the failure (without "courier: ").
func execCourier(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := execute(ctx, newRootCommand(), args, strings.NewReader(stdin), &out, &errOut)
	if code == 0 {
		return out.String(), errOut.String(), nil
	}
	lines := strings.Split(strings.TrimSuffix(errOut.String(), "\n"), "\n")
	last := lines[len(lines)-1]
	if code != 1 || !strings.HasPrefix(last, "courier: ") {
		t.Errorf("courier %s: exit status %d, last line of stderr %q: want 1 and \"courier: ...\"", strings.Join(args, " "), code, last)
	}
	return out.String(), errOut.String(), errors.New(strings.TrimPrefix(last, "courier: "))
}

// mustExec is execCourier that fails the test on error.
func mustExec(t *testing.T, stdin string, args ...string) (string, string) {
	t.Helper()
	out, errOut, err := execCourier(t, stdin, args...)
	if err != nil {
		t.Fatalf("courier %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out, errOut
}

func TestClientCommands(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := "--brokers=" + strings.Join(c.ListenAddrs(), ",")

	out, _ := mustExec(t, "", "topic", "create", "rider-updates", "--partitions", "3", "--config", "retention.ms=60000", brokers)
	if out != "created topic rider-updates (partitions 3, replication factor 1)\n" {
		t.Errorf("create: %q", out)
	}
	if _, _, err := execCourier(t, "", "topic", "create", "rider-updates", "--partitions", "3", brokers); err == nil || err.Error() != "topic rider-updates already exists" {
		t.Errorf("second create: %v", err)
	}
	// Without --partitions the broker's default applies (kfake's here;
	// TestTopicCreateDefaults checks Courier's).
	if out, _ := mustExec(t, "", "topic", "create", "x", brokers); !strings.HasPrefix(out, "created topic x (partitions ") {
		t.Errorf("create without --partitions: %q", out)
	}

	// The seed brokers may come from the environment instead of the flag.
	t.Setenv("COURIER_BROKERS", strings.Join(c.ListenAddrs(), ","))
	out, _ = mustExec(t, "", "topic", "list")
	if !strings.Contains(out, "rider-updates  3\n") {
		t.Errorf("list:\n%s", out)
	}

	_, errOut := mustExec(t, "one\n\ntwo\n", "produce", "rider-updates", "--key", "rider-7", "--header", "trace=a,b", "--header", "src=cli",
		"--compression", "zstd", "-v")
	if !strings.HasPrefix(errOut, "produced 3 records (6 value bytes) to rider-updates") {
		t.Errorf("produce -v stderr: %q", errOut)
	}
	out, _ = mustExec(t, "", "produce", "rider-updates", "--partition", "2", "--acks", "1")
	if out != "" {
		t.Errorf("produce printed %q", out)
	}

	out, _ = mustExec(t, "", "consume", "rider-updates", "--from-beginning", "-n", "3", "--timeout", "20s", "--format", `%k|%h|%v\n`)
	if want := "rider-7|trace=a,b,src=cli|one\nrider-7|trace=a,b,src=cli|\nrider-7|trace=a,b,src=cli|two\n"; out != want {
		t.Errorf("consume: got %q, want %q", out, want)
	}
	if _, _, err := execCourier(t, "", "consume", "rider-updates", "--partition", "2", "-n", "1", "--timeout", "300ms"); err == nil ||
		!strings.Contains(err.Error(), "timed out after 300ms: got 0 of 1 records") {
		t.Errorf("consume with nothing new: %v", err)
	}

	out, _ = mustExec(t, "", "topic", "describe", "rider-updates")
	for _, want := range []string{"Topic:               rider-updates\n", "Configs:             retention.ms=60000 (topic)\n", "PARTITION  LEADER  START-OFFSET  END-OFFSET  SIZE-BYTES\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe lacks %q:\n%s", want, out)
		}
	}

	mustExec(t, "", "topic", "add-partitions", "rider-updates", "--total", "5")
	if _, _, err := execCourier(t, "", "topic", "add-partitions", "rider-updates", "--total", "4"); err == nil {
		t.Error("shrinking: no error")
	}
	mustExec(t, "", "topic", "delete", "rider-updates")
	for _, args := range [][]string{
		{"topic", "describe", "rider-updates"},
		{"topic", "delete", "rider-updates"},
		{"consume", "rider-updates", "--timeout", "5s"},
	} {
		if _, _, err := execCourier(t, "", args...); err == nil || !strings.Contains(err.Error(), "unknown topic rider-updates") {
			t.Errorf("%s: %v", strings.Join(args, " "), err)
		}
	}
	if _, _, err := execCourier(t, "x\n", "produce", "rider-updates"); err == nil || !strings.Contains(err.Error(), "unknown topic rider-updates") {
		t.Errorf("produce to a deleted topic: %v", err)
	}
	for _, args := range [][]string{
		{"produce", "t", "--acks", "2"},
		{"produce", "t", "--header", "nokv"},
		{"consume", "t", "--offset", "7"},
		{"topic", "describe"},
		{"topic", "create", "a", "b", "--partitions", "1"},
	} {
		if _, _, err := execCourier(t, "", args...); err == nil {
			t.Errorf("%s: no error", strings.Join(args, " "))
		}
	}
}
