#!/usr/bin/env bash
# console-screenshots.sh regenerates the README's pictures of Courier
# Console (docs/console/console-*.png): it runs the console's browser tests
# (go test ./test/console: the real binary, headless chromium driven by
# playwright-core), which save a screenshot of each page they visit at
# 1400x900 into COURIER_CONSOLE_SHOTS. Needs node, chromium and npm
# (installs playwright-core into test/web if missing).
#
# usage: scripts/console-screenshots.sh [-run REGEXP]   (default: every test)
set -euo pipefail
cd "$(dirname "$0")/.."
script_name=console-screenshots
. scripts/lib.sh
export PATH=$PATH:/usr/local/go/bin

[ -d test/web/node_modules/playwright-core ] ||
	(cd test/web && npm ci --no-audit --no-fund --loglevel=error)
mkdir -p docs/console
log "running the console's browser tests, screenshots into docs/console"
COURIER_CONSOLE_SHOTS=$PWD/docs/console COURIER_REQUIRE_BROWSER=1 \
	go test ./test/console -count=1 "$@"
ls -l docs/console
