// Package simulate generates the traffic of the seed: riders moving along
// the streets of a city and reporting their positions at a target rate, to
// the broker (through package publish), to the HTTP gateway, or straight to
// the database one INSERT at a time (the "before" picture).
//
// The streets are a synthetic network drawn inside the city's box (Streets);
// riders drive along them at 5 to 12 m/s and turn at intersections. Reports
// are paced to the target rate and published in batches by a fixed number of
// goroutines, so a slow target lowers the achieved rate instead of losing
// updates, and generation costs no allocation per update.
package simulate
