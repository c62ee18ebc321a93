package brokerproc

// build.go finds the module and compiles cmd/courier.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BuildTimeout bounds one `go build` of the binary. A cold build cache
// compiles every dependency, which takes far longer than a warm one.
const BuildTimeout = 5 * time.Minute

// ModuleRoot returns the directory holding the go.mod of the module the
// current directory belongs to, as reported by `go env GOMOD`. Test binaries
// run in their package's directory, so from a test this is the repository
// root. It costs one run of the go command.
func ModuleRoot() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

// Build compiles the module's ./cmd/courier into dir/courier and returns the
// binary's path. It needs the go command on PATH; with a warm build cache it
// takes about a second, a cold one can take minutes (bounded by
// BuildTimeout). Call it once per test binary, typically from TestMain, and
// share the path.
func Build(dir string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return BuildAt(root, dir)
}

// BuildAt compiles ./cmd/courier of the repository at root into
// dir/courier, for tests in a module of their own (test/rdkafka848), whose
// module root is not the repository's.
func BuildAt(root, dir string) (string, error) {
	bin := filepath.Join(dir, "courier")
	ctx, cancel := context.WithTimeout(context.Background(), BuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/courier")
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/courier in %s: %w\n%s", root, err, out.Bytes())
	}
	return bin, nil
}

// TestMain is the TestMain of a test package that runs the real binary: it
// builds the binary once into a temporary directory, stores its path in
// *bin, runs the tests and exits with their status.
func TestMain(m *testing.M, prefix string, bin *string) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*bin, err = Build(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
