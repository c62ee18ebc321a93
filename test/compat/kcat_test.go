package compat

// kcat_test.go drives the broker with kcat (librdkafka): metadata listing,
// produce with keys, headers, explicit partitions, every acks level, every
// codec and idempotence, and consume from the beginning, an offset, the end
// and a timestamp. Outputs are compared byte for byte.

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kgo"
)

// detailFormat prints everything kcat knows of a record; %K and %S are the
// key and value lengths, -1 for null, so null and empty differ.
const detailFormat = "%K:%k|%S:%s|%p|%o|%h\n"

// kcat runs the kcat binary against one broker. Its methods take the
// (sub)test to fail.
type kcat struct {
	bin  string
	addr string
}

// kcatBroker requires kcat (failing or skipping the test first), then
// starts a broker for it.
func kcatBroker(t *testing.T) (kcat, *brokerproc.Broker) {
	bin := requireKcat(t)
	b := startBroker(t)
	return kcat{bin: bin, addr: b.Addr()}, b
}

// produce runs `kcat -P -t topic args...` with input on stdin and fails the
// test unless every message was delivered.
func (k kcat) produce(t *testing.T, topic, input string, args ...string) {
	t.Helper()
	argv := append([]string{"-b", k.addr, "-P", "-t", topic}, args...)
	_, stderr, err := run(t, []byte(input), kcatError, k.bin, argv...)
	if err != nil || strings.Contains(string(stderr), "ERROR") || strings.Contains(string(stderr), "failed") {
		t.Fatalf("kcat %s: %v\n%s", strings.Join(argv, " "), err, stderr)
	}
}

// kcatError reports whether a line of kcat's stderr is an error that
// librdkafka would retry forever: a protocol error (a broker answer it
// cannot parse) or a consumer error.
func kcatError(line string) bool {
	return strings.Contains(line, "|PROTOERR|") || strings.HasPrefix(line, "% ERROR")
}

// consume runs `kcat -C -e -t topic args...` and returns its stdout (its
// stderr, which says where each partition ended, goes into errors only).
func (k kcat) consume(t *testing.T, topic string, args ...string) string {
	t.Helper()
	out, err := k.tryConsume(t, topic, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tryConsume is consume returning its error.
func (k kcat) tryConsume(t *testing.T, topic string, args ...string) (string, error) {
	// A short fetch wait makes kcat see the end of a partition sooner
	// (-e exits once every partition answered a fetch at its end).
	argv := append([]string{"-b", k.addr, "-C", "-e", "-X", "fetch.wait.max.ms=100", "-t", topic}, args...)
	stdout, stderr, err := run(t, nil, kcatError, k.bin, argv...)
	if err != nil || strings.Contains(string(stderr), "ERROR") {
		return "", fmt.Errorf("kcat %s: %v\n%s", strings.Join(argv, " "), err, stderr)
	}
	return string(stdout), nil
}

// query runs kcat with args (e.g. -L, -Q) and returns its stdout.
func (k kcat) query(t *testing.T, args ...string) string {
	t.Helper()
	argv := append([]string{"-b", k.addr}, args...)
	stdout, stderr, err := run(t, nil, kcatError, k.bin, argv...)
	if err != nil {
		t.Fatalf("kcat %s: %v\n%s", strings.Join(argv, " "), err, stderr)
	}
	return string(stdout)
}

// rec is a record as kcat prints it with detailFormat.
type rec struct {
	key, value *string // nil is null
	partition  int32
	offset     int64
	headers    string // kcat's %h: name=value,...
}

func str(s string) *string { return &s }

// line renders r as kcat prints it with detailFormat.
func (r rec) line() string {
	field := func(s *string) string {
		if s == nil {
			return "-1:"
		}
		return strconv.Itoa(len(*s)) + ":" + *s
	}
	return fmt.Sprintf("%s|%s|%d|%d|%s\n", field(r.key), field(r.value), r.partition, r.offset, r.headers)
}

// lines renders records in order.
func lines(rs []rec) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.line())
	}
	return b.String()
}

// keyedInput renders records as kcat -K: input: "key:value" lines, a bare
// value for a null key, "key:" for an empty (or, with -Z, null) value.
func keyedInput(rs []rec) string {
	var b strings.Builder
	for _, r := range rs {
		if r.key != nil {
			b.WriteString(*r.key + ":")
		}
		if r.value != nil {
			b.WriteString(*r.value)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// assign sets partition, first offset onward and headers on records.
func assign(rs []rec, partition int32, first int64, headers string) []rec {
	out := slices.Clone(rs)
	for i := range out {
		out[i].partition, out[i].offset, out[i].headers = partition, first+int64(i), headers
	}
	return out
}

// diff fails the test if got != want, showing both quoted.
func diff(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func TestKcatMetadata(t *testing.T) {
	k, b := kcatBroker(t)
	testclient.CreateTopic(t, b.Addr(), "kcat-meta-a", 3, nil)
	testclient.CreateTopic(t, b.Addr(), "kcat-meta-b", 1, nil)
	_, port, _ := strings.Cut(b.Addr(), ":")

	out := k.query(t, "-L")
	for _, want := range []string{
		"Metadata for all topics (from broker 1: 127.0.0.1:" + port + "/1):\n",
		" 1 brokers:\n  broker 1 at 127.0.0.1:" + port + " (controller)\n",
		" 2 topics:\n",
		"  topic \"kcat-meta-a\" with 3 partitions:\n" +
			"    partition 0, leader 1, replicas: 1, isrs: 1\n" +
			"    partition 1, leader 1, replicas: 1, isrs: 1\n" +
			"    partition 2, leader 1, replicas: 1, isrs: 1\n",
		"  topic \"kcat-meta-b\" with 1 partitions:\n" +
			"    partition 0, leader 1, replicas: 1, isrs: 1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("kcat -L output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "error") || strings.Contains(out, "Error") {
		t.Errorf("kcat -L reports an error:\n%s", out)
	}

	one := k.query(t, "-L", "-t", "kcat-meta-b")
	if !strings.Contains(one, " 1 topics:\n  topic \"kcat-meta-b\" with 1 partitions:\n") || strings.Contains(one, "kcat-meta-a") {
		t.Errorf("kcat -L -t kcat-meta-b:\n%s", one)
	}

	type member struct {
		ID int32 `json:"id"`
	}
	type partition struct {
		Partition int32    `json:"partition"`
		Leader    int32    `json:"leader"`
		Replicas  []member `json:"replicas"`
		ISRs      []member `json:"isrs"`
		Error     string   `json:"error,omitempty"`
	}
	type topic struct {
		Topic      string      `json:"topic"`
		Partitions []partition `json:"partitions"`
		Error      string      `json:"error,omitempty"`
	}
	var md struct {
		ControllerID int32 `json:"controllerid"`
		Brokers      []struct {
			ID   int32  `json:"id"`
			Name string `json:"name"`
		} `json:"brokers"`
		Topics []topic `json:"topics"`
	}
	js := k.query(t, "-L", "-J")
	if err := json.Unmarshal([]byte(js), &md); err != nil {
		t.Fatalf("kcat -L -J: %v\n%s", err, js)
	}
	if md.ControllerID != 1 || len(md.Brokers) != 1 || md.Brokers[0].ID != 1 || md.Brokers[0].Name != b.Addr() {
		t.Errorf("kcat -L -J brokers: controller %d, %+v; want controller 1, [{1 %s}]", md.ControllerID, md.Brokers, b.Addr())
	}
	slices.SortFunc(md.Topics, func(a, b topic) int { return strings.Compare(a.Topic, b.Topic) })
	one1 := []member{{1}}
	want := []topic{
		{Topic: "kcat-meta-a", Partitions: []partition{{0, 1, one1, one1, ""}, {1, 1, one1, one1, ""}, {2, 1, one1, one1, ""}}},
		{Topic: "kcat-meta-b", Partitions: []partition{{0, 1, one1, one1, ""}}},
	}
	for i := range md.Topics {
		slices.SortFunc(md.Topics[i].Partitions, func(a, b partition) int { return int(a.Partition - b.Partition) })
	}
	if !reflect.DeepEqual(md.Topics, want) {
		t.Errorf("kcat -L -J topics:\n got %+v\nwant %+v\n%s", md.Topics, want, js)
	}
}

// keyedRecords are values kcat must carry unchanged: spaces, colons after
// the key delimiter, unicode, invalid UTF-8, tabs and carriage returns,
// empty keys and values, null keys.
var keyedRecords = []rec{
	{key: str("k1"), value: str("hello world")},
	{key: str("k2"), value: str("  leading and trailing spaces  ")},
	{key: str("ключ"), value: str("unicode: héllo wörld ✓ 日本語 🚀 e\u0301")},
	{key: str("k3"), value: str("")},
	{key: str(""), value: str("an empty key")},
	{key: nil, value: str("no key at all")},
	{key: str("k4"), value: str("value:with:colons")},
	{key: str("k5"), value: str("tab\there, carriage\rreturn")},
	{key: str("bin"), value: str("raw \xff\xfe bytes \x01\x7f")},
	{key: str("json"), value: str(`{"a": [1, 2, "three"], "b": null}`)},
}

func TestKcatProduceConsume(t *testing.T) {
	k, b := kcatBroker(t)
	const topic = "kcat-basic"
	testclient.CreateTopic(t, b.Addr(), topic, 3, nil)

	// Partition 0: the keyed records with headers.
	k.produce(t, topic, keyedInput(keyedRecords), "-p", "0", "-K:", "-H", "trace=abc 123", "-H", "empty=", "-H", "utf=✓ ü")
	p0 := assign(keyedRecords, 0, 0, "trace=abc 123,empty=,utf=✓ ü")
	// Partition 1: the same records in reverse, no headers.
	rev := slices.Clone(keyedRecords)
	slices.Reverse(rev)
	k.produce(t, topic, keyedInput(rev), "-p", "1", "-K:")
	p1 := assign(rev, 1, 0, "")
	// Partition 2: values without keys, one of 100 KiB.
	long := strings.Repeat("0123456789abcdef", 6400)
	p2 := assign([]rec{{value: str("first")}, {value: str(long)}, {value: str("after the long one")}}, 2, 0, "")
	k.produce(t, topic, "first\n"+long+"\nafter the long one\n", "-p", "2")

	// Null values (-Z turns an empty value into null) appended to partition 0.
	nulls := []rec{{key: str("tombstone"), value: nil}, {key: str("k6"), value: str("after the tombstone")}}
	k.produce(t, topic, keyedInput(nulls), "-p", "0", "-K:", "-Z")
	p0 = append(p0, assign(nulls, 0, int64(len(p0)), "")...)

	// The whole topic with the plain format; partitions interleave, so
	// compare sorted lines.
	plain := func(r rec) string {
		k, v := "", ""
		if r.key != nil {
			k = *r.key
		}
		if r.value != nil {
			v = *r.value
		}
		return fmt.Sprintf("%s|%s|%d|%d\n", k, v, r.partition, r.offset)
	}
	var wantAll []string
	for _, rs := range [][]rec{p0, p1, p2} {
		for _, r := range rs {
			wantAll = append(wantAll, plain(r))
		}
	}
	gotAll := strings.SplitAfter(k.consume(t, topic, "-o", "beginning", "-f", "%k|%s|%p|%o\n"), "\n")
	if gotAll[len(gotAll)-1] == "" {
		gotAll = gotAll[:len(gotAll)-1]
	}
	slices.Sort(gotAll)
	slices.Sort(wantAll)
	diff(t, "whole topic, sorted lines", strings.Join(gotAll, ""), strings.Join(wantAll, ""))

	// Values with newlines, using a record delimiter other than newline.
	multi := []rec{{key: str("ml"), value: str("line one\nline two\n")}, {key: str("ml2"), value: str("\n")}}
	k.produce(t, topic, "ml:line one\nline two\n\x1eml2:\n\x1e", "-p", "1", "-K:", "-D", `\x1e`)
	p1 = append(p1, assign(multi, 1, int64(len(p1)), "")...)

	for p, want := range [][]rec{p0, p1, p2} {
		got := k.consume(t, topic, "-p", strconv.Itoa(p), "-o", "beginning", "-f", detailFormat)
		diff(t, fmt.Sprintf("partition %d from the beginning", p), got, lines(want))
	}
}

func TestKcatAcks(t *testing.T) {
	k, b := kcatBroker(t)
	for _, acks := range []string{"all", "1", "0"} {
		t.Run("acks="+acks, func(t *testing.T) {
			topic := "kcat-acks-" + acks
			testclient.CreateTopic(t, b.Addr(), topic, 2, nil)
			var rs []rec
			for i := range 25 {
				rs = append(rs, rec{key: str(fmt.Sprintf("key-%02d", i)), value: str(fmt.Sprintf("acks=%s value %02d", acks, i))})
			}
			k.produce(t, topic, keyedInput(rs), "-p", "1", "-K:", "-X", "acks="+acks)
			want := lines(assign(rs, 1, 0, ""))
			if acks != "0" {
				diff(t, "consumed", k.consume(t, topic, "-p", "1", "-o", "beginning", "-f", detailFormat), want)
				return
			}
			// acks=0: kcat has nothing to wait for, so the broker may still
			// be appending when it exits.
			var got string
			err := eventually(10*time.Second, func() error {
				var err error
				if got, err = k.tryConsume(t, topic, "-p", "1", "-o", "beginning", "-f", detailFormat); err != nil {
					t.Fatal(err) // a client error, not a slow append
				}
				if got != want {
					return fmt.Errorf("not all records yet")
				}
				return nil
			})
			if err != nil {
				diff(t, "consumed after acks=0", got, want)
			}
		})
	}
}

func TestKcatCompression(t *testing.T) {
	k, b := kcatBroker(t)
	// Codec ids in a batch's attributes (low three bits).
	// librdkafka silently sends a batch uncompressed when it believes the
	// broker lacks the codec; hint says what its check looks at.
	const produceV0 = "librdkafka compresses with it only if ApiVersions advertises Produce v0 (see KAFKA-18659)"
	codecs := []struct {
		name string
		id   int16
		hint string
	}{
		{"gzip", 1, produceV0},
		{"snappy", 2, produceV0},
		{"lz4", 3, produceV0 + " and FindCoordinator v0 (its LZ4 feature check)"},
		{"zstd", 4, "librdkafka compresses with it only if ApiVersions advertises Produce v7 and Fetch v10"},
	}
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			topic := "kcat-z-" + c.name
			testclient.CreateTopic(t, b.Addr(), topic, 1, nil)
			var rs []rec
			for i := range 200 {
				rs = append(rs, rec{key: str(fmt.Sprintf("k%03d", i)), value: str(fmt.Sprintf("%s record %03d %s", c.name, i, strings.Repeat("compressible ", 10)))})
			}
			// A long linger puts the records in few, compressed batches.
			k.produce(t, topic, keyedInput(rs), "-p", "0", "-K:", "-z", c.name, "-X", "linger.ms=200")
			diff(t, "consumed", k.consume(t, topic, "-p", "0", "-o", "beginning", "-f", detailFormat), lines(assign(rs, 0, 0, "")))

			batches := rawBatches(t, b.Addr(), topic, 0)
			if len(batches) == 0 {
				t.Fatal("no batch fetched")
			}
			var n int32
			for _, bt := range batches {
				if got := bt.Attributes & 7; got != c.id {
					t.Errorf("batch at offset %d stored with codec %d, want %d (%s, as produced); %s", bt.FirstOffset, got, c.id, c.name, c.hint)
				}
				n += bt.NumRecords
			}
			if n != int32(len(rs)) {
				t.Errorf("raw batches hold %d records, want %d", n, len(rs))
			}
		})
	}
}

func TestKcatIdempotent(t *testing.T) {
	k, b := kcatBroker(t)
	const topic = "kcat-idempotent"
	testclient.CreateTopic(t, b.Addr(), topic, 2, nil)
	var rs []rec
	for i := range 100 {
		rs = append(rs, rec{key: str(strconv.Itoa(i)), value: str(fmt.Sprintf("idempotent %03d", i))})
	}
	for p := range 2 {
		k.produce(t, topic, keyedInput(rs), "-p", strconv.Itoa(p), "-K:", "-X", "enable.idempotence=true")
		diff(t, fmt.Sprintf("partition %d", p), k.consume(t, topic, "-p", strconv.Itoa(p), "-o", "beginning", "-f", detailFormat), lines(assign(rs, int32(p), 0, "")))
		batches := rawBatches(t, b.Addr(), topic, int32(p))
		if len(batches) == 0 {
			t.Fatalf("partition %d: no batch fetched", p)
		}
		if first := batches[0]; first.ProducerID < 0 || first.FirstSequence != 0 {
			t.Errorf("partition %d: first batch has producer id %d, sequence %d; want an id >= 0 and sequence 0", p, first.ProducerID, first.FirstSequence)
		}
	}
}

func TestKcatConsumeOffsets(t *testing.T) {
	k, b := kcatBroker(t)
	const topic = "kcat-offsets"
	testclient.CreateTopic(t, b.Addr(), topic, 1, nil)
	var rs []rec
	for i := range 10 {
		rs = append(rs, rec{value: str(fmt.Sprintf("m%d", i))})
	}
	k.produce(t, topic, keyedInput(rs), "-p", "0")
	all := assign(rs, 0, 0, "")
	for _, c := range []struct {
		name string
		args []string
		want []rec
	}{
		{"beginning", []string{"-o", "beginning"}, all},
		{"offset 5", []string{"-o", "5"}, all[5:]},
		{"offset 9", []string{"-o", "9"}, all[9:]},
		{"3 from the end", []string{"-o", "-3"}, all[7:]},
		{"offset 5, count 2", []string{"-o", "5", "-c", "2"}, all[5:7]},
		{"end", []string{"-o", "end"}, nil},
	} {
		got := k.consume(t, topic, append([]string{"-p", "0", "-f", detailFormat}, c.args...)...)
		diff(t, c.name, got, lines(c.want))
	}
}

func TestKcatConsumeFromTimestamp(t *testing.T) {
	k, b := kcatBroker(t)

	t.Run("kcat timestamps", func(t *testing.T) {
		const topic = "kcat-ts-live"
		testclient.CreateTopic(t, b.Addr(), topic, 1, nil)
		before := []rec{{value: str("before 0")}, {value: str("before 1")}, {value: str("before 2")}}
		after := []rec{{value: str("after 0")}, {value: str("after 1")}}
		k.produce(t, topic, keyedInput(before), "-p", "0")
		time.Sleep(20 * time.Millisecond)
		ts := time.Now().UnixMilli()
		time.Sleep(20 * time.Millisecond)
		k.produce(t, topic, keyedInput(after), "-p", "0")

		got := k.consume(t, topic, "-p", "0", "-o", "s@"+strconv.FormatInt(ts, 10), "-f", detailFormat)
		diff(t, "from the timestamp between the two produces", got, lines(assign(after, 0, int64(len(before)), "")))
		diff(t, "kcat -Q", k.query(t, "-Q", "-t", fmt.Sprintf("%s:0:%d", topic, ts)), fmt.Sprintf("%s [0] offset %d\n", topic, len(before)))
	})

	t.Run("one batch, explicit timestamps", func(t *testing.T) {
		// Ten records in a single batch, a second apart: the answer must
		// be the exact record, not the start of its batch.
		const topic = "kcat-ts-batch"
		testclient.CreateTopic(t, b.Addr(), topic, 1, nil)
		base := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).UnixMilli()
		cl := testclient.New(t, b.Addr(), kgo.ManualFlushing(), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		errs := make(chan error, 10)
		for i := range 10 {
			r := &kgo.Record{Partition: 0, Value: []byte(fmt.Sprintf("t%d", i)), Timestamp: time.UnixMilli(base + int64(i)*1000)}
			cl.Produce(ctx, r, func(_ *kgo.Record, err error) { errs <- err })
		}
		if err := cl.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		for range 10 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if n := len(rawBatches(t, b.Addr(), topic, 0)); n != 1 {
			t.Fatalf("the records are in %d batches, want 1", n)
		}
		want := func(from int) string {
			var s strings.Builder
			for i := from; i < 10; i++ {
				fmt.Fprintf(&s, "%d|%d|t%d\n", i, base+int64(i)*1000, i)
			}
			return s.String()
		}
		for _, c := range []struct {
			ts   int64
			from int // first offset expected; 10 means none
		}{
			{base - 1, 0}, {base, 0}, {base + 3000, 3}, {base + 3500, 4}, {base + 9000, 9}, {base + 9001, 10},
		} {
			got := k.consume(t, topic, "-p", "0", "-o", "s@"+strconv.FormatInt(c.ts, 10), "-f", "%o|%T|%s\n")
			diff(t, fmt.Sprintf("consume from s@base+%d", c.ts-base), got, want(c.from))
			wantOffset := int64(c.from)
			if c.from == 10 {
				wantOffset = -1 // Kafka: no record at or after the timestamp
			}
			diff(t, fmt.Sprintf("kcat -Q at base+%d", c.ts-base), k.query(t, "-Q", "-t", fmt.Sprintf("%s:0:%d", topic, c.ts)), fmt.Sprintf("%s [0] offset %d\n", topic, wantOffset))
		}
	})
}
