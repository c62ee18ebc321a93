//go:build unix

package broker

// limits_unix.go derives the default partition limit from the process's
// open-file limit.

import "syscall"

// defaultMaxPartitions is how many partitions fit in the open-file limit
// (which Go raises to the hard limit at start): each partition keeps its
// active segment open, and the rest of the budget is left to client
// connections and to the cache of closed segments' files (each an eighth,
// at most 1024).
func defaultMaxPartitions() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur <= 0 {
		return fallbackMaxPartitions
	}
	return partitionsForFileLimit(int64(min(lim.Cur, 1<<30)))
}
