package ctl

// table_test.go pins the layout of the list and describe tables.

import (
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestWriteTopicList(t *testing.T) {
	var b strings.Builder
	err := WriteTopicList(&b, []TopicSummary{{Name: "a", Partitions: 3}, {Name: "__consumer_offsets", Partitions: 50, Internal: true}})
	if err != nil {
		t.Fatal(err)
	}
	want := "NAME                           PARTITIONS\n" +
		"a                              3\n" +
		"__consumer_offsets (internal)  50\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteTopicDescription(t *testing.T) {
	var b strings.Builder
	d := TopicDescription{
		Name: "rides", ID: "AAAAAAAAAAAAAAAAAAAAAQ", ReplicationFactor: 1,
		Configs: []Config{
			{Name: "retention.ms", Value: "1000", Source: kmsg.ConfigSourceDynamicTopicConfig},
			{Name: "secret", Sensitive: true, Source: kmsg.ConfigSourceStaticBrokerConfig},
		},
		Partitions: []PartitionInfo{
			{Partition: 0, Leader: 1, StartOffset: 0, EndOffset: 10, Size: 1234},
			{Partition: 1, Leader: -1, StartOffset: -1, EndOffset: -1, Size: -1},
		},
	}
	if err := WriteTopicDescription(&b, d); err != nil {
		t.Fatal(err)
	}
	want := `Topic:               rides
ID:                  AAAAAAAAAAAAAAAAAAAAAQ
Partitions:          2
Replication factor:  1
Configs:             retention.ms=1000 (topic)
                     secret=(sensitive) (static broker)

PARTITION  LEADER  START-OFFSET  END-OFFSET  SIZE-BYTES
0          1       0             10          1234
1          -       -             -           -
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}

	b.Reset()
	d.ID, d.Configs, d.Partitions = "", nil, nil
	d.SizesErr = errors.New("broker is too old")
	if err := WriteTopicDescription(&b, d); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"ID:                  -\n", "Configs:             all defaults\n", "Sizes:               unavailable (broker is too old)\n"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("missing %q in\n%s", s, b.String())
		}
	}
}
