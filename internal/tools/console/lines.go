package console

// lines.go splits input into lines with an upper bound on line length, so
// a runaway input cannot grow memory without limit.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxLineBytes is the default longest line accepted: 1 MiB.
const DefaultMaxLineBytes = 1 << 20

// ErrLineTooLong is wrapped by the error of a line over the limit.
var ErrLineTooLong = errors.New("line too long")

// LineReader reads '\n'-terminated lines. The final line need not end in a
// newline. Lines exclude the '\n' but keep every other byte, '\r' included.
type LineReader struct {
	sc   *bufio.Scanner
	max  int
	line int // lines returned so far
}

// NewLineReader returns a LineReader over r accepting lines of at most
// maxLineBytes bytes (DefaultMaxLineBytes if maxLineBytes <= 0).
func NewLineReader(r io.Reader, maxLineBytes int) *LineReader {
	if maxLineBytes <= 0 {
		maxLineBytes = DefaultMaxLineBytes
	}
	lr := &LineReader{sc: bufio.NewScanner(r), max: maxLineBytes}
	// The buffer must hold a whole line plus its '\n'.
	lr.sc.Buffer(make([]byte, 0, min(64<<10, maxLineBytes+1)), maxLineBytes+1)
	lr.sc.Split(lr.split)
	return lr
}

// split is a bufio.SplitFunc that cuts at '\n' only.
func (lr *LineReader) split(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		if i > lr.max {
			return 0, nil, bufio.ErrTooLong
		}
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		if len(data) > lr.max {
			return 0, nil, bufio.ErrTooLong
		}
		return len(data), data, nil
	}
	return 0, nil, nil
}

// Next returns the next line and true, or nil and false at the end of input
// or on error (see Err). The line is only valid until the next call.
func (lr *LineReader) Next() ([]byte, bool) {
	if !lr.sc.Scan() {
		return nil, false
	}
	lr.line++
	return lr.sc.Bytes(), true
}

// Line returns the number of lines returned so far.
func (lr *LineReader) Line() int { return lr.line }

// Err returns the error that ended the input, or nil at a clean end.
func (lr *LineReader) Err() error {
	err := lr.sc.Err()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bufio.ErrTooLong):
		return fmt.Errorf("line %d: %w: more than %d bytes", lr.line+1, ErrLineTooLong, lr.max)
	default:
		return fmt.Errorf("read line %d: %w", lr.line+1, err)
	}
}

// readValues reads lr on a goroutine of its own and sends every line, as a
// fresh non-nil slice, on values, which is closed at the end of input. A
// read that blocks (an idle terminal) so never holds up a caller watching
// ctx. done is closed when the reader has stopped; only then may lr's Err
// and Line be called. If ctx ends first, the goroutine stops after its
// current read returns.
func readValues(ctx context.Context, lr *LineReader) (values <-chan []byte, done <-chan struct{}) {
	vs := make(chan []byte, 64)
	d := make(chan struct{})
	go func() {
		defer close(d)
		defer close(vs)
		for {
			line, ok := lr.Next()
			if !ok {
				return
			}
			v := make([]byte, len(line)) // an empty line is an empty value, not a null one
			copy(v, line)
			select {
			case vs <- v:
			case <-ctx.Done():
				return
			}
		}
	}()
	return vs, d
}
