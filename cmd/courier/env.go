package main

// env.go maps every flag to a COURIER_* environment variable so that a
// deployment can be configured without a command line: --data becomes
// COURIER_DATA, --fsync-interval COURIER_FSYNC_INTERVAL. A flag given on
// the command line wins over the variable.

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envName returns the environment variable that sets flag name.
func envName(name string) string {
	return "COURIER_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// applyEnv sets every flag of cmd not given on the command line from its
// COURIER_* variable, if present.
func applyEnv(cmd *cobra.Command) error {
	var firstErr error
	visit := func(f *pflag.Flag) {
		if f.Changed || firstErr != nil {
			return
		}
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok {
			return
		}
		if err := f.Value.Set(v); err != nil {
			firstErr = fmt.Errorf("environment %s=%q: %w", envName(f.Name), v, err)
			return
		}
		f.Changed = true
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	return firstErr
}
