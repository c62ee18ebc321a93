#!/usr/bin/env bash
# demo-screenshot.sh regenerates docs/demo.png, the README's picture of the
# demo page, from the demo as a user runs it: `courier demo` with its
# defaults (500 riders, 2,000 updates/s, two sinks; only its addresses are
# free ports and its data a scratch directory), the charts left to fill for
# SETTLE_SECONDS (60), then test/web/demo.js (playwright-core driving
# Debian's chromium, as the browser test does) checks the page and takes the
# screenshot at 1400x900. Needs node, chromium and npm (installs
# playwright-core into test/web if missing).
#
# usage: scripts/demo-screenshot.sh [OUT.png]   (default docs/demo.png)
set -euo pipefail
cd "$(dirname "$0")/.."
script_name=demo-screenshot
. scripts/lib.sh
export PATH=$PATH:/usr/local/go/bin
out=${1:-docs/demo.png}
settle=${SETTLE_SECONDS:-60}

[ -d test/web/node_modules/playwright-core ] ||
	(cd test/web && npm ci --no-audit --no-fund --loglevel=error)
scratch=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -INT "$pid"
		wait "$pid" || true
	fi
	rm -rf "$scratch"
}
trap cleanup EXIT

log "building"
go build -o "$scratch/courier" ./cmd/courier
web=$(free_port)
kafka=$(free_port)
[ "$web" != "$kafka" ] || kafka=$(free_port)
"$scratch/courier" demo --addr "127.0.0.1:$web" --kafka-addr "127.0.0.1:$kafka" \
	--data "$scratch/data" --db "sqlite:$scratch/riders.db" 2>"$scratch/demo.log" &
pid=$!
wait_port "$web" "$pid" || die "the demo did not start: $(cat "$scratch/demo.log")"
log "demo on http://127.0.0.1:$web; letting the charts fill for ${settle}s"
COURIER_SCREENSHOT_SETTLE=$settle node test/web/demo.js "http://127.0.0.1:$web" "$scratch/demo.png"
cp "$scratch/demo.png" "$out"
log "wrote $out"
