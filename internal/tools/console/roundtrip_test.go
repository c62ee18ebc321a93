package console

// roundtrip_test.go produces lines and consumes them back through franz-go's
// in-memory Kafka cluster (kfake) on a random 127.0.0.1 port.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
)

// newCluster starts a one-broker kfake cluster with the given topics (3
// partitions each) and returns the client options that reach it.
func newCluster(t *testing.T, topics []string, opts ...kfake.Opt) []kgo.Opt {
	t.Helper()
	seeds, _ := newClusterAddr(t, topics, opts...)
	return seeds
}

// newClusterAddr is newCluster that also returns the broker's address.
func newClusterAddr(t *testing.T, topics []string, opts ...kfake.Opt) ([]kgo.Opt, string) {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(3, topics...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, c.ListenAddrs()[0]
}

// testCtx returns a context that ends with the test or after 60s.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// consumeAll consumes n records of topic from the beginning with format.
func consumeAll(t *testing.T, seeds []kgo.Opt, cfg ConsumeConfig) string {
	t.Helper()
	cfg.Timeout = 30 * time.Second
	var out bytes.Buffer
	got, err := Consume(testCtx(t), seeds, cfg, &out)
	if err != nil {
		t.Fatalf("consume %+v: %v (after %d records)", cfg, err, got)
	}
	if got != cfg.MaxRecords {
		t.Fatalf("consumed %d records, want %d", got, cfg.MaxRecords)
	}
	return out.String()
}

// diffLines describes the first difference between two outputs, briefly.
func diffLines(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	short := func(s string) string {
		if len(s) > 40 {
			return fmt.Sprintf("%q... (%d bytes)", s[:40], len(s))
		}
		return fmt.Sprintf("%q", s)
	}
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d: got %s, want %s", i+1, short(g[i]), short(w[i]))
		}
	}
	return fmt.Sprintf("got %d lines, want %d", len(g), len(w))
}

// tricky is input that must survive a round trip byte for byte.
func tricky() []string {
	return []string{
		"hello",
		"",
		"tab\there, percent %v, backslash \\n",
		"carriage return\r",
		"nul \x00 and high bytes \xff\xfe",
		"",
		strings.Repeat("a", 200<<10),
		strings.Repeat("1 MiB line ", (1<<20)/11) + strings.Repeat("!", (1<<20)%11),
		"last",
	}
}

func TestRoundTripByteForByte(t *testing.T) {
	seeds := newCluster(t, nil)
	// Kafka's default max.message.bytes (1 MiB + 12) cannot hold a 1 MiB
	// value plus framing; this topic allows 4 MiB.
	adm, err := kadm.NewOptClient(seeds...)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if _, err = adm.CreateTopic(testCtx(t), 3, 1, map[string]*string{"max.message.bytes": kadm.StringPtr("4194304")}, "lines"); err != nil {
		t.Fatal(err)
	}
	lines := tricky()
	if len(lines[7]) != DefaultMaxLineBytes {
		t.Fatalf("the long line is %d bytes", len(lines[7]))
	}
	input := strings.Join(lines, "\n") + "\n"

	st, err := Produce(testCtx(t), seeds, ProduceConfig{
		Topic: "lines", Key: []byte("rider-7"), Partition: -1,
		Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t-1")}, {Key: "kind", Value: []byte("a=b")}},
	}, strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != int64(len(lines)) || st.Failed != 0 || st.Bytes != int64(len(input)-len(lines)) {
		t.Errorf("stats = %+v", st)
	}

	// One key, so one partition, so input order.
	cfg := ConsumeConfig{Topic: "lines", FromBeginning: true, MaxRecords: len(lines), Partition: -1}
	if got := consumeAll(t, seeds, cfg); got != input {
		t.Error(diffLines(got, input))
	}
	cfg.Format = `%t|%k|%h|%o\n`
	want := ""
	for i := range lines {
		want += fmt.Sprintf("lines|rider-7|trace=t-1,kind=a=b|%d\n", i)
	}
	if got := consumeAll(t, seeds, cfg); got != want {
		t.Errorf("keys and headers:\n got %q\nwant %q", got, want)
	}
}

func TestRoundTripSettings(t *testing.T) {
	seeds := newCluster(t, []string{"settings"})
	var acked []string
	var unacked [][]string // per Produce call: separate connections, so no order across calls
	for _, acks := range []string{"all", "1", "0"} {
		for _, comp := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
			lines := []string{acks + "/" + comp, strings.Repeat(comp, 1000), ""}
			// acks=0 is fire and forget: a record can be lost even when the
			// producer reports success, so those go to a partition of their own.
			p := int32(1)
			if acks == "0" {
				p = 2
			}
			st, err := Produce(testCtx(t), seeds, ProduceConfig{Topic: "settings", Partition: p, Acks: acks, Compression: comp},
				strings.NewReader(strings.Join(lines, "\n")+"\n"))
			if err != nil || st.Records != int64(len(lines)) {
				t.Fatalf("acks %s, compression %s: %v, %+v", acks, comp, err, st)
			}
			if acks == "0" {
				unacked = append(unacked, lines)
			} else {
				acked = append(acked, lines...)
			}
		}
	}
	want := strings.Join(acked, "\n") + "\n"
	got := consumeAll(t, seeds, ConsumeConfig{Topic: "settings", Partition: 1, Offset: "earliest", MaxRecords: len(acked)})
	if got != want {
		t.Error(diffLines(got, want))
	}

	// What arrived of the acks=0 records arrived intact, and in order
	// within each producer's run.
	total := 0
	for _, lines := range unacked {
		total += len(lines)
	}
	var out bytes.Buffer
	_, err := Consume(testCtx(t), seeds, ConsumeConfig{Topic: "settings", Partition: 2, FromBeginning: true,
		MaxRecords: total, Timeout: 2 * time.Second}, &out)
	if err != nil && !errors.Is(err, ErrTimeout) {
		t.Fatal(err)
	}
	got = strings.TrimSuffix(out.String(), "\n")
	for _, l := range strings.Split(got, "\n") {
		if l == "" {
			continue // every run sends an empty line
		}
		found := false
		for i, lines := range unacked {
			for j, want := range lines {
				if want == l {
					// Drop it and everything before it in its run.
					unacked[i], found = lines[j+1:], true
					break
				}
			}
			if found {
				break
			}
		}
		if !found {
			t.Fatalf("acks=0 record %.40q out of order or corrupt", l)
		}
	}

	// --partition with --offset starts mid-partition.
	got = consumeAll(t, seeds, ConsumeConfig{Topic: "settings", Partition: 1, Offset: "3", MaxRecords: 2, Format: `%p:%o:%v\n`})
	if want := fmt.Sprintf("1:3:%s\n1:4:%s\n", acked[3], acked[4]); got != want {
		t.Errorf("from offset 3: got %q, want %q", got, want)
	}
}

func TestProduceDefaultPartitioner(t *testing.T) {
	seeds := newCluster(t, []string{"spread"})
	// Distinct keys hash to different partitions; a key always to the same one.
	var in strings.Builder
	for i := range 30 {
		fmt.Fprintf(&in, "v%d\n", i)
	}
	for i := range 10 {
		if _, err := Produce(testCtx(t), seeds, ProduceConfig{Topic: "spread", Key: fmt.Appendf(nil, "key-%d", i), Partition: -1},
			strings.NewReader(in.String())); err != nil {
			t.Fatal(err)
		}
	}
	got := consumeAll(t, seeds, ConsumeConfig{Topic: "spread", FromBeginning: true, Partition: -1, MaxRecords: 300, Format: `%k %p\n`})
	partOf := map[string]string{}
	parts := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		k, p, _ := strings.Cut(l, " ")
		if prev, ok := partOf[k]; ok && prev != p {
			t.Errorf("key %s in partitions %s and %s", k, prev, p)
		}
		partOf[k] = p
		parts[p] = true
	}
	if len(partOf) != 10 || len(parts) < 2 {
		t.Errorf("%d keys over %d partitions", len(partOf), len(parts))
	}
}

func TestProduceErrors(t *testing.T) {
	seeds := newCluster(t, []string{"small"})

	st, err := Produce(testCtx(t), seeds, ProduceConfig{Topic: "nope", Partition: -1}, strings.NewReader("a\nb\n"))
	if err == nil || !strings.Contains(err.Error(), "unknown topic nope") || st.Failed != 2 {
		t.Errorf("unknown topic: %v, %+v", err, st)
	}

	st, err = Produce(testCtx(t), seeds, ProduceConfig{Topic: "small", Partition: 7}, strings.NewReader("a\n"))
	if err == nil || st.Failed != 1 {
		t.Errorf("partition 7 of 3: %v, %+v", err, st)
	}

	st, err = Produce(testCtx(t), seeds, ProduceConfig{Topic: "small", Partition: 0, MaxLineBytes: 4}, strings.NewReader("ok\nfine\ntoo long\nnever\n"))
	if !errors.Is(err, ErrLineTooLong) || !strings.Contains(err.Error(), "line 3") || st.Records != 2 {
		t.Errorf("long line: %v, %+v", err, st)
	}
	if got := consumeAll(t, seeds, ConsumeConfig{Topic: "small", Partition: 0, Offset: "earliest", MaxRecords: 2}); got != "ok\nfine\n" {
		t.Errorf("records before the long line: %q", got)
	}

	// A record over the topic's max.message.bytes (Kafka's default here)
	// fails alone; the records around it are delivered.
	big := strings.Repeat("x", 1<<20)
	st, err = Produce(testCtx(t), seeds, ProduceConfig{Topic: "small", Partition: 1}, strings.NewReader("before\n"+big+"\nafter\n"))
	if err == nil || !strings.Contains(err.Error(), "1 of 3 records failed: record larger than the topic's max.message.bytes") || st.Records != 2 {
		t.Errorf("1 MiB record: %v, %+v", err, st)
	}
	if got := consumeAll(t, seeds, ConsumeConfig{Topic: "small", Partition: 1, Offset: "earliest", MaxRecords: 2}); got != "before\nafter\n" {
		t.Errorf("records around the big one: %q", got)
	}

	for _, cfg := range []ProduceConfig{
		{Topic: "small", Acks: "2"},
		{Topic: "small", Compression: "brotli"},
		{Topic: ""},
	} {
		if _, err := Produce(testCtx(t), seeds, cfg, strings.NewReader("x\n")); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}

	// Ctrl-C ends a produce even while it waits for input (a terminal);
	// what was read and delivered before is no failure.
	ctx, cancel := context.WithCancel(testCtx(t))
	in, w := io.Pipe()
	defer w.Close()
	go func() {
		fmt.Fprintln(w, "typed")
		time.AfterFunc(200*time.Millisecond, cancel)
	}()
	start := time.Now()
	st, err = Produce(ctx, seeds, ProduceConfig{Topic: "small", Partition: 2}, in)
	if err != nil || st.Records != 1 {
		t.Errorf("interrupted produce: %v, %+v", err, st)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("interrupt took %s", el)
	}
}

func TestConsumeErrors(t *testing.T) {
	seeds := newCluster(t, []string{"t"})
	for _, tc := range []struct {
		cfg  ConsumeConfig
		want string
	}{
		{ConsumeConfig{Topic: "nope", Partition: -1}, "unknown topic nope"},
		{ConsumeConfig{Topic: "t", Partition: 9}, "partition 9 does not exist: topic t has 3 partitions"},
		{ConsumeConfig{Topic: "t", Partition: -1, Offset: "5"}, "needs --partition"},
		{ConsumeConfig{Topic: "t", Partition: -1, Format: "%z"}, "unknown verb"},
		{ConsumeConfig{Topic: "t", Partition: 0, Group: "g"}, "drop --partition or --group"},
		{ConsumeConfig{Topic: "t", Partition: -1, MaxRecords: -1}, "negative"},
	} {
		_, err := Consume(testCtx(t), seeds, tc.cfg, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestConsumeStops(t *testing.T) {
	seeds := newCluster(t, []string{"t"})
	if _, err := Produce(testCtx(t), seeds, ProduceConfig{Topic: "t", Partition: 0}, strings.NewReader("a\nb\n")); err != nil {
		t.Fatal(err)
	}

	// -n 5 of 2 records with a timeout: an error that says so.
	var out bytes.Buffer
	start := time.Now()
	n, err := Consume(testCtx(t), seeds, ConsumeConfig{Topic: "t", Partition: -1, FromBeginning: true, MaxRecords: 5, Timeout: time.Second}, &out)
	if !errors.Is(err, ErrTimeout) || n != 2 || out.String() != "a\nb\n" || !strings.Contains(err.Error(), "got 2 of 5 records") {
		t.Errorf("timeout with -n: n=%d, %v, %q", n, err, out.String())
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("timeout of 1s took %s", el)
	}

	// A timeout without -n is a clean stop.
	out.Reset()
	n, err = Consume(testCtx(t), seeds, ConsumeConfig{Topic: "t", Partition: -1, FromBeginning: true, Timeout: 500 * time.Millisecond}, &out)
	if err != nil || n != 2 {
		t.Errorf("timeout without -n: n=%d, %v", n, err)
	}

	// So is cancellation (Ctrl-C).
	ctx, cancel := context.WithCancel(testCtx(t))
	time.AfterFunc(300*time.Millisecond, cancel)
	n, err = Consume(ctx, seeds, ConsumeConfig{Topic: "t", Partition: -1, FromBeginning: true}, &bytes.Buffer{})
	if err != nil || n != 2 {
		t.Errorf("cancel: n=%d, %v", n, err)
	}
}

// TestConsumeStartsAtEnd checks that without --from-beginning only records
// produced after the consumer started are printed.
func TestConsumeStartsAtEnd(t *testing.T) {
	seeds := newCluster(t, []string{"t"})
	if _, err := Produce(testCtx(t), seeds, ProduceConfig{Topic: "t", Partition: -1}, strings.NewReader("old-1\nold-2\nold-3\n")); err != nil {
		t.Fatal(err)
	}
	var (
		out  bytes.Buffer
		err  error
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		_, err = Consume(testCtx(t), seeds, ConsumeConfig{Topic: "t", Partition: -1, MaxRecords: 1, Timeout: 30 * time.Second}, &out)
	}()
	// The consumer's start is not observable; keep producing until it has one.
	for i := 0; ; i++ {
		select {
		case <-done:
			if err != nil || !strings.HasPrefix(out.String(), "new-") {
				t.Errorf("got %q, %v; want one new record", out.String(), err)
			}
			return
		case <-time.After(100 * time.Millisecond):
			if _, err := Produce(testCtx(t), seeds, ProduceConfig{Topic: "t", Partition: -1}, strings.NewReader(fmt.Sprintf("new-%d\n", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestConsumeGroupCommits(t *testing.T) {
	seeds := newCluster(t, []string{"t"})
	if _, err := Produce(testCtx(t), seeds, ProduceConfig{Topic: "t", Partition: 0}, strings.NewReader("1\n2\n3\n4\n")); err != nil {
		t.Fatal(err)
	}
	cfg := ConsumeConfig{Topic: "t", Partition: -1, Group: "g", FromBeginning: true, MaxRecords: 2}
	start := time.Now()
	if got := consumeAll(t, seeds, cfg); got != "1\n2\n" {
		t.Errorf("first run: %q", got)
	}
	// The group resumes after what was printed, not after what was fetched.
	t.Logf("first run %s", time.Since(start))
	if got := consumeAll(t, seeds, cfg); got != "3\n4\n" {
		t.Errorf("second run: %q", got)
	}
	t.Logf("both runs %s", time.Since(start))
}

// TestConsumeGroupUnsupported checks that --group against a broker without
// group APIs fails with the client's error instead of hanging.
func TestConsumeGroupUnsupported(t *testing.T) {
	vs := kversion.Stable()
	for _, k := range []int16{10, 11, 12, 13, 14, 68} { // FindCoordinator, JoinGroup, Heartbeat, LeaveGroup, SyncGroup, ConsumerGroupHeartbeat
		vs.SetMaxKeyVersion(k, -1)
	}
	seeds := newCluster(t, []string{"t"}, kfake.MaxVersions(vs))
	var (
		wg  sync.WaitGroup
		err error
	)
	wg.Go(func() {
		_, err = Consume(testCtx(t), seeds, ConsumeConfig{Topic: "t", Partition: -1, Group: "g", Timeout: 20 * time.Second}, &bytes.Buffer{})
	})
	wg.Wait()
	if err == nil || errors.Is(err, ErrTimeout) {
		t.Errorf("group on a broker without groups: %v", err)
	}
	t.Logf("error: %v", err)
}
