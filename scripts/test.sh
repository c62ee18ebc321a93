#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what the tests
# need (kcat, python3-confluent-kafka, PostgreSQL and chromium from Debian; kafkajs and playwright-core
# from npm into test/compat/kafkajs and test/web), then
# runs go vet and staticcheck, every Go test (unit, integration over TCP,
# kcat/kafkajs compatibility, crash, chaos, the README's walkthroughs), the
# concurrent packages again under the race detector, and a short run of each
# fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin

# Debian packages the tests drive: kcat (librdkafka), PostgreSQL (the
# sink's production database; tests start private servers, see
# internal/testkit/pgtest) and chromium (the demo page's browser test).
missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
# confluent-kafka for Python (librdkafka's admin client; test/compat/confluent),
# installed for Debian's own python3.
/usr/bin/python3 -c 'import confluent_kafka' >/dev/null 2>&1 || missing+=(python3-confluent-kafka)
# The README's walkthroughs (test/walkthrough) run openssl and curl.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v file >/dev/null 2>&1 || missing+=(file)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
for dir in test/compat/kafkajs test/web; do
  echo "== npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
done

export COURIER_REQUIRE_COMPAT=1 COURIER_REQUIRE_PG=1 COURIER_REQUIRE_BROWSER=1 COURIER_REQUIRE_WALKTHROUGH=1
# The chaos test mounts a tmpfs of its own (root): in CI it must run, not skip.
export COURIER_REQUIRE_CHAOS=1
echo "== no binaries tracked"
# A built binary committed by mistake (as the 9.7 MB `courier` once was)
# is stale the moment the code changes and runs instead of what a user
# builds: refuse any tracked file that is an executable or object file.
binaries=$(git ls-files -z | xargs -0 file --mime-type 2>/dev/null |
  grep -E ': *application/(x-executable|x-pie-executable|x-sharedlib|x-object|x-mach-binary|vnd.microsoft.portable-executable)$' || true)
if [ -n "$binaries" ]; then
  echo "tracked binaries (remove them with git rm --cached and rebuild):"
  echo "$binaries"
  exit 1
fi
echo "== go vet"
go vet ./...
# staticcheck (honnef.co/go/tools), pinned so that a fresh machine gets the
# same checks: unused code, deprecated APIs, suspicious constructs. The
# module proxy serves it; `go run` builds it once into the build cache.
echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
echo "== go test"
go test -count=1 -timeout 15m ./...
# librdkafka's KIP-848 consumer (group.protocol=consumer) against the broker
# built from this repository: confluent-kafka-go bundles a static
# librdkafka and needs cgo, so it is a module of its own (test/rdkafka848)
# that the main module never builds.
echo "== librdkafka KIP-848 consumers (test/rdkafka848)"
(cd test/rdkafka848 && go vet ./... && go test -count=1 -timeout 5m ./...)
# The race detector on the packages where goroutines share state: the
# broker's handlers, network server, storage, log cleaner, group and transaction coordinators, journal,
# memory budget and process assembly, the pipeline's gateway and sink, and
# Courier Console (sessions, the live tail, the lag sampler).
# The instrumented packages are compiled first on every core (-run '^$'
# runs no test), then the tests run one package at a time (-p 1, which
# would also serialize compiling) so that timing-sensitive tests are not
# starved by their neighbours. About 1.5 minutes with a warm build cache,
# 3.5 from a cold one (2 of them compiling), on 2 cores.
echo "== go test -race"
race_pkgs=(./internal/broker ./internal/broker/server ./internal/broker/storage ./internal/broker/cleaner ./internal/broker/group ./internal/broker/txn ./internal/broker/share
  ./internal/broker/journal ./internal/broker/membudget ./internal/broker/run
  ./internal/pipeline/gateway ./internal/pipeline/sink ./internal/tools/webconsole)
go test -race -count=1 -run '^$' "${race_pkgs[@]}" >/dev/null
go test -race -count=1 -p 1 -timeout 15m "${race_pkgs[@]}"

# fuzz_target PKG TARGET runs one fuzz target for $fuzz_secs seconds. Go
# 1.26's fuzzing engine sometimes ends a run that found nothing with
# "context deadline exceeded" when the time is up while a worker is busy
# (golang/go#75804, fixed in Go 1.27); such a run (no failing input written)
# is tried again, up to three runs in all. A run that found a failing input,
# or failed any other way, fails at once.
fuzz_target() {
  local pkg=$1 target=$2 attempt out
  for attempt in 1 2 3; do
    if out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "${fuzz_secs}s" -fuzzminimizetime 1s "$pkg" 2>&1); then
      echo "$out" | tail -2
      return 0
    fi
    echo "$out"
    if grep -q "Failing input written" <<<"$out" || ! grep -q "context deadline exceeded" <<<"$out"; then
      exit 1
    fi
    echo "-- $pkg $target: engine deadline error without a failing input (run $attempt)"
  done
  exit 1
}

echo "== fuzz (short runs)"
# 6 s per target: a smoke run that catches a decoder or recovery path
# gone wrong (44 targets: about 5 minutes with their builds); long runs are for
# FUZZ_SECONDS=600 by hand.
fuzz_secs=${FUZZ_SECONDS:-6}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "-- $pkg $target"
    fuzz_target "$pkg" "$target"
  done
done
echo "== all tests passed"
