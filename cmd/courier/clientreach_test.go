package main

// clientreach_test.go checks how every client tool meets a cluster it
// cannot reach (a closed free port): one line at once naming the address
// and the dial error, or with --wait a wait that ends when a broker
// starts; and that a broker that is only slow is not reported unreachable.

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"

	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testlog"
	"github.com/courier-dev/courier/internal/testkit/testwait"
)

func TestUnreachableCluster(t *testing.T) {
	addr := brokerproc.ClosedAddr(t)
	brokers := "--brokers=" + addr
	for _, tc := range []struct {
		stdin string
		args  []string
	}{
		{"a\n", []string{"produce", "x"}},
		{"", []string{"consume", "x"}},
		{"", []string{"consume", "x", "--group", "g"}},
		{"", []string{"topic", "create", "x"}},
		{"", []string{"topic", "list"}},
		{"", []string{"topic", "describe", "x"}},
		{"", []string{"topic", "delete", "x"}},
		{"", []string{"topic", "add-partitions", "x", "--total", "3"}},
		{"", []string{"group", "list"}},
		{"", []string{"group", "describe", "g"}},
		{"", []string{"group", "delete", "g"}},
		{"", []string{"group", "seek", "g", "--topic", "x", "--to", "earliest"}},
		{"", []string{"acl", "add", "--allow-principal", "alice", "--operation", "read", "--topic", "x"}},
		{"", []string{"acl", "list"}},
		{"", []string{"acl", "remove", "--topic", "x"}},
		{"pw\n", []string{"user", "create", "bob"}},
		{"", []string{"user", "list"}},
		{"", []string{"user", "delete", "bob"}},
		{"", []string{"bench", "--records", "10"}},
	} {
		start := time.Now()
		out, _, err := execCourier(t, tc.stdin, append(tc.args, brokers, "--connect-timeout=5s")...)
		elapsed := time.Since(start)
		want := "cannot reach the cluster at " + addr + ": dial tcp " + addr + ": connect: connection refused"
		if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "--wait") {
			t.Errorf("courier %s: %v\nwant it to start with %q", strings.Join(tc.args, " "), err, want)
		}
		if out != "" {
			t.Errorf("courier %s printed %q", strings.Join(tc.args, " "), out)
		}
		if elapsed > 4*time.Second { // a refused connection is no reason to wait
			t.Errorf("courier %s took %s to fail", strings.Join(tc.args, " "), elapsed)
		}
	}

	// Settings are checked before the cluster is: a bad flag is reported
	// as such even when no broker is there.
	for _, args := range [][]string{
		{"produce", "x", "--acks", "2"},
		{"consume", "x", "--format", "%z"},
		{"topic", "create", "x", "--partitions", "0"},
		{"bench", "--size", "1"},
		{"acl", "add", "--topic", "x"},
	} {
		_, _, err := execCourier(t, "", append(args, brokers)...)
		if err == nil || strings.Contains(err.Error(), "cannot reach") {
			t.Errorf("courier %s: %v, want the flag's error", strings.Join(args, " "), err)
		}
	}
	// Offline user administration needs no cluster.
	mustExec(t, "pw\n", "user", "create", "bob", "--data", t.TempDir(), brokers)
}

func TestWaitForCluster(t *testing.T) {
	addr := brokerproc.ClosedAddr(t)
	var out, errOut testlog.Buffer // read while the command writes them
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- execute(ctx, newRootCommand(), []string{"produce", "waited", "--brokers", addr, "--wait"}, strings.NewReader("hello\n"), &out, &errOut)
	}()
	testwait.For(t, 10*time.Second, "the wait to be announced", func() string {
		if !strings.Contains(errOut.String(), "courier: cannot reach the cluster at "+addr) || !strings.Contains(errOut.String(), "waiting for it (--wait)") {
			return fmt.Sprintf("stderr so far: %q", errOut.String())
		}
		return ""
	})
	b := testbroker.Start(t, func(c *run.Config) { c.Addr = addr })
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("produce --wait: exit status %d, stderr:\n%s", code, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("produce --wait did not finish within 30s of the broker starting; stderr:\n%s", errOut.String())
	}
	if n := strings.Count(errOut.String(), "\n"); n != 1 {
		t.Errorf("stderr has %d lines, want the one announcing the wait:\n%s", n, errOut.String())
	}
	got, _ := mustExec(t, "", "consume", "waited", "--from-beginning", "-n", "1", "--brokers", b.Addr)
	if got != "hello\n" {
		t.Errorf("consumed %q", got)
	}
}

// slowProxy forwards connections to backend, holding each connection's
// first answer back for delay: a broker that is reachable but slow.
func slowProxy(t *testing.T, backend string, delay time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				b, err := net.Dial("tcp", backend)
				if err != nil {
					return
				}
				defer b.Close()
				stop := context.AfterFunc(t.Context(), func() { c.Close(); b.Close() })
				defer stop()
				go func() { _, _ = io.Copy(b, c); b.Close() }()
				time.Sleep(delay) // the slowness being simulated
				_, _ = io.Copy(c, b)
			})
		}
	})
	return ln.Addr().String()
}

func TestSlowClusterIsNotUnreachable(t *testing.T) {
	b := testbroker.Start(t)
	mustExec(t, "", "topic", "create", "slow", "--partitions", "1", "--brokers", b.Addr)
	proxy := slowProxy(t, b.Addr, 1500*time.Millisecond)
	// The first answer takes longer than --connect-timeout: the broker
	// accepted the connection, so the command waits for it and succeeds.
	out, errOut := mustExec(t, "", "topic", "list", "--brokers", proxy, "--connect-timeout", "300ms")
	if !strings.Contains(out, "slow") || errOut != "" {
		t.Errorf("topic list through a slow broker: %q, stderr %q", out, errOut)
	}
}
