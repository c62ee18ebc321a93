package compat

// helpers_test.go: starting the broker, requiring the third-party clients,
// running them with bounded time, and reading raw batches for checks that a
// client's decoded view cannot make (codec, producer id).

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// requireEnv makes a missing client a failure rather than a skip.
const requireEnv = "COURIER_REQUIRE_COMPAT"

// cmdTimeout bounds one run of a client program.
const cmdTimeout = 20 * time.Second

// missing fails the test when COURIER_REQUIRE_COMPAT=1 and skips it
// otherwise, saying how to install what is missing.
func missing(t *testing.T, what, install string) {
	t.Helper()
	if os.Getenv(requireEnv) == "1" {
		t.Fatalf("%s is missing and %s=1: %s (scripts/test.sh does this)", what, requireEnv, install)
	}
	t.Skipf("%s is missing: %s, or run scripts/test.sh; set %s=1 to make this a failure", what, install, requireEnv)
}

// requireKcat returns kcat's path, or fails/skips the test.
func requireKcat(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kcat")
	if err != nil {
		missing(t, "kcat", "install it with `apt-get install kcat`")
	}
	return p
}

// requireKafkajs returns node's path and the kafkajs script directory, or
// fails/skips the test.
func requireKafkajs(t *testing.T) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node", "install Node.js 20 (`apt-get install nodejs npm`)")
	}
	dir, err = filepath.Abs("kafkajs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "kafkajs", "package.json")); err != nil {
		missing(t, "kafkajs (test/compat/kafkajs/node_modules)", "run `npm ci` in test/compat/kafkajs")
	}
	return node, dir
}

// startBroker starts the real binary with --fsync always on a fresh data
// directory; it is stopped cleanly when the test ends.
func startBroker(t *testing.T) *brokerproc.Broker {
	t.Helper()
	return brokerproc.StartT(t, courierBin, t.TempDir(), brokerproc.Fsync("always"))
}

// run runs a program with stdin, bounded by cmdTimeout, and returns its
// stdout and stderr and the error of its exit. If abort is not nil it sees
// each line of stderr as it comes, and returning true kills the program:
// a client stuck retrying a broker error fails the test at once rather
// than at the timeout.
func run(t *testing.T, stdin []byte, abort func(line string) bool, name string, args ...string) (stdout, stderr []byte, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdin = bytes.NewReader(stdin)
	var o bytes.Buffer
	e := &lineWatcher{abort: abort, cancel: cancel}
	cmd.Stdout, cmd.Stderr = &o, e
	err = cmd.Run()
	switch {
	case e.aborted:
		err = errors.Join(err, errors.New("killed on a client error in its log"))
	case ctx.Err() != nil:
		err = errors.Join(err, errors.New("timed out after "+cmdTimeout.String()))
	}
	return o.Bytes(), e.buf.Bytes(), err
}

// lineWatcher collects a program's stderr (its first 16 KiB) and cancels it
// when abort approves of a line.
type lineWatcher struct {
	abort   func(string) bool
	cancel  func()
	buf     bytes.Buffer
	partial []byte
	aborted bool
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	if room := 16<<10 - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(len(p), room)])
	}
	if w.abort == nil || w.aborted {
		return len(p), nil
	}
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		if w.abort(line) {
			w.aborted = true
			w.cancel()
			break
		}
	}
	return len(p), nil
}

// rawBatches fetches the partition's record batches from offset 0 as the
// broker stores them (up to 1 MiB), without decompressing them.
func rawBatches(t *testing.T, addr, topic string, partition int32) []kmsg.RecordBatch {
	t.Helper()
	return rawBatchesAt(t, addr, topic, partition, 0)
}

// rawBatchesAt is rawBatches from offset.
func rawBatchesAt(t *testing.T, addr, topic string, partition int32, offset int64) []kmsg.RecordBatch {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl := testclient.New(t, addr)
	// Fetch v13+ names topics by id; the client picks the newest version.
	md, err := kadm.NewClient(cl).Metadata(ctx, topic)
	if err != nil {
		t.Fatalf("metadata of %s: %v", topic, err)
	}
	td, ok := md.Topics[topic]
	if !ok || td.Err != nil {
		t.Fatalf("metadata of %s: %v", topic, td.Err)
	}
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxBytes = 1 << 20
	req.MaxWaitMillis = 100
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rt.TopicID = td.ID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition = partition
	rp.FetchOffset = offset
	rp.PartitionMaxBytes = 1 << 20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("fetch %s[%d]: %v", topic, partition, err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("fetch %s[%d]: response has %d topics", topic, partition, len(resp.Topics))
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		t.Fatalf("fetch %s[%d]: error code %d", topic, partition, p.ErrorCode)
	}
	var batches []kmsg.RecordBatch
	for raw := p.RecordBatches; len(raw) >= 12; {
		length := int(int32(binary.BigEndian.Uint32(raw[8:12])))
		if length < 49 { // a v2 batch header after the length field
			t.Fatalf("fetch %s[%d]: batch length %d", topic, partition, length)
		}
		if 12+length > len(raw) {
			break // a partial batch at the end of the response
		}
		var b kmsg.RecordBatch
		if err := b.ReadFrom(raw[:12+length]); err != nil {
			t.Fatalf("fetch %s[%d]: decode batch: %v", topic, partition, err)
		}
		batches = append(batches, b)
		raw = raw[12+length:]
	}
	return batches
}

// eventually retries f every 50ms until it returns nil or timeout passes,
// and returns its last error.
func eventually(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
