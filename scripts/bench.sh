#!/usr/bin/env bash
# bench.sh measures Courier against a reference peer with `courier bench` and
# records the figures in docs/BENCHMARKS.md.
#
# Targets, started one at a time so they never compete for CPU, each on free
# ports and (for Courier) a fresh data directory, and stopped before the next:
#   kfake              franz-go's in-memory fake cluster (bin/kfake-peer)
#   courier-interval   bin/courier broker --fsync interval
#   courier-always     bin/courier broker --fsync always
# Against each: 100-byte and 1 KiB records. The results replace the section
# between the bench.sh markers in docs/BENCHMARKS.md.
#
# Environment:
#   BENCH_RECORDS_100   records of the 100-byte runs (default 1000000)
#   BENCH_RECORDS_1K    records of the 1 KiB runs (default 300000)
#   BENCH_PARTITIONS    partitions of each benchmark topic (default 6)
#   BENCH_ARGS          extra arguments for every `courier bench`, e.g. "--producers 2"
#   BENCH_DATA_ROOT     where the brokers' temporary data directories go
#                       (default $TMPDIR or /tmp; fsync figures mean little on tmpfs)
#   BENCH_DRY_RUN=1     run kfake-peer in place of both Courier targets, to test
#                       this script without the broker; the table goes to
#                       bin/bench-dry-run.md and docs/ is left alone
#   BENCH_OUT           file to update instead (must hold the markers, unless dry run)
set -euo pipefail

cd "$(dirname "$0")/.."

records_100=${BENCH_RECORDS_100:-1000000}
records_1k=${BENCH_RECORDS_1K:-300000}
partitions=${BENCH_PARTITIONS:-6}
read -r -a extra_args <<<"${BENCH_ARGS:-}"
dry_run=${BENCH_DRY_RUN:-0}
[[ $dry_run == 0 ]] || dry_run=1
if [[ $dry_run == 1 ]]; then
	out=${BENCH_OUT:-bin/bench-dry-run.md}
else
	out=${BENCH_OUT:-docs/BENCHMARKS.md}
fi
begin_marker='<!-- BEGIN bench.sh results -->'
end_marker='<!-- END bench.sh results -->'

script_name=bench.sh
# shellcheck source=lib.sh
. scripts/lib.sh

if [[ $dry_run == 0 ]]; then
	[[ -f $out ]] && grep -qF "$begin_marker" "$out" && grep -qF "$end_marker" "$out" ||
		die "$out must exist and hold the lines '$begin_marker' and '$end_marker'"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/courier-bench.XXXXXX")
data_root=${BENCH_DATA_ROOT:-${TMPDIR:-/tmp}}
pids=()      # every process this script started
data_dirs=() # every broker data directory it made

stop_all_on_exit

# start_courier MODE: starts the broker with --fsync MODE on free ports and a
# fresh data directory (start_broker); sets addr, pid and broker_cmd.
start_courier() {
	local data
	data=$(mktemp -d "$data_root/courier-bench-data.XXXXXX")
	data_dirs+=("$data")
	start_broker "courier-$1" "$data" --fsync "$1"
}

load_before=$(load_average)
build_bins courier kfake-peer

rows=()
commands=()

# bench_target NAME: runs both record sizes against addr, the target just
# started, then stops it.
bench_target() {
	local name=$1 size n json
	for size in 100 1024; do
		if [[ $size == 100 ]]; then n=$records_100; else n=$records_1k; fi
		json=$work/$name-$size.json
		local cmd=(bin/courier bench --brokers "$addr" --records "$n" --size "$size" --partitions "$partitions" --json "${extra_args[@]}")
		log "$name: ${cmd[*]}"
		commands+=("${cmd[*]}")
		"${cmd[@]}" >"$json" || die "$name: courier bench failed (size $size)"
		cat "$json" >&2
		rows+=("$(printf '| %s | %s B | %s | %.0f | %.2f | %.0f | %.2f | %.2f | %.2f |' \
			"$name" "$size" "$n" \
			"$(field "$json" produce_records_per_sec)" "$(field "$json" produce_mb_per_sec)" \
			"$(field "$json" consume_records_per_sec)" "$(field "$json" consume_mb_per_sec)" \
			"$(field "$json" e2e_p50_ms)" "$(field "$json" e2e_p99_ms)")")
	done
	stop "$pid"
}

start_kfake
commands+=("bin/kfake-peer --addr 127.0.0.1:0   # listening on $addr")
bench_target kfake

for mode in interval always; do
	if [[ $dry_run == 1 ]]; then
		start_kfake
		commands+=("bin/kfake-peer --addr 127.0.0.1:0   # DRY RUN in place of courier --fsync $mode")
		bench_target "courier-$mode (dry run: kfake)"
	else
		start_courier "$mode"
		commands+=("$broker_cmd")
		bench_target "courier-$mode"
	fi
done

section=$work/section.md
{
	echo "$begin_marker"
	echo
	[[ $dry_run == 1 ]] && echo "**DRY RUN: every target is kfake-peer; these are not Courier figures.**" && echo
	machine_facts "$data_root" "$load_before"
	echo
	echo "| Target | Record size | Records | Produce rec/s | Produce MB/s | Consume rec/s | Consume MB/s | E2E p50 ms | E2E p99 ms |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s\n' "${rows[@]}"
	echo
	print_commands "${commands[@]}"
	echo
	echo "$end_marker"
} >"$section"

if [[ $dry_run == 1 && ! -f $out ]]; then
	cp "$section" "$out"
elif grep -qF "$begin_marker" "$out"; then
	replace_section "$out" "$begin_marker" "$end_marker" "$section"
else
	cp "$section" "$out"
fi
log "wrote $out"
cat "$section"
