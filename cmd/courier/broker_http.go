package main

// broker_http.go wires `courier broker`'s HTTP port flags (--pprof,
// --http-auth-token, --http-basic-auth) to run.Config. The credentials are
// better given as COURIER_HTTP_AUTH_TOKEN and COURIER_HTTP_BASIC_AUTH
// (env.go), which other users of the machine cannot read from ps.

import (
	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/spf13/pflag"
)

// addHTTPFlags declares the flags; httpFlags applies them.
func addHTTPFlags(f *pflag.FlagSet, cfg *run.Config, basic *string) {
	f.BoolVar(&cfg.PProf, "pprof", false, "serve /debug/pprof (CPU and heap profiles) on --http-addr; protect the port if it is not loopback")
	f.StringVar(&cfg.HTTPAuth.Token, "http-auth-token", "", "bearer token the HTTP port requires on every path but /healthz (at least 16 characters; prefer the environment: COURIER_HTTP_AUTH_TOKEN)")
	f.StringVar(basic, "http-basic-auth", "", "user:password the HTTP port accepts as basic auth on every path but /healthz (prefer the environment: COURIER_HTTP_BASIC_AUTH)")
}

// httpFlags parses --http-basic-auth into cfg and checks the credentials.
func httpFlags(cfg *run.Config, basic string) error {
	if basic != "" {
		user, pass, err := run.ParseBasicAuth(basic)
		if err != nil {
			return err
		}
		cfg.HTTPAuth.BasicUser, cfg.HTTPAuth.BasicPassword = user, pass
	}
	return cfg.HTTPAuth.Validate()
}
