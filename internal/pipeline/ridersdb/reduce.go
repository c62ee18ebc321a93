package ridersdb

// reduce.go keeps, of a batch, each rider's newest update: the only one
// rider_latest can take.

// newer reports whether a should replace b as a rider's latest location:
// a later ts wins, and on equal ts the higher (partition, leader epoch,
// offset), so that the result does not depend on the order writes arrive
// in. Within a partition, (epoch, offset) is the order records were
// written in, across a truncation too: a record written after the broker
// lost its tail may have a lower offset than a lost one, but a newer
// epoch. Records the log lost stay candidates (they were real fixes, and
// acknowledged), so rider_latest is the newest of rider_locations and
// rider_locations_truncated together, and moving a row aside leaves it be.
func newer(a, b *Update) bool {
	if !a.TS.Equal(b.TS) {
		return a.TS.After(b.TS)
	}
	if a.Partition != b.Partition {
		return a.Partition > b.Partition
	}
	if a.LeaderEpoch != b.LeaderEpoch {
		return a.LeaderEpoch > b.LeaderEpoch
	}
	return a.Offset > b.Offset
}

// newestPerRider returns pointers to each rider's newest update in us, in
// first-seen order.
func newestPerRider(us []Update) []*Update {
	idx := make(map[string]int, len(us)/2)
	out := make([]*Update, 0, len(us)/2)
	for i := range us {
		u := &us[i]
		j, ok := idx[u.RiderID]
		if !ok {
			idx[u.RiderID] = len(out)
			out = append(out, u)
			continue
		}
		if newer(u, out[j]) {
			out[j] = u
		}
	}
	return out
}
