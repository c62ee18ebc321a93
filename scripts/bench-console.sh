#!/usr/bin/env bash
# bench-console.sh measures Courier Console against the real binary: how
# long its API takes to list 10,000 topics and 1,000 groups, to search a
# million 100-byte records and to browse from a timestamp (`courier bench
# console`), and how much memory the console adds to the broker's process;
# it prints a Markdown section for docs/BENCHMARKS.md.
#
# Two brokers, one after the other, each on free ports over a fresh data
# directory, seeded the same way by `courier bench console --seed-only`,
# BENCH_CONSOLE_PAIRS times (A, B, A, B...: a single reading of a Go
# process's RSS varies by some 10 MB with its garbage collector's timing):
#   A  bin/courier broker --console-addr 127.0.0.1:PORT (the console in the
#      broker's process, reaching it through in-process connections); after
#      the seeding, `courier bench console --no-seed` times the console's
#      API while the broker's memory is sampled;
#   B  the same broker with --console-addr '' (no console), seeded alike;
#      then a plain consumer (courier consume) reads the million records as
#      many times as the console's search does.
# The broker's memory is read at points: after the seeding (at rest; A's
# console never used), the peak during the workload (A: the console's; B:
# the consumer's), and after it. The differences from B are what the
# console adds: the console's own memory and the broker's share of serving
# its reads are in one process and cannot be told apart by RSS, so B's
# consumer shows what serving such reads costs the broker without any
# console, and the heap profiles (compared with go tool pprof) say where
# the memory goes.
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
#   BENCH_CONSOLE_PAIRS       A/B pairs of brokers (default 3)
#   BENCH_CONSOLE_BROWSER     also time the topic and group list pages in headless
#                             Chromium (test/web/console-bench.js, on pair 1's console
#                             after its memory readings): auto (default: when node,
#                             test/web/node_modules and /usr/bin/chromium are there), 1, 0
#   BENCH_DATA_ROOT           where the brokers' data directories go (default $TMPDIR or /tmp)
#   BENCH_OUT                 also replace the section between the bench-console.sh
#                             markers in this file (it must hold them), e.g. docs/BENCHMARKS.md
# A quick trial of the script:
#   BENCH_CONSOLE_TOPICS=200 BENCH_CONSOLE_GROUPS=20 BENCH_CONSOLE_RECORDS=20000 \
#     BENCH_CONSOLE_ROUNDS=1 BENCH_CONSOLE_SETTLE=1 BENCH_CONSOLE_PAIRS=1 scripts/bench-console.sh
set -euo pipefail

cd "$(dirname "$0")/.."

topics=${BENCH_CONSOLE_TOPICS:-10000}
groups=${BENCH_CONSOLE_GROUPS:-1000}
records=${BENCH_CONSOLE_RECORDS:-1000000}
size=${BENCH_CONSOLE_SIZE:-100}
partitions=${BENCH_CONSOLE_PARTITIONS:-4}
rounds=${BENCH_CONSOLE_ROUNDS:-5}
settle=${BENCH_CONSOLE_SETTLE:-5}
pairs=${BENCH_CONSOLE_PAIRS:-3}
browser=${BENCH_CONSOLE_BROWSER:-auto}
out=${BENCH_OUT:-}
begin_marker='<!-- BEGIN bench-console.sh results -->'
end_marker='<!-- END bench-console.sh results -->'

script_name=bench-console.sh
# shellcheck source=lib.sh
. scripts/lib.sh

((topics >= 0 && groups >= 0 && records > 0 && rounds > 0 && pairs > 0 && settle >= 0)) ||
	die "BENCH_CONSOLE_RECORDS, BENCH_CONSOLE_ROUNDS and BENCH_CONSOLE_PAIRS must be positive, the others not negative"
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
# its live heap; sets rss, hwm (kB), inuse, sys and live (bytes), each
# indexed by NAME.
declare -A rss hwm inuse sys live
point() {
	local name=$1
	rss[$name]=$(status_kb VmRSS)
	hwm[$name]=$(status_kb VmHWM)
	inuse[$name]=$(metric go_memstats_heap_inuse_bytes)
	sys[$name]=$(metric go_memstats_sys_bytes)
	curl -fsS --max-time 30 -o "$work/heap-$name.pb.gz" "$pprof_url/heap?gc=1"
	live[$name]=$(metric go_memstats_heap_inuse_bytes)
	log "$name: VmRSS $(kmib "${rss[$name]}") MiB, VmHWM $(kmib "${hwm[$name]}") MiB, heap in use $(mib "${inuse[$name]}") MiB ($(mib "${live[$name]}") after GC), Go sys $(mib "${sys[$name]}") MiB"
}

# row NAME: NAME's VmRSS, VmHWM, heap in use, Go sys and heap in use after
# GC, in MiB, as table cells.
row() { echo "$(kmib "${rss[$1]}") | $(kmib "${hwm[$1]}") | $(mib "${inuse[$1]}") | $(mib "${sys[$1]}") | $(mib "${live[$1]}")"; }

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

# start NAME FLAGS...: a broker over a fresh data directory (broker_data)
# with /debug/pprof, and FLAGS; sets pprof_url too.
start() {
	local name=$1
	shift
	broker_data=$(mktemp -d "$data_root/courier-bench-data.XXXXXX")
	data_dirs+=("$broker_data")
	start_broker "$name" "$broker_data" --pprof "$@"
	# lib.sh's command line has --console-addr '' (shown as nothing); a
	# --console-addr in FLAGS comes later and wins, and is all it shows.
	if [[ " $* " == *" --console-addr "* ]]; then
		record "${broker_cmd/--console-addr  /}"
	else
		record "${broker_cmd/--console-addr  /--console-addr \'\' }"
	fi
	pprof_url=${metrics_url%/metrics}/debug/pprof
}

# finish: stops the current broker and removes its data directory.
finish() {
	stop "$pid" "$stop_seconds"
	rm -rf "$broker_data"
}

# seed NAME: seeds the current broker (courier bench console --seed-only).
seed() {
	local cmd=(bin/courier bench console --brokers "$addr" "${sizes[@]}" --seed-only)
	log "${cmd[*]}"
	record "${cmd[*]}"
	"${cmd[@]}" >"$work/seed-$1.md" || die "$1: the seeding failed"
	cat "$work/seed-$1.md" >&2
}

# record COMMAND: adds COMMAND to the commands shown, those of the first
# pair (the others differ only in their ports and directories).
record() { ((pair > 1)) || commands+=("$1"); }

# peak NAME OUT COMMAND...: runs COMMAND (its output in OUT) while the
# broker's RSS is sampled, VmHWM reset as it starts; sets rss[NAME-peak]
# (the largest sample) and hwm[NAME-peak] (the peak: VmHWM, or the largest
# sample if larger).
peak() {
	local name=$1 outf=$2 sampler peak_hwm peak_rss
	shift 2
	echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || log "cannot reset VmHWM (/proc/$pid/clear_refs): the peak is the sampled RSS only"
	rm -f "$work/stop-sampling" "$work/samples"
	sample "$work/samples" &
	sampler=$!
	log "$*"
	"$@" >"$outf" || die "$name: $1 failed"
	touch "$work/stop-sampling"
	wait "$sampler"
	peak_hwm=$(status_kb VmHWM)
	peak_rss=$(awk '$1 > m { m = $1 } END { print m + 0 }' "$work/samples")
	rss[$name-peak]=$peak_rss
	hwm[$name-peak]=$((peak_hwm > peak_rss ? peak_hwm : peak_rss))
	log "$name workload: VmHWM $(kmib "$peak_hwm") MiB, largest sampled RSS $(kmib "$peak_rss") MiB ($(wc -l <"$work/samples") samples)"
}

# read_records: reads the whole records topic with a plain consumer (courier
# consume, franz-go's default fetch sizes), rounds times.
read_records() {
	local i
	for ((i = 0; i < rounds; i++)); do
		bin/courier consume console-bench-records --brokers "$addr" --from-beginning -n "$records" --format '%o\n' --timeout 5m || return
	done
}

# run_console: pair $pair's broker with its console: seeded, read idle,
# timed by courier bench console while its RSS is sampled (the peak), read
# again after the workload.
run_console() {
	local a=a$pair cport cmd
	cport=$(free_port)
	start "console-$pair" --console-addr "127.0.0.1:$cport"
	wait_port "$cport" "$pid" || die "the console did not listen on port $cport"
	seed "$a"
	sleep "$settle"
	point "$a-idle"
	cmd=(bin/courier bench console --brokers "$addr" --console "http://127.0.0.1:$cport" "${sizes[@]}" --rounds "$rounds" --no-seed)
	record "${cmd[*]}"
	peak "$a" "$work/ops-$pair.md" "${cmd[@]}"
	cat "$work/ops-$pair.md" >&2
	sleep "$settle"
	point "$a-after"
	((pair > 1)) || pages "http://127.0.0.1:$cport"
	finish
}

# pages URL: times the list pages of the console at URL in headless
# Chromium (test/web/console-bench.js) into $work/pages.json, unless
# BENCH_CONSOLE_BROWSER says not to or (auto) node, the packages or
# chromium are missing; pages_note says why not.
pages_note=""
pages() {
	local cmd=(node test/web/console-bench.js "$1" "$topics" "$groups" "$rounds")
	if [[ $browser == 0 ]]; then
		pages_note="not run (BENCH_CONSOLE_BROWSER=0)"
		return
	fi
	if ! command -v node >/dev/null || [[ ! -d test/web/node_modules/playwright-core || ! -x /usr/bin/chromium ]]; then
		[[ $browser == auto ]] || die "BENCH_CONSOLE_BROWSER=1 needs node, test/web/node_modules (npm ci in test/web) and /usr/bin/chromium"
		pages_note="not run: it needs node, test/web/node_modules (npm ci in test/web) and /usr/bin/chromium"
		return
	fi
	log "${cmd[*]}"
	record "${cmd[*]}"
	"${cmd[@]}" >"$work/pages.out" 2>&1 || {
		cat "$work/pages.out" >&2
		die "the browser timing failed"
	}
	grep '^{' "$work/pages.out" | tail -n1 >"$work/pages.json"
	cat "$work/pages.json" >&2
}

# pages_summary: the pages' timings as a sentence.
pages_summary() {
	[[ -s $work/pages.json ]] || {
		echo "Pages in headless Chromium: ${pages_note:-not run}."
		return
	}
	node -e '
		const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
		const med = (xs) => { const v = [...xs].sort((a, b) => a - b); const n = v.length; return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2; };
		const f = (xs) => `${med(xs)} ms median, ${Math.max(...xs)} ms at most (${xs.join(", ")})`;
		console.log(`Pages in headless Chromium (pair 1, from routing to the list drawn, the API call included): the topic list ("${s.topicCount}") ${f(s.topicsMs)}; the group list ("${s.groupsStatus}") ${f(s.groupsMs)}.`);
	' <"$work/pages.json"
}

# run_plain: pair $pair's broker without its console, seeded alike, read
# at rest, then while a plain consumer reads the million records as many
# times as the console's search does (the broker's own cost of serving
# such reads, console or not), and after.
run_plain() {
	local b=b$pair
	start "plain-$pair"
	seed "$b"
	sleep "$settle"
	point "$b"
	record "bin/courier consume console-bench-records --brokers $addr --from-beginning -n $records --format '%o\\n' >/dev/null   # $rounds times"
	peak "$b" /dev/null read_records
	sleep "$settle"
	point "$b-after"
	finish
}

for ((pair = 1; pair <= pairs; pair++)); do
	run_console
	run_plain
done

# What the console added in each pair (A minus B, MiB) and where (pair
# 1's heap profiles compared).
kdiff() { kmib $(($1 - $2)); }
bdiff() { mib $(($1 - $2)); }
declare -a d_idle d_peak d_read d_after d_live
for ((pair = 1; pair <= pairs; pair++)); do
	d_idle+=("$(kdiff "${rss[a$pair-idle]}" "${rss[b$pair]}")")
	d_peak+=("$(kdiff "${hwm[a$pair-peak]}" "${rss[b$pair]}")")
	d_read+=("$(kdiff "${hwm[a$pair-peak]}" "${hwm[b$pair-peak]}")")
	d_after+=("$(kdiff "${rss[a$pair-after]}" "${rss[b$pair-after]}")")
	d_live+=("$(bdiff "${live[a$pair-after]}" "${live[b$pair-after]}")")
done
med() { printf '%s\n' "$@" | median; }
pprof_top() { go tool pprof -top -nodecount=12 "$@" 2>/dev/null | sed -n '/flat%/,$p'; }
pprof_top -sample_index=inuse_space -diff_base "$work/heap-b1-after.pb.gz" "$work/heap-a1-after.pb.gz" >"$work/inuse-diff.txt" || true
pprof_top -sample_index=alloc_space -diff_base "$work/heap-a1-idle.pb.gz" "$work/heap-a1-after.pb.gz" >"$work/alloc-workload.txt" || true
log "pair 1: live heap after the workload, minus the broker without its console (go tool pprof -diff_base):"
cat "$work/inuse-diff.txt" >&2
log "pair 1: allocated during the console's workload:"
cat "$work/alloc-workload.txt" >&2

section=$work/section.md
{
	echo "$begin_marker"
	echo
	machine_facts "$data_root" "$load_before"
	echo "- Seeded: $topics topics of 1 partition, $groups groups with committed offsets, $records records of $size bytes on $partitions partitions; $rounds rounds of each operation; $pairs pairs of brokers"
	echo "- Load average (1, 5, 15 min) after the run: $(load_average)"
	echo
	echo "Seeding (pair 1, the same for every broker): $(head -n1 "$work/seed-a1.md")"
	echo
	echo "The console's API on the broker with its console (times from the first request to the last answer's last byte):"
	echo
	echo "| Pair | Operation | Items | Calls | Answer bytes | Rounds | Median ms | Max ms |"
	echo "|---:|---|---:|---:|---:|---:|---:|---:|"
	for ((pair = 1; pair <= pairs; pair++)); do
		awk -v p="$pair" 'NR > 2 && /^\|/ { print "| " p " " $0 }' "$work/ops-$pair.md"
	done
	echo
	sed -n '/^- /p' "$work/ops-1.md"
	echo
	pages_summary
	echo
	echo "The broker's memory (MiB):"
	echo
	echo "| Pair | Broker | Point | VmRSS | VmHWM | Go heap in use | Go sys | Heap in use after GC |"
	echo "|---:|---|---|---:|---:|---:|---:|---:|"
	for ((pair = 1; pair <= pairs; pair++)); do
		echo "| $pair | with console | seeded, console idle (never used) | $(row "a$pair-idle") |"
		echo "| $pair | with console | peak during the console's workload | $(kmib "${rss[a$pair-peak]}") (sampled) | $(kmib "${hwm[a$pair-peak]}") | | | |"
		echo "| $pair | with console | after the workload, idle ${settle} s | $(row "a$pair-after") |"
		echo "| $pair | without console | seeded, at rest | $(row "b$pair") |"
		echo "| $pair | without console | peak while a consumer reads the $records records $rounds times | $(kmib "${rss[b$pair-peak]}") (sampled) | $(kmib "${hwm[b$pair-peak]}") | | | |"
		echo "| $pair | without console | after that, idle ${settle} s | $(row "b$pair-after") |"
	done
	echo
	echo "What the console adds (MiB; the broker with its console minus the one without, in the same pair):"
	echo
	echo "| Pair | At rest (VmRSS) | Peak (VmHWM) over the broker at rest | Peak over the broker serving a consumer the same records | VmRSS after | Live heap after |"
	echo "|---:|---:|---:|---:|---:|---:|"
	for ((i = 0; i < pairs; i++)); do
		echo "| $((i + 1)) | ${d_idle[i]} | ${d_peak[i]} | ${d_read[i]} | ${d_after[i]} | ${d_live[i]} |"
	done
	echo "| median | $(med "${d_idle[@]}") | $(med "${d_peak[@]}") | $(med "${d_read[@]}") | $(med "${d_after[@]}") | $(med "${d_live[@]}") |"
	echo
	echo "Live heap after the workloads, the broker with its console minus the one without, pair 1 (\`go tool pprof -top -sample_index=inuse_space -diff_base\`):"
	echo
	echo '```'
	cat "$work/inuse-diff.txt"
	echo '```'
	echo
	echo "Allocated during the console's workload, pair 1 (\`-sample_index=alloc_space\`, before and after it):"
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
