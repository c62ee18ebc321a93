# lib.sh: helpers the benchmark scripts share. Source it after setting
# script_name; it defines log, die, listening, free_port, wait_port,
# start_broker, start_kfake, start_target, stop, stop_all_on_exit, field,
# median, check_markers, replace_section, publish_section, load_average,
# build_bins, machine_facts and print_commands.

# log MESSAGE...: a line on stderr, prefixed with the script's name.
log() { printf '%s: %s\n' "${script_name:-script}" "$*" >&2; }

# die MESSAGE...: log and exit 1.
die() {
	log "$*"
	exit 1
}

# listening PORT: whether something accepts connections on 127.0.0.1:PORT.
listening() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port prints a port nothing listens on, below the ephemeral range
# (32768+) where the clients' own ports are.
free_port() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 12000))
		listening "$p" || {
			echo "$p"
			return
		}
	done
	die "no free port found"
}

# wait_port PORT PID: wait up to 30s until PID listens on PORT; fails if PID
# exits or time runs out.
wait_port() {
	local port=$1 pid=$2 i
	for ((i = 0; i < 300; i++)); do
		listening "$port" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# start_broker NAME DATA FLAGS...: starts bin/courier broker on free ports
# (listener and HTTP) over the data directory DATA with FLAGS, its output in
# $work/broker-NAME.log, and waits until it listens; sets addr, metrics_url,
# pid (also added to pids), broker_log, broker_cmd and started_ms (when it
# was launched).
start_broker() {
	local name=$1 data=$2 port http
	shift 2
	port=$(free_port)
	http=$(free_port)
	while [[ $http == "$port" ]]; do http=$(free_port); done
	broker_log=$work/broker-$name.log
	# --console-addr '': the console's fixed default port would clash
	# between brokers side by side, and benchmarks measure the broker alone.
	local cmd=(bin/courier broker --addr "127.0.0.1:$port" --http-addr "127.0.0.1:$http" --console-addr '' --data "$data" "$@")
	broker_cmd="${cmd[*]}"
	started_ms=$(date +%s%3N)
	"${cmd[@]}" >"$broker_log" 2>&1 &
	pid=$!
	pids+=("$pid")
	wait_port "$port" "$pid" || {
		cat "$broker_log" >&2
		die "$name: the broker did not listen on port $port"
	}
	addr=127.0.0.1:$port
	metrics_url=http://127.0.0.1:$http/metrics
}

# start_kfake: starts bin/kfake-peer (franz-go's in-memory cluster, the
# reference peer) on a free port, its output in $work/kfake-*.log, and waits
# until it listens; sets addr and pid (also added to pids).
start_kfake() {
	local logf=$work/kfake-$RANDOM.log i
	bin/kfake-peer --addr 127.0.0.1:0 >"$logf" 2>&1 &
	pid=$!
	pids+=("$pid")
	for ((i = 0; i < 300; i++)); do
		addr=$(sed -n 's/^listening on //p' "$logf")
		[[ -n $addr ]] && return 0
		kill -0 "$pid" 2>/dev/null || {
			cat "$logf" >&2
			die "kfake-peer exited"
		}
		sleep 0.1
	done
	die "kfake-peer did not start within 30s"
}

# start_target TARGET [BROKER FLAGS...]: starts TARGET, courier (bin/courier
# broker over a fresh data directory under $data_root, with the flags) or
# kfake, adds the command to the array commands, and sets addr and pid as
# start_broker and start_kfake do.
start_target() {
	local target=$1 data
	shift
	case $target in
	courier)
		data=$(mktemp -d "$data_root/courier-bench-data.XXXXXX")
		data_dirs+=("$data")
		start_broker courier "$data" "$@"
		commands+=("$broker_cmd")
		;;
	kfake)
		start_kfake
		commands+=("bin/kfake-peer --addr 127.0.0.1:0   # listening on $addr")
		;;
	*) die "unknown target $target (want courier or kfake)" ;;
	esac
}

# stop PID [SECONDS]: SIGTERM, then SIGKILL after SECONDS (default 10).
stop() {
	local pid=$1 tenths=$((${2:-10} * 10)) i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < tenths; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
}

# stop_all_on_exit: on any exit, stop every process in the array pids (by
# pid, stop_seconds each, default 10) and remove the directory work and the
# directories in the array data_dirs. The script sets all three.
stop_all_on_exit() {
	trap '_stop_all' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
_stop_all() {
	local p
	for p in "${pids[@]}"; do
		stop "$p" "${stop_seconds:-10}"
	done
	rm -rf "$work"
	((${#data_dirs[@]} == 0)) || rm -rf "${data_dirs[@]}"
}

# field FILE KEY: a value (a number, or a string without its quotes) from
# the flat JSON object courier bench --json prints.
field() { sed -n "s/.*\"$2\": *\"\{0,1\}\([^,}\"]*\).*/\1/p" "$1"; }

# median: the median of the numbers on stdin, one a line (the mean of the
# middle two for an even count).
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# check_targets VAR TARGET...: dies unless there is a target and each is
# courier or kfake (what start_target runs); VAR names the variable that
# listed them, for the message.
check_targets() {
	local var=$1 target
	shift
	(($# > 0)) || die "$var is empty"
	for target in "$@"; do
		[[ $target == courier || $target == kfake ]] || die "$var: unknown target $target (want courier or kfake)"
	done
}

# check_markers FILE BEGIN END: dies unless FILE exists and holds both
# marker lines (a results section replace_section can rewrite).
check_markers() {
	[[ -f $1 ]] && grep -qF "$2" "$1" && grep -qF "$3" "$1" ||
		die "$1 must exist and hold the lines '$2' and '$3'"
}

# replace_section FILE BEGIN END SECTION: replaces the lines from BEGIN to
# END in FILE with the file SECTION (which holds both markers).
replace_section() {
	local out=$1 tmp
	tmp=$(mktemp "${TMPDIR:-/tmp}/section.XXXXXX")
	awk -v begin="$2" -v end="$3" -v section="$4" '
		$0 == begin { while ((getline line < section) > 0) print line; skip = 1; next }
		$0 == end { skip = 0; next }
		!skip { print }
	' "$out" >"$tmp"
	cat "$tmp" >"$out"
	rm -f "$tmp"
}

# publish_section SECTION: prints the results section in the file SECTION
# and, when out (BENCH_OUT) is set, replaces the section between
# begin_marker and end_marker in that file with it.
publish_section() {
	if [[ -n $out ]]; then
		replace_section "$out" "$begin_marker" "$end_marker" "$1"
		log "wrote $out"
	fi
	cat "$1"
}

# load_average: the load average (1, 5, 15 min) to note before a run:
# anything else running skews the figures.
load_average() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown; }

# build_bins NAME...: builds bin/NAME from ./cmd/NAME for each NAME.
build_bins() {
	local name
	log "building $*"
	mkdir -p bin
	for name in "$@"; do
		go build -o "bin/$name" "./cmd/$name"
	done
}

# machine_facts DATA_ROOT LOAD: the Markdown bullets every results section
# starts with: date, machine, LOAD (the load average before the run), the
# filesystem of DATA_ROOT, the Go version and the revision.
machine_facts() {
	local mem cpu fs rev
	mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || echo unknown)
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n1)
	fs=$(df -PT "$1" 2>/dev/null | awk 'NR == 2 { print $2 }')
	if rev=$(git rev-parse --short HEAD 2>/dev/null); then
		git diff --quiet HEAD -- 2>/dev/null || rev="$rev (with uncommitted changes)"
	else
		rev="no commit yet"
	fi
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- Machine: $(nproc) CPUs${cpu:+ ($cpu)}, $mem memory, $(uname -sr)"
	echo "- Load average (1, 5, 15 min) before the run: $2"
	echo "- Broker data directories on: ${fs:-unknown} ($1)"
	echo "- $(go version)"
	echo "- Courier revision: $rev"
}

# print_commands COMMAND...: the Markdown list of the commands a results
# section came from.
print_commands() {
	echo "Commands, in order (each broker is stopped before the next starts):"
	echo
	echo '```sh'
	printf '%s\n' "$@"
	echo '```'
}
