package ctl

// txn_abort_test.go pins how `txn abort`'s flags name a transaction.

import (
	"strings"
	"testing"
)

func TestTxnAbortFlags(t *testing.T) {
	p := func(n int32) *int32 { return &n }
	o := func(n int64) *int64 { return &n }
	e := func(n int16) *int16 { return &n }
	for _, tc := range []struct {
		name  string
		flags AbortFlags
		want  AbortSpec
		err   string
	}{
		{"by start offset", AbortFlags{Topic: "t", Partition: p(2), StartOffset: o(40)},
			AbortSpec{Topic: "t", Partition: 2, StartOffset: 40}, ""},
		{"by producer", AbortFlags{Topic: "t", Partition: p(0), ProducerID: o(7), ProducerEpoch: e(3), CoordinatorEpoch: p(5)},
			AbortSpec{Topic: "t", Partition: 0, StartOffset: -1, ProducerID: 7, ProducerEpoch: 3, CoordinatorEpoch: 5}, ""},
		{"coordinator epoch -1 is 0", AbortFlags{Topic: "t", Partition: p(0), ProducerID: o(7), ProducerEpoch: e(0), CoordinatorEpoch: p(-1)},
			AbortSpec{Topic: "t", Partition: 0, StartOffset: -1, ProducerID: 7, ProducerEpoch: 0, CoordinatorEpoch: 0}, ""},
		{"no topic", AbortFlags{Partition: p(0), StartOffset: o(0)}, AbortSpec{}, "--topic is required"},
		{"no partition", AbortFlags{Topic: "t", StartOffset: o(0)}, AbortSpec{}, "--partition is required"},
		{"negative partition", AbortFlags{Topic: "t", Partition: p(-1), StartOffset: o(0)}, AbortSpec{}, "--partition -1: want a partition number from 0"},
		{"nothing names it", AbortFlags{Topic: "t", Partition: p(0)}, AbortSpec{}, "name the transaction to abort with --start-offset"},
		{"both ways", AbortFlags{Topic: "t", Partition: p(0), StartOffset: o(0), ProducerID: o(1)}, AbortSpec{}, "not both"},
		{"negative start offset", AbortFlags{Topic: "t", Partition: p(0), StartOffset: o(-1)}, AbortSpec{}, "--start-offset -1: want an offset from 0"},
		{"epoch without producer", AbortFlags{Topic: "t", Partition: p(0), ProducerEpoch: e(1), CoordinatorEpoch: p(0)}, AbortSpec{}, "need --producer-id"},
		{"producer without epoch", AbortFlags{Topic: "t", Partition: p(0), ProducerID: o(1), CoordinatorEpoch: p(0)}, AbortSpec{}, "--producer-id needs --producer-epoch"},
		{"producer without coordinator epoch", AbortFlags{Topic: "t", Partition: p(0), ProducerID: o(1), ProducerEpoch: e(0)}, AbortSpec{}, "--producer-id needs --coordinator-epoch"},
		{"negative producer id", AbortFlags{Topic: "t", Partition: p(0), ProducerID: o(-1), ProducerEpoch: e(0), CoordinatorEpoch: p(0)}, AbortSpec{}, "--producer-id -1"},
		{"negative producer epoch", AbortFlags{Topic: "t", Partition: p(0), ProducerID: o(1), ProducerEpoch: e(-1), CoordinatorEpoch: p(0)}, AbortSpec{}, "--producer-epoch -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.flags.Spec()
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			case got != tc.want:
				t.Errorf("spec %+v, want %+v", got, tc.want)
			}
		})
	}
}
