package main

// broker_http_test.go: the HTTP port's credential flags, and their
// COURIER_* variables, are checked before the broker starts.

import (
	"strings"
	"testing"
)

func TestBrokerHTTPFlagErrors(t *testing.T) {
	cases := []struct {
		env, val string // an environment variable to set, if any
		args     []string
		want     string
	}{
		{args: []string{"--http-basic-auth", "nocolon"}, want: "want user:password"},
		{args: []string{"--http-basic-auth", "user:"}, want: "want user:password"},
		{args: []string{"--http-auth-token", "short"}, want: "--http-auth-token: 5 characters"},
		{env: "COURIER_HTTP_AUTH_TOKEN", val: "short", want: "--http-auth-token: 5 characters"},
		{env: "COURIER_HTTP_BASIC_AUTH", val: ":pw", want: "--http-basic-auth"},
		{args: []string{"--http-addr", "", "--pprof"}, want: "need an HTTP port"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			if c.env != "" {
				t.Setenv(c.env, c.val) // undone when the subtest ends
			}
			args := append([]string{"broker", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--console-addr", ""}, c.args...)
			_, _, err := execCourier(t, "", args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("courier %v (env %s=%q): err %v, want it to mention %q", args, c.env, c.val, err, c.want)
			}
		})
	}
}
