package ctl

// group_batch.go describes many groups at once, as a listing of every
// group with its lag needs (the console's groups page and its lag
// sampler): one request of each kind per coordinator (DescribeGroups for
// classic groups, ConsumerGroupDescribe for KIP-848 consumer groups,
// ShareGroupDescribe for share groups, OffsetFetch for the commits of many
// groups, DescribeShareGroupOffsets) and one listing of the start and end
// offsets of every topic involved, where describing the groups one by one
// costs a round of requests per group. DescribeGroup is the same code with
// one group, so one group's page and a listing never disagree.
//
// A group's refusal (GROUP_AUTHORIZATION_FAILED, GROUP_ID_NOT_FOUND) is its
// own: it does not fail the other groups of its coordinator, as it would
// in kadm's batch calls, which give up a whole broker's answer on the first
// authorization error.

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// describing is a group being described: its description so far and the
// partitions its lag covers (assigned, targeted, of subscribed topics;
// committed ones are added when the commits are known).
type describing struct {
	d   GroupDescription
	set kadm.TopicsSet
}

// DescribeGroups describes groups as a listing returned them (the type
// picks the request: "" is classic, as before Kafka 3.8) and returns one
// description per group, in the order given. A group that could not be
// described has Err set (a *GroupError where the cluster refused it) and
// no other field but Group and Type. With offsets false the commits and
// lag are not asked: Offsets and Shares are empty.
func (a *Admin) DescribeGroups(ctx context.Context, groups []GroupSummary, offsets bool) []GroupDescription {
	out := make([]GroupDescription, len(groups))
	byType := make(map[string][]string)
	for i, g := range groups {
		typ := g.Type
		if typ == "" {
			typ = "classic"
		}
		out[i] = GroupDescription{Group: g.Group, Type: typ, Epoch: -1, AssignmentEpoch: -1}
		switch typ {
		case "classic", "consumer", "share":
			byType[typ] = append(byType[typ], g.Group)
		default:
			out[i].Err = fmt.Errorf("describe group %s: it is a %s group, which this tool does not describe", g.Group, typ)
		}
	}
	got := make(map[string]*describing)
	names := &topicNamer{a: a}
	a.describeClassic(ctx, uniq(byType["classic"]), got)
	a.describeNew(ctx, "consumer", uniq(byType["consumer"]), names, got)
	a.describeNew(ctx, "share", uniq(byType["share"]), names, got)
	if offsets {
		a.describeOffsets(ctx, got, names)
	}
	for i := range out {
		if out[i].Err != nil {
			continue
		}
		x, ok := got[out[i].Group]
		if !ok || x.d.Type != out[i].Type {
			out[i].Err = fmt.Errorf("describe group %s: the cluster's response did not mention the group", out[i].Group)
			continue
		}
		out[i] = x.d
	}
	return out
}

// failed is a group whose request failed with err.
func failed(group, typ string, err error) *describing {
	return &describing{d: GroupDescription{Group: group, Type: typ, Epoch: -1, AssignmentEpoch: -1, Err: groupErr("describe", group, err, "")}}
}

// shardGroups returns the groups a shard of a sharded request carried, or
// all of them when the request failed before it was split.
func shardGroups(req kmsg.Request, all []string) []string {
	switch r := req.(type) {
	case *kmsg.DescribeGroupsRequest:
		return r.Groups
	case *kmsg.ConsumerGroupDescribeRequest:
		return r.Groups
	case *kmsg.ShareGroupDescribeRequest:
		return r.GroupIDs
	case *kmsg.DescribeShareGroupOffsetsRequest:
		gs := make([]string, len(r.Groups))
		for i, g := range r.Groups {
			gs[i] = g.GroupID
		}
		return gs
	}
	return all
}

// describeClassic describes classic groups (DescribeGroups, one request per
// coordinator) into got.
func (a *Admin) describeClassic(ctx context.Context, groups []string, got map[string]*describing) {
	if len(groups) == 0 {
		return
	}
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = groups
	for _, shard := range a.cl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			for _, g := range shardGroups(shard.Req, groups) {
				got[g] = failed(g, "classic", shard.Err)
			}
			continue
		}
		coord := coordinator(shard.Meta)
		for _, rg := range shard.Resp.(*kmsg.DescribeGroupsResponse).Groups {
			got[rg.Group] = classicDescription(rg, coord)
		}
	}
}

// classicDescription reads one group of a DescribeGroups response,
// answered by coordinator coord.
func classicDescription(rg kmsg.DescribeGroupsResponseGroup, coord string) *describing {
	x := &describing{d: GroupDescription{
		Group:           rg.Group,
		Type:            "classic",
		Coordinator:     coord,
		State:           rg.State,
		ProtocolType:    rg.ProtocolType,
		Protocol:        rg.Protocol,
		Epoch:           -1,
		AssignmentEpoch: -1,
	}, set: make(kadm.TopicsSet)}
	if x.d.Err = groupErr("describe", rg.Group, kerr.ErrorForCode(rg.ErrorCode), deref(rg.ErrorMessage)); x.d.Err != nil {
		return x
	}
	if rg.State == "Dead" {
		// Brokers before KIP-1043 answer an unknown group with Dead.
		x.d.Err = groupErr("describe", rg.Group, kerr.GroupIDNotFound, "")
		return x
	}
	for _, m := range rg.Members {
		gm := GroupMember{MemberID: m.MemberID, InstanceID: deref(m.InstanceID), ClientID: m.ClientID, Host: m.ClientHost, Epoch: -1}
		if rg.ProtocolType == "consumer" {
			// A member's assignment is empty while the group
			// rebalances: it then has no partitions.
			var as kmsg.ConsumerMemberAssignment
			if as.ReadFrom(m.MemberAssignment) == nil {
				assigned := make(kadm.TopicsSet)
				for _, t := range as.Topics {
					assigned.Add(t.Topic, t.Partitions...)
				}
				gm.Assigned = partitionsOf(assigned)
				x.set.Merge(assigned)
			}
			var md kmsg.ConsumerMemberMetadata
			if md.ReadFrom(m.ProtocolMetadata) == nil {
				x.set.MergeTopics(md.Topics)
			}
		}
		x.d.Members = append(x.d.Members, gm)
	}
	sortMembers(x.d.Members)
	return x
}

// describeNew describes consumer (KIP-848) or share (KIP-932) groups, one
// request per coordinator, into got.
func (a *Admin) describeNew(ctx context.Context, typ string, groups []string, names *topicNamer, got map[string]*describing) {
	if len(groups) == 0 {
		return
	}
	var (
		req kmsg.Request
		api string
	)
	if typ == "consumer" {
		r := kmsg.NewPtrConsumerGroupDescribeRequest()
		r.Groups, req, api = groups, r, "ConsumerGroupDescribe"
	} else {
		r := kmsg.NewPtrShareGroupDescribeRequest()
		r.GroupIDs, req, api = groups, r, "ShareGroupDescribe"
	}
	for _, shard := range a.cl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			for _, g := range shardGroups(shard.Req, groups) {
				got[g] = failed(g, typ, optionalErr(api, shard.Err))
			}
			continue
		}
		coord := coordinator(shard.Meta)
		switch resp := shard.Resp.(type) {
		case *kmsg.ConsumerGroupDescribeResponse:
			for _, rg := range resp.Groups {
				got[rg.Group] = consumerDescription(ctx, rg, coord, names)
			}
		case *kmsg.ShareGroupDescribeResponse:
			for _, rg := range resp.Groups {
				got[rg.GroupID] = shareDescription(ctx, rg, coord, names)
			}
		}
	}
}

// describeOffsets adds to every described group its committed offsets and
// lag (classic and consumer groups) or its share-partitions (share
// groups): one OffsetFetch and one DescribeShareGroupOffsets per
// coordinator, one listing of the start and end offsets of all their
// topics.
func (a *Admin) describeOffsets(ctx context.Context, got map[string]*describing, names *topicNamer) {
	var committing, sharing []string
	for g, x := range got {
		switch {
		case x.d.Err != nil:
		case x.d.Type == "share":
			sharing = append(sharing, g)
		default:
			committing = append(committing, g)
		}
	}
	sort.Strings(committing)
	sort.Strings(sharing)
	commits := a.adm.FetchManyOffsets(ctx, committing...)
	states, stateErrs := a.shareStates(ctx, sharing, names)
	union := make(kadm.TopicsSet)
	for _, g := range committing {
		if r, ok := commits[g]; ok && r.Err == nil {
			got[g].set.Merge(r.Fetched.Partitions())
		}
		mergeAll(union, got[g].set)
	}
	for _, g := range sharing {
		for t, ps := range states[g] {
			for p := range ps {
				got[g].set.Add(t, p)
			}
		}
		mergeAll(union, got[g].set)
	}
	starts, ends, listErr := a.listStartEnd(ctx, union)
	for _, g := range committing {
		x := got[g]
		r, ok := commits[g]
		switch {
		case !ok:
			x.d.OffsetsErr = errors.New("fetch committed offsets: the cluster's response did not mention the group")
		case r.Err != nil:
			x.d.OffsetsErr = fmt.Errorf("fetch committed offsets: %w", r.Err)
		default:
			x.d.Offsets, x.d.OffsetsErr = offsetsOf(x.set, r.Fetched, starts, ends, ownersOf(x.d.Members)), listErr
		}
	}
	for _, g := range sharing {
		x := got[g]
		x.d.Shares = shareOffsetsOf(states[g], x.d.Members, ends)
		x.d.OffsetsErr = errors.Join(stateErrs[g], listErr)
	}
}

// shareStates asks DescribeShareGroupOffsets (one request per coordinator)
// the state of every share-partition of the share groups: by group, topic
// and partition, and the error of each group that could not be asked.
func (a *Admin) shareStates(ctx context.Context, groups []string, names *topicNamer) (map[string]map[string]map[int32]shareState, map[string]error) {
	states := make(map[string]map[string]map[int32]shareState)
	errs := make(map[string]error)
	if len(groups) == 0 {
		return states, errs
	}
	req := kmsg.NewPtrDescribeShareGroupOffsetsRequest()
	for _, g := range groups {
		rg := kmsg.NewDescribeShareGroupOffsetsRequestGroup()
		rg.GroupID = g // no topics: every topic the group has state for
		req.Groups = append(req.Groups, rg)
	}
	fail := func(g string, err error) {
		errs[g] = fmt.Errorf("describe share-group offsets: %w", err)
	}
	for _, shard := range a.cl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			for _, g := range shardGroups(shard.Req, groups) {
				fail(g, optionalErr("DescribeShareGroupOffsets", shard.Err))
			}
			continue
		}
		resp := shard.Resp.(*kmsg.DescribeShareGroupOffsetsResponse)
		for _, rg := range resp.Groups {
			if err := kerr.ErrorForCode(rg.ErrorCode); err != nil {
				fail(rg.GroupID, err)
				continue
			}
			byTopic := make(map[string]map[int32]shareState)
			for _, rt := range rg.Topics {
				t := names.name(ctx, rt.Topic, rt.TopicID)
				if byTopic[t] == nil {
					byTopic[t] = make(map[int32]shareState)
				}
				for _, rp := range rt.Partitions {
					byTopic[t][rp.Partition] = shareState{start: rp.StartOffset, lag: rp.Lag, err: kerr.ErrorForCode(rp.ErrorCode)}
				}
			}
			states[rg.GroupID] = byTopic
		}
	}
	for _, g := range groups {
		if _, ok := states[g]; !ok && errs[g] == nil {
			fail(g, errors.New("the cluster's response did not mention the group"))
		}
	}
	return states, errs
}

// mergeAll adds every topic and partition of src to dst, topics without
// partitions (subscribed, all their partitions meant) included.
func mergeAll(dst, src kadm.TopicsSet) {
	for t, ps := range src {
		dst.Add(t)
		for p := range ps {
			dst.Add(t, p)
		}
	}
}

// uniq returns ss without repeats, in order.
func uniq(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
