package sinkcrash

// main_test.go builds the courier binary once for the package.

import (
	"testing"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
)

// courierBin is the binary, built once by TestMain.
var courierBin string

func TestMain(m *testing.M) { brokerproc.TestMain(m, "courier-sinkcrash-", &courierBin) }
