package main

// errors.go is how every courier command reports failure, in one place:
// one line on stderr, "courier: " and what failed, no Go stack, exit
// status 1. Errors of the command line itself (a flag, an argument, a
// missing required flag) name the subcommand; errors of a command's work
// name what they were doing ("create topic x: ...") themselves.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// execute runs the command line args on root (newRootCommand) and returns
// the exit status: 0, or 1 after writing one line describing the failure to
// stderr.
func execute(ctx context.Context, root *cobra.Command, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		// A panic is a bug; it still gets one line, not a stack dump
		// (goroutines other than this one are not covered).
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "courier: internal error: %s (a bug in courier; please report it with the command line)\n", oneLine(fmt.Sprint(p)))
			code = 1
		}
	}()
	markRunErrors(root)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "courier: "+describe(root, cmd, err))
	return 1
}

// describe renders err, returned by cmd, as one line: an error of the
// command line is prefixed with the subcommand's name.
func describe(root, cmd *cobra.Command, err error) string {
	msg := oneLine(err.Error())
	var re *runError
	if cmd != nil && cmd != root && !errors.As(err, &re) {
		msg = commandName(cmd) + ": " + msg
	}
	return msg
}

// runError marks an error returned by a command's RunE: the command's work
// failed, and the error says what it was doing.
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// markRunErrors wraps the RunE of cmd and its subcommands so that their
// errors are told from cobra's own (flags, arguments).
func markRunErrors(cmd *cobra.Command) {
	if next := cmd.RunE; next != nil {
		cmd.RunE = func(c *cobra.Command, args []string) error {
			if err := next(c, args); err != nil {
				return &runError{err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		markRunErrors(sub)
	}
}

// oneLine joins the lines of a message (errors.Join puts each error on a
// line of its own) with "; ".
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

// commandName is cmd's path without the binary's name: "topic create".
func commandName(cmd *cobra.Command) string {
	name := cmd.CommandPath()
	if cmd.HasParent() {
		name = strings.TrimPrefix(name, cmd.Root().Name()+" ")
	}
	return name
}

// parentCommand makes cmd, a command of subcommands, refuse an unknown
// subcommand (cobra would print the help and exit 0, as if all went well)
// and print its help when given none.
func parentCommand(cmd *cobra.Command) *cobra.Command {
	cmd.Args = func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("unknown command %q", args[0])
		}
		return nil
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	return cmd
}
