package crash

import (
	"fmt"
	"os"
	"testing"

	"github.com/courier-dev/courier/internal/brokerproc"
)

// courierBin is the broker binary, built once by TestMain.
var courierBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "courier-crash-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	courierBin, err = brokerproc.Build(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
