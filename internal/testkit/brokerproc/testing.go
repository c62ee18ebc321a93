package brokerproc

// testing.go adapts Start to tests.

import "testing"

// StartT starts a broker as Start does on dataDir, failing t at once if it
// cannot, and stops it cleanly when the test ends: an unclean exit, or an
// exit the test did not cause, is reported as a test error. Unless an
// Output option is given, the broker's log (its last 256 KiB) is printed
// if the test fails.
func StartT(t testing.TB, bin, dataDir string, opts ...Opt) *Broker {
	t.Helper()
	log := &tailBuffer{max: 256 << 10}
	opts = append([]Opt{Output(log)}, opts...)
	b, err := Start(bin, dataDir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Errorf("stopping broker at test end: %v", err)
		}
		if out := log.String(); t.Failed() && out != "" {
			t.Logf("broker %s log (tail):\n%s", b.Addr(), out)
		}
	})
	return b
}
