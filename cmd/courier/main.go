// Command courier is Courier's single binary: the Kafka-compatible broker and
// the tools around it. This package only wires command-line flags (and their
// COURIER_* environment equivalents) to the packages that do the work.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"
)

// version is Courier's version: set at build time with
// -ldflags "-X main.version=v1.2.3", else the module's version as the Go
// toolchain recorded it (versionOf).
var version = ""

// main runs the command until it ends or a stop signal arrives. SIGTERM
// (how systemd, Docker and Kubernetes stop a process) is treated exactly
// as Ctrl-C (SIGINT): the command's context ends and it stops in order,
// writing and committing what it holds. A second signal, once the first
// was caught, ends the process at once (the default action), for when an
// orderly stop hangs.
func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	code := execute(ctx, newRootCommand(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// newRootCommand assembles every subcommand.
func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "courier",
		Version:       versionOf(),
		Short:         "Courier: a single-binary, Kafka-compatible event streaming system",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyEnv(cmd)
		},
	}
	root.AddCommand(
		newBrokerCommand(),
		newTopicCommand(),
		newConfigCommand(),
		newProduceCommand(),
		newConsumeCommand(),
		newGroupCommand(),
		newTxnCommand(),
		newBenchCommand(),
	)
	root.AddCommand(newGatewayCommand())
	root.AddCommand(newSimulateCommand())
	root.AddCommand(newSinkCommand())
	root.AddCommand(newDemoCommand())
	root.AddCommand(newUserCommand())
	root.AddCommand(newACLCommand())
	root.AddCommand(newConsoleCommand())
	return root
}

// versionOf returns version, or the main module's version from the build
// information (a tagged "go install" gives its tag; a source build
// "(devel)"), with the VCS revision when recorded.
func versionOf() string {
	if version != "" {
		return version
	}
	v := "(devel)"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}
