#!/usr/bin/env bash
# bench-compaction.sh measures Courier's log cleaner with `courier bench` and
# the broker's /metrics, and records the figures in docs/BENCHMARKS.md.
#
# The workload: BENCH_COMPACT_BYTES of 1 KiB values under BENCH_COMPACT_KEYS
# keys (key-(seq % keys)) into a fresh compacted topic (cleanup.policy=compact,
# segment.bytes 64 MiB) of one partition. Each broker runs on free ports and a
# fresh data directory, and is stopped before the next starts. BENCH_COMPACT_ROUNDS
# rounds, each of:
#   off  produce the workload on a broker with --cleaner-threads 0 (baseline)
#   on   produce it on a broker whose cleaner runs (--cleaner-threads 1, a
#        short --cleaner-backoff) into a topic with a low
#        min.cleanable.dirty.ratio, so that it cleans while the producer runs;
#        /metrics is sampled meanwhile to show how much it cleaned
# Then the first round's cleaner-off log is compacted: its broker is
# restarted with the cleaner on, and the script polls /metrics until the
# partition's dirty ratio is 0, for the cleaning throughput and the sizes
# before and after. The results replace the section between the
# bench-compaction.sh markers in docs/BENCHMARKS.md.
#
# Environment:
#   BENCH_COMPACT_BYTES       value bytes to produce per run (default 1000000000)
#   BENCH_COMPACT_SIZE        value size (default 1024)
#   BENCH_COMPACT_KEYS        distinct keys (default 10000)
#   BENCH_COMPACT_PARTITIONS  partitions of the topic (default 1)
#   BENCH_COMPACT_SEGMENT     segment.bytes of the topic (default 67108864, or a
#                             sixteenth of BENCH_COMPACT_BYTES below 1 GB, at least 1 MiB)
#   BENCH_COMPACT_RATIO       min.cleanable.dirty.ratio of the "on" runs (default 0.01)
#   BENCH_COMPACT_BACKOFF     --cleaner-backoff of the cleaner-on brokers (default 200ms)
#   BENCH_COMPACT_FSYNC_INTERVAL --fsync-interval of every broker (default 200ms:
#                             a rolled segment is cleanable once fsynced, so the
#                             cleaner can start soon after the producer does)
#   BENCH_COMPACT_ROUNDS      off/on rounds (default 7; medians are compared)
#   BENCH_COMPACT_CLEANER_ARGS extra flags for the cleaner-on brokers, e.g.
#                             "--cleaner-io-max-bytes-per-second 100000000"
#   BENCH_COMPACT_TIMEOUT     seconds to wait for the cleaning (default 1800)
#   BENCH_DATA_ROOT           where the data directories go (default $TMPDIR or /tmp)
#   BENCH_OUT                 file to update (must hold the markers)
# A quick trial: BENCH_COMPACT_BYTES=50000000 BENCH_COMPACT_ROUNDS=1 BENCH_OUT=/tmp/x.md
set -euo pipefail

cd "$(dirname "$0")/.."

bytes=${BENCH_COMPACT_BYTES:-1000000000}
size=${BENCH_COMPACT_SIZE:-1024}
keys=${BENCH_COMPACT_KEYS:-10000}
partitions=${BENCH_COMPACT_PARTITIONS:-1}
if ((bytes >= 1000000000)); then
	segment=${BENCH_COMPACT_SEGMENT:-67108864}
else
	segment=${BENCH_COMPACT_SEGMENT:-$((bytes / 16 > 1048576 ? bytes / 16 : 1048576))}
fi
ratio=${BENCH_COMPACT_RATIO:-0.01}
backoff=${BENCH_COMPACT_BACKOFF:-200ms}
rounds=${BENCH_COMPACT_ROUNDS:-7}
fsync_interval=${BENCH_COMPACT_FSYNC_INTERVAL:-200ms}
read -r -a cleaner_args <<<"${BENCH_COMPACT_CLEANER_ARGS:-}"
timeout=${BENCH_COMPACT_TIMEOUT:-1800}
out=${BENCH_OUT:-docs/BENCHMARKS.md}
records=$((bytes / size))
begin_marker='<!-- BEGIN bench-compaction.sh results -->'
end_marker='<!-- END bench-compaction.sh results -->'

script_name=bench-compaction.sh
# shellcheck source=lib.sh
. scripts/lib.sh

[[ -f $out ]] && grep -qF "$begin_marker" "$out" && grep -qF "$end_marker" "$out" ||
	die "$out must exist and hold the lines '$begin_marker' and '$end_marker'"
((records > 0 && keys > 0 && rounds > 0)) || die "BENCH_COMPACT_BYTES, _KEYS and _ROUNDS must be positive"
# The active segment is never cleaned: a log of fewer than two segments
# per partition leaves the cleaner nothing to do.
((records * size >= 2 * segment * partitions)) ||
	die "BENCH_COMPACT_BYTES ($bytes) must hold at least two segments of $segment bytes per partition, or there is nothing to clean"

work=$(mktemp -d "${TMPDIR:-/tmp}/courier-bench-compaction.XXXXXX")
data_root=${BENCH_DATA_ROOT:-${TMPDIR:-/tmp}}
pids=()      # every process this script started
data_dirs=() # every broker data directory it made

stop_seconds=30 # a broker closing a gigabyte log may take a moment
stop_all_on_exit

# Every broker's flags besides its ports, data and cleaner.
fsync_args=(--fsync interval --fsync-interval "$fsync_interval")

# metric NAME [TOPIC]: the sum of the samples of NAME (of TOPIC's
# partitions, if given) on the current broker's /metrics; empty if absent.
metric() {
	curl -fsS --max-time 5 "$metrics_url" | awk -v n="$1" -v t="${2:-}" '
		index($1, n) == 1 && (substr($1, length(n) + 1, 1) == "{" || length($1) == length(n)) &&
		(t == "" || index($1, "topic=\"" t "\"")) { s += $2; found = 1 }
		END { if (found) printf "%.6f\n", s }'
}

# sample FILE: every 0.25 s, appends "unix_ms cleaner_runs cleaner_bytes_read"
# to FILE while the current broker runs (at most 2 hours).
sample() {
	local f=$1 bpid=$pid i m
	for ((i = 0; i < 28800; i++)); do
		kill -0 "$bpid" 2>/dev/null || return 0
		m=$(curl -fsS --max-time 1 "$metrics_url" 2>/dev/null | awk '
			$1 == "courier_cleaner_runs_total" { r = $2 }
			$1 == "courier_cleaner_bytes_read_total" { b = $2 }
			END { printf "%.0f %.0f", r, b }') || true
		[[ -n $m ]] && echo "$(date +%s%3N) $m" >>"$f"
		sleep 0.25
	done
}

# at FILE MS: the last sample of FILE taken at or before MS ("runs bytes").
at() { awk -v t="$2" '$1 <= t { r = $2; b = $3 } END { printf "%.0f %.0f\n", r, b }' "$1"; }

# new_data: a fresh data directory; sets data.
new_data() {
	data=$(mktemp -d "$data_root/courier-bench-compaction.XXXXXX")
	data_dirs+=("$data")
}

# mb BYTES: BYTES in MB (10^6), one decimal.
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

log "building bin/courier"
mkdir -p bin
go build -o bin/courier ./cmd/courier

topic_args=(--topic-config cleanup.policy=compact --topic-config "segment.bytes=$segment")
bench_args=(--records "$records" --size "$size" --keys "$keys" --partitions "$partitions" --json)
commands=()
rows=()
off_rates=()
on_rates=()
first_off_data=
first_off_topic=
size_before=

# run_bench NAME JSON ARGS...: runs courier bench against addr, prints its
# result on stderr, and fails the script if the run or its check failed.
run_bench() {
	local name=$1 json=$2
	shift 2
	local cmd=(bin/courier bench --brokers "$addr" "${bench_args[@]}" "$@")
	log "$name: ${cmd[*]}"
	commands+=("${cmd[*]}")
	"${cmd[@]}" >"$json" || die "$name: courier bench failed"
	cat "$json" >&2
}

for ((round = 1; round <= rounds; round++)); do
	# off: the baseline, no cleaner.
	new_data
	off_data=$data
	start_broker "off-$round" "$off_data" "${fsync_args[@]}" --cleaner-threads 0
	commands+=("$broker_cmd")
	json=$work/off-$round.json
	topic=compact-off-$round
	keep=()
	((round == 1)) && keep=(--keep)
	run_bench "round $round, cleaner off" "$json" --topic "$topic" "${topic_args[@]}" "${keep[@]}"
	off_rate=$(field "$json" produce_records_per_sec)
	off_mb=$(field "$json" produce_mb_per_sec)
	off_rates+=("$off_rate")
	if ((round == 1)); then
		first_off_data=$off_data
		first_off_topic=$topic
		size_before=$(metric courier_partition_size_bytes "$topic")
	fi
	stop "$pid" "$stop_seconds"
	((round == 1)) || rm -rf "$off_data"

	# on: the cleaner runs while the producer does.
	new_data
	start_broker "on-$round" "$data" "${fsync_args[@]}" --cleaner-threads 1 --cleaner-backoff "$backoff" "${cleaner_args[@]}"
	commands+=("$broker_cmd")
	samples=$work/on-$round.samples
	: >"$samples"
	sample "$samples" &
	sampler=$!
	pids+=("$sampler")
	json=$work/on-$round.json
	run_bench "round $round, cleaner on" "$json" --topic "compact-on-$round" "${topic_args[@]}" \
		--topic-config "min.cleanable.dirty.ratio=$ratio" --keep
	on_rate=$(field "$json" produce_records_per_sec)
	on_mb=$(field "$json" produce_mb_per_sec)
	on_rates+=("$on_rate")
	p_start=$(field "$json" produce_start_unix_ms)
	p_end=$(field "$json" produce_end_unix_ms)
	read -r runs0 read0 < <(at "$samples" "$p_start")
	read -r runs1 read1 < <(at "$samples" "$p_end")
	stop "$pid" "$stop_seconds"
	stop "$sampler"
	rm -rf "$data"
	p_secs=$(awk -v a="$p_start" -v b="$p_end" 'BEGIN { printf "%.3f", (b - a) / 1000 }')
	rows+=("$(printf '| %d | %.0f | %.1f | %.0f | %.1f | %+.1f%% | %d | %s | %.0f |' \
		"$round" "$off_rate" "$off_mb" "$on_rate" "$on_mb" \
		"$(awk -v a="$off_rate" -v b="$on_rate" 'BEGIN { print (b / a - 1) * 100 }')" \
		"$((runs1 - runs0))" "$(mb $((read1 - read0)))" \
		"$(awk -v b=$((read1 - read0)) -v s="$p_secs" 'BEGIN { print (s > 0 ? b / 1e6 / s : 0) }')")")
done

off_median=$(printf '%s\n' "${off_rates[@]}" | median)
on_median=$(printf '%s\n' "${on_rates[@]}" | median)
cut_pct=$(awk -v a="$off_median" -v b="$on_median" 'BEGIN { printf "%.1f", (1 - b / a) * 100 }')

# The first round's cleaner-off log, compacted by a restarted broker.
log "compacting $first_off_topic: restarting its broker with the cleaner on"
start_broker clean "$first_off_data" "${fsync_args[@]}" --cleaner-threads 1 --cleaner-backoff "$backoff" "${cleaner_args[@]}"
commands+=("$broker_cmd   # the first round's cleaner-off data, restarted")
clean_start=$started_ms
done_ms=
for ((i = 0; i < timeout * 10; i++)); do
	r=$(metric courier_partition_dirty_ratio "$first_off_topic" || true)
	runs=$(metric courier_cleaner_runs_total || true)
	if [[ -n $r && -n $runs ]] && awk -v r="$r" -v n="$runs" 'BEGIN { exit !(r < 1e-9 && n >= 1) }'; then
		done_ms=$(date +%s%3N)
		break
	fi
	kill -0 "$pid" 2>/dev/null || die "the cleaning broker exited; its log: $(cat "$broker_log")"
	sleep 0.1
done
[[ -n $done_ms ]] || die "the cleaner did not finish within ${timeout}s"
clean_runs=$(metric courier_cleaner_runs_total)
clean_failures=$(metric courier_cleaner_failures_total)
clean_read=$(metric courier_cleaner_bytes_read_total)
clean_written=$(metric courier_cleaner_bytes_written_total)
clean_removed=$(metric courier_cleaner_records_removed_total)
size_after=$(metric courier_partition_size_bytes "$first_off_topic")
# The active segment (the newest of each partition) is never cleaned, as in
# Kafka: its share of the size after is reported apart.
active=0
for dir in "$first_off_data"/logs/"$first_off_topic"-*; do
	f=$(find "$dir" -maxdepth 1 -name '*.log' | sort | tail -n 1)
	[[ -n $f ]] && active=$((active + $(stat -c %s "$f")))
done
segments_after=$(find "$first_off_data"/logs/"$first_off_topic"-* -maxdepth 1 -name '*.log' | wc -l)
# The cleaner's own time: the "took" of its log lines (Go durations).
clean_took=$(sed -n 's/.*msg="cleaned partition".* took=\([^ ]*\).*/\1/p' "$broker_log" | awk '
	function secs(d,   t, n, u) {
		t = 0
		while (match(d, /^[0-9.]+(h|ms|µs|us|ns|m|s)/)) {
			n = substr(d, 1, RLENGTH); u = n; sub(/^[0-9.]+/, "", u); n += 0
			t += n * (u == "h" ? 3600 : u == "m" ? 60 : u == "s" ? 1 : u == "ms" ? 1e-3 : u == "ns" ? 1e-9 : 1e-6)
			d = substr(d, RLENGTH + 1)
		}
		return t
	}
	{ s += secs($1) } END { printf "%.3f", s }')
stop "$pid" "$stop_seconds"
wall=$(awk -v a="$clean_start" -v b="$done_ms" 'BEGIN { printf "%.3f", (b - a) / 1000 }')

if awk -v c="$cut_pct" 'BEGIN { exit !(c > 20) }'; then
	verdict="**The cleaner cut produce throughput by more than the 20% allowed: $cut_pct% (median of $rounds rounds).**"
else
	verdict="The cleaner changed produce throughput by $(awk -v c="$cut_pct" 'BEGIN { printf "%+.1f", -c }')% (median of $rounds rounds), within the 20% allowed."
fi

section=$work/section.md
{
	echo "$begin_marker"
	echo
	machine_facts "$data_root" "$load_before"
	echo "- Workload: $records records of $size B ($(mb $((records * size))) MB of values) under $keys keys, $partitions partition(s), segment.bytes $segment, --fsync interval --fsync-interval $fsync_interval; cleaner-on runs: min.cleanable.dirty.ratio $ratio, --cleaner-backoff $backoff${cleaner_args[*]:+ ${cleaner_args[*]}}"
	echo
	echo "Produce rate, cleaner off against cleaner on (the cleaner's activity sampled from /metrics every 0.25 s over the produce window):"
	echo
	echo "| Round | Off rec/s | Off MB/s | On rec/s | On MB/s | On vs off | Cleanings while producing | Cleaner read while producing (MB) | Cleaner read MB/s |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s\n' "${rows[@]}"
	printf '| median | %.0f | | %.0f | | %+.1f%% | | | |\n' "$off_median" "$on_median" "$(awk -v c="$cut_pct" 'BEGIN { print -c }')"
	echo
	echo "$verdict"
	echo
	echo "Compacting round 1's cleaner-off log: its broker restarted with the cleaner on. Wall time runs from the broker's launch until /metrics showed a dirty ratio of 0 (polled every 0.1 s); cleaner time is the sum of the cleaner's own \"took\" figures:"
	echo
	echo "| Log before | Log after | Active segment (never cleaned) | Cleaned segments | Segments after | Records removed | Cleanings | Cleaner read | Cleaner wrote | Wall time | Cleaner time | Log MB/s cleaned (wall) | Log MB/s cleaned (cleaner time) | Cleaner read MB/s (wall) |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	printf '| %s MB | %s MB | %s MB | %s MB | %d | %.0f | %.0f | %s MB | %s MB | %.2f s | %.2f s | %.1f | %.1f | %.1f |\n' \
		"$(mb "$size_before")" "$(mb "$size_after")" "$(mb "$active")" \
		"$(awk -v a="$size_after" -v b="$active" 'BEGIN { printf "%.1f", (a - b) / 1e6 }')" "$segments_after" "$clean_removed" "$clean_runs" \
		"$(mb "$clean_read")" "$(mb "$clean_written")" "$wall" "$clean_took" \
		"$(awk -v b="$size_before" -v s="$wall" 'BEGIN { print b / 1e6 / s }')" \
		"$(awk -v b="$size_before" -v s="$clean_took" 'BEGIN { print (s > 0 ? b / 1e6 / s : 0) }')" \
		"$(awk -v b="$clean_read" -v s="$wall" 'BEGIN { print b / 1e6 / s }')"
	awk -v f="$clean_failures" 'BEGIN { exit !(f > 0) }' && echo && echo "**$clean_failures cleaning(s) failed; see the broker's log.**"
	echo
	print_commands "${commands[@]}"
	echo
	echo "$end_marker"
} >"$section"

replace_section "$out" "$begin_marker" "$end_marker" "$section"
log "wrote $out"
cat "$section"
