package console

// format_test.go checks the --format language: verbs, escapes and errors.

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestFormat(t *testing.T) {
	r := &kgo.Record{
		Topic: "rides", Partition: 3, Offset: 42, Key: []byte("k1"), Value: []byte("v 1"),
		Timestamp: time.UnixMilli(1700000000123),
		Headers:   []kgo.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("")}},
	}
	for _, tc := range []struct{ format, want string }{
		{DefaultFormat, "v 1\n"},
		{`%t %p %o %k %v %T`, "rides 3 42 k1 v 1 1700000000123"},
		{`%k\t%v\r\n`, "k1\tv 1\r\n"},
		{`100%% \\ %h`, `100% \ a=1,b=`},
		{`plain`, "plain"},
		{``, ""},
		{`%v%v`, "v 1v 1"},
		{`%o:%d`, "42:0"}, // a record from outside a share group was never delivered by one
	} {
		f, err := ParseFormat(tc.format)
		if err != nil {
			t.Errorf("ParseFormat(%q): %v", tc.format, err)
			continue
		}
		if got := string(f.Append([]byte("prefix:"), r)); got != "prefix:"+tc.want {
			t.Errorf("%q: got %q, want %q", tc.format, got, "prefix:"+tc.want)
		}
	}

	// A null key and value print as nothing.
	f, _ := ParseFormat(`[%k][%v][%h]`)
	if got := string(f.Append(nil, &kgo.Record{})); got != "[][][]" {
		t.Errorf("null record: %q", got)
	}

	for _, bad := range []string{`%x`, `%`, `abc\`, `\q`, `%v\`} {
		if _, err := ParseFormat(bad); err == nil {
			t.Errorf("ParseFormat(%q): no error", bad)
		}
	}
}
