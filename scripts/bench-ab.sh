#!/usr/bin/env bash
# bench-ab.sh compares two broker binaries with `courier bench`: A (e.g. a
# build of an earlier revision) and B (default bin/courier, built from the
# working tree), alternated round by round so that both see the same
# machine, each on fresh ports and a fresh data directory, with the same
# bench client (B's). It prints a Markdown table of the median produce and
# consume rates per case and B's difference from A.
#
#   git worktree add /tmp/base <rev> && (cd /tmp/base && go build -o /tmp/courier-base ./cmd/courier)
#   A=/tmp/courier-base scripts/bench-ab.sh
#
# Environment:
#   A             the baseline broker binary (required)
#   B             the broker under test (default: bin/courier, built here)
#   AB_ROUNDS     rounds per case (default 3)
#   AB_CASES      space-separated SIZE:RECORDS:COMPRESSION cases
#                 (default "100:1000000:none 1024:300000:none 100:1000000:lz4 1024:300000:zstd")
#   AB_FSYNC      --fsync of both brokers (default interval)
#   AB_DATA_ROOT  where data directories go (default $TMPDIR or /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
script_name=bench-ab.sh
# shellcheck source=lib.sh
. scripts/lib.sh

[[ -n ${A:-} && -x ${A:-} ]] || die "set A to the baseline broker binary"
if [[ -z ${B:-} ]]; then
	go build -o bin/courier ./cmd/courier
	B=bin/courier
fi
rounds=${AB_ROUNDS:-3}
read -r -a cases <<<"${AB_CASES:-100:1000000:none 1024:300000:none 100:1000000:lz4 1024:300000:zstd}"
fsync=${AB_FSYNC:-interval}
root=${AB_DATA_ROOT:-${TMPDIR:-/tmp}}
work=$(mktemp -d "$root/courier-ab.XXXXXX")
pid=
cleanup() {
	[[ -z $pid ]] || { kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; } || true
	rm -rf "$work"
}
trap cleanup EXIT

# run BIN SIZE RECORDS CODEC OUT: one bench against a fresh BIN broker.
run() {
	local bin=$1 size=$2 records=$3 codec=$4 out=$5 port data
	port=$(free_port)
	data=$(mktemp -d "$work/data.XXXXXX")
	"$bin" broker --addr "127.0.0.1:$port" --data "$data" --http-addr "" --fsync "$fsync" >"$work/broker.log" 2>&1 &
	pid=$!
	wait_port "$port" "$pid" || die "$bin did not start: $(tail -5 "$work/broker.log")"
	"$B" bench --brokers "127.0.0.1:$port" --records "$records" --size "$size" --compression "$codec" --json >"$out" ||
		die "bench against $bin failed"
	kill "$pid" && wait "$pid" 2>/dev/null || true
	pid=
	rm -rf "$data"
}

log "A=$A B=$B rounds=$rounds fsync=$fsync load=$(cut -d' ' -f1-3 /proc/loadavg)"
echo "| case | A produce rec/s | B produce rec/s | B vs A | A consume rec/s | B consume rec/s | B vs A |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for c in "${cases[@]}"; do
	IFS=: read -r size records codec <<<"$c"
	for ((r = 1; r <= rounds; r++)); do
		for side in A B; do
			bin=$A
			[[ $side == B ]] && bin=$B
			run "$bin" "$size" "$records" "$codec" "$work/$side.$c.$r.json"
			log "$c round $r $side: produce $(field "$work/$side.$c.$r.json" produce_records_per_sec) consume $(field "$work/$side.$c.$r.json" consume_records_per_sec)"
		done
	done
	row="| ${size} B, $codec |"
	for what in produce consume; do
		a=$(for f in "$work"/A."$c".*.json; do field "$f" "${what}_records_per_sec"; done | median)
		b=$(for f in "$work"/B."$c".*.json; do field "$f" "${what}_records_per_sec"; done | median)
		row+=$(awk -v a="$a" -v b="$b" 'BEGIN {printf " %.0f | %.0f | %+.1f%% |", a, b, (b-a)/a*100}')
	done
	echo "$row"
done
log "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
