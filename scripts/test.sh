#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what the tests
# need (kcat from Debian, kafkajs from npm into test/compat/kafkajs), then
# runs every Go test (unit, integration over TCP, kcat/kafkajs compatibility,
# crash) and a short run of each fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin

if ! command -v kcat >/dev/null 2>&1; then
  echo "== installing kcat"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat >/dev/null
fi
if [ -f test/compat/kafkajs/package.json ]; then
  echo "== installing kafkajs"
  (cd test/compat/kafkajs && npm ci --no-audit --no-fund --loglevel=error)
fi

export COURIER_REQUIRE_COMPAT=1
echo "== go vet"
go vet ./...
echo "== go test"
go test -count=1 -timeout 15m ./...

echo "== fuzz (short runs)"
fuzz_secs=${FUZZ_SECONDS:-10}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "-- $pkg $target"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "${fuzz_secs}s" -fuzzminimizetime 1s "$pkg"
  done
done
echo "== all tests passed"
