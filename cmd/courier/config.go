package main

// config.go wires `courier config` (describe, set, delete the configs of
// a broker, of the cluster-wide broker defaults, or of a broker's
// loggers) and the change flags `courier topic alter-config` shares, to
// package ctl.

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// configChangeFlags are a config change's flags.
type configChangeFlags struct {
	set, del, appendTo, subtract []string
}

func (f *configChangeFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.set, "set", nil, "set a config: key=value, repeatable")
	fl.StringArrayVar(&f.del, "delete", nil, "delete a config (back to its default): key, repeatable")
	fl.StringArrayVar(&f.appendTo, "append", nil, "add values to a list config: key=v1,v2, repeatable")
	fl.StringArrayVar(&f.subtract, "subtract", nil, "remove values from a list config: key=v1,v2, repeatable")
}

func (f *configChangeFlags) ops() ([]kadm.AlterConfig, error) {
	return ctl.ParseConfigOps(f.set, f.del, f.appendTo, f.subtract)
}

// configTargetFlags choose the resource of `courier config`.
type configTargetFlags struct {
	broker, logger int32
	brokerDefault  bool
	group          string
}

func (f *configTargetFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.Int32Var(&f.broker, "broker", -1, "the configs of the broker with this id")
	fl.BoolVar(&f.brokerDefault, "broker-default", false, "the cluster-wide broker defaults (dynamic configs every broker and topic without its own value uses)")
	fl.Int32Var(&f.logger, "broker-logger", -1, "the loggers of the broker with this id (levels TRACE, DEBUG, INFO, WARN, ERROR, FATAL)")
	fl.StringVar(&f.group, "group", "", "the configs of this group (share.auto.offset.reset, share.delivery.count.limit, share.record.lock.duration.ms, ...)")
}

func (f *configTargetFlags) resource() (ctl.ConfigResource, error) {
	var (
		n int
		r ctl.ConfigResource
	)
	if f.broker >= 0 {
		n++
		r = ctl.ConfigResource{Type: kmsg.ConfigResourceTypeBroker, Name: strconv.Itoa(int(f.broker))}
	}
	if f.brokerDefault {
		n++
		r = ctl.ConfigResource{Type: kmsg.ConfigResourceTypeBroker}
	}
	if f.logger >= 0 {
		n++
		r = ctl.ConfigResource{Type: kmsg.ConfigResourceTypeBrokerLogger, Name: strconv.Itoa(int(f.logger))}
	}
	if f.group != "" {
		n++
		r = ctl.ConfigResource{Type: kmsg.ConfigResourceTypeGroupConfig, Name: f.group}
	}
	if n != 1 {
		return r, errors.New("give exactly one of --broker ID, --broker-default, --broker-logger ID and --group GROUP")
	}
	return r, nil
}

// newConfigCommand returns `courier config`.
func newConfigCommand() *cobra.Command {
	cmd := parentCommand(&cobra.Command{
		Use:   "config",
		Short: "Describe and change broker configs, cluster-wide broker defaults, broker log levels and group configs",
		Long: "Describe and change the configs of a broker (--broker ID), the cluster-wide\n" +
			"broker defaults (--broker-default: log.retention.ms, log.cleanup.policy, ... that\n" +
			"every topic without its own value uses), a broker's loggers (--broker-logger ID)\n" +
			"and a group (--group GROUP: a share group's share.auto.offset.reset,\n" +
			"share.delivery.count.limit, share.record.lock.duration.ms, share.isolation.level).\n" +
			"Topic configs: courier topic describe / alter-config.",
	})
	cmd.AddCommand(newConfigDescribeCommand(), newConfigAlterCommand())
	return cmd
}

func newConfigDescribeCommand() *cobra.Command {
	var (
		cf clientFlags
		tf configTargetFlags
	)
	cmd := &cobra.Command{
		Use:   "describe",
		Short: "List the configs of a broker, of the cluster-wide defaults, a broker's loggers, or a group",
		Example: "  courier config describe --broker 1\n" +
			"  courier config describe --group workers\n" +
			"  courier config describe --broker-default\n" +
			"  courier config describe --broker-logger 1",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := tf.resource()
			if err != nil {
				return err
			}
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				es, err := a.DescribeConfigs(ctx, r)
				if err != nil {
					return err
				}
				return ctl.WriteConfigs(cmd.OutOrStdout(), es)
			})
		},
	}
	cf.registerTool(cmd)
	tf.register(cmd)
	return cmd
}

func newConfigAlterCommand() *cobra.Command {
	var (
		cf clientFlags
		tf configTargetFlags
		ch configChangeFlags
	)
	cmd := &cobra.Command{
		Use:   "alter",
		Short: "Set, delete, append to or subtract from broker configs, log levels or group configs",
		Long: "Change configs with IncrementalAlterConfigs; either every change applies or none.\n" +
			"A log level is set as LOGGER=LEVEL; --delete LOGGER returns it to the root's level.",
		Example: "  courier config alter --broker-default --set log.retention.ms=86400000\n" +
			"  courier config alter --broker-default --append log.cleanup.policy=compact\n" +
			"  courier config alter --broker-logger 1 --set courier.storage=DEBUG\n" +
			"  courier config alter --group workers --set share.auto.offset.reset=earliest",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := tf.resource()
			if err != nil {
				return err
			}
			ops, err := ch.ops()
			if err != nil {
				return err
			}
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				if err := a.AlterConfigs(ctx, r, ops); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "altered configs of %s\n", r)
				return nil
			})
		},
	}
	cf.registerTool(cmd)
	tf.register(cmd)
	ch.register(cmd)
	return cmd
}
