# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# tools/lib/netns.sh — the private network a guest's tap lives in, gone on
# every exit path. Sourced through tools/lib/qemu.sh (it uses its
# vnet_at_exit). Needs root.
#
#   vnet_netns_new NS                 a network namespace with lo up; deleted
#                                     when the shell that made it exits
#   vnet_netns_tap NS TAP [CIDR] [multi_queue]
#                                     a tap device inside NS, up, with the
#                                     host end's address CIDR; multi_queue
#                                     for a multiqueue virtio-net (queues=N)
# A namespace keeps the test's fixed names (tap0, 10.99.0.1) away from the
# host's own interfaces and routes; deleting it deletes the tap with it.

vnet_netns_new() {  # NS
	ip netns add "$1" || return 1
	vnet_at_exit vnet_netns_del "$1"
	ip -n "$1" link set lo up
}

vnet_netns_del() {  # NS
	ip netns del "$1" 2>/dev/null || true
}

vnet_netns_tap() {  # NS TAP [CIDR] [multi_queue]
	local ns=$1 tap=$2 cidr=${3:-} mq=()
	[ "${4:-}" != multi_queue ] || mq=(multi_queue)
	ip -n "$ns" tuntap add "$tap" mode tap "${mq[@]}" || return 1
	ip -n "$ns" link set "$tap" up || return 1
	[ -z "$cidr" ] || ip -n "$ns" addr add "$cidr" dev "$tap"
}
