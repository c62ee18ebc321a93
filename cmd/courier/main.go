// Command courier is Courier's single binary: the Kafka-compatible broker and
// the tools around it. This package only wires command-line flags (and their
// COURIER_* environment equivalents) to the packages that do the work.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

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
	return root
}
