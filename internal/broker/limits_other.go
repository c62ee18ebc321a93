//go:build !unix

package broker

// defaultMaxPartitions is a fixed default where no open-file limit can be
// read.
func defaultMaxPartitions() int { return fallbackMaxPartitions }
