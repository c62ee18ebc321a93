package ctl

// group_table_test.go pins the layout of the group list, group describe and
// seek tables.

import (
	"errors"
	"strings"
	"testing"
)

func TestWriteGroupList(t *testing.T) {
	var b strings.Builder
	err := WriteGroupList(&b, []GroupSummary{
		{Group: "user-1", Type: "classic", State: "Stable", ProtocolType: "consumer"},
		{Group: "queue", Type: "share", State: "Stable", ProtocolType: "share"},
		{Group: "offsets-only", Type: "classic", State: "Empty"},
		{Group: "old-broker", ProtocolType: "consumer"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "GROUP         TYPE     STATE   PROTOCOL-TYPE\n" +
		"user-1        classic  Stable  consumer\n" +
		"queue         share    Stable  share\n" +
		"offsets-only  classic  Empty   -\n" +
		"old-broker    -        -       consumer\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteGroupDescription(t *testing.T) {
	var b strings.Builder
	d := GroupDescription{
		Group: "user-1", Type: "classic", Coordinator: "1 (127.0.0.1:9092)", State: "Stable", ProtocolType: "consumer", Protocol: "range",
		Members: []GroupMember{
			{MemberID: "a-1", ClientID: "a", Host: "/10.0.0.1", Assigned: map[string][]int32{"rides": {0, 1}, "alerts": {3}}},
			{MemberID: "b-2", InstanceID: "pod-b", ClientID: "b", Host: "/10.0.0.2"},
		},
		Offsets: []GroupOffset{
			{Topic: "alerts", Partition: 3, Committed: -1, End: 4, Lag: 4, MemberID: "a-1"},
			{Topic: "rides", Partition: 0, Committed: 10, End: 15, Lag: 5, MemberID: "a-1"},
			{Topic: "rides", Partition: 1, Committed: 7, End: -1, Lag: -1, MemberID: "a-1", Err: errors.New("NOT_LEADER_OR_FOLLOWER")},
		},
	}
	if err := WriteGroupDescription(&b, d); err != nil {
		t.Fatal(err)
	}
	want := `Group:          user-1
Type:           classic
Coordinator:    1 (127.0.0.1:9092)
State:          Stable
Protocol type:  consumer
Protocol:       range
Members:        2
Total lag:      9

INSTANCE-ID  MEMBER-ID  CLIENT-ID  HOST       ASSIGNED
-            a-1        a          /10.0.0.1  alerts:3 rides:0,1
pod-b        b-2        b          /10.0.0.2  -

TOPIC   PARTITION  COMMITTED  END-OFFSET  LAG  MEMBER-ID
alerts  3          -          4           4    a-1
rides   0          10         15          5    a-1
rides   1          7          -           -    a-1  NOT_LEADER_OR_FOLLOWER
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}

	b.Reset()
	d = GroupDescription{Group: "g", Coordinator: "1 (h:1)", State: "Empty", OffsetsErr: errors.New("fetch committed offsets: boom")}
	if err := WriteGroupDescription(&b, d); err != nil {
		t.Fatal(err)
	}
	want = `Group:          g
Type:           -
Coordinator:    1 (h:1)
State:          Empty
Protocol type:  -
Protocol:       -
Members:        0
Offsets:        unavailable (fetch committed offsets: boom)
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	d.OffsetsErr = nil
	if err := WriteGroupDescription(&b, d); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(b.String(), "Offsets:        none committed\n") {
		t.Errorf("got\n%s", b.String())
	}
}

func TestWriteSeekResults(t *testing.T) {
	var b strings.Builder
	err := WriteSeekResults(&b, []SeekResult{
		{Topic: "rides", Partition: 0, Previous: 3, Offset: 0},
		{Topic: "rides", Partition: 1, Previous: -1, Offset: 9, Note: "offset 100 is past the end"},
		{Topic: "rides", Partition: 2, Previous: 4, Offset: -1, Err: errors.New("partition 2: list offsets: LEADER_NOT_AVAILABLE")},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "TOPIC  PARTITION  PREVIOUS  NEW\n" +
		"rides  0          3         0\n" +
		"rides  1          -         9  (offset 100 is past the end)\n" +
		"rides  2          4         -  not set: partition 2: list offsets: LEADER_NOT_AVAILABLE\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteConsumerGroupDescription(t *testing.T) {
	var b strings.Builder
	d := GroupDescription{
		Group: "user-1", Type: "consumer", Coordinator: "1 (h:1)", State: "Reconciling", ProtocolType: "consumer", Protocol: "uniform",
		Epoch: 7, AssignmentEpoch: 7,
		Members: []GroupMember{
			{MemberID: "m-a", ClientID: "a", Host: "/10.0.0.1", Epoch: 7, Subscribed: []string{"rides"},
				Assigned: map[string][]int32{"rides": {0, 1}}, Target: map[string][]int32{"rides": {0, 1}}},
			{MemberID: "m-b", ClientID: "b", Host: "/10.0.0.2", Epoch: 6, Regex: "ride.*",
				Assigned: map[string][]int32{"rides": {2, 3}}, Target: map[string][]int32{"rides": {2}}},
			{MemberID: "m-c", ClientID: "c", Host: "/10.0.0.3", Epoch: 7, Subscribed: []string{"rides"}, Classic: true,
				Target: map[string][]int32{"rides": {3}}},
		},
		Offsets: []GroupOffset{{Topic: "rides", Partition: 0, Committed: 3, End: 5, Lag: 2, MemberID: "m-a"}},
	}
	if err := WriteGroupDescription(&b, d); err != nil {
		t.Fatal(err)
	}
	want := `Group:             user-1
Type:              consumer
Coordinator:       1 (h:1)
State:             Reconciling
Assignor:          uniform
Group epoch:       7
Assignment epoch:  7
Members:           3
Total lag:         2

MEMBER-ID  CLIENT-ID  HOST       EPOCH        SUBSCRIBED  ASSIGNED   TARGET
m-a        a          /10.0.0.1  7            rides       rides:0,1  rides:0,1
m-b        b          /10.0.0.2  6            /ride.*/    rides:2,3  rides:2
m-c        c          /10.0.0.3  7 (classic)  rides       -          rides:3

TOPIC  PARTITION  COMMITTED  END-OFFSET  LAG  MEMBER-ID
rides  0          3          5           2    m-a
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteShareGroupDescription(t *testing.T) {
	var b strings.Builder
	d := GroupDescription{
		Group: "queue", Type: "share", Coordinator: "1 (h:1)", State: "Stable", ProtocolType: "share", Protocol: "simple",
		Epoch: 4, AssignmentEpoch: 4,
		Members: []GroupMember{
			{MemberID: "m-a", ClientID: "a", Host: "/10.0.0.1", Epoch: 4, Subscribed: []string{"jobs"}, Assigned: map[string][]int32{"jobs": {0, 1}}},
			{MemberID: "m-b", ClientID: "b", Host: "/10.0.0.2", Epoch: 4, Subscribed: []string{"jobs"}, Assigned: map[string][]int32{"jobs": {0, 1}}},
		},
		Shares: []ShareOffset{
			{Topic: "jobs", Partition: 0, Start: 120, End: 200, Lag: 64, Members: []string{"m-a", "m-b"}},
			{Topic: "jobs", Partition: 1, Start: -1, End: 9, Lag: -1, Members: []string{"m-a", "m-b"}},
		},
	}
	if err := WriteGroupDescription(&b, d); err != nil {
		t.Fatal(err)
	}
	want := `Group:             queue
Type:              share
Coordinator:       1 (h:1)
State:             Stable
Assignor:          simple
Group epoch:       4
Assignment epoch:  4
Members:           2
Total lag:         64

MEMBER-ID  CLIENT-ID  HOST       EPOCH  SUBSCRIBED  ASSIGNED
m-a        a          /10.0.0.1  4      jobs        jobs:0,1
m-b        b          /10.0.0.2  4      jobs        jobs:0,1

TOPIC  PARTITION  START-OFFSET  END-OFFSET  LAG  MEMBERS
jobs   0          120           200         64   2
jobs   1          -             9           -    2
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	d.Members, d.Shares = nil, nil
	if err := WriteGroupDescription(&b, d); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(b.String(), "Offsets:           no share-partition state yet\n") {
		t.Errorf("got\n%s", b.String())
	}
}
