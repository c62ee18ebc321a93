# lib.sh: helpers the benchmark scripts share. Source it after setting
# script_name; it defines log, die, listening, free_port and wait_port.

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
