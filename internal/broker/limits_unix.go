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
	if n := fileLimit(); n > 0 {
		return partitionsForFileLimit(n)
	}
	return fallbackMaxPartitions
}

// segmentFileCacheSize is the share of the open-file limit given to
// sealed segments' files.
func segmentFileCacheSize() int {
	if n := fileLimit(); n > 0 {
		return int(fileReserve(n))
	}
	return 1024
}

// fileLimit is the soft open-file limit, or 0 if unknown.
func fileLimit() int64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return int64(min(lim.Cur, 1<<30))
}
