package main

// simulate_test.go drives `courier simulate` through the root command
// against a real test broker, and checks --rate parsing.

import (
	"regexp"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
)

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{"50000": 50000, "50000/s": 50000, "50k/s": 50000, "50K": 50000, "1.5m/s": 1.5e6, " 250/s ": 250, "0.5": 0.5} {
		if got, err := parseRate(in); err != nil || got != want {
			t.Errorf("parseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-5", "fast", "5/m", "nan", "inf", "1e12"} {
		if got, err := parseRate(in); err == nil {
			t.Errorf("parseRate(%q) = %v, want an error", in, got)
		}
	}
}

func TestSimulateCommand(t *testing.T) {
	b := testbroker.Start(t)
	out, _ := mustExec(t, "", "simulate", "--brokers", b.Addr, "--riders", "200", "--rate", "20k/s", "--count", "3000", "--progress=false")
	re := regexp.MustCompile(`^sent 3000 updates in \S+ \(\d+ updates/s achieved, target 20000/s\), 0 failed\n$`)
	if !re.MatchString(out) {
		t.Errorf("summary %q", out)
	}
	out, _ = mustExec(t, "", "topic", "describe", "rider-updates", "--brokers", b.Addr)
	if !strings.Contains(out, "rider-updates") {
		t.Errorf("describe: %q", out)
	}

	_, _, err := execCourier(t, "", "simulate", "--gateway", "http://127.0.0.1:1", "--direct", "sqlite:/tmp/x.db", "--count", "1")
	if err == nil || !strings.Contains(err.Error(), "exclude") {
		t.Errorf("--gateway with --direct: %v", err)
	}
	_, _, err = execCourier(t, "", "simulate", "--brokers", b.Addr, "--rate", "lots")
	if err == nil || !strings.Contains(err.Error(), "rate") {
		t.Errorf("--rate lots: %v", err)
	}
	_, _, err = execCourier(t, "", "simulate", "--brokers", b.Addr, "--partition-by", "zone", "--count", "1")
	if err == nil || !strings.Contains(err.Error(), "partition") {
		t.Errorf("--partition-by zone: %v", err)
	}
}
