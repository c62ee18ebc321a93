package ctl

// group_delete.go deletes consumer groups and their committed offsets.

import (
	"context"
	"errors"
	"fmt"
)

// GroupDeletion is the outcome of deleting one group.
type GroupDeletion struct {
	Group string // Group is the group id.
	Err   error  // Err is nil if the group was deleted, else a *GroupError.
}

// DeleteGroups deletes the groups and their committed offsets. Kafka
// deletes only Empty groups: a group with members is refused with
// NON_EMPTY_GROUP, an unknown one with GROUP_ID_NOT_FOUND, each as a
// *GroupError in its GroupDeletion. The outcomes come in the order of
// groups (duplicates removed); the error joins the refusals, or is the
// failure of the request itself (then there are no outcomes).
func (a *Admin) DeleteGroups(ctx context.Context, groups ...string) ([]GroupDeletion, error) {
	var uniq []string
	seen := make(map[string]bool, len(groups))
	for _, g := range groups {
		if g == "" {
			return nil, fmt.Errorf("delete group: empty group id")
		}
		if !seen[g] {
			seen[g] = true
			uniq = append(uniq, g)
		}
	}
	if len(uniq) == 0 {
		return nil, nil
	}
	resps, err := a.adm.DeleteGroups(ctx, uniq...)
	if err != nil && !partial(err) {
		return nil, fmt.Errorf("delete groups: %w", err)
	}
	out := make([]GroupDeletion, 0, len(uniq))
	var errs []error
	for _, g := range uniq {
		d := GroupDeletion{Group: g}
		if r, ok := resps[g]; ok {
			d.Err = groupErr("delete", g, r.Err, r.ErrMessage)
		} else if err != nil {
			d.Err = groupErr("delete", g, firstShardErr(err), "") // its coordinator did not answer
		} else {
			d.Err = fmt.Errorf("delete group %s: the cluster's response did not mention the group", g)
		}
		if d.Err != nil {
			errs = append(errs, d.Err)
		}
		out = append(out, d)
	}
	return out, errors.Join(errs...)
}
