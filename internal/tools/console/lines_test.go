package console

// lines_test.go checks line splitting: only '\n' separates, every other
// byte survives, and the length limit is exact.

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll returns every line of in, copied.
func readAll(in io.Reader, max int) ([]string, error) {
	lr := NewLineReader(in, max)
	var out []string
	for {
		l, ok := lr.Next()
		if !ok {
			return out, lr.Err()
		}
		out = append(out, string(l))
	}
}

func TestLineReader(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"\n", []string{""}},
		{"a", []string{"a"}},
		{"a\n", []string{"a"}},
		{"a\nb", []string{"a", "b"}},
		{"a\n\nb\n\n", []string{"a", "", "b", ""}},
		{"crlf\r\n\r\n", []string{"crlf\r", "\r"}},
		{"tab\there\x00nul\n", []string{"tab\there\x00nul"}},
		{"sixteen-bytes-xx\n12345\n", []string{"sixteen-bytes-xx", "12345"}},
	} {
		for name, r := range map[string]io.Reader{
			"whole":    strings.NewReader(tc.in),
			"bytewise": iotest.OneByteReader(strings.NewReader(tc.in)),
		} {
			got, err := readAll(r, 16)
			if err != nil {
				t.Errorf("%q %s: %v", tc.in, name, err)
				continue
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Errorf("%q %s: got %q, want %q", tc.in, name, got, tc.want)
			}
		}
	}
}

func TestLineReaderLimit(t *testing.T) {
	for _, tc := range []struct {
		in       string
		wantOK   []string
		wantLine string
	}{
		{"1234\n12345\n", []string{"1234"}, "line 2"},
		{"12345", nil, "line 1"},                         // no newline at EOF
		{"ok\n123456789012\n", []string{"ok"}, "line 2"}, // far over, fills the buffer
	} {
		got, err := readAll(iotest.HalfReader(strings.NewReader(tc.in)), 4)
		if !errors.Is(err, ErrLineTooLong) || !strings.Contains(err.Error(), tc.wantLine) {
			t.Errorf("%q: err %v, want ErrLineTooLong at %s", tc.in, err, tc.wantLine)
		}
		if strings.Join(got, "|") != strings.Join(tc.wantOK, "|") {
			t.Errorf("%q: lines before the error %q, want %q", tc.in, got, tc.wantOK)
		}
	}

	// A line of exactly the limit passes, with and without a newline.
	long := strings.Repeat("x", 1<<20)
	for _, in := range []string{long, long + "\n" + long + "\n"} {
		got, err := readAll(strings.NewReader(in), 1<<20)
		if err != nil || len(got) == 0 || got[0] != long {
			t.Errorf("1 MiB line: %d lines, %v", len(got), err)
		}
	}

	errRead := errors.New("disk on fire")
	_, err := readAll(iotest.ErrReader(errRead), 10)
	if !errors.Is(err, errRead) {
		t.Errorf("read error: %v", err)
	}
}
