package chaos

// filler_test.go fills the tmpfs: a disk-full episode is a filler file
// that takes every free byte, topped up while the episode lasts (the
// broker frees a little whenever it cuts back a failed write), then
// removed.

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// fillChunks are the write sizes tried in turn: big ones fill fast, the
// last one takes the final pages.
var fillChunks = []int{1 << 20, 64 << 10, 4 << 10}

// filler is the file that fills the disk.
type filler struct {
	path  string
	limit int64 // the filesystem's size: no fill can write more
	f     *os.File
	size  int64
	zeros []byte
}

// newFiller creates the filler file at path on a filesystem of limit
// bytes; topUp fills it.
func newFiller(path string, limit int64) (*filler, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create filler: %w", err)
	}
	return &filler{path: path, limit: limit, f: f, zeros: make([]byte, fillChunks[0])}, nil
}

// topUp appends to the filler until the filesystem refuses even the
// smallest chunk with ENOSPC, and returns how many bytes it added. Each
// chunk size is tried at most limit/size times, so the loop ends even if
// someone frees space as fast as it is taken. Any error but ENOSPC is
// returned.
func (fl *filler) topUp() (int64, error) {
	var added int64
	for _, chunk := range fillChunks {
		for range fl.limit/int64(chunk) + 1 {
			n, err := fl.f.Write(fl.zeros[:chunk])
			added += int64(n)
			fl.size += int64(n)
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			if err != nil {
				return added, fmt.Errorf("fill %s: %w", fl.path, err)
			}
		}
	}
	return added, nil
}

// remove deletes the filler, giving its space back.
func (fl *filler) remove() error {
	cerr := fl.f.Close()
	if err := os.Remove(fl.path); err != nil {
		return fmt.Errorf("remove filler: %w", err)
	}
	if cerr != nil && !errors.Is(cerr, syscall.ENOSPC) {
		return fmt.Errorf("close filler: %w", cerr)
	}
	return nil
}
