package main

// console_cmd.go is `courier console`: Courier Console against any Kafka
// cluster (Courier, Apache Kafka, Redpanda), reached with the usual client
// flags.

import (
	"fmt"
	"strings"
	"time"

	"github.com/courier-dev/courier/internal/tools/webconsole"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// newConsoleCommand returns `courier console`.
func newConsoleCommand() *cobra.Command {
	var (
		cf       clientFlags
		c        consoleFlags
		data     string
		logLevel string
		logFmt   string
	)
	cf.signIn = true
	c.addrFlag = "--addr"
	cmd := &cobra.Command{
		Use:   "console",
		Short: "Run Courier Console, the web console, against a Kafka cluster",
		Long: `Run Courier Console against any Kafka cluster: its pages and JSON API
(REST Proxy v3 paths where REST Proxy has them) on --addr.

On a cluster with SASL, give --sasl-mechanism: users sign in with their Kafka
user names and passwords, and the console talks to the cluster as each of
them, so the cluster's ACLs decide what each sees and may do. --sasl-user
(and COURIER_SASL_PASSWORD) are then the console's own identity, used for
background work (consumer-group lag history); without them there is no lag
history on a SASL cluster. On a cluster without SASL, --users gives console
accounts; without it there is no sign-in, and the console listens on
loopback only unless --insecure.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(cmd.ErrOrStderr(), logLevel, logFmt)
			if err != nil {
				return err
			}
			if c.addr == "" {
				return fmt.Errorf("--addr is empty: give the address to serve the console on")
			}
			wc, err := c.config(cf.saslMechanism != "", logger)
			if err != nil {
				return err
			}
			wc.DataDir = data
			if wc.Access, err = consoleAccess(&cf); err != nil {
				return err
			}
			if err := wc.Validate(); err != nil {
				return err
			}
			if _, err := cf.connect(cmd); err != nil {
				return err
			}
			if len(wc.Access.SASLMechanisms) > 0 && wc.Access.Service == nil {
				logger.Warn("console: no --sasl-user: the console has no identity of its own on this SASL cluster, so it keeps no consumer-group lag history")
			}
			ln, err := c.listen(wc)
			if err != nil {
				return err
			}
			s, err := webconsole.New(wc)
			if err != nil {
				ln.Close()
				return err
			}
			how := "no sign-in"
			switch {
			case len(wc.Access.SASLMechanisms) > 0:
				how = "sign in with your Kafka user name (" + wc.Access.SASLMechanisms[0] + ")"
			case len(wc.Users) > 0:
				how = fmt.Sprintf("sign in with one of the %d --users accounts", len(wc.Users))
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "courier console: open %s  (cluster %s; %s; Ctrl-C to stop)\n", consoleURL(ln, wc), cf.brokers, how)
			return s.Serve(cmd.Context(), ln)
		},
	}
	cf.registerTool(cmd)
	f := cmd.Flags()
	f.StringVar(&c.addr, "addr", defaultConsoleAddr, "address to serve the console on; a non-loopback address needs sign-in (--sasl-mechanism or --users) or --insecure")
	f.StringVar(&c.usersFile, "users", "", "file of console accounts, one name:password a line (mode 600), for a cluster without SASL")
	f.BoolVar(&c.insecure, "insecure", false, "allow a non-loopback --addr without sign-in (anyone who reaches it can do anything the cluster allows anonymous clients)")
	f.StringVar(&c.tlsCert, "console-tls-cert", "", "PEM certificate (chain) to serve the console over HTTPS")
	f.StringVar(&c.tlsKey, "console-tls-key", "", "PEM private key of --console-tls-cert")
	f.StringVar(&data, "data", "console-data", "directory of the console's own state (the consumer-group lag history); empty keeps it in memory only")
	f.DurationVar(&c.lagInterval, "lag-interval", time.Minute, "how often consumer-group lag is sampled for the history charts")
	f.IntVar(&c.lagGroups, "lag-max-groups", 500, "how many consumer groups' lag history is kept (at most 22.5 KiB of samples each)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&logFmt, "log-format", "text", "text or json")
	return cmd
}

// consoleAccess builds how the console reaches the cluster from the client
// flags: seeds, client id and TLS for every client; --sasl-mechanism for
// users' sign-ins; the console's own identity from --sasl-user, or the
// anonymous one on a cluster without SASL.
func consoleAccess(cf *clientFlags) (webconsole.Access, error) {
	var a webconsole.Access
	seeds := cf.seeds()
	if len(seeds) == 0 {
		return a, fmt.Errorf("--brokers is empty: name at least one seed broker host:port (or set COURIER_BROKERS)")
	}
	tlsOpts, err := cf.tlsOpts()
	if err != nil {
		return a, err
	}
	a.Base = append([]kgo.Opt{kgo.SeedBrokers(seeds...), kgo.ClientID(cf.clientID)}, tlsOpts...)
	switch {
	case cf.saslMechanism != "":
		a.SASLMechanisms = []string{strings.ToUpper(cf.saslMechanism)}
		if cf.saslUser != "" {
			m, err := cf.saslMech()
			if err != nil {
				return a, err
			}
			a.Service = append(append([]kgo.Opt(nil), a.Base...), kgo.SASL(m))
		}
	case cf.saslUser != "":
		return a, fmt.Errorf("--sasl-user needs --sasl-mechanism here: it names how users sign in")
	default:
		a.Service = a.Base
	}
	return a, nil
}
