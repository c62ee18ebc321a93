// Package pipeline_test holds the rule that draws the pipeline's boundary:
// the rider-location pipeline reaches a broker only through the Kafka
// protocol, so it runs the same against Courier, Apache Kafka or Redpanda.
package pipeline_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPipelineImportsNoBrokerPackage fails if any (non-test) package under
// internal/pipeline imports, directly or through another package, anything
// under internal/broker. A pipeline that needs an embedded broker (the demo)
// is handed one by cmd/courier. Tests may start a broker to talk to
// (internal/testkit/testbroker); the rule is for the code that ships.
func TestPipelineImportsNoBrokerPackage(t *testing.T) {
	const module = "github.com/courier-dev/courier"
	out, err := exec.Command("go", "list",
		"-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], module+"/internal/pipeline/") {
			continue
		}
		checked++
		for _, dep := range fields[1:] {
			if dep == module+"/internal/broker" || strings.HasPrefix(dep, module+"/internal/broker/") {
				t.Errorf("%s depends on broker package %s: the pipeline must reach the broker only through the Kafka protocol", fields[0], dep)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no pipeline packages listed: the check checked nothing")
	}
}
