# shellcheck shell=bash
# shellcheck disable=SC2154 # $out and die are the caller's
# SPDX-License-Identifier: BSD-3-Clause
# bench/peer/tp.sh — an interactive dpdk-testpmd driven through a FIFO, for
# the benchmarks that keep testpmd up and send it commands (compare.sh,
# ipp_peer.sh); sourced. The caller sets $out (a directory) and defines
# a function die.
#
#   tp_begin PREFIX MIN    hugetlbfs mounted at /dev/hugepages (if it was
#                          not), at least MIN hugepages, $out made; the
#                          processes and FIFOs to come are kept in pids()
#                          and fds(); PREFIX names their files
#   tp_end                 every process started stopped (SIGTERM, SIGKILL
#                          after 5 s), the FIFOs closed, the sockets and
#                          FIFOs in $out and PREFIX's hugepage files and
#                          runtime directories removed, hugepages as they
#                          were (for the caller's EXIT trap)
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

tp_begin() {
	tp_prefix=$1 tp_hp_min=$2 tp_mounted=0
	mkdir -p /dev/hugepages
	mountpoint -q /dev/hugepages || { mount -t hugetlbfs nodev /dev/hugepages; tp_mounted=1; }
	tp_hp_before=$(cat /proc/sys/vm/nr_hugepages)
	[ "$tp_hp_before" -ge "$tp_hp_min" ] || echo "$tp_hp_min" >/proc/sys/vm/nr_hugepages
	mkdir -p "$out"
	pids=() fds=()
}
tp_end() {
	local p i alive
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for i in $(seq 50); do
		alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	for i in "${fds[@]}"; do eval "exec $i>&-" 2>/dev/null || true; done
	rm -f "$out"/*.sock "$out"/*.in
	rm -f /dev/hugepages/"$tp_prefix"*
	rm -rf /var/run/dpdk/"$tp_prefix"*
	[ "$tp_hp_before" -ge "$tp_hp_min" ] || echo "$tp_hp_before" >/proc/sys/vm/nr_hugepages
	[ "$tp_mounted" = 0 ] || umount /dev/hugepages 2>/dev/null || true
}
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
