package share

// durable.go is the durable state: the fold of every record replayed at
// Open and every record reported durable since, and the snapshot the
// journal is compacted (or repaired) from: one group record per group and
// one full partition record per share-partition. It lives apart from the
// live state so that a change the journal failed to store never reaches a
// snapshot.

// durable is the fold of the durable records.
type durable struct {
	groups map[string]*durableGroup
}

type durableGroup struct {
	parts map[TopicPartition]*durablePart
}

type durablePart struct {
	topic string
	p     *Partition
}

func newDurable() durable { return durable{groups: map[string]*durableGroup{}} }

// group returns a group, creating it: a partition record whose group
// record was lost to damage still says the group existed.
func (d *durable) group(id string) *durableGroup {
	g := d.groups[id]
	if g == nil {
		g = &durableGroup{parts: map[TopicPartition]*durablePart{}}
		d.groups[id] = g
	}
	return g
}

// apply folds one record in. An error leaves the state as it was.
func (d *durable) apply(r record) error {
	switch r.kind {
	case kindGroup:
		d.group(r.group)
	case kindGroupDelete:
		delete(d.groups, r.group)
	case kindPartitionDelete:
		if g := d.groups[r.group]; g != nil {
			delete(g.parts, r.tp)
		}
	case kindPartition:
		g := d.group(r.group)
		dp := g.parts[r.tp]
		if dp == nil {
			dp = &durablePart{p: &Partition{spso: r.delta.SPSO}}
			if err := dp.p.Apply(r.delta); err != nil {
				return err
			}
			dp.topic = r.topic
			g.parts[r.tp] = dp
			return nil
		}
		if err := dp.p.Apply(r.delta); err != nil {
			return err
		}
		dp.topic = r.topic
	}
	return nil
}

// snapshot writes records that rebuild the durable state from nothing.
func (d *durable) snapshot(add func(rec []byte)) error {
	for id, g := range d.groups {
		add(encodeGroup(id))
		for tp, dp := range g.parts {
			add(encodePartition(id, dp.topic, tp, dp.p.fullDelta()))
		}
	}
	return nil
}
