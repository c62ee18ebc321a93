package acl

// store.go keeps the bindings durable in DIR/acls.json and applies
// changes: each change builds a new snapshot, writes the whole set
// atomically (package metafile: temporary file, fsync, rename, directory
// fsync), and only then publishes the snapshot, so an acknowledged change
// survives a crash and a failed write changes nothing.

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"

	"github.com/courier-dev/courier/internal/broker/auth"
	"github.com/courier-dev/courier/internal/broker/metafile"
	"github.com/courier-dev/courier/internal/broker/vfs"
)

// FileName is the store's file in its directory.
const FileName = "acls.json"

// format is acls.json's.
var format = metafile.Format{What: "ACLs", Version: 1, Perm: 0o644}

// fileBody is acls.json's body, beside its version.
type fileBody struct {
	ACLs []Binding `json:"acls"`
}

// Open loads dir/acls.json (none yet: no ACLs) and returns its Authorizer.
// superUsers are principals ("User:admin") allowed everything. A damaged
// file, or one with an invalid binding, is an error, never read as "no
// ACLs". What Open repairs (a leftover temporary file) it logs on logger
// (nil: slog.Default()).
func Open(dir string, superUsers []string, logger *slog.Logger) (*Authorizer, error) {
	a := &Authorizer{path: filepath.Join(dir, FileName), super: map[auth.Principal]struct{}{}}
	for _, s := range superUsers {
		p, err := auth.ParsePrincipal(s)
		if err != nil {
			return nil, fmt.Errorf("super user: %w", err)
		}
		a.super[p] = struct{}{}
	}
	if err := vfs.MkdirAllDurable(vfs.Default, dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	var body fileBody
	if _, err := format.Load(vfs.Default, a.path, &body, logger); err != nil {
		return nil, err
	}
	for _, b := range body.ACLs {
		if err := b.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %v: %w", a.path, b, err)
		}
	}
	a.snap.Store(newSnapshot(normalize(body.ACLs)))
	return a, nil
}

// normalize sorts bindings and drops duplicates.
func normalize(bs []Binding) []Binding {
	sort.Slice(bs, func(i, j int) bool { return less(bs[i], bs[j]) })
	out := bs[:0]
	for i, b := range bs {
		if i == 0 || b != bs[i-1] {
			out = append(out, b)
		}
	}
	return out
}

// less orders bindings by resource, then principal, host, operation and
// permission: DescribeAcls groups them by resource in this order.
func less(x, y Binding) bool {
	switch {
	case x.ResourceType != y.ResourceType:
		return x.ResourceType < y.ResourceType
	case x.PatternType != y.PatternType:
		return x.PatternType < y.PatternType
	case x.ResourceName != y.ResourceName:
		return x.ResourceName < y.ResourceName
	case x.Principal != y.Principal:
		return x.Principal < y.Principal
	case x.Host != y.Host:
		return x.Host < y.Host
	case x.Operation != y.Operation:
		return x.Operation < y.Operation
	}
	return x.Permission < y.Permission
}

// List returns every binding, sorted by resource.
func (a *Authorizer) List() []Binding {
	return append([]Binding(nil), a.snap.Load().all...)
}

// Describe returns the bindings f selects, sorted by resource. f should
// have passed Validate.
func (a *Authorizer) Describe(f Filter) []Binding {
	var out []Binding
	for _, b := range a.snap.Load().all {
		if f.Matches(b) {
			out = append(out, b)
		}
	}
	return out
}

// Create adds bindings (an existing one is kept once) and returns one
// error per binding, nil for the created: a binding that fails Validate,
// or for all of them, the failure to persist.
func (a *Authorizer) Create(bs []Binding) []error {
	errs := make([]error, len(bs))
	var add []Binding
	for i, b := range bs {
		if errs[i] = b.Validate(); errs[i] == nil {
			add = append(add, b)
		}
	}
	if len(add) == 0 {
		return errs
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	next := normalize(append(append([]Binding(nil), a.snap.Load().all...), add...))
	if err := a.commitLocked(next); err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	return errs
}

// Delete removes every binding any of filters selects and returns, per
// filter, the bindings it selected, or the reason it is invalid. A
// failure to persist is returned as err, and then nothing is removed.
func (a *Authorizer) Delete(filters []Filter) (matched [][]Binding, invalid []error, err error) {
	matched = make([][]Binding, len(filters))
	invalid = make([]error, len(filters))
	a.mu.Lock()
	defer a.mu.Unlock()
	cur := a.snap.Load().all
	gone := make([]bool, len(cur))
	changed := false
	for i, f := range filters {
		if invalid[i] = f.Validate(); invalid[i] != nil {
			continue
		}
		for j, b := range cur {
			if f.Matches(b) {
				matched[i] = append(matched[i], b)
				gone[j], changed = true, true
			}
		}
	}
	if !changed {
		return matched, invalid, nil
	}
	var next []Binding
	for j, b := range cur {
		if !gone[j] {
			next = append(next, b)
		}
	}
	if err := a.commitLocked(next); err != nil {
		return nil, invalid, err
	}
	return matched, invalid, nil
}

// commitLocked persists next, then publishes it.
func (a *Authorizer) commitLocked(next []Binding) error {
	body := fileBody{ACLs: next}
	if body.ACLs == nil {
		body.ACLs = []Binding{}
	}
	if err := format.Save(vfs.Default, a.path, body); err != nil {
		return fmt.Errorf("persist ACLs: %w", err)
	}
	a.snap.Store(newSnapshot(next))
	return nil
}
