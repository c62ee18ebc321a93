package journal

// json_test.go checks the shared JSON record encoding: what decodes, what
// is refused (unknown fields, trailing bytes, a second object, bad JSON),
// names that are empty or not UTF-8, and a fuzz target that nothing
// panics and whatever decodes encodes back to the same value.

import (
	"fmt"
	"strings"
	"testing"
)

// testBody is a record body of the shapes the coordinators use.
type testBody struct {
	Name   string     `json:"name"`
	N      int64      `json:"n,omitempty"`
	Ranges [][2]int64 `json:"ranges,omitempty"`
}

func TestDecodeJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" = refused
	}{
		{`{"name":"a","n":3}`, `{a 3 []}`},
		{`{"name":"a"}` + " \n\t", `{a 0 []}`},
		{`{"name":"a","ranges":[[1,2]]}`, `{a 0 [[1 2]]}`},
		{`{"name":"a","extra":1}`, ""},
		{`{"name":"a"} x`, ""},
		{`{"name":"a"}{"name":"b"}`, ""},
		{`{"name":`, ""},
		{`{"n":99999999999999999999}`, ""},
		{``, ""},
		{`[]`, ""},
	} {
		var got testBody
		err := DecodeJSON([]byte(tc.in), &got)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%q decoded as %+v, want refused", tc.in, got)
		case tc.want != "" && (err != nil || fmt.Sprint(got) != tc.want):
			t.Errorf("%q: %+v (%v), want %s", tc.in, got, err, tc.want)
		}
	}
	rec := EncodeJSON(7, testBody{Name: "x", N: -1})
	var back testBody
	if rec[0] != 7 || DecodeJSON(rec[1:], &back) != nil || back.Name != "x" || back.N != -1 {
		t.Fatalf("round trip of %q: %+v", rec, back)
	}
}

func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{{"group", true}, {"g\u00e9", true}, {"", false}, {"g\xff", false}, {strings.Repeat("x", 1000), true}} {
		if err := CheckName("group", tc.name); (err == nil) != tc.ok {
			t.Errorf("CheckName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"name":"a","n":3,"ranges":[[1,2]]}`))
	f.Add([]byte(`{"name":"\ud800"}`))
	f.Add([]byte(`{"name":"a"} `))
	f.Fuzz(func(t *testing.T, b []byte) {
		var v testBody
		if DecodeJSON(b, &v) != nil {
			return
		}
		var again testBody
		rec := EncodeJSON(1, v)
		if err := DecodeJSON(rec[1:], &again); err != nil || fmt.Sprint(again) != fmt.Sprint(v) {
			t.Fatalf("round trip of %+v: %+v (%v)", v, again, err)
		}
	})
}
