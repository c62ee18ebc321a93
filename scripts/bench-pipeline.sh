#!/usr/bin/env bash
# bench-pipeline.sh measures the seed's comparison with `courier bench
# pipeline` and records it in docs/BENCHMARKS.md: the updates/s SQLite and
# PostgreSQL absorb with one transaction per update (simulate --direct)
# against the pipeline (a Courier broker plus a sink writing batches), and
# the pipeline's delay from update sent to row committed.
#
# It starts, on free loopback ports, a Courier broker (--fsync interval, a
# fresh data directory) and a private PostgreSQL server (initdb in a
# temporary directory, run as the postgres user), and stops both at the end.
#
# Environment:
#   PIPE_RATE        pipeline offered rate (default 110k/s: the target, 100k/s, with headroom)
#   PIPE_DURATION    pipeline publishing time (default 20s)
#   PIPE_ARGS        extra arguments for `courier bench pipeline`
#   BENCH_DATA_ROOT  where the data directories go (default $TMPDIR or /tmp)
#   BENCH_OUT        file to update instead of docs/BENCHMARKS.md ("-": none)
set -euo pipefail
cd "$(dirname "$0")/.."

rate=${PIPE_RATE:-110k/s}
duration=${PIPE_DURATION:-20s}
read -r -a extra_args <<<"${PIPE_ARGS:-}"
out=${BENCH_OUT:-docs/BENCHMARKS.md}
begin_marker='<!-- BEGIN bench-pipeline.sh results -->'
end_marker='<!-- END bench-pipeline.sh results -->'
data_root=${BENCH_DATA_ROOT:-${TMPDIR:-/tmp}}

script_name=bench-pipeline.sh
# shellcheck source=lib.sh
. scripts/lib.sh
if [[ $out != - ]]; then
	[[ -f $out ]] && grep -qF "$begin_marker" "$out" && grep -qF "$end_marker" "$out" ||
		die "$out must exist and hold the lines '$begin_marker' and '$end_marker'"
fi
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -n $pgbin ]] || die "PostgreSQL is not installed (apt-get install postgresql)"

work=$(mktemp -d "$data_root/courier-pipebench.XXXXXX")
chmod 755 "$work" # the postgres user must reach its data directory
broker_pid=
cleanup() {
	if [[ -n $broker_pid ]]; then
		kill -TERM "$broker_pid" 2>/dev/null || true
		wait "$broker_pid" 2>/dev/null || true
	fi
	if [[ -f $work/pg/data/postmaster.pid ]]; then
		runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "building bin/courier"
go build -o bin/courier ./cmd/courier

kport=$(free_port)
bin/courier broker --addr "127.0.0.1:$kport" --data "$work/broker" --http-addr '' --console-addr '' --log-level warn >"$work/broker.log" 2>&1 &
broker_pid=$!
wait_port "$kport" "$broker_pid" || die "broker did not start: $(cat "$work/broker.log")"

# PostgreSQL with settings for a write-heavy server (shared_buffers,
# max_wal_size); fsync and synchronous_commit stay on.
pport=$(free_port)
mkdir -p "$work/pg"
chown postgres "$work/pg"
runuser -u postgres -- "$pgbin/initdb" -A trust -U courier -D "$work/pg/data" >/dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w \
	-o "-p $pport -k $work/pg -c listen_addresses=127.0.0.1 -c shared_buffers=256MB -c max_wal_size=4GB -c wal_buffers=32MB" start >/dev/null
runuser -u postgres -- "$pgbin/createdb" -h 127.0.0.1 -p "$pport" -U courier riders
pg_dsn="postgres://courier@127.0.0.1:$pport/riders?sslmode=disable"

cmd=(bin/courier bench pipeline --brokers "127.0.0.1:$kport" --rate "$rate" --duration "$duration"
	--db "sqlite:$work/riders.db" --db "$pg_dsn" "${extra_args[@]}")
log "running: ${cmd[*]}"
"${cmd[@]}" --json >"$work/result.json"
table=$(bin/courier bench pipeline --help >/dev/null && python3 - "$work/result.json" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
print("| database | direct: updates/s (1 tx each) | pipeline: offered/s | published/s | written/s | gain | delay p50 | p99 | max | batches |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for d, p in zip(rep["direct"], rep["pipeline"]):
    print(f'| {p["db"]} | {d["per_sec"]:,.0f} | {p["target_rate"]:,.0f} | {p["publish_rate"]:,.0f} | {p["written_rate"]:,.0f} | {p["written_rate"]/d["per_sec"]:.0f}x | {p["delay_p50_ms"]:.0f} ms | {p["delay_p99_ms"]:.0f} ms | {p["delay_max_ms"]:.0f} ms | {p["transactions"]:,} |')
PY
)
echo "$table"
[[ $out == - ]] && exit 0

rev=$(git rev-parse --short HEAD)
dirty=$(git diff --quiet && echo "" || echo " (with uncommitted changes)")
section=$(
	cat <<MD
Measured $(date -u +%Y-%m-%d) at revision $rev$dirty on this machine ($(nproc) cores), by
\`scripts/bench-pipeline.sh\` (PIPE_RATE=$rate PIPE_DURATION=$duration${PIPE_ARGS:+ PIPE_ARGS="$PIPE_ARGS"}), which ran:

\`\`\`
${cmd[*]}
\`\`\`

$table
MD
)
python3 - "$out" "$begin_marker" "$end_marker" "$section" <<'PY'
import sys
path, begin, end, section = sys.argv[1:]
s = open(path).read()
i, j = s.index(begin) + len(begin), s.index(end)
open(path, "w").write(s[:i] + "\n" + section + "\n" + s[j:])
PY
log "updated $out"
