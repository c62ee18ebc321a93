package main

// errors_test.go checks that every failure is reported the same way: exit
// status 1 and one line on stderr, "courier: " and what failed, whether
// the command line was wrong, the cluster refused, several things failed
// at once, or courier itself panicked.

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/spf13/cobra"
)

// runCourier runs root (newRootCommand if nil) with args as main does.
func runCourier(t *testing.T, root *cobra.Command, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if root == nil {
		root = newRootCommand()
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code = execute(ctx, root, args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestErrorsAreOneLine(t *testing.T) {
	b := testbroker.Start(t)
	brokers := "--brokers=" + b.Addr
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"produce"}, "courier: produce: want exactly one topic NAME, got 0 arguments"},
		{[]string{"produce", "t", "--bogus"}, "courier: produce: unknown flag: --bogus"},
		{[]string{"consume", "t", "--timeout", "soon"}, `courier: consume: invalid argument "soon" for "--timeout" flag: time: invalid duration "soon"`},
		{[]string{"consume", "t", "--offset", "-3", "--partition", "0"}, `courier: consume t: offset "-3": want earliest, latest or a non-negative number`},
		{[]string{"topic", "frob"}, `courier: topic: unknown command "frob"`},
		{[]string{"group", "frob", "x"}, `courier: group: unknown command "frob"`},
		{[]string{"topic", "add-partitions", "x"}, `courier: topic add-partitions: required flag(s) "total" not set`},
		{[]string{"topic", "describe", "nope", brokers}, "courier: unknown topic nope"},
		// Several failures at once: one line still.
		{[]string{"group", "delete", "ga", "gb", brokers}, "courier: unknown group ga; unknown group gb"},
	} {
		code, out, errOut := runCourier(t, nil, tc.args...)
		if code != 1 || errOut != tc.want+"\n" || out != "" {
			t.Errorf("courier %s: exit status %d, stdout %q, stderr %q\nwant 1 and stderr %q", strings.Join(tc.args, " "), code, out, errOut, tc.want+"\n")
		}
	}
	// An unknown command with a suggestion: still one line.
	code, _, errOut := runCourier(t, nil, "topics")
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, `courier: unknown command "topics" for "courier"`) || !strings.Contains(errOut, "topic") {
		t.Errorf("courier topics: %d %q", code, errOut)
	}
	// A parent command alone shows its help and succeeds.
	if code, out, errOut := runCourier(t, nil, "topic"); code != 0 || !strings.Contains(out, "Available Commands:") || errOut != "" {
		t.Errorf("courier topic: %d %q %q", code, out, errOut)
	}
}

func TestPanicIsOneLine(t *testing.T) {
	root := newRootCommand()
	root.AddCommand(&cobra.Command{Use: "boom", RunE: func(*cobra.Command, []string) error {
		var m map[string]int
		//lint:ignore SA5000 the nil map write is the point: a real runtime panic, as a bug would cause
		m["x"]++
		return nil
	}})
	code, _, errOut := runCourier(t, root, "boom")
	want := "courier: internal error: assignment to entry in nil map (a bug in courier; please report it with the command line)\n"
	if code != 1 || errOut != want {
		t.Errorf("exit status %d, stderr %q; want 1 and %q", code, errOut, want)
	}
}
