#!/usr/bin/env bash
# bench-txn.sh measures what transactions cost with `courier bench`: the same
# produce/consume benchmark run plain (idempotent producers, read_uncommitted)
# and transactional (--transactional: each producer commits every
# BENCH_TXN_INTERVAL, consumers read_committed), and prints a Markdown section
# for docs/BENCHMARKS.md.
#
# Targets, started one at a time so they never compete for CPU, each on free
# ports, and stopped before the next:
#   courier   bin/courier broker over a fresh data directory (start_broker)
#   kfake     franz-go's in-memory fake cluster (bin/kfake-peer)
# Against each, BENCH_TXN_ROUNDS rounds of a plain run then a transactional
# run (each run on a fresh topic); the table shows the medians.
#
# Environment:
#   BENCH_TXN_TARGETS     targets to run, in order (default "courier kfake")
#   BENCH_TXN_RECORDS     records per run (default 1000000)
#   BENCH_TXN_SIZE        value size in bytes (default 100)
#   BENCH_TXN_PARTITIONS  partitions of each benchmark topic (default 6)
#   BENCH_TXN_INTERVAL    how long each transaction lasts (default 100ms)
#   BENCH_TXN_ROUNDS      rounds per target (default 3; medians are shown)
#   BENCH_TXN_FSYNC       --fsync of the Courier broker (default: the broker's)
#   BENCH_ARGS            extra arguments for every `courier bench`, e.g. "--producers 2"
#   BENCH_DATA_ROOT       where the broker's data directory goes (default $TMPDIR or /tmp)
#   BENCH_OUT             also replace the section between the bench-txn.sh markers
#                         in this file (it must hold them), e.g. docs/BENCHMARKS.md
# A quick trial against kfake alone:
#   BENCH_TXN_TARGETS=kfake BENCH_TXN_RECORDS=200000 BENCH_TXN_ROUNDS=1 scripts/bench-txn.sh
set -euo pipefail

cd "$(dirname "$0")/.."

read -r -a targets <<<"${BENCH_TXN_TARGETS:-courier kfake}"
records=${BENCH_TXN_RECORDS:-1000000}
size=${BENCH_TXN_SIZE:-100}
partitions=${BENCH_TXN_PARTITIONS:-6}
interval=${BENCH_TXN_INTERVAL:-100ms}
rounds=${BENCH_TXN_ROUNDS:-3}
fsync=${BENCH_TXN_FSYNC:-}
read -r -a extra_args <<<"${BENCH_ARGS:-}"
out=${BENCH_OUT:-}
begin_marker='<!-- BEGIN bench-txn.sh results -->'
end_marker='<!-- END bench-txn.sh results -->'

script_name=bench-txn.sh
# shellcheck source=lib.sh
. scripts/lib.sh

check_targets BENCH_TXN_TARGETS "${targets[@]}"
((records > 0 && rounds > 0)) || die "BENCH_TXN_RECORDS and BENCH_TXN_ROUNDS must be positive"
[[ -z $out ]] || check_markers "$out" "$begin_marker" "$end_marker"

work=$(mktemp -d "${TMPDIR:-/tmp}/courier-bench-txn.XXXXXX")
data_root=${BENCH_DATA_ROOT:-${TMPDIR:-/tmp}}
pids=()      # every process this script started
data_dirs=() # every broker data directory it made

stop_all_on_exit

load_before=$(load_average)
build_bins courier kfake-peer

rows=()
commands=()

# median_of TARGET MODE KEY: the median of KEY over the rounds' JSON files.
median_of() {
	local f
	for f in "$work/$1-$2"-*.json; do field "$f" "$3"; done | median
}

# bench_target TARGET: runs the rounds against addr, the target just
# started, adds its two rows, then stops it.
bench_target() {
	local target=$1 round mode json
	local -a mode_args
	for ((round = 1; round <= rounds; round++)); do
		for mode in plain txn; do
			mode_args=()
			[[ $mode == txn ]] && mode_args=(--transactional --txn-interval "$interval")
			json=$work/$target-$mode-$round.json
			local cmd=(bin/courier bench --brokers "$addr" --records "$records" --size "$size" --partitions "$partitions"
				"${mode_args[@]}" --json --progress=false "${extra_args[@]}")
			log "$target round $round/$rounds, $mode: ${cmd[*]}"
			((round > 1)) || commands+=("${cmd[*]}")
			"${cmd[@]}" >"$json" || die "$target: courier bench failed ($mode, round $round)"
			cat "$json" >&2
		done
	done
	for mode in plain txn; do
		local commit_p50=- commit_p99=- txns=- label="plain (idempotent, read_uncommitted)"
		if [[ $mode == txn ]]; then
			label="transactional, commit every $interval (read_committed)"
			commit_p50=$(printf '%.2f' "$(median_of "$target" txn commit_p50_ms)")
			commit_p99=$(printf '%.2f' "$(median_of "$target" txn commit_p99_ms)")
			txns=$(printf '%.0f' "$(median_of "$target" txn transactions)")
		fi
		rows+=("$(printf '| %s | %s | %s | %.0f | %.2f | %s | %s | %s | %.0f | %.2f | %.2f |' \
			"$target" "$label" "$records" \
			"$(median_of "$target" "$mode" produce_records_per_sec)" "$(median_of "$target" "$mode" produce_mb_per_sec)" \
			"$txns" "$commit_p50" "$commit_p99" \
			"$(median_of "$target" "$mode" consume_records_per_sec)" \
			"$(median_of "$target" "$mode" e2e_p50_ms)" "$(median_of "$target" "$mode" e2e_p99_ms)")")
	done
	stop "$pid"
}

for target in "${targets[@]}"; do
	case $target in
	courier)
		data=$(mktemp -d "$data_root/courier-bench-txn-data.XXXXXX")
		data_dirs+=("$data")
		flags=()
		[[ -z $fsync ]] || flags=(--fsync "$fsync")
		start_broker courier "$data" "${flags[@]}"
		commands+=("$broker_cmd")
		;;
	kfake)
		start_kfake
		commands+=("bin/kfake-peer --addr 127.0.0.1:0   # listening on $addr")
		;;
	esac
	bench_target "$target"
done

section=$work/section.md
{
	echo "$begin_marker"
	echo
	machine_facts "$data_root" "$load_before"
	echo "- $records records of $size bytes over $partitions partitions per run; medians of $rounds rounds"
	echo
	echo "| Target | Mode | Records | Produce rec/s | Produce MB/s | Transactions | Commit p50 ms | Commit p99 ms | Consume rec/s | E2E p50 ms | E2E p99 ms |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s\n' "${rows[@]}"
	echo
	echo "Commit latency is the time a producer takes to end a transaction: flushing its"
	echo "records and EndTransaction. In a transactional run both consumers read"
	echo "read_committed, so end-to-end latency includes the wait for the commit."
	echo
	print_commands "${commands[@]}"
	echo
	echo "$end_marker"
} >"$section"

publish_section "$section"
