// Package testbrowser finds what the browser tests need: node, the
// playwright-core package installed in test/web (npm ci) and Debian's
// chromium. Tests that drive a page in a real browser (test/demo,
// test/console) call Dir first: without these the test is skipped, unless
// COURIER_REQUIRE_BROWSER is set (the README's test command sets it), when
// it fails instead.
package testbrowser

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
)

// Chromium is the browser the scripts launch (unless CHROMIUM names
// another).
const Chromium = "/usr/bin/chromium"

// Dir returns test/web, where the browser scripts and their node_modules
// are, once it has checked that node, playwright-core and chromium are
// there; otherwise it skips or fails the test (see the package comment).
func Dir(t testing.TB) string {
	t.Helper()
	root, err := brokerproc.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "test", "web")
	_, errNode := exec.LookPath("node")
	_, errMods := os.Stat(filepath.Join(dir, "node_modules", "playwright-core"))
	_, errChrome := os.Stat(Chromium)
	if errNode != nil || errMods != nil || errChrome != nil {
		msg := fmt.Sprintf("browser test needs node, test/web/node_modules (npm ci) and %s: %v %v %v", Chromium, errNode, errMods, errChrome)
		if os.Getenv("COURIER_REQUIRE_BROWSER") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}
