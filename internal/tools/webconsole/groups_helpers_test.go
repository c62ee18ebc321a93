package webconsole

// groups_helpers_test.go makes the groups the consumer groups tests look
// at, with real franz-go clients: records with known timestamps, commits
// from outside a group (an empty group), members of a classic, a KIP-848
// consumer and a share group that keep polling until the test ends.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// groupsCtx is a context that ends with the test or after 30 s.
func groupsCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// groupsAdmin is an admin client of the cluster at seeds, closed with the
// test.
func groupsAdmin(t testing.TB, seeds ...string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// lagTopic creates topic with partitions.
func lagTopic(t testing.TB, adm *kadm.Client, topic string, partitions int32) {
	t.Helper()
	if _, err := adm.CreateTopic(groupsCtx(t), partitions, -1, nil, topic); err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// produceStamped writes n records to partition p of topic, record i stamped
// base + i*step.
func produceStamped(t testing.TB, seeds []string, topic string, p int32, n int, base time.Time, step time.Duration) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rs := make([]*kgo.Record, n)
	for i := range rs {
		rs[i] = &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil, "v%d", i), Timestamp: base.Add(time.Duration(i) * step)}
	}
	if err := cl.ProduceSync(groupsCtx(t), rs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s/%d: %v", topic, p, err)
	}
}

// commit commits offsets (topic -> partition -> offset) for group from
// outside it: the group exists, Empty, with these commits.
func commitFromOutside(t testing.TB, adm *kadm.Client, group string, offsets map[string]map[int32]int64) {
	t.Helper()
	os := make(kadm.Offsets)
	for topic, ps := range offsets {
		for p, at := range ps {
			os.Add(kadm.Offset{Topic: topic, Partition: p, At: at, LeaderEpoch: -1})
		}
	}
	if err := adm.CommitAllOffsets(groupsCtx(t), group, os); err != nil {
		t.Fatalf("commit for %s: %v", group, err)
	}
}

// pollingMember starts a group member (the options say which kind)
// polling until the test ends.
func pollingMember(t testing.TB, seeds []string, clientID string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl := testclient.New(t, seeds[0], append([]kgo.Opt{kgo.SeedBrokers(seeds...), kgo.ClientID(clientID), kgo.FetchMaxWait(100 * time.Millisecond)}, opts...)...)
	testclient.PollInBackground(t, cl)
	return cl
}

// classicMember joins classic group group on topic, committing nothing.
func classicMember(t testing.TB, seeds []string, group, topic, clientID string) *kgo.Client {
	return pollingMember(t, seeds, clientID, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit())
}

// consumerMember joins KIP-848 consumer group group on topic.
func consumerMember(t testing.TB, seeds []string, group, topic, clientID string) *kgo.Client {
	return pollingMember(t, seeds, clientID, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.ServerSideBalancer(), kgo.DisableAutoCommit())
}

// shareMember joins share group group on topic (from its start), holding
// on to what it reads: it acknowledges nothing.
func shareMember(t testing.TB, seeds []string, group, topic, clientID string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := ctl.ShareStartEarliest(groupsCtx(t), cl, group); err != nil {
		t.Fatal(err)
	}
	return pollingMember(t, seeds, clientID, kgo.ShareGroup(group), kgo.ConsumeTopics(topic))
}

// waitGroups waits until GET /api/groups shows want (group -> members),
// the groups with members Stable.
func waitGroups(t testing.TB, tc *testConsole, want map[string]int) map[string]groupRow {
	t.Helper()
	var rows map[string]groupRow
	testwait.For(t, 20*time.Second, "groups "+fmt.Sprint(want), func() string {
		var list groupList
		code, body := tc.do("GET", "/api/groups", nil)
		if code != http.StatusOK {
			return fmt.Sprintf("status %d: %s", code, body)
		}
		if err := json.Unmarshal(body, &list); err != nil {
			return err.Error()
		}
		rows = make(map[string]groupRow)
		for _, g := range list.Groups {
			rows[g.Group] = g
		}
		for g, n := range want {
			if r, ok := rows[g]; !ok || r.Members != n || (n > 0 && r.State != "Stable") {
				return fmt.Sprintf("%s: %+v", g, rows[g])
			}
		}
		return ""
	})
	return rows
}

// groupPath is a group name in an API path.
func groupPath(group string) string { return strings.ReplaceAll(url.PathEscape(group), ".", "%2E") }
