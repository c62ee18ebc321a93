#!/usr/bin/env bash
# bench-console.sh measures Courier Console against the real binary: how
# long its API takes to list 10,000 topics and 1,000 groups, to search a
# million 100-byte records and to browse from a timestamp (`courier bench
# console`), and how much memory the console adds to the broker's process;
# it prints a Markdown section for docs/BENCHMARKS.md.
#
# Two brokers, one after the other, each on free ports over a fresh data
# directory, seeded the same way by `courier bench console --seed-only`:
#   A  bin/courier broker --console-addr 127.0.0.1:PORT (the console in the
#      broker's process, reaching it through in-process connections); after
#      the seeding, `courier bench console --no-seed` times the console's
#      API while the broker's memory is sampled;
#   B  the same broker with --console-addr '' (no console), seeded alike.
# The broker's memory is read at points: after the seeding (console idle,
# never used), the peak during the console's workload, and after it; and
# the same after B's seeding. The differences from B are what the console
# adds: the console's own memory and the broker's share of serving its
# reads, which are in one process and cannot be told apart by RSS (the
# heap profiles, compared with go tool pprof, say where it goes).
#
# Figures at each point: VmRSS and VmHWM from /proc/PID/status (the peak
# during the workload is VmHWM after /proc/PID/clear_refs reset it to the
# RSS of the workload's start, and the largest RSS sampled every 0.2 s),
# and the Go runtime's go_memstats_heap_inuse_bytes and go_memstats_sys_bytes
# from the broker's /metrics, read as they are, then heap in use again
# after a garbage collection (the heap profile's ?gc=1) for what is live.
#
# Environment:
#   BENCH_CONSOLE_TOPICS      topics of one partition (default 10000)
#   BENCH_CONSOLE_GROUPS      groups with committed offsets (default 1000)
#   BENCH_CONSOLE_RECORDS     records of the searched topic (default 1000000)
#   BENCH_CONSOLE_SIZE        their value size in bytes (default 100)
#   BENCH_CONSOLE_PARTITIONS  partitions of the searched topic (default 4)
#   BENCH_CONSOLE_ROUNDS      times each operation is timed (default 5)
#   BENCH_CONSOLE_SETTLE      seconds to wait before an idle reading (default 5)
#   BENCH_DATA_ROOT           where the brokers' data directories go (default $TMPDIR or /tmp)
#   BENCH_OUT                 also replace the section between the bench-console.sh
#                             markers in this file (it must hold them), e.g. docs/BENCHMARKS.md
# A quick trial of the script:
#   BENCH_CONSOLE_TOPICS=200 BENCH_CONSOLE_GROUPS=20 BENCH_CONSOLE_RECORDS=20000 \
#     BENCH_CONSOLE_ROUNDS=1 BENCH_CONSOLE_SETTLE=1 scripts/bench-console.sh
set -euo pipefail

cd "$(dirname "$0")/.."

topics=${BENCH_CONSOLE_TOPICS:-10000}
groups=${BENCH_CONSOLE_GROUPS:-1000}
records=${BENCH_CONSOLE_RECORDS:-1000000}
size=${BENCH_CONSOLE_SIZE:-100}
partitions=${BENCH_CONSOLE_PARTITIONS:-4}
rounds=${BENCH_CONSOLE_ROUNDS:-5}
settle=${BENCH_CONSOLE_SETTLE:-5}
out=${BENCH_OUT:-}
begin_marker='<!-- BEGIN bench-console.sh results -->'
end_marker='<!-- END bench-console.sh results -->'

script_name=bench-console.sh
# shellcheck source=lib.sh
. scripts/lib.sh

((topics >= 0 && groups >= 0 && records > 0 && rounds > 0 && settle >= 0)) ||
	die "BENCH_CONSOLE_RECORDS and BENCH_CONSOLE_ROUNDS must be positive, the others not negative"
[[ -z $out ]] || check_markers "$out" "$begin_marker" "$end_marker"

work=$(mktemp -d "${TMPDIR:-/tmp}/courier-bench-console.XXXXXX")
data_root=${BENCH_DATA_ROOT:-${TMPDIR:-/tmp}}
pids=()      # every process this script started
data_dirs=() # every broker data directory it made
stop_seconds=30

stop_all_on_exit

load_before=$(load_average)
build_bins courier

commands=()
sizes=(--topics "$topics" --groups "$groups" --records "$records" --size "$size" --partitions "$partitions")

# status_kb FIELD: FIELD (VmRSS, VmHWM, RssAnon) of the broker's
# /proc/PID/status, in kB.
status_kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status"; }

# metric NAME: a sample of the broker's /metrics (a plain number).
metric() {
	curl -fsS --max-time 5 "$metrics_url" | awk -v n="$1" '$1 == n { printf "%.0f\n", $2 }'
}

# mib BYTES and kmib KB: in MiB, one decimal.
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
kmib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# point NAME: reads the broker's memory as it is and, after a garbage
# collection (the heap profile with ?gc=1, kept as $work/heap-NAME.pb.gz),
# its live heap; sets the row rows[NAME] (VmRSS, VmHWM, heap in use, Go
# sys, heap in use after GC, all in MiB) and rss_kb[NAME].
declare -A rows rss_kb
point() {
	local name=$1 rss hwm inuse sys live
	rss=$(status_kb VmRSS)
	hwm=$(status_kb VmHWM)
	inuse=$(metric go_memstats_heap_inuse_bytes)
	sys=$(metric go_memstats_sys_bytes)
	curl -fsS --max-time 30 -o "$work/heap-$name.pb.gz" "$pprof_url/heap?gc=1"
	live=$(metric go_memstats_heap_inuse_bytes)
	rss_kb[$name]=$rss
	rows[$name]="$(kmib "$rss") | $(kmib "$hwm") | $(mib "$inuse") | $(mib "$sys") | $(mib "$live")"
	log "$name: VmRSS $(kmib "$rss") MiB, VmHWM $(kmib "$hwm") MiB, heap in use $(mib "$inuse") MiB ($(mib "$live") after GC), Go sys $(mib "$sys") MiB"
}

# sample FILE: every 0.1 s until the file $work/stop-sampling exists (at
# most an hour), appends the broker's VmRSS in kB to FILE. (Not /metrics:
# with 10,000 partitions each scrape allocates megabytes in the broker.)
sample() {
	local f=$1 i
	for ((i = 0; i < 36000; i++)); do
		[[ -e $work/stop-sampling ]] && return 0
		status_kb VmRSS >>"$f"
		sleep 0.1
	done
}

# start NAME FLAGS...: a broker over a fresh data directory with /debug/pprof,
# and FLAGS; sets pprof_url too.
start() {
	local name=$1 data
	shift
	data=$(mktemp -d "$data_root/courier-bench-data.XXXXXX")
	data_dirs+=("$data")
	start_broker "$name" "$data" --pprof "$@"
	# lib.sh's command line shows its --console-addr '' as nothing.
	commands+=("${broker_cmd/--console-addr  /--console-addr \'\' }")
	pprof_url=${metrics_url%/metrics}/debug/pprof
}

# seed: seeds the current broker (courier bench console --seed-only).
seed() {
	local cmd=(bin/courier bench console --brokers "$addr" "${sizes[@]}" --seed-only)
	log "${cmd[*]}"
	commands+=("${cmd[*]}")
	"${cmd[@]}" >"$work/seed-$1.md" || die "$1: the seeding failed"
	cat "$work/seed-$1.md" >&2
}

# A: the broker with its console.
cport=$(free_port)
start console --console-addr "127.0.0.1:$cport"
wait_port "$cport" "$pid" || die "the console did not listen on port $cport"
console_pid=$pid
seed console
sleep "$settle"
point seeded-console

echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || log "cannot reset VmHWM (/proc/$pid/clear_refs): the peak is the sampled RSS only"
hwm_reset_kb=$(status_kb VmHWM)
rm -f "$work/stop-sampling"
sample "$work/samples" &
sampler=$!
cmd=(bin/courier bench console --brokers "$addr" --console "http://127.0.0.1:$cport" "${sizes[@]}" --rounds "$rounds" --no-seed)
log "${cmd[*]}"
commands+=("${cmd[*]}")
"${cmd[@]}" >"$work/ops.md" || die "courier bench console failed"
touch "$work/stop-sampling"
wait "$sampler"
cat "$work/ops.md" >&2
peak_hwm=$(status_kb VmHWM)
peak_rss=$(awk '$1 > m { m = $1 } END { print m + 0 }' "$work/samples")
nsamples=$(wc -l <"$work/samples")
rss_kb[peak]=$((peak_hwm > peak_rss ? peak_hwm : peak_rss))
log "workload: VmHWM $(kmib "$peak_hwm") MiB (reset to $(kmib "$hwm_reset_kb") at its start), largest sampled RSS $(kmib "$peak_rss") MiB ($nsamples samples)"
sleep "$settle"
point after-console
stop "$console_pid" "$stop_seconds"

# B: the same broker without its console, seeded alike.
start no-console
seed no-console
sleep "$settle"
point seeded-no-console
stop "$pid" "$stop_seconds"

# What the console added, and where (heap profiles compared).
diff_mib() { kmib $((${rss_kb[$1]} - ${rss_kb[seeded-no-console]})); }
pprof_top() { go tool pprof -top -nodecount=12 "$@" 2>/dev/null | sed -n '/flat%/,$p'; }
pprof_top -sample_index=inuse_space -diff_base "$work/heap-seeded-no-console.pb.gz" "$work/heap-after-console.pb.gz" >"$work/inuse-diff.txt" || true
pprof_top -sample_index=alloc_space -diff_base "$work/heap-seeded-console.pb.gz" "$work/heap-after-console.pb.gz" >"$work/alloc-workload.txt" || true
log "live heap after the workload, minus the broker without its console (go tool pprof -diff_base):"
cat "$work/inuse-diff.txt" >&2
log "allocated during the console's workload:"
cat "$work/alloc-workload.txt" >&2

section=$work/section.md
{
	echo "$begin_marker"
	echo
	machine_facts "$data_root" "$load_before"
	echo "- Seeded: $topics topics of 1 partition, $groups groups with committed offsets, $records records of $size bytes on $partitions partitions; $rounds rounds of each operation"
	echo
	echo "Seeding (the same for both brokers): $(head -n1 "$work/seed-console.md")"
	echo
	echo "The console's API (the broker with its console; times from the first request to the last answer's last byte):"
	echo
	sed '/^- /d; /^$/d' "$work/ops.md"
	echo
	sed -n '/^- /p' "$work/ops.md"
	echo
	echo "The broker's memory (MiB):"
	echo
	echo "| Broker | Point | VmRSS | VmHWM | Go heap in use | Go sys | Heap in use after GC |"
	echo "|---|---|---:|---:|---:|---:|---:|"
	echo "| with console | seeded, console idle (never used) | ${rows[seeded-console]} |"
	echo "| with console | peak during the console's workload | $(kmib "$peak_rss") (sampled) | $(kmib "$peak_hwm") | | | |"
	echo "| with console | after the workload, idle ${settle} s | ${rows[after-console]} |"
	echo "| without console | seeded | ${rows[seeded-no-console]} |"
	echo
	echo "What the console adds to the broker's RSS (minus the broker without its console, seeded alike):"
	echo "idle $(diff_mib seeded-console) MiB, at the workload's peak $(diff_mib peak) MiB, after it $(diff_mib after-console) MiB."
	echo
	echo "Live heap after the workload minus the broker without its console (\`go tool pprof -top -sample_index=inuse_space -diff_base\`):"
	echo
	echo '```'
	cat "$work/inuse-diff.txt"
	echo '```'
	echo
	echo "Allocated during the console's workload (\`-sample_index=alloc_space\`, before and after it):"
	echo
	echo '```'
	cat "$work/alloc-workload.txt"
	echo '```'
	echo
	print_commands "${commands[@]}"
	echo
	echo "$end_marker"
} >"$section"

publish_section "$section"
