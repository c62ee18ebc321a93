package webconsole

// lagsampler_test.go runs the lag sampler against a secured broker: a
// round records every group's lag in records and in time (records with
// known timestamps); the history is shown only to a user who may describe
// the group (a user without ACLs on a group is refused with the cluster's
// GROUP_AUTHORIZATION_FAILED, and cannot reset it either); without an
// identity of its own the console samples nothing and says why; Serve
// starts the sampler and stops it when it returns.

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testlog"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// securedGroupsConsole starts a secured cluster (security_helpers_test.go)
// where alice may also describe and read the groups alice-* and the topic
// orders, and a console on it with cfg whose own identity is the super
// user of the PLAINTEXT listener.
func securedGroupsConsole(t *testing.T, cfg Config) (*testConsole, *saslCluster) {
	t.Helper()
	c := startSASLCluster(t)
	c.allow(t, kadm.NewACLs().Groups("alice-").ResourcePatternType(kadm.ACLPatternPrefixed).
		Operations(kadm.OpDescribe, kadm.OpRead).Allow("User:"+aliceUser).AllowHosts())
	c.allow(t, kadm.NewACLs().Topics("orders").Operations(kadm.OpDescribe, kadm.OpRead).Allow("User:"+aliceUser).AllowHosts())
	cfg.Access = c.access()
	cfg.Access.Service = []kgo.Opt{kgo.SeedBrokers(c.b.Addr)}
	return startConsoleWith(t, cfg), c
}

// newSampler returns a sampler of tc's console, as Serve runs it.
func newSampler(t *testing.T, tc *testConsole) *lagSampler {
	t.Helper()
	cl, err := kgo.NewClient(tc.srv.cfg.Access.Service...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &lagSampler{s: tc.srv, cl: cl, cache: map[recordAt]int64{}}
}

func TestLagHistorySampledAndPrivate(t *testing.T) {
	tc, c := securedGroupsConsole(t, Config{DataDir: t.TempDir()})
	seeds := []string{c.b.Addr}
	adm := groupsAdmin(t, seeds...)
	lagTopic(t, adm, "orders", 1)
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	produceStamped(t, seeds, "orders", 0, 5, base, time.Minute)
	commitFromOutside(t, adm, "alice-app", map[string]map[int32]int64{"orders": {0: 2}})
	commitFromOutside(t, adm, "secret", map[string]map[int32]int64{"orders": {0: 5}})

	now := time.Now()
	sp := newSampler(t, tc)
	for i := range 2 {
		if err := sp.round(groupsCtx(t), now.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	// The oldest unconsumed record of alice-app (secret is caught up) is
	// remembered for the next round.
	if len(sp.cache) != 1 {
		t.Errorf("timestamps kept: %v", sp.cache)
	}
	var h lagHistoryView
	tc.mustLogin(adminUser, adminPass)
	tc.mustJSON("GET", "/api/groups/alice-app/lag-history", nil, http.StatusOK, &h)
	if !h.Available || !h.Tracked || h.Note != "" || len(h.Samples) != 2 {
		t.Fatalf("history = %+v", h)
	}
	wantTime := now.Sub(base.Add(2*time.Minute)).Milliseconds() / 1000 * 1000 // whole seconds
	for _, s := range h.Samples {
		if s.Lag == nil || *s.Lag != 3 || s.TimeLagMS == nil || *s.TimeLagMS < wantTime-1000 || *s.TimeLagMS > wantTime+2000 {
			t.Errorf("sample %+v, want lag 3 and %d ms", s, wantTime)
		}
	}
	tc.mustJSON("GET", "/api/groups/secret/lag-history", nil, http.StatusOK, &h)
	if len(h.Samples) != 2 || *h.Samples[0].Lag != 0 || *h.Samples[0].TimeLagMS != 0 {
		t.Errorf("secret's history = %+v", h)
	}

	// Alice sees her group and its history, not the other group's.
	tc.mustLogin(aliceUser, alicePass)
	rows := waitGroups(t, tc, map[string]int{"alice-app": 0})
	if _, ok := rows["secret"]; ok || len(rows) != 1 {
		t.Errorf("alice lists %+v", rows)
	}
	tc.mustJSON("GET", "/api/groups/alice-app/lag-history", nil, http.StatusOK, &h)
	if len(h.Samples) != 2 {
		t.Errorf("alice's history of alice-app = %+v", h)
	}
	for _, path := range []string{"/api/groups/secret/lag-history", "/api/groups/secret"} {
		var e apiError
		tc.mustJSON("GET", path, nil, http.StatusForbidden, &e)
		if !strings.Contains(e.Message, "GROUP_AUTHORIZATION_FAILED") {
			t.Errorf("%s for alice: %+v", path, e)
		}
	}
	var e apiError
	tc.mustJSON("POST", "/api/groups/secret/offsets:reset", map[string]any{"mode": "earliest", "topics": []string{"orders"}}, http.StatusForbidden, &e)
	if !strings.Contains(e.Message, "GROUP_AUTHORIZATION_FAILED") {
		t.Errorf("alice's reset of secret: %+v", e)
	}
	if a := tc.srv.audit.list(); len(a) == 0 || a[0].User != "alice" || a[0].Target != "secret" || a[0].OK {
		t.Errorf("audit = %+v", a)
	}
	// A group that does not exist: allowed to ask (alice may describe
	// alice-*), nothing tracked.
	tc.mustJSON("GET", "/api/groups/alice-nothing/lag-history", nil, http.StatusOK, &h)
	if h.Tracked || len(h.Samples) != 0 {
		t.Errorf("history of a group that does not exist: %+v", h)
	}
}

func TestLagHistoryWithoutServiceIdentity(t *testing.T) {
	tc := startConsole(t, Config{})
	var h lagHistoryView
	tc.mustJSON("GET", "/api/groups/any/lag-history", nil, http.StatusOK, &h)
	if h.Available || !strings.Contains(h.Reason, "no identity of its own") || h.Samples == nil {
		t.Errorf("history = %+v", h)
	}
}

func TestServeRunsTheSampler(t *testing.T) {
	b := testbroker.Start(t)
	opts := []kgo.Opt{kgo.SeedBrokers(b.Addr)}
	adm := groupsAdmin(t, b.Addr)
	lagTopic(t, adm, "orders", 1)
	produceStamped(t, []string{b.Addr}, "orders", 0, 3, time.Now(), time.Millisecond)
	commitFromOutside(t, adm, "app", map[string]map[int32]int64{"orders": {0: 1}})
	buf := &testlog.Buffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("console log:\n%s", buf)
		}
	})
	s, err := New(Config{Access: Access{Base: opts, Service: opts}, LagInterval: time.Second, Logger: slog.New(slog.NewTextHandler(buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	_, stop := serve(t, s)
	testwait.For(t, 10*time.Second, "two rounds sampled", func() string {
		if got, _ := s.lag.samples("app", time.Now()); len(got) < 2 {
			return "not yet"
		}
		return ""
	})
	// Serve returns only once the sampler has stopped.
	if err := stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
}
