package compat

import (
	"testing"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
)

// courierBin is the broker binary, built once by TestMain.
var courierBin string

func TestMain(m *testing.M) { brokerproc.TestMain(m, "courier-compat-", &courierBin) }
