#!/usr/bin/env bash
# bench-groups.sh measures the new group protocols with `courier bench`:
#   groups     share-group (KIP-932) throughput with 1, 4 and 16 consumers
#              on a 4-partition topic (records/s acknowledged), next to a
#              classic consumer group of the same sizes on the same topic;
#   rebalance  the time a member joining a 10-member group waits until it
#              owns partitions, KIP-848 (group.protocol=consumer) next to
#              the classic protocol;
# and prints a Markdown section for docs/BENCHMARKS.md.
#
# Targets, started one at a time so they never compete for CPU, each on free
# ports, and stopped before the next:
#   courier   bin/courier broker over a fresh data directory (start_broker)
#   kfake     franz-go's in-memory fake cluster (bin/kfake-peer)
#
# Environment:
#   BENCH_GROUPS_TARGETS     targets to run, in order (default "courier kfake")
#   BENCH_GROUPS_RECORDS     records in the throughput topic (default 500000)
#   BENCH_GROUPS_SIZE        value size in bytes (default 100)
#   BENCH_GROUPS_PARTITIONS  partitions of the throughput topic (default 4)
#   BENCH_GROUPS_CONSUMERS   group sizes, comma-separated (default 1,4,16)
#   BENCH_GROUPS_MEMBERS     members before one more joins (default 10)
#   BENCH_GROUPS_REBALANCE_PARTITIONS  partitions of the rebalance topic (default 20)
#   BENCH_GROUPS_ROUNDS      rebalance rounds per protocol (default 5)
#   BENCH_GROUPS_FSYNC       --fsync of the Courier broker (default: the broker's)
#   BENCH_DATA_ROOT          where the broker's data directory goes (default $TMPDIR or /tmp)
#   BENCH_OUT                also replace the section between the bench-groups.sh
#                            markers in this file (it must hold them), e.g. docs/BENCHMARKS.md
# A quick trial against kfake alone:
#   BENCH_GROUPS_TARGETS=kfake BENCH_GROUPS_RECORDS=20000 BENCH_GROUPS_MEMBERS=3 \
#     BENCH_GROUPS_REBALANCE_PARTITIONS=6 BENCH_GROUPS_ROUNDS=1 scripts/bench-groups.sh
set -euo pipefail

cd "$(dirname "$0")/.."

read -r -a targets <<<"${BENCH_GROUPS_TARGETS:-courier kfake}"
records=${BENCH_GROUPS_RECORDS:-500000}
size=${BENCH_GROUPS_SIZE:-100}
partitions=${BENCH_GROUPS_PARTITIONS:-4}
consumers=${BENCH_GROUPS_CONSUMERS:-1,4,16}
members=${BENCH_GROUPS_MEMBERS:-10}
rb_partitions=${BENCH_GROUPS_REBALANCE_PARTITIONS:-20}
rounds=${BENCH_GROUPS_ROUNDS:-5}
fsync=${BENCH_GROUPS_FSYNC:-}
out=${BENCH_OUT:-}
begin_marker='<!-- BEGIN bench-groups.sh results -->'
end_marker='<!-- END bench-groups.sh results -->'

script_name=bench-groups.sh
# shellcheck source=lib.sh
. scripts/lib.sh

check_targets BENCH_GROUPS_TARGETS "${targets[@]}"
((records > 0 && rounds > 0 && members > 0)) || die "BENCH_GROUPS_RECORDS, BENCH_GROUPS_ROUNDS and BENCH_GROUPS_MEMBERS must be positive"
[[ -z $out ]] || check_markers "$out" "$begin_marker" "$end_marker"

work=$(mktemp -d "${TMPDIR:-/tmp}/courier-bench-groups.XXXXXX")
data_root=${BENCH_DATA_ROOT:-${TMPDIR:-/tmp}}
pids=()      # every process this script started
data_dirs=() # every broker data directory it made

stop_all_on_exit

load_before=$(load_average)
build_bins courier kfake-peer

commands=()
groups_rows=()
rebalance_rows=()

# rows_of TARGET FILE: the data rows of the Markdown table in FILE (the
# lines after its header and separator), with TARGET as a first column.
rows_of() { awk -v t="$1" 'NR > 2 && /^\|/ { print "| " t " " $0 }' "$2"; }

for target in "${targets[@]}"; do
	flags=()
	[[ -z $fsync ]] || flags=(--fsync "$fsync")
	start_target "$target" "${flags[@]}"
	cmd=(bin/courier bench groups --brokers "$addr" --records "$records" --size "$size" --partitions "$partitions" --consumers "$consumers")
	log "$target: ${cmd[*]}"
	commands+=("${cmd[*]}")
	"${cmd[@]}" >"$work/groups-$target.md" || die "$target: courier bench groups failed"
	cat "$work/groups-$target.md" >&2
	mapfile -t -O "${#groups_rows[@]}" groups_rows < <(rows_of "$target" "$work/groups-$target.md")
	cmd=(bin/courier bench rebalance --brokers "$addr" --members "$members" --partitions "$rb_partitions" --rounds "$rounds")
	log "$target: ${cmd[*]}"
	commands+=("${cmd[*]}")
	"${cmd[@]}" >"$work/rebalance-$target.md" || die "$target: courier bench rebalance failed"
	cat "$work/rebalance-$target.md" >&2
	mapfile -t -O "${#rebalance_rows[@]}" rebalance_rows < <(rows_of "$target" "$work/rebalance-$target.md")
	stop "$pid"
done

section=$work/section.md
{
	echo "$begin_marker"
	echo
	machine_facts "$data_root" "$load_before"
	echo "- Throughput: $records records of $size bytes on $partitions partitions, one pass per group; rebalance: $rounds rounds per protocol"
	echo
	echo "| Target | Group | Consumers | Partitions | Records | Acknowledged/s | Seconds | Active consumers | Redelivered |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s\n' "${groups_rows[@]}"
	echo
	echo "| Target | Protocol | Members | Partitions | Rounds | New member owns: p50 ms | max ms | Group settled: p50 ms | max ms |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s\n' "${rebalance_rows[@]}"
	echo
	print_commands "${commands[@]}"
	echo
	echo "$end_marker"
} >"$section"

publish_section "$section"
