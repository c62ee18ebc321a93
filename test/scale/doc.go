// Package scale checks that the broker's costs grow linearly with the
// number of topics: creating thousands of topics, and starting again with
// them, through the real binary.
package scale
