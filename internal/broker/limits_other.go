//go:build !unix

package broker

// defaultMaxPartitions is a fixed default where no open-file limit can be
// read.
func defaultMaxPartitions() int { return fallbackMaxPartitions }

// segmentFileCacheSize is a fixed cache size where no limit can be read.
func segmentFileCacheSize() int { return 1024 }
