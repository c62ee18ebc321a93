package ridersdb

// reduce.go keeps, of a batch, each rider's newest update: the only one
// rider_latest can take.

// newer reports whether a should replace b as a rider's latest location:
// a later ts wins, and on equal ts the higher (partition, offset) wins, so
// the result does not depend on the order writes arrive in.
func newer(a, b *Update) bool {
	if !a.TS.Equal(b.TS) {
		return a.TS.After(b.TS)
	}
	if a.Partition != b.Partition {
		return a.Partition > b.Partition
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
