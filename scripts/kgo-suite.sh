#!/usr/bin/env bash
# kgo-suite.sh runs franz-go's own integration suite (the tests in its
# pkg/kgo that create topics, produce, consume and run groups against a live
# broker; franz-go's kfake passes all of them) against a fresh Courier
# broker, or against BROKER if given.
#
#   scripts/kgo-suite.sh                 # build bin/courier, start it, run the suite
#   scripts/kgo-suite.sh 127.0.0.1:9092  # an already running broker (Courier, Kafka, Redpanda)
#   KGO_RUN='TestGroup' scripts/kgo-suite.sh   # a subset, by regex
#
# The first run downloads franz-go (KGO_VERSION, default the version in
# go.mod) with `go mod download` and builds its kgo test binary into
# KGO_CACHE (default /tmp/courier-kgo-suite); later runs reuse it. The list
# of tests is scripts/kgo-suite-tests.txt. Prints PASS/FAIL/SKIP per test
# and a summary; exits 0 only if no test failed. The full log is
# $KGO_CACHE/last.log, the broker's log $KGO_CACHE/broker.log.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
script_name=kgo-suite.sh
# shellcheck source=lib.sh
. scripts/lib.sh

version=${KGO_VERSION:-$(go list -m -f '{{.Version}}' github.com/twmb/franz-go)}
cache=${KGO_CACHE:-/tmp/courier-kgo-suite}
bin=$cache/kgo-test-$version
src=$cache/franz-go-$version
mkdir -p "$cache"

if [[ ! -x $bin ]]; then
	log "building franz-go $version's kgo test binary"
	mod=$cache/mod
	mkdir -p "$mod"
	[[ -f $mod/go.mod ]] || (cd "$mod" && go mod init kgo-suite >/dev/null 2>&1)
	dir=$(cd "$mod" && go mod download -json "github.com/twmb/franz-go@$version" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
	[[ -n $dir ]] || die "cannot download franz-go $version"
	rm -rf "$src" && cp -r "$dir" "$src" && chmod -R u+w "$src"
	(cd "$src/pkg/kgo" && go test -c -o "$bin" .) >"$cache/build.log" 2>&1 || die "build failed: $cache/build.log"
fi

broker=${1:-}
pid=
work=
cleanup() {
	[[ -z $pid ]] || { kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; } || true
	[[ -z $work ]] || rm -rf "$work"
}
trap cleanup EXIT
if [[ -z $broker ]]; then
	go build -o bin/courier ./cmd/courier
	work=$(mktemp -d "${TMPDIR:-/tmp}/courier-kgo.XXXXXX")
	port=$(free_port)
	bin/courier broker --addr "127.0.0.1:$port" --data "$work/data" --http-addr "" --console-addr "" >"$cache/broker.log" 2>&1 &
	pid=$!
	wait_port "$port" "$pid" || die "broker did not start: $cache/broker.log"
	broker=127.0.0.1:$port
fi

run=${KGO_RUN:-^($(paste -sd'|' scripts/kgo-suite-tests.txt))\$}
log "running the kgo suite against $broker"
rc=0
(cd "$src/pkg/kgo" && KGO_SEEDS=$broker KGO_TEST_RF=1 KGO_TEST_RECORDS=${KGO_TEST_RECORDS:-20000} \
	timeout 900 "$bin" -test.v -test.timeout 840s -test.run "$run") >"$cache/last.log" 2>&1 || rc=$?
grep -E '^--- (PASS|FAIL|SKIP)' "$cache/last.log" | awk '{print $2, $3}' || true
p=$(grep -c '^--- PASS' "$cache/last.log" || true)
f=$(grep -c '^--- FAIL' "$cache/last.log" || true)
s=$(grep -c '^--- SKIP' "$cache/last.log" || true)
echo "kgo suite: $p passed, $f failed, $s skipped (exit $rc; log $cache/last.log)"
[[ $rc -eq 0 ]]
