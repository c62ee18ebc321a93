package pgtest

// server.go finds the binaries, creates the cluster, and starts and stops
// the postgres process.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a running private PostgreSQL server.
type Server struct {
	bin     string // directory of initdb, pg_ctl, postgres
	dir     string // holds data/ and the socket; removed by Stop
	ownDir  bool   // dir was created by StartServer
	port    int
	cred    *syscall.Credential // the postgres user's, when run as root
	cmd     *exec.Cmd
	done    chan struct{}
	out     bytes.Buffer // the server's output, for errors
	outMu   sync.Mutex
	stopped bool
}

// readyTimeout bounds the wait for the server to accept connections.
const readyTimeout = 30 * time.Second

// binDir returns the newest /usr/lib/postgresql/*/bin holding initdb, or
// the directory of initdb on PATH.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(d string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		return v
	}
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrNotInstalled
}

// StartServer creates a cluster under dir (a new temporary directory if
// dir is empty), starts it on a free loopback port with fsync on, creates
// the database "courier" and returns once it accepts connections. Stop
// it with Stop.
func StartServer(dir string) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir, done: make(chan struct{})}
	if dir == "" {
		if s.dir, err = os.MkdirTemp("", "pgtest-"); err != nil {
			return nil, fmt.Errorf("pgtest: %w", err)
		}
		s.ownDir = true
	}
	if err := s.start(); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// start runs initdb and the server.
func (s *Server) start() error {
	if os.Geteuid() == 0 {
		if err := s.dropRoot(); err != nil {
			return err
		}
	}
	data := filepath.Join(s.dir, "data")
	if out, err := s.command("initdb", "-D", data, "-A", "trust", "-U", "courier", "-E", "UTF8", "--no-locale").CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	var err error
	if s.port, err = freePort(); err != nil {
		return err
	}
	s.cmd = s.command("postgres", "-D", data, "-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=on", "-c", "max_connections=100", "-c", "shared_buffers=256MB", "-c", "max_wal_size=4GB", "-c", "wal_buffers=32MB")
	w := &lockedWriter{mu: &s.outMu, b: &s.out}
	s.cmd.Stdout, s.cmd.Stderr = w, w
	s.cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT // immediate shutdown if the test process dies
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	return s.waitReady()
}

// dropRoot makes the directory the postgres user's and the tools run as it.
func (s *Server) dropRoot() error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("pgtest: running as root needs the postgres OS user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	if err := os.Chown(s.dir, uid, gid); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return nil
}

// command builds a command for one of the server tools.
func (s *Server) command(tool string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, tool), args...)
	cmd.Dir = s.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd
}

// waitReady polls until the server accepts connections, then creates the
// database.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	admin := fmt.Sprintf("postgres://courier@127.0.0.1:%d/postgres?sslmode=disable", s.port)
	for {
		ctx, cancel := pingContext()
		conn, err := pgx.Connect(ctx, admin)
		if err == nil {
			_, err = conn.Exec(ctx, "CREATE DATABASE courier")
			conn.Close(ctx)
			cancel()
			if err != nil {
				return fmt.Errorf("pgtest: create database: %w", err)
			}
			return nil
		}
		cancel()
		select {
		case <-s.done:
			return fmt.Errorf("pgtest: postgres exited at start:\n%s", s.output())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: postgres did not accept connections within %v: %v\n%s", readyTimeout, err, s.output())
		}
	}
}

// DSN is the URL of the database "courier".
func (s *Server) DSN() string {
	return fmt.Sprintf("postgres://courier@127.0.0.1:%d/courier?sslmode=disable", s.port)
}

// Port is the server's TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// Stop shuts the server down (pg_ctl stop -m fast, then SIGKILL if it
// lingers) and removes the directory if StartServer created it. It is safe
// to call more than once.
func (s *Server) Stop() error {
	if s.stopped {
		return nil
	}
	s.stopped = true
	var err error
	if s.cmd != nil && s.cmd.Process != nil {
		cmd := s.command("pg_ctl", "stop", "-D", filepath.Join(s.dir, "data"), "-m", "fast", "-w", "-t", "30")
		out, e := cmd.CombinedOutput()
		if e != nil {
			err = fmt.Errorf("pg_ctl stop: %v: %s", e, strings.TrimSpace(string(out)))
		}
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
			err = fmt.Errorf("pgtest: postgres did not stop within 30s; killed")
		}
	}
	if s.ownDir {
		if e := os.RemoveAll(s.dir); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// output returns what the server printed.
func (s *Server) output() string {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	return s.out.String()
}

// lockedWriter serializes writes to a buffer.
type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

// Write implements io.Writer.
func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// NewDatabase creates an empty database named name on the server and
// returns its DSN, for tests that want one database each.
func (s *Server) NewDatabase(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, s.DSN())
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return fmt.Sprintf("postgres://courier@127.0.0.1:%d/%s?sslmode=disable", s.port, name), nil
}
