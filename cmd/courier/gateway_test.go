package main

// gateway_test.go runs `courier gateway` against franz-go's kfake on a
// random port: it creates the topic, accepts an update, and stops cleanly
// when its context is cancelled.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testlog"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kfake"
)

func TestGatewayCommand(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	addrc := make(chan net.Addr, 1)
	gatewayListening = func(a net.Addr) { addrc <- a }
	defer func() { gatewayListening = nil }()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var errOut bytes.Buffer
	root := newRootCommand()
	root.SetArgs([]string{"gateway", "--addr", "127.0.0.1:0", "--brokers", strings.Join(c.ListenAddrs(), ","), "--max-batch", "2", "--shutdown-timeout", "1m"})
	root.SetOut(io.Discard)
	root.SetErr(&errOut)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("gateway exited: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("gateway not listening after 30s")
	}

	post := func(path, body string) (int, string) {
		t.Helper()
		rctx, rcancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer rcancel()
		req, _ := http.NewRequestWithContext(rctx, "POST", base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post("/v1/locations", `{"rider_id":"r1","lat":12.97,"lon":77.59}`); code != 202 || body != "{\"accepted\":1}\n" {
		t.Errorf("POST: %d %s", code, body)
	}
	if code, body := post("/v1/locations", strings.Repeat(`{"rider_id":"r1","lat":12.97,"lon":77.59}`+"\n", 3)); code != 400 || !strings.Contains(body, "at most 2") {
		t.Errorf("POST over --max-batch: %d %s", code, body)
	}

	// An open live stream does not hold up the shutdown.
	sctx, scancel := context.WithCancel(t.Context())
	defer scancel()
	req, _ := http.NewRequestWithContext(sctx, "GET", base+"/v1/riders/r1/live", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || !strings.HasPrefix(line, ": subscribed") {
		t.Fatalf("live stream: %q %v", line, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("gateway: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("gateway did not stop within 20s")
	}
	if !strings.Contains(errOut.String(), "gateway stopped") {
		t.Errorf("log: %s", errOut.String())
	}
}

func TestGatewayCommandFlags(t *testing.T) {
	for _, args := range [][]string{
		{"gateway", "--partition-by", "zone"},
		{"gateway", "--city-bbox", "1,2,3"},
		{"gateway", "--log-format", "xml"},
	} {
		if _, _, err := execCourier(t, "", args...); err == nil {
			t.Errorf("courier %v: no error", args)
		}
	}
}

// TestGatewayCommandWaitsForCluster starts `courier gateway` before its
// cluster, as `bin/courier broker & bin/courier gateway &` does: it warns
// that it waits, and serves once the cluster is up.
func TestGatewayCommandWaitsForCluster(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	addrc := make(chan net.Addr, 1)
	gatewayListening = func(a net.Addr) { addrc <- a }
	defer func() { gatewayListening = nil }()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errOut := &testlog.Buffer{}
	root := newRootCommand()
	root.SetArgs([]string{"gateway", "--addr", "127.0.0.1:0", "--brokers", fmt.Sprintf("127.0.0.1:%d", port)})
	root.SetOut(io.Discard)
	root.SetErr(errOut)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	testwait.For(t, 30*time.Second, "a warning that the cluster is unreachable", func() string {
		if !strings.Contains(errOut.String(), "cluster unreachable; waiting for it") {
			return "no warning in the log yet:\n" + errOut.String()
		}
		return ""
	})
	c, err := kfake.NewCluster(kfake.Ports(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case <-addrc:
	case err := <-done:
		t.Fatalf("gateway exited: %v\n%s", err, errOut.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("gateway not listening 30s after the cluster came up:\n%s", errOut.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("gateway: %v", err)
	}
}
