package webconsole

// msgfilter.go holds the message filters of the browse, search and live
// tail endpoints: key and value (a substring, or an RE2 regular expression),
// and a header (its name, and optionally a substring of its value). They
// match raw bytes, so binary keys and values can be searched too.

import (
	"bytes"
	"net/url"
	"regexp"

	"github.com/twmb/franz-go/pkg/kgo"
)

// maxPatternLen bounds a filter's pattern: RE2 runs in linear time, but a
// huge pattern still costs memory for every request.
const maxPatternLen = 4096

// matcher matches bytes against a substring or a regular expression.
type matcher struct {
	sub []byte
	re  *regexp.Regexp
}

// match reports whether b matches.
func (m *matcher) match(b []byte) bool {
	if m.re != nil {
		return m.re.Match(b)
	}
	return bytes.Contains(b, m.sub)
}

// msgFilter is a record filter; nil fields match anything.
type msgFilter struct {
	key, value  *matcher
	header      string
	hasHeader   bool
	headerValue *matcher
}

// newMatcher parses one filter's pattern: param is its name for errors.
func newMatcher(param, pattern string, regex bool) (*matcher, error) {
	if pattern == "" {
		return nil, nil
	}
	if len(pattern) > maxPatternLen {
		return nil, badRequest("%s: pattern longer than %d bytes", param, maxPatternLen)
	}
	if !regex {
		return &matcher{sub: []byte(pattern)}, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, badRequest("%s: not a regular expression (RE2 syntax): %v", param, err)
	}
	return &matcher{re: re}, nil
}

// parseFilter reads the filters of a request's query: key, key_regex,
// value, value_regex, header, header_value.
func parseFilter(q url.Values) (*msgFilter, error) {
	f := &msgFilter{}
	var err error
	if f.key, err = newMatcher("key", q.Get("key"), isTrue(q.Get("key_regex"))); err != nil {
		return nil, err
	}
	if f.value, err = newMatcher("value", q.Get("value"), isTrue(q.Get("value_regex"))); err != nil {
		return nil, err
	}
	f.header = q.Get("header")
	f.hasHeader = f.header != ""
	if f.headerValue, err = newMatcher("header_value", q.Get("header_value"), false); err != nil {
		return nil, err
	}
	if f.headerValue != nil && !f.hasHeader {
		return nil, badRequest("header_value needs header (the header's name)")
	}
	return f, nil
}

// isTrue reads a boolean query parameter.
func isTrue(s string) bool { return s == "1" || s == "true" || s == "on" }

// active reports whether the filter can reject anything.
func (f *msgFilter) active() bool {
	return f.key != nil || f.value != nil || f.hasHeader
}

// match reports whether r passes the filter. A null key or value matches
// no key or value pattern.
func (f *msgFilter) match(r *kgo.Record) bool {
	if f.key != nil && (r.Key == nil || !f.key.match(r.Key)) {
		return false
	}
	if f.value != nil && (r.Value == nil || !f.value.match(r.Value)) {
		return false
	}
	if f.hasHeader {
		for _, h := range r.Headers {
			if h.Key == f.header && (f.headerValue == nil || f.headerValue.match(h.Value)) {
				return true
			}
		}
		return false
	}
	return true
}
