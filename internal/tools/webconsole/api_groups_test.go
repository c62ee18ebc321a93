package webconsole

// api_groups_test.go drives the consumer groups API against a real broker
// with groups of every kind: the list, a group's page with its lag in
// records and in time (records with known timestamps), the reset preview
// that changes nothing, a reset applied to an empty group and one refused
// on a group with members (Kafka's error, audited), and deletes; the main
// endpoints against a three-broker kfake cluster too.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// lagWorld is a cluster with topic orders (partition 0: 5 records stamped
// an hour ago, a minute apart; partition 1: 3 records) and the groups:
// idle (Empty, committed 2 on partition 0 and 3 on 1: lag 3 and 0), live
// (a classic member), k848 (a KIP-848 member), queue (a share member).
type lagWorld struct {
	tc    *testConsole
	seeds []string
	adm   *kadm.Client
	base  time.Time
}

func newLagWorld(t *testing.T, tc *testConsole, seeds []string, shares bool) lagWorld {
	w := lagWorld{tc: tc, seeds: seeds, adm: groupsAdmin(t, seeds...), base: time.Now().Add(-time.Hour).Truncate(time.Millisecond)}
	lagTopic(t, w.adm, "orders", 2)
	produceStamped(t, seeds, "orders", 0, 5, w.base, time.Minute)
	produceStamped(t, seeds, "orders", 1, 3, w.base, time.Second)
	commitFromOutside(t, w.adm, "idle", map[string]map[int32]int64{"orders": {0: 2, 1: 3}})
	classicMember(t, seeds, "live", "orders", "live-app")
	consumerMember(t, seeds, "k848", "orders", "k848-app")
	want := map[string]int{"idle": 0, "live": 1, "k848": 1}
	if shares {
		shareMember(t, seeds, "queue", "orders", "queue-app")
		want["queue"] = 1
	}
	waitGroups(t, tc, want)
	return w
}

func TestGroupsAPI(t *testing.T) {
	tc := startConsole(t, Config{})
	w := newLagWorld(t, tc, []string{tc.broker.Addr}, true)

	var list groupList
	tc.mustJSON("GET", "/api/groups", nil, http.StatusOK, &list)
	byName := map[string]groupRow{}
	for _, g := range list.Groups {
		byName[g.Group] = g
	}
	for name, want := range map[string]groupRow{
		"idle":  {Type: "classic", State: "Empty", Members: 0},
		"live":  {Type: "classic", State: "Stable", Members: 1},
		"k848":  {Type: "consumer", Members: 1},
		"queue": {Type: "share", Members: 1},
	} {
		g := byName[name]
		if g.Type != want.Type || g.Members != want.Members || (want.State != "" && g.State != want.State) || g.Lag == nil || g.Error != "" {
			t.Errorf("group %s = %+v", name, g)
		}
	}
	if l := byName["idle"].Lag; l == nil || *l != 3 {
		t.Errorf("idle's lag = %v, want 3", l)
	}

	// The group page: lag in records and in time. The oldest unconsumed
	// record of partition 0 is the one at the committed offset 2, stamped
	// base + 2 min; partition 1 is caught up: no lag in time.
	var d groupDetail
	before := time.Now()
	tc.mustJSON("GET", "/api/groups/idle", nil, http.StatusOK, &d)
	after := time.Now()
	if d.Type != "classic" || d.State != "Empty" || len(d.Partitions) != 2 || d.TotalLag != 3 {
		t.Fatalf("idle = %+v", d)
	}
	p0, p1 := d.Partitions[0], d.Partitions[1]
	oldest := w.base.Add(2 * time.Minute).UnixMilli()
	if *p0.Committed != 2 || p0.End != 5 || *p0.Lag != 3 || p0.OldestMS == nil || *p0.OldestMS != oldest || p0.TimeLagMS == nil ||
		*p0.TimeLagMS < before.UnixMilli()-oldest || *p0.TimeLagMS > after.UnixMilli()-oldest {
		t.Errorf("partition 0 = %+v (oldest should be %d)", p0, oldest)
	}
	if *p1.Committed != 3 || *p1.Lag != 0 || p1.TimeLagMS != nil || p1.OldestMS != nil || p1.TimeLagError != "" {
		t.Errorf("partition 1 = %+v", p1)
	}
	if d.MaxTimeLagMS == nil || *d.MaxTimeLagMS != *p0.TimeLagMS {
		t.Errorf("max time lag %v, partition 0's %v", d.MaxTimeLagMS, p0.TimeLagMS)
	}
	// A group with members shows them and their assignment; a KIP-848 one
	// too; a share group its share-partitions.
	d = groupDetail{} // decoding into a used value would keep its fields
	tc.mustJSON("GET", "/api/groups/live", nil, http.StatusOK, &d)
	if len(d.Members) != 1 || d.Members[0].ClientID != "live-app" || !strings.Contains(d.Members[0].Host, "127.0.0.1") ||
		len(d.Members[0].Assigned) != 1 || len(d.Members[0].Assigned[0].Partitions) != 2 || d.TotalLag != 8 {
		t.Errorf("live = %+v", d)
	}
	// Never committed: the oldest unconsumed record is the log's first.
	if p := d.Partitions[0]; *p.Committed != -1 || p.OldestMS == nil || *p.OldestMS != w.base.UnixMilli() || p.MemberID == "" {
		t.Errorf("live's partition 0 = %+v", p)
	}
	d = groupDetail{}
	tc.mustJSON("GET", "/api/groups/k848", nil, http.StatusOK, &d)
	if d.Type != "consumer" || len(d.Members) != 1 || d.Members[0].ClientID != "k848-app" || d.Epoch < 1 {
		t.Errorf("k848 = %+v", d)
	}
	d = groupDetail{}
	tc.mustJSON("GET", "/api/groups/queue", nil, http.StatusOK, &d)
	if d.Type != "share" || len(d.Members) != 1 || len(d.Partitions) != 2 || d.Partitions[0].Start == nil || d.Partitions[0].Committed != nil {
		t.Errorf("queue = %+v", d)
	}
	var e apiError
	tc.mustJSON("GET", "/api/groups/nope", nil, http.StatusNotFound, &e)
	if !strings.Contains(e.Message, "GROUP_ID_NOT_FOUND") {
		t.Errorf("unknown group: %+v", e)
	}

	checkResets(t, tc)
	checkDeletes(t, tc)
}

// checkResets previews, applies and refuses offset resets.
func checkResets(t *testing.T, tc *testConsole) {
	t.Helper()
	committed := func(group string) []int64 {
		var d groupDetail
		tc.mustJSON("GET", "/api/groups/"+group, nil, http.StatusOK, &d)
		var out []int64
		for _, p := range d.Partitions {
			out = append(out, *p.Committed)
		}
		return out
	}
	// The preview says what would change, and changes nothing.
	reset := func(body map[string]any) resetResult {
		t.Helper()
		var res resetResult
		tc.mustJSON("POST", "/api/groups/idle/offsets:reset", body, http.StatusOK, &res)
		return res
	}
	res := reset(map[string]any{"mode": "earliest", "preview": true})
	want := []resetRow{
		{Topic: "orders", Partition: 0, Current: 2, New: 0, End: 5, LagAfter: ptrTo[int64](5)},
		{Topic: "orders", Partition: 1, Current: 3, New: 0, End: 3, LagAfter: ptrTo[int64](3)},
	}
	checkRows(t, "preview earliest", res, false, want)
	if got := committed("idle"); fmt.Sprint(got) != "[2 3]" {
		t.Errorf("after a preview the commits are %v, want [2 3]", got)
	}
	for _, a := range tc.srv.audit.list() {
		if a.Action == "group.offsets.reset" {
			t.Errorf("a preview was audited: %+v", a)
		}
	}
	// Timestamp, as Unix ms and as RFC 3339; offset, kept within the log;
	// one partition only.
	base := time.Now().Add(-time.Hour).Truncate(time.Hour) // before every record
	res = reset(map[string]any{"mode": "timestamp", "timestamp": base.UnixMilli(), "preview": true})
	if res.Partitions[0].New != 0 || res.Partitions[1].New != 0 {
		t.Errorf("timestamp before every record: %+v", res)
	}
	res = reset(map[string]any{"mode": "timestamp", "timestamp": time.Now().Add(time.Hour).Format(time.RFC3339), "preview": true})
	if res.Partitions[0].New != 5 || res.Partitions[1].New != 3 || res.Partitions[0].Note == "" {
		t.Errorf("timestamp after every record: %+v", res)
	}
	res = reset(map[string]any{"mode": "offset", "offset": 4, "preview": true, "partitions": []map[string]any{{"topic": "orders", "partition": 0}}})
	checkRows(t, "preview offset 4 of partition 0", res, false, []resetRow{{Topic: "orders", Partition: 0, Current: 2, New: 4, End: 5, LagAfter: ptrTo[int64](1)}})

	// Applied on the empty group: the page shows the new lag.
	res = reset(map[string]any{"mode": "latest", "topics": []string{"orders"}})
	checkRows(t, "latest", res, true, []resetRow{
		{Topic: "orders", Partition: 0, Current: 2, New: 5, End: 5, LagAfter: ptrTo[int64](0)},
		{Topic: "orders", Partition: 1, Current: 3, New: 3, End: 3, LagAfter: ptrTo[int64](0)},
	})
	if got := committed("idle"); fmt.Sprint(got) != "[5 3]" {
		t.Errorf("after the reset the commits are %v, want [5 3]", got)
	}
	// Refused on a group with members, with Kafka's error; audited. Its
	// preview is computed, and says so.
	var prev resetResult
	tc.mustJSON("POST", "/api/groups/live/offsets:reset", map[string]any{"mode": "earliest", "preview": true}, http.StatusOK, &prev)
	if len(prev.Partitions) != 2 || prev.Partitions[0].New != 0 || !strings.HasPrefix(prev.Error, "NON_EMPTY_GROUP: ") {
		t.Errorf("preview of a group with members: %+v", prev)
	}
	var e apiError
	tc.mustJSON("POST", "/api/groups/live/offsets:reset", map[string]any{"mode": "earliest"}, http.StatusConflict, &e)
	if !strings.HasPrefix(e.Message, "NON_EMPTY_GROUP: ") {
		t.Errorf("reset of a group with members: %+v", e)
	}
	audit := tc.srv.audit.list()
	if len(audit) < 2 || audit[0].Action != "group.offsets.reset" || audit[0].Target != "live" || audit[0].OK ||
		audit[1].Target != "idle" || !audit[1].OK {
		t.Errorf("audit = %+v", audit)
	}
	// Bad requests.
	for _, body := range []any{
		map[string]any{"mode": "sideways"},
		map[string]any{"mode": "offset"},
		map[string]any{"mode": "offset", "offset": -1},
		map[string]any{"mode": "timestamp", "timestamp": "yesterday"},
		map[string]any{"mode": "timestamp"},
		map[string]any{"mode": "latest", "partitions": []map[string]any{{"topic": "", "partition": 0}}},
		"{",
	} {
		if code, data := tc.do("POST", "/api/groups/idle/offsets:reset", body); code != http.StatusBadRequest {
			t.Errorf("reset %v: status %d %s, want 400", body, code, data)
		}
	}
	if code, data := tc.do("POST", "/api/groups/idle/offsets:reset", map[string]any{"mode": "latest", "topics": []string{"nope"}}); code != http.StatusNotFound ||
		!strings.Contains(string(data), "UNKNOWN_TOPIC_OR_PARTITION") {
		t.Errorf("reset on an unknown topic: %d %s", code, data)
	}
}

// checkRows compares a reset's result with want.
func checkRows(t *testing.T, what string, res resetResult, applied bool, want []resetRow) {
	t.Helper()
	if res.Applied != applied || len(res.Partitions) != len(want) || res.Error != "" {
		t.Fatalf("%s: %+v", what, res)
	}
	for i, w := range want {
		got, _ := json.Marshal(res.Partitions[i])
		exp, _ := json.Marshal(w)
		if string(got) != string(exp) {
			t.Errorf("%s: partition %d = %s, want %s", what, i, got, exp)
		}
	}
}

// checkDeletes deletes an empty group and is refused one with members.
func checkDeletes(t *testing.T, tc *testConsole) {
	t.Helper()
	var e apiError
	tc.mustJSON("DELETE", "/api/groups/live", nil, http.StatusConflict, &e)
	if !strings.HasPrefix(e.Message, "NON_EMPTY_GROUP: ") {
		t.Errorf("delete of a group with members: %+v", e)
	}
	tc.mustJSON("DELETE", "/api/groups/idle", nil, http.StatusOK, nil)
	tc.mustJSON("GET", "/api/groups/idle", nil, http.StatusNotFound, nil)
	tc.mustJSON("DELETE", "/api/groups/idle", nil, http.StatusNotFound, nil)
	audit := tc.srv.audit.list()
	if len(audit) < 3 || audit[0].Action != "group.delete" || audit[0].OK || audit[1].Target != "idle" || !audit[1].OK || audit[2].OK {
		t.Errorf("audit = %+v", audit[:min(len(audit), 3)])
	}
}

// TestGroupsAPIKfake: the list, a group's page, a reset and a delete
// against a three-broker kfake cluster.
func TestGroupsAPIKfake(t *testing.T) {
	tc, c := startConsoleKfake(t, Config{})
	w := newLagWorld(t, tc, c.ListenAddrs(), false)
	var d groupDetail
	tc.mustJSON("GET", "/api/groups/idle", nil, http.StatusOK, &d)
	if len(d.Partitions) != 2 || d.TotalLag != 3 || d.Partitions[0].OldestMS == nil || *d.Partitions[0].OldestMS != w.base.Add(2*time.Minute).UnixMilli() {
		t.Fatalf("idle = %+v", d)
	}
	var res resetResult
	tc.mustJSON("POST", "/api/groups/idle/offsets:reset", map[string]any{"mode": "offset", "offset": 1}, http.StatusOK, &res)
	if !res.Applied || len(res.Partitions) != 2 || res.Partitions[0].New != 1 {
		t.Errorf("reset = %+v", res)
	}
	tc.mustJSON("POST", "/api/groups/live/offsets:reset", map[string]any{"mode": "earliest"}, http.StatusConflict, nil)
	tc.mustJSON("DELETE", "/api/groups/idle", nil, http.StatusOK, nil)

	// Any character may be in a group's name: a slash, a dot segment,
	// markup; the paths carry it escaped.
	for _, name := range []string{"odd/group?x=<b>#", "..", "<img src=x onerror=alert(1)>"} {
		commitFromOutside(t, w.adm, name, map[string]map[int32]int64{"orders": {0: 1}})
		d = groupDetail{}
		tc.mustJSON("GET", "/api/groups/"+groupPath(name), nil, http.StatusOK, &d)
		if d.Group != name || d.TotalLag != 4+3 {
			t.Errorf("group %q = %+v", name, d)
		}
		tc.mustJSON("POST", "/api/groups/"+groupPath(name)+"/offsets:reset", map[string]any{"mode": "latest"}, http.StatusOK, nil)
		tc.mustJSON("DELETE", "/api/groups/"+groupPath(name), nil, http.StatusOK, nil)
	}
}
