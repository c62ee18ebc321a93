// Package topics owns the broker's topic metadata: which topics exist, their
// ids, partition counts and configs. The metadata is one JSON file in the data
// directory, replaced atomically (write, fsync, rename, fsync directory) on
// every change, so a crash leaves either the old or the new state, never a
// mix. The partition logs themselves belong to package storage.
package topics
