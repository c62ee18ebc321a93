package acl

// acl_test.go checks Kafka's authorization semantics table by table:
// super users, DENY over ALLOW, principal/host/resource matching, implied
// operations, filters, and the durable store.

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/broker/auth"
	"github.com/courier-dev/courier/internal/broker/metafile"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	topic     = kmsg.ACLResourceTypeTopic
	grp       = kmsg.ACLResourceTypeGroup
	cluster   = kmsg.ACLResourceTypeCluster
	literal   = kmsg.ACLResourcePatternTypeLiteral
	prefixed  = kmsg.ACLResourcePatternTypePrefixed
	allow     = kmsg.ACLPermissionTypeAllow
	deny      = kmsg.ACLPermissionTypeDeny
	opRead    = kmsg.ACLOperationRead
	opWrite   = kmsg.ACLOperationWrite
	opDescr   = kmsg.ACLOperationDescribe
	opAll     = kmsg.ACLOperationAll
	opAlter   = kmsg.ACLOperationAlter
	opDelete  = kmsg.ACLOperationDelete
	opCreate  = kmsg.ACLOperationCreate
	opDescCfg = kmsg.ACLOperationDescribeConfigs
	opAltCfg  = kmsg.ACLOperationAlterConfigs
	opIdem    = kmsg.ACLOperationIdempotentWrite
)

// bind is a binding from host *.
func bind(principal string, perm kmsg.ACLPermissionType, op kmsg.ACLOperation, rt kmsg.ACLResourceType, pt kmsg.ACLResourcePatternType, name string) Binding {
	return Binding{Principal: principal, Host: "*", Operation: op, Permission: perm, ResourceType: rt, ResourceName: name, PatternType: pt}
}

func open(t *testing.T, super []string, bs ...Binding) *Authorizer {
	t.Helper()
	a, err := Open(t.TempDir(), super, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range a.Create(bs) {
		if err != nil {
			t.Fatalf("create %v: %v", bs[i], err)
		}
	}
	return a
}

func TestAuthorize(t *testing.T) {
	alice, bob := auth.User("alice"), auth.User("bob")
	hostBound := bind("User:bob", allow, opRead, topic, literal, "pinned")
	hostBound.Host = "10.0.0.1"
	a := open(t, []string{"User:root"},
		bind("User:alice", allow, opRead, topic, literal, "orders"),
		bind("User:alice", allow, opWrite, topic, prefixed, "logs-"),
		bind("User:alice", deny, opWrite, topic, literal, "logs-secret"),
		bind("User:*", allow, opDescr, topic, literal, "public"),
		bind("User:*", deny, opRead, topic, literal, "public"),
		bind("User:bob", allow, opAll, topic, literal, "*"),
		bind("User:bob", deny, opAll, topic, prefixed, "private-"),
		bind("User:bob", deny, opDescr, topic, literal, "described-denied"),
		hostBound,
		bind("User:alice", allow, opAlter, topic, literal, "altered"),
		bind("User:alice", allow, opAltCfg, topic, literal, "configured"),
		bind("User:alice", allow, opRead, grp, prefixed, "app-"),
		bind("User:alice", allow, opIdem, cluster, literal, ClusterName),
	)
	cases := []struct {
		name string
		p    auth.Principal
		host string
		op   kmsg.ACLOperation
		rt   kmsg.ACLResourceType
		res  string
		want bool
	}{
		{"literal allow", alice, "1.2.3.4", opRead, topic, "orders", true},
		{"other op not allowed", alice, "1.2.3.4", opWrite, topic, "orders", false},
		{"READ implies DESCRIBE", alice, "1.2.3.4", opDescr, topic, "orders", true},
		{"no acl for resource", alice, "1.2.3.4", opRead, topic, "payments", false},
		{"other principal", bob, "1.2.3.4", opRead, topic, "orders", true}, // bob has ALL on *
		{"anonymous denied", auth.Anonymous, "1.2.3.4", opRead, topic, "orders", false},
		{"prefixed allow", alice, "1.2.3.4", opWrite, topic, "logs-app", true},
		{"prefix is not a match of shorter name", alice, "1.2.3.4", opWrite, topic, "logs", false},
		{"deny beats prefixed allow", alice, "1.2.3.4", opWrite, topic, "logs-secret", false},
		{"deny of WRITE does not deny DESCRIBE", alice, "1.2.3.4", opDescr, topic, "logs-secret", true},
		{"wildcard principal allow", alice, "1.2.3.4", opDescr, topic, "public", true},
		{"wildcard principal deny", alice, "1.2.3.4", opRead, topic, "public", false},
		{"wildcard resource ALL", bob, "1.2.3.4", opWrite, topic, "anything", true},
		{"ALL on * implies DESCRIBE", bob, "1.2.3.4", opDescr, topic, "anything", true},
		{"deny ALL prefixed wins over allow ALL *", bob, "1.2.3.4", opRead, topic, "private-x", false},
		{"deny DESCRIBE exact", bob, "1.2.3.4", opDescr, topic, "described-denied", false},
		{"deny DESCRIBE leaves READ", bob, "1.2.3.4", opRead, topic, "described-denied", true},
		{"bob ALL on * is topic only", bob, "1.2.3.4", opRead, grp, "g", false},
		{"ALTER implies DESCRIBE", alice, "1.2.3.4", opDescr, topic, "altered", true},
		{"ALTER does not imply READ", alice, "1.2.3.4", opRead, topic, "altered", false},
		{"ALTER_CONFIGS implies DESCRIBE_CONFIGS", alice, "1.2.3.4", opDescCfg, topic, "configured", true},
		{"ALTER_CONFIGS does not imply DESCRIBE", alice, "1.2.3.4", opDescr, topic, "configured", false},
		{"group prefixed", alice, "1.2.3.4", opRead, grp, "app-1", true},
		{"group READ implies DESCRIBE", alice, "1.2.3.4", opDescr, grp, "app-1", true},
		{"group DELETE not implied", alice, "1.2.3.4", opDelete, grp, "app-1", false},
		{"cluster", alice, "1.2.3.4", opIdem, cluster, ClusterName, true},
		{"cluster other op", alice, "1.2.3.4", opCreate, cluster, ClusterName, false},
		{"host match", bob, "10.0.0.1", opRead, topic, "pinned", true},
		{"super user", auth.User("root"), "", opDelete, cluster, ClusterName, true},
		{"super user is exact", auth.User("root2"), "", opDelete, cluster, ClusterName, false},
	}
	for _, c := range cases {
		if got := a.Authorize(c.p, c.host, c.op, c.rt, c.res); got != c.want {
			t.Errorf("%s: Authorize(%v, %s, %v, %v, %q) = %v, want %v", c.name, c.p, c.host, c.op, c.rt, c.res, got, c.want)
		}
	}
}

func TestAuthorizeHost(t *testing.T) {
	b := bind("User:carol", allow, opRead, topic, literal, "t")
	b.Host = "10.0.0.1"
	a := open(t, nil, b)
	if !a.Authorize(auth.User("carol"), "10.0.0.1", opRead, topic, "t") {
		t.Error("host 10.0.0.1 denied")
	}
	if a.Authorize(auth.User("carol"), "10.0.0.2", opRead, topic, "t") {
		t.Error("host 10.0.0.2 allowed")
	}
}

func TestAuthorizeAny(t *testing.T) {
	cases := []struct {
		name string
		acls []Binding
		want bool
	}{
		{"nothing", nil, false},
		{"literal", []Binding{bind("User:u", allow, opWrite, topic, literal, "t")}, true},
		{"ALL counts", []Binding{bind("User:u", allow, opAll, topic, literal, "t")}, true},
		{"READ does not", []Binding{bind("User:u", allow, opRead, topic, literal, "t")}, false},
		{"denied literal", []Binding{bind("User:u", allow, opWrite, topic, literal, "t"), bind("User:u", deny, opWrite, topic, literal, "t")}, false},
		{"denied by prefix", []Binding{bind("User:u", allow, opWrite, topic, literal, "ab"), bind("User:u", deny, opWrite, topic, prefixed, "a")}, false},
		{"prefix not denied by literal", []Binding{bind("User:u", allow, opWrite, topic, prefixed, "a"), bind("User:u", deny, opWrite, topic, literal, "a")}, true},
		{"wildcard deny", []Binding{bind("User:u", allow, opWrite, topic, literal, "t"), bind("User:*", deny, opWrite, topic, literal, "*")}, false},
		{"other principal", []Binding{bind("User:v", allow, opWrite, topic, literal, "t")}, false},
	}
	for _, c := range cases {
		a := open(t, nil, c.acls...)
		if got := a.AuthorizeAny(auth.User("u"), "h", opWrite, topic); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestAuthorizedOperations(t *testing.T) {
	a := open(t, nil, bind("User:u", allow, opRead, grp, literal, "g"))
	want := OperationBits([]kmsg.ACLOperation{opRead, opDescr})
	if got := a.AuthorizedOperations(auth.User("u"), "h", grp, "g"); got != want {
		t.Errorf("got %b, want %b", got, want)
	}
}

func str(s string) *string { return &s }

func TestFilters(t *testing.T) {
	all := []Binding{
		bind("User:a", allow, opRead, topic, literal, "foo"),
		bind("User:a", allow, opRead, topic, literal, "*"),
		bind("User:b", deny, opWrite, topic, prefixed, "fo"),
		bind("User:b", allow, opRead, topic, prefixed, "bar"),
		bind("User:a", allow, opRead, grp, literal, "foo"),
	}
	anyF := Filter{ResourceType: kmsg.ACLResourceTypeAny, PatternType: kmsg.ACLResourcePatternTypeAny, Operation: kmsg.ACLOperationAny, Permission: kmsg.ACLPermissionTypeAny}
	cases := []struct {
		name string
		edit func(*Filter)
		want []int
	}{
		{"any", func(*Filter) {}, []int{0, 1, 2, 3, 4}},
		{"topic", func(f *Filter) { f.ResourceType = topic }, []int{0, 1, 2, 3}},
		{"any pattern, exact name", func(f *Filter) { f.ResourceName = str("foo") }, []int{0, 4}},
		{"literal name", func(f *Filter) { f.PatternType = literal; f.ResourceName = str("foo"); f.ResourceType = topic }, []int{0}},
		{"prefixed", func(f *Filter) { f.PatternType = prefixed }, []int{2, 3}},
		{"match", func(f *Filter) {
			f.PatternType = kmsg.ACLResourcePatternTypeMatch
			f.ResourceName = str("foo")
			f.ResourceType = topic
		}, []int{0, 1, 2}},
		{"principal", func(f *Filter) { f.Principal = str("User:b") }, []int{2, 3}},
		{"deny", func(f *Filter) { f.Permission = deny }, []int{2}},
		{"operation", func(f *Filter) { f.Operation = opWrite }, []int{2}},
		{"host", func(f *Filter) { f.Host = str("1.1.1.1") }, nil},
	}
	for _, c := range cases {
		f := anyF
		c.edit(&f)
		if err := f.Validate(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got []int
		for i, b := range all {
			if f.Matches(b) {
				got = append(got, i)
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: matched %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: matched %v, want %v", c.name, got, c.want)
				break
			}
		}
	}
	if err := (Filter{}).Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero filter: %v", err)
	}
}

func TestValidate(t *testing.T) {
	good := bind("User:a", allow, opRead, topic, literal, "t")
	cases := map[string]func(*Binding){
		"any resource type":  func(b *Binding) { b.ResourceType = kmsg.ACLResourceTypeAny },
		"match pattern":      func(b *Binding) { b.PatternType = kmsg.ACLResourcePatternTypeMatch },
		"any operation":      func(b *Binding) { b.Operation = kmsg.ACLOperationAny },
		"any permission":     func(b *Binding) { b.Permission = kmsg.ACLPermissionTypeAny },
		"empty name":         func(b *Binding) { b.ResourceName = "" },
		"cluster name":       func(b *Binding) { b.ResourceType = cluster; b.ResourceName = "c" },
		"principal no colon": func(b *Binding) { b.Principal = "alice" },
		"empty host":         func(b *Binding) { b.Host = "" },
	}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, edit := range cases {
		b := good
		edit(&b)
		if err := b.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestStoreDurableCreateDelete(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b1 := bind("User:a", allow, opRead, topic, literal, "t")
	b2 := bind("User:b", deny, opAll, kmsg.ACLResourceTypeTransactionalId, prefixed, "tx")
	errs := a.Create([]Binding{b1, b2, b1, bind("bad", allow, opRead, topic, literal, "t")})
	if errs[0] != nil || errs[1] != nil || errs[2] != nil || errs[3] == nil {
		t.Fatalf("create: %v", errs)
	}
	if got := a.List(); len(got) != 2 {
		t.Fatalf("list after duplicate create: %v", got)
	}
	a, err = Open(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.List(); len(got) != 2 || got[0] != b1 || got[1] != b2 {
		t.Fatalf("reopened: %v", got)
	}
	f := Filter{ResourceType: kmsg.ACLResourceTypeAny, PatternType: kmsg.ACLResourcePatternTypeAny, Operation: kmsg.ACLOperationAny, Permission: kmsg.ACLPermissionTypeAny, Principal: str("User:b")}
	matched, invalid, err := a.Delete([]Filter{f, {}})
	if err != nil || invalid[0] != nil || invalid[1] == nil || len(matched[0]) != 1 || matched[0][0] != b2 {
		t.Fatalf("delete: %v %v %v", matched, invalid, err)
	}
	a, err = Open(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.List(); len(got) != 1 || got[0] != b1 {
		t.Fatalf("reopened after delete: %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+".tmp")); err == nil {
		t.Error("temporary file left behind")
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(`{"version":1,"acls":[{"principal":"x"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, nil, nil); err == nil {
		t.Error("a corrupt acls.json was accepted")
	}
	if _, err := Open(t.TempDir(), []string{"nocolon"}, nil); err == nil {
		t.Error("a bad super user was accepted")
	}
}

func TestOpenRefusesDamagedFile(t *testing.T) {
	cases := []struct {
		name, content string
		want          error // nil: refused by the binding's validation
	}{
		{"truncated", `{"version": 1, "acls": [`, metafile.ErrDamaged},
		{"newer version", `{"version": 2, "acls": []}`, metafile.ErrNewerVersion},
		{"no version", `{"acls": []}`, metafile.ErrDamaged},
		{"unknown field", `{"version": 1, "acls": [], "denies": []}`, metafile.ErrDamaged},
		{"unknown operation", `{"version": 1, "acls": [{"principal": "User:a", "host": "*", "operation": "FLY", "permission": "ALLOW", "resource_type": "TOPIC", "resource_name": "t", "pattern_type": "LITERAL"}]}`, metafile.ErrDamaged},
		{"invalid binding", `{"version":1,"acls":[{"principal":"x"}]}`, ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(dir, nil, nil); !errors.Is(err, tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Open = %v; want an error naming %s wrapping %v", err, path, tc.want)
			}
			if data, _ := os.ReadFile(path); string(data) != tc.content {
				t.Fatal("a refused acls.json was changed")
			}
		})
	}
}

// TestOpenReadsEarlierFile opens acls.json as the store wrote it before
// package metafile (json.MarshalIndent of the version and the bindings).
func TestOpenReadsEarlierFile(t *testing.T) {
	bs := []Binding{bind("User:sink", allow, opRead, grp, literal, "db-writer"), bind("User:gw", allow, opWrite, topic, prefixed, "rider-")}
	earlier := struct {
		Version int       `json:"version"`
		ACLs    []Binding `json:"acls"`
	}{1, normalize(bs)}
	data, err := json.MarshalIndent(earlier, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), data, 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := Open(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.List(); !reflect.DeepEqual(got, normalize(bs)) {
		t.Fatalf("List = %v; want %v", got, bs)
	}
}

func BenchmarkAuthorize(b *testing.B) {
	a, _ := Open(b.TempDir(), nil, nil)
	var bs []Binding
	for i := 0; i < 200; i++ {
		bs = append(bs, bind("User:u"+string(rune('a'+i%26)), allow, opWrite, topic, literal, "topic-"+string(rune('a'+i%26))))
	}
	bs = append(bs, bind("User:alice", allow, opWrite, topic, prefixed, "rider-"))
	a.Create(bs)
	p := auth.User("alice")
	b.ReportAllocs()
	for b.Loop() {
		if !a.Authorize(p, "127.0.0.1", opWrite, topic, "rider-updates") {
			b.Fatal("denied")
		}
	}
}

// FuzzOpen: Open never panics on any acls.json, and a file it accepts is
// written back (by the next change) in a form it accepts again, with the
// same bindings.
func FuzzOpen(f *testing.F) {
	for _, s := range []string{
		`{"version": 1, "acls": [{"principal": "User:a", "host": "*", "operation": "READ", "permission": "ALLOW", "resource_type": "TOPIC", "resource_name": "t", "pattern_type": "LITERAL"}]}`,
		`{"version":1,"acls":[]}`, `{"version":2,"acls":[]}`, `{"acls":null}`, `[`,
	} {
		f.Add([]byte(s))
	}
	extra := bind("User:fuzz", deny, opAll, cluster, literal, ClusterName)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), data, 0o644); err != nil {
			t.Fatal(err)
		}
		a, err := Open(dir, nil, nil)
		if err != nil {
			return
		}
		before := a.List()
		if errs := a.Create([]Binding{extra}); errs[0] != nil {
			t.Fatalf("Create after an accepted file: %v", errs[0])
		}
		again, err := Open(dir, nil, nil)
		if err != nil {
			t.Fatalf("the store's own file is refused: %v", err)
		}
		want := normalize(append(before, extra))
		if got := again.List(); !reflect.DeepEqual(got, want) {
			t.Fatalf("bindings changed by a write and reopen: %v -> %v", want, got)
		}
	})
}
