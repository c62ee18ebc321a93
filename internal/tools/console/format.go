package console

// format.go is the little language --format uses to print a record:
//
//	%t topic   %p partition   %o offset   %k key   %v value
//	%T timestamp (Unix milliseconds)   %h headers as k=v,k=v   %% a percent sign
//	%d delivery count (share groups: 1 on first delivery, more when the
//	   record comes back after a release or a lapsed lock; 0 otherwise)
//	\n newline   \t tab   \r carriage return   \\ a backslash
//
// Anything else is copied as is. Keys, values and headers are written as
// raw bytes, unquoted; a null key or value prints as nothing.

import (
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultFormat prints each record's value on a line of its own.
const DefaultFormat = `%v\n`

// Format is a parsed --format template. The zero Format prints nothing.
type Format struct {
	parts []part
}

// part is either literal bytes (verb 0) or one record field.
type part struct {
	verb byte
	lit  []byte
}

// ParseFormat parses a template; it fails on an unknown %-verb or
// \-escape, or a template ending in a lone '%' or '\'.
func ParseFormat(s string) (*Format, error) {
	f := &Format{}
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			f.parts = append(f.parts, part{lit: lit})
			lit = nil
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' && c != '\\' {
			lit = append(lit, c)
			continue
		}
		if i+1 == len(s) {
			return nil, fmt.Errorf("format %q: ends in a lone %q", s, c)
		}
		i++
		n := s[i]
		if c == '\\' {
			switch n {
			case 'n':
				lit = append(lit, '\n')
			case 't':
				lit = append(lit, '\t')
			case 'r':
				lit = append(lit, '\r')
			case '\\':
				lit = append(lit, '\\')
			default:
				return nil, fmt.Errorf("format %q: unknown escape \\%c (want \\n, \\t, \\r or \\\\)", s, n)
			}
			continue
		}
		switch n {
		case '%':
			lit = append(lit, '%')
		case 't', 'p', 'o', 'k', 'v', 'T', 'h', 'd':
			flush()
			f.parts = append(f.parts, part{verb: n})
		default:
			return nil, fmt.Errorf("format %q: unknown verb %%%c (want %%t %%p %%o %%k %%v %%T %%h %%d or %%%%)", s, n)
		}
	}
	flush()
	return f, nil
}

// Append appends r rendered through the format to dst and returns it.
func (f *Format) Append(dst []byte, r *kgo.Record) []byte {
	for _, p := range f.parts {
		switch p.verb {
		case 0:
			dst = append(dst, p.lit...)
		case 't':
			dst = append(dst, r.Topic...)
		case 'p':
			dst = strconv.AppendInt(dst, int64(r.Partition), 10)
		case 'o':
			dst = strconv.AppendInt(dst, r.Offset, 10)
		case 'k':
			dst = append(dst, r.Key...)
		case 'v':
			dst = append(dst, r.Value...)
		case 'T':
			dst = strconv.AppendInt(dst, r.Timestamp.UnixMilli(), 10)
		case 'd':
			dst = strconv.AppendInt(dst, int64(r.DeliveryCount()), 10)
		case 'h':
			for i, h := range r.Headers {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, h.Key...)
				dst = append(dst, '=')
				dst = append(dst, h.Value...)
			}
		}
	}
	return dst
}
