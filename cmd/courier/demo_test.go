package main

// demo_test.go checks what the pipeline commands say when they cannot
// start: never a password, and for a busy address the flag that changes it.

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoPasswordInOutput runs every command that takes a database DSN or a
// URL with a password that cannot be used: the error and the output must
// name the database with the password masked, never the password.
func TestNoPasswordInOutput(t *testing.T) {
	const secret = "s3cretpw"
	dsns := []string{
		"postgres://user:" + secret + "@127.0.0.1:1/x",
		"postgresql://user@127.0.0.1:1/x?password=" + secret + "&sslmode=disable",
		"host=127.0.0.1 port=1 user=u password=" + secret + " dbname=x",
		"postgres://user:" + secret + "@127.0.0.1:notaport/x",
	}
	for _, dsn := range dsns {
		dir := t.TempDir()
		for _, args := range [][]string{
			{"demo", "--db", dsn, "--addr", "127.0.0.1:0", "--kafka-addr", "127.0.0.1:0", "--console-addr", "", "--data", filepath.Join(dir, "data")},
			{"sink", "--db", dsn, "--brokers", "127.0.0.1:1"},
			{"simulate", "--direct", dsn, "--count", "1", "--progress=false"},
			{"bench", "pipeline", "--db", dsn, "--brokers", "127.0.0.1:1"},
		} {
			out, errOut, err := execCourier(t, "", args...)
			if err == nil {
				t.Errorf("courier %s: no error", strings.Join(args, " "))
				continue
			}
			all := err.Error() + "\n" + out + "\n" + errOut
			if strings.Contains(all, secret) {
				t.Errorf("courier %s %s: the password is shown:\n%s", args[0], args[1], all)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
			t.Errorf("demo with %s created its data directory although the database failed", dsn)
		}
	}
	_, _, err := execCourier(t, "", "simulate", "--gateway", "http://rider:"+secret+"@127.0.0.1:bad", "--count", "1", "--progress=false")
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "--gateway http://rider:xxxxx@127.0.0.1:bad") {
		t.Errorf("simulate with a bad --gateway URL: %v", err)
	}
}

// TestDemoBusyAddress runs the demo with its web, Kafka or console address
// taken: one line names the address and the flag, and nothing is created.
func TestDemoBusyAddress(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	flags := []string{"--addr", "--kafka-addr", "--console-addr"}
	for i, flag := range flags {
		dir := t.TempDir()
		args := []string{"demo", "--data", filepath.Join(dir, "data"), "--db", "sqlite:" + filepath.Join(dir, "riders.db")}
		for j, other := range flags {
			if j == i {
				args = append(args, flag, addr)
			} else {
				args = append(args, other, "127.0.0.1:0")
			}
		}
		tc := struct{ flag string }{flag}
		_, _, err := execCourier(t, "", args...)
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), addr+" ") ||
			!strings.Contains(err.Error(), "already in use") || !strings.HasSuffix(err.Error(), "with "+tc.flag) {
			t.Errorf("demo with %s busy: %v", tc.flag, err)
		}
		if left, _ := os.ReadDir(dir); len(left) > 0 {
			t.Errorf("demo with %s busy left %d files behind", tc.flag, len(left))
		}
	}
}

// TestREADMEDemoDefaults checks that what README.md says the demo runs
// with is what `courier demo` runs with by default.
func TestREADMEDemoDefaults(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(readme)), " ") // lines rewrapped
	f := newDemoCommand().Flags()
	def := func(name string) string { return f.Lookup(name).DefValue }
	riders, rate, sinks := def("riders"), strings.TrimSuffix(def("rate"), "/s"), def("sinks")
	rateWithComma := rate
	if len(rate) > 3 {
		rateWithComma = rate[:len(rate)-3] + "," + rate[len(rate)-3:]
	}
	for _, want := range []string{
		riders + " simulated riders", "posting " + rateWithComma + " updates/s",
		"`--riders` (" + riders + ")", "`--rate` (" + rate + "/s)", "`--sinks` (" + sinks + ")",
		"127.0.0.1:" + strings.Split(def("addr"), ":")[1], "Kafka protocol on " + def("kafka-addr"),
		"data in `" + def("data") + "`", "(`" + strings.TrimPrefix(def("db"), "sqlite:") + "`)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("README.md does not say %q", want)
		}
	}
}
