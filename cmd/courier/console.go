package main

// console.go wires Courier Console (package webconsole): `courier console
// --brokers ...` against any cluster, and the console the broker and the
// demo serve on --console-addr, reached through the embedded broker's
// in-process connections (run.Config.Embed).

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/tools/webconsole"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kgo"
)

// defaultConsoleAddr is where the console listens unless told otherwise:
// loopback only.
const defaultConsoleAddr = "127.0.0.1:8088"

// consoleFlags are the console's flags, named --console-* on the broker
// and the demo, without the prefix on `courier console` (addrFlag says
// which name the address flag has, for errors).
type consoleFlags struct {
	addr        string
	usersFile   string
	insecure    bool
	tlsCert     string
	tlsKey      string
	lagInterval time.Duration
	lagGroups   int
	addrFlag    string
}

// addBrokerConsoleFlags declares the broker's --console-* flags.
func addBrokerConsoleFlags(f *pflag.FlagSet, c *consoleFlags) {
	c.addrFlag = "--console-addr"
	f.StringVar(&c.addr, "console-addr", defaultConsoleAddr, "address of Courier Console, the web console (empty disables it); a non-loopback address needs sign-in (SASL listeners or --console-users) or --console-insecure")
	f.StringVar(&c.usersFile, "console-users", "", "file of console accounts, one name:password a line (mode 600), for a broker without SASL listeners; with SASL listeners users sign in with their Kafka user names")
	f.BoolVar(&c.insecure, "console-insecure", false, "allow the console on a non-loopback address without sign-in (anyone who reaches it can do anything the cluster allows anonymous clients)")
	f.StringVar(&c.tlsCert, "console-tls-cert", "", "PEM certificate (chain) to serve the console over HTTPS")
	f.StringVar(&c.tlsKey, "console-tls-key", "", "PEM private key of --console-tls-cert")
	f.DurationVar(&c.lagInterval, "console-lag-interval", time.Minute, "how often the console samples consumer-group lag for its history charts")
	f.IntVar(&c.lagGroups, "console-lag-max-groups", 500, "how many consumer groups' lag history the console keeps (at most 22.5 KiB of samples each)")
}

// config returns the console's configuration from the flags (Access, the
// cluster's side, is filled by the caller). saslCluster says whether the
// cluster's users sign in with SASL, which --console-users would
// contradict.
func (c *consoleFlags) config(saslCluster bool, logger *slog.Logger) (webconsole.Config, error) {
	cfg := webconsole.Config{
		Insecure: c.insecure, TLSCertFile: c.tlsCert, TLSKeyFile: c.tlsKey,
		LagInterval: c.lagInterval, LagMaxGroups: c.lagGroups, Version: versionOf(), Logger: logger,
	}
	if c.lagInterval <= 0 {
		return cfg, fmt.Errorf("%s: the lag interval must be positive", strings.Replace(c.addrFlag, "addr", "lag-interval", 1))
	}
	if c.lagGroups < 0 { // 0: the console's default
		return cfg, fmt.Errorf("%s: the number of groups must be positive", strings.Replace(c.addrFlag, "addr", "lag-max-groups", 1))
	}
	if c.usersFile != "" {
		if saslCluster {
			return cfg, fmt.Errorf("%s is for a cluster without SASL: on this one users sign in with their Kafka user names and passwords",
				strings.Replace(c.addrFlag, "addr", "users", 1))
		}
		users, err := readConsoleUsers(c.usersFile)
		if err != nil {
			return cfg, err
		}
		cfg.Users = users
	}
	return cfg, nil
}

// listen listens on the console's address for cfg (before anything else
// starts, so that a busy or refused address stops the command at once),
// naming the flag to change in its error.
func (c *consoleFlags) listen(cfg webconsole.Config) (net.Listener, error) {
	ln, err := webconsole.Listen(c.addr, cfg)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("%s (Courier Console's address) is already in use: stop what listens there (another broker or console?), or choose another address with %s", c.addr, c.addrFlag)
	case err != nil:
		return nil, fmt.Errorf("%w (%s)", err, c.addrFlag)
	}
	return ln, nil
}

// readConsoleUsers reads a --console-users file (parseConsoleUsers). A
// file that group or others may read is refused: it holds passwords.
func readConsoleUsers(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("console users: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("console users: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("console users %s: mode %v lets other users read the passwords: chmod 600 %s", path, st.Mode().Perm(), path)
	}
	return parseConsoleUsers(io.LimitReader(f, maxConsoleUsersBytes+1), path)
}

// maxConsoleUsersBytes bounds a --console-users file.
const maxConsoleUsersBytes = 1 << 20

// parseConsoleUsers reads lines "name:password" (the password is
// everything after the first colon); blank lines and lines starting with
// # are ignored. A malformed line, a name given twice, no account at all
// or a file over maxConsoleUsersBytes are errors naming the line; no error
// quotes a line (it holds a password).
func parseConsoleUsers(r io.Reader, path string) (map[string]string, error) {
	users := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxConsoleUsersBytes)
	read := 0
	for n := 1; sc.Scan(); n++ {
		read += len(sc.Bytes()) + 1
		if read > maxConsoleUsersBytes {
			return nil, fmt.Errorf("console users %s: over %d bytes", path, maxConsoleUsersBytes)
		}
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		name, pass, ok := strings.Cut(line, ":")
		switch {
		case !ok || strings.TrimSpace(name) == "" || pass == "":
			return nil, fmt.Errorf("console users %s line %d: want name:password", path, n)
		case users[name] != "":
			return nil, fmt.Errorf("console users %s line %d: user %s given twice", path, n, name)
		}
		users[name] = pass
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("console users %s: %w", path, err)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("console users %s: no name:password line", path)
	}
	return users, nil
}

// inProcessDialer is a kgo.Dialer that ignores the address: every broker
// of the embedded cluster is the one the in-process connections reach.
func inProcessDialer(dial func(context.Context) (net.Conn, error)) kgo.Opt {
	return kgo.Dialer(func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) })
}

// embeddedConsole is the run.Config.Embed of a broker (or the demo's
// broker) that serves the console on ln: users' sessions and the
// console's own identity reach the broker in-process.
func embeddedConsole(ln net.Listener, cfg webconsole.Config, announce func(url string)) func(context.Context, run.InProcess) error {
	return func(ctx context.Context, ip run.InProcess) error {
		// A seed address is needed, though the dialer ignores it.
		seed := "127.0.0.1:9092"
		for _, a := range ip.Listeners {
			seed = a
			break
		}
		cfg.Access = webconsole.Access{
			Base:           []kgo.Opt{kgo.SeedBrokers(seed), kgo.ClientID("courier-console"), inProcessDialer(ip.DialUser)},
			SASLMechanisms: ip.SASLMechanisms,
			Service:        []kgo.Opt{kgo.SeedBrokers(seed), kgo.ClientID("courier-console"), inProcessDialer(ip.DialService)},
		}
		cfg.Metrics, cfg.Listeners = ip.Metrics, ip.Listeners
		s, err := webconsole.New(cfg)
		if err != nil {
			ln.Close()
			return err
		}
		// The console's own figures (its lag history's) on the broker's
		// /metrics.
		if r, ok := ip.Metrics.(prometheus.Registerer); ok {
			for _, c := range s.Collectors() {
				if err := r.Register(c); err != nil {
					cfg.Logger.Warn("console: a metric is not registered", "err", err)
				}
			}
		}
		url := consoleURL(ln, cfg)
		cfg.Logger.Info("console serving", "url", url, "sign_in", s.LoginRequired())
		if announce != nil {
			announce(url)
		}
		return s.Serve(ctx, ln)
	}
}

// consoleURL is the console's address as a URL a browser opens.
func consoleURL(ln net.Listener, cfg webconsole.Config) string {
	scheme := "http"
	if cfg.TLSCertFile != "" {
		scheme = "https"
	}
	return scheme + "://" + ln.Addr().String()
}

// brokerConsole prepares the broker's console: checks its flags, listens
// on --console-addr, and sets cfg.Embed to serve it once the broker runs.
// An empty --console-addr leaves it off. The returned function closes the
// listener if the broker never served it.
func brokerConsole(c *consoleFlags, cfg *run.Config) (func(), error) {
	if c.addr == "" {
		return func() {}, nil
	}
	logger := cfg.Broker.Logger.With("component", "console")
	sasl := false
	for _, l := range cfg.Listeners {
		sasl = sasl || l.Name == "SASL_PLAINTEXT" || l.Name == "SASL_SSL"
	}
	wc, err := c.config(sasl, logger)
	if err != nil {
		return nil, err
	}
	wc.DataDir = filepath.Join(cfg.Broker.DataDir, "console")
	if sasl {
		// Listen's check only asks whether there is sign-in; the
		// in-process listener's own mechanisms are set by Embed.
		wc.Access.SASLMechanisms = cfg.SASLMechanisms
		if len(wc.Access.SASLMechanisms) == 0 {
			wc.Access.SASLMechanisms = []string{"PLAIN"}
		}
	}
	if err := wc.Validate(); err != nil {
		return nil, err
	}
	ln, err := c.listen(wc)
	if err != nil {
		return nil, err
	}
	cfg.Embed = embeddedConsole(ln, wc, nil)
	return func() { ln.Close() }, nil
}
