package rdkafka848

// main_test.go starts the broker the tests run against, and runs a group
// member in a process of its own when the test binary is re-executed as
// one (memberMain).

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/twmb/franz-go/pkg/kfake"
)

// courierBin is the broker binary TestMain built, "" when the tests use
// another broker (RDKAFKA848_BROKER).
var courierBin string

func TestMain(m *testing.M) {
	if os.Getenv(memberEnv) != "" {
		os.Exit(memberMain())
	}
	if os.Getenv("RDKAFKA848_BROKER") != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "courier-rdkafka848-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	courierBin, err = brokerproc.BuildAt(filepath.Join("..", ".."), dir) // this module lives in test/rdkafka848
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startBroker returns the address of the broker under test: the courier
// binary on a free port with a fresh data directory (stopped when the test
// ends), an in-process kfake cluster (RDKAFKA848_BROKER=kfake), or the
// address RDKAFKA848_BROKER names.
func startBroker(t *testing.T) string {
	t.Helper()
	switch env := os.Getenv("RDKAFKA848_BROKER"); env {
	case "":
		// A dead member is noticed after the session timeout (Kafka's
		// 45 s would make the test slow).
		b := brokerproc.StartT(t, courierBin, t.TempDir(), brokerproc.Args("--group-initial-rebalance-delay=100ms",
			"--group-consumer-session-timeout=6s", "--group-consumer-heartbeat-interval=500ms"))
		return b.Addr()
	case "kfake":
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c.ListenAddrs()[0]
	default:
		return env
	}
}

// testTimeout bounds each test.
const testTimeout = 2 * time.Minute
