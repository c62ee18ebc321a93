package rdkafka848

// member_test.go is a librdkafka group member with group.protocol=consumer,
// in this process or in a child process (so that it can be SIGKILLed): what
// it was assigned, what it consumed, and which group protocol requests its
// debug log shows.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// memberEnv, set to "ADDR GROUP TOPIC NAME", makes the test binary run one
// member (memberMain) instead of the tests.
const memberEnv = "RDKAFKA848_MEMBER"

// consumed is a record a member received.
type consumed struct {
	partition int32
	offset    int64
	value     string
}

// member is what the test knows of a group member.
type member struct {
	name string

	mu        sync.Mutex
	assigned  []int32    // current assignment of the topic, sorted
	records   []consumed // in the order received
	heartbeat string     // the first debug line naming ConsumerGroupHeartbeat
	joinGroup string     // the first debug line naming JoinGroup, if any
	errs      []string   // errors librdkafka reported

	close func() // leaves the group (in-process) or kills the process
}

// snapshot returns the member's assignment and records so far.
func (m *member) snapshot() ([]int32, []consumed) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.assigned), slices.Clone(m.records)
}

// consumerConfig is every member's configuration: the KIP-848 protocol,
// from the earliest offset, committing often, with the group protocol's
// debug log.
func consumerConfig(addr, group, name string) *kafka.ConfigMap {
	return &kafka.ConfigMap{
		"bootstrap.servers":       addr,
		"group.id":                group,
		"group.protocol":          "consumer",
		"client.id":               name,
		"auto.offset.reset":       "earliest",
		"enable.auto.commit":      true,
		"auto.commit.interval.ms": 200,
		"debug":                   "cgrp",
		"go.logs.channel.enable":  true,
	}
}

// run consumes into m until stop is closed, then closes the consumer
// (which leaves the group). report, if set, is told of every change.
func (m *member) run(c *kafka.Consumer, stop <-chan struct{}, report func(string)) {
	logsDone := make(chan struct{})
	go func() {
		defer close(logsDone)
		for l := range c.Logs() {
			m.noteLog(l.Message, report)
		}
	}()
	for {
		select {
		case <-stop:
			c.Close() // closes the logs channel too
			<-logsDone
			return
		default:
		}
		switch e := c.Poll(100).(type) {
		case *kafka.Message:
			r := consumed{partition: e.TopicPartition.Partition, offset: int64(e.TopicPartition.Offset), value: string(e.Value)}
			m.mu.Lock()
			m.records = append(m.records, r)
			m.mu.Unlock()
			if report != nil {
				report(fmt.Sprintf("record %d %d %s", r.partition, r.offset, r.value))
			}
		case kafka.Error:
			m.mu.Lock()
			m.errs = append(m.errs, e.Error())
			m.mu.Unlock()
			if report != nil {
				report("error " + e.Error())
			}
		}
		if tps, err := c.Assignment(); err == nil {
			var ps []int32
			for _, tp := range tps {
				ps = append(ps, tp.Partition)
			}
			slices.Sort(ps)
			m.mu.Lock()
			changed := !slices.Equal(ps, m.assigned)
			m.assigned = ps
			m.mu.Unlock()
			if changed && report != nil {
				report("assigned " + joinInts(ps))
			}
		}
	}
}

// noteLog keeps the first debug lines that name the group protocols'
// requests.
func (m *member) noteLog(line string, report func(string)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.heartbeat == "" && strings.Contains(line, "ConsumerGroupHeartbeat") {
		m.heartbeat = line
		if report != nil {
			report("heartbeat " + line)
		}
	}
	if m.joinGroup == "" && strings.Contains(line, "JoinGroup") {
		m.joinGroup = line
		if report != nil {
			report("joingroup " + line)
		}
	}
}

// startMember runs a member in this process until the test ends or
// m.close is called.
func startMember(t *testing.T, addr, group, topic, name string) *member {
	t.Helper()
	c, err := kafka.NewConsumer(consumerConfig(addr, group, name))
	if err != nil {
		t.Fatalf("member %s: %v", name, err)
	}
	if err := c.Subscribe(topic, nil); err != nil {
		t.Fatalf("member %s: subscribe: %v", name, err)
	}
	m := &member{name: name}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		m.run(c, stop, nil)
	}()
	var once sync.Once
	m.close = func() { once.Do(func() { close(stop); <-done }) }
	t.Cleanup(m.close)
	return m
}

// startMemberProcess runs a member in a child process (this test binary,
// memberMain) and follows what it reports on its standard output; m.close
// SIGKILLs it: the member dies without leaving the group.
func startMemberProcess(t *testing.T, addr, group, topic, name string) *member {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %s %s", memberEnv, addr, group, topic, name))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("member %s: %v", name, err)
	}
	m := &member{name: name}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			m.parse(sc.Text())
		}
	}()
	var once sync.Once
	m.close = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			<-read
			_ = cmd.Wait()
		})
	}
	t.Cleanup(m.close)
	return m
}

// parse takes one line a child member reported.
func (m *member) parse(line string) {
	kind, rest, _ := strings.Cut(line, " ")
	m.mu.Lock()
	defer m.mu.Unlock()
	switch kind {
	case "assigned":
		m.assigned = nil
		for _, f := range strings.Split(rest, ",") {
			if p, err := strconv.Atoi(f); err == nil {
				m.assigned = append(m.assigned, int32(p))
			}
		}
	case "record":
		f := strings.SplitN(rest, " ", 3)
		if len(f) == 3 {
			p, _ := strconv.Atoi(f[0])
			o, _ := strconv.ParseInt(f[1], 10, 64)
			m.records = append(m.records, consumed{partition: int32(p), offset: o, value: f[2]})
		}
	case "heartbeat":
		if m.heartbeat == "" {
			m.heartbeat = rest
		}
	case "joingroup":
		if m.joinGroup == "" {
			m.joinGroup = rest
		}
	case "error":
		m.errs = append(m.errs, rest)
	}
}

// memberMain is a child member's main: it consumes and reports on its
// standard output until it is killed.
func memberMain() int {
	f := strings.Fields(os.Getenv(memberEnv))
	if len(f) != 4 {
		fmt.Fprintf(os.Stderr, "%s=%q: want ADDR GROUP TOPIC NAME\n", memberEnv, os.Getenv(memberEnv))
		return 2
	}
	c, err := kafka.NewConsumer(consumerConfig(f[0], f[1], f[3]))
	if err == nil {
		err = c.Subscribe(f[2], nil)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "member %s: %v\n", f[3], err)
		return 1
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	report := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(w, strings.ReplaceAll(s, "\n", " "))
		w.Flush()
	}
	m := &member{name: f[3]}
	m.run(c, make(chan struct{}), report) // until killed
	return 0
}

// joinInts renders partitions as "0,1".
func joinInts(ps []int32) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ",")
}
