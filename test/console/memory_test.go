package console_test

// memory_test.go measures what the console adds to the broker's memory
// (the bound: under 30 MB): two brokers alike but for the
// console, one of them serving 40 signed-in sessions (20 per user, the
// most one user may have), each a Kafka client of its own, that load every
// security page's API; the resident set sizes are compared.

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
)

// rssKiB is a process's resident set size (VmRSS) in KiB.
func rssKiB(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kib
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

func TestConsoleMemory(t *testing.T) {
	withConsole, url, _ := securedBroker(t)
	plain, err := brokerproc.Start(courierBin, t.TempDir(), brokerproc.Listener("SASL_PLAINTEXT"),
		brokerproc.Args("--authorizer", "on", "--super-users", "User:admin,User:ANONYMOUS", "--console-addr", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := plain.Stop(); err != nil {
			t.Error(err)
		}
	}()
	cluster := consoleClusterID(t, url)
	pages := []string{"/api/overview", "/v3/clusters/" + cluster + "/acls", "/api/users", "/v3/clusters/" + cluster + "/topics",
		"/api/transactions", "/api/audit", "/api/session"}
	for i := range 40 {
		user, pass := "admin", adminPassword
		if i%2 == 1 {
			user, pass = "alice", alicePassword
		}
		jar, _ := cookiejar.New(nil)
		cl := &http.Client{Jar: jar}
		resp, err := cl.Post(url+"/api/login", "application/json", strings.NewReader(`{"user":"`+user+`","password":"`+pass+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("sign-in %d as %s: %s", i, user, resp.Status)
		}
		for _, p := range pages {
			resp, err := cl.Get(url + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		cl.CloseIdleConnections()
	}
	with, without := rssKiB(t, withConsole.PID()), rssKiB(t, plain.PID())
	t.Logf("resident memory: broker with the console and 40 sessions %d KiB, without the console %d KiB: the console adds %.1f MiB",
		with, without, float64(with-without)/1024)
	if with-without > 30<<10 {
		t.Fatalf("the console adds %d KiB to the broker's memory, over 30 MiB", with-without)
	}
}
