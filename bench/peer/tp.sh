# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# bench/peer/tp.sh — an interactive dpdk-testpmd driven through a FIFO, for
# the benchmarks that keep testpmd up and send it commands (compare.sh,
# ipp_peer.sh); sourced. The caller sets $out (a directory), the arrays
# pids=() and fds=() its clean-up walks (kill each pid, close each fd),
# and a function die.
#
#   start_tp NAME CMD...   run CMD (a dpdk-testpmd command line, or one that
#                          ends in it) reading commands from the FIFO
#                          $out/NAME.in (held open here), its output in
#                          $out/NAME.log; sets pid_NAME and fd_NAME
#   tp NAME TEXT           send one command line
#   logsize NAME           bytes in NAME's log now
#   wait_log NAME OFFSET TEXT [SECONDS]
#                          until TEXT appears in the log past OFFSET (5 s;
#                          dies when it does not, or when testpmd ended)
#   tp_do NAME TEXT ANSWER [SECONDS]
#                          a command, then wait for ANSWER in what follows

start_tp() {
	local name=$1 fd; shift
	rm -f "$out/$name.in"; mkfifo "$out/$name.in"
	stdbuf -oL "$@" <"$out/$name.in" >"$out/$name.log" 2>&1 &
	pids+=("$!"); eval "pid_$name=$!"
	exec {fd}>"$out/$name.in"
	fds+=("$fd"); eval "fd_$name=$fd"
}
tp() { local v="fd_$1"; echo "$2" >&"${!v}"; }
logsize() { stat -c %s "$out/$1.log"; }
wait_log() {
	local i n=$(( ${4:-5} * 100 )) v="pid_$1"
	for i in $(seq "$n"); do
		# grep reads to the end (no -q): tail must not die of SIGPIPE under pipefail
		tail -c +"$(( $2 + 1 ))" "$out/$1.log" | grep -a -- "$3" >/dev/null && return 0
		kill -0 "${!v}" 2>/dev/null || die "testpmd $1 exited (see $out/$1.log)"
		sleep 0.01
	done
	die "testpmd $1: no '$3' within ${4:-5} s (see $out/$1.log)"
}
tp_do() { local o; o=$(logsize "$1"); tp "$1" "$2"; wait_log "$1" "$o" "$3" "${4:-5}"; }
