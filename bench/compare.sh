#!/usr/bin/env bash
# Measures netyard's switch against the kernel and against the userspace
# peers a user would pick instead, in one run and with one measurement
# set, and prints one table. Needs root. Usage:
#
#	sudo bench/compare.sh [--nat] [kernelcompare flags, e.g. -tcp-seconds 1 -tcp-runs 1 -udp-seconds 1 -pings 50 -only OVS,netyard]
#
# Method: two network namespaces (10.98.0.1 and .2) joined, one way after
# the other, by a veth pair; a Linux bridge; Open vSwitch with the
# userspace datapath (datapath_type=netdev, two tap ports; a private
# ovsdb-server and ovs-vswitchd with their own database, sockets,
# pidfiles and logs in a mktemp directory, never the system's service);
# vde_switch with its built-in TAP (vde_switch -t TAP1 -t TAP2);
# bench/tapcopy, a bare Go loop copying frames between two TAPs (plain,
# and with IFF_VNET_HDR offloads); and netyard up bench/pair.yaml in each
# variant of bench/kernelcompare's netyardVariants (every --ports kind,
# offloads on and off; add one a line there, or -variant 'NAME=ARGS' here).
# A peer's TAPs are moved into the namespaces as eth0. Each way is first
# pinged; one that fails to come up or to forward is a row "failed:
# reason" and the run goes on. Then, from the first namespace: iperf3 TCP
# (default segment size, -M 1400, and with tso/gso/gro off on both ends
# by ethtool), each the median of 3 runs of 5s; iperf3 UDP with 64-byte
# datagrams at full rate for 5s (packets/s received, loss); 200 pings
# 10ms apart (RTT average, p99). Every figure is then printed again as a
# ratio to the kernel bridge and to the best userspace peer of its column
# (OVS, vde_switch, the Go copy loops). With --nat: a client reaching a
# container's published port 5201 through a router namespace with
# iptables DNAT+MASQUERADE, then through netyard's gateway (bench/nat.yaml,
# each variant), with ratios to iptables.
#
# Missing packages are installed with apt-get (bench/lib.sh need_tools).
# Everything made here is named after one prefix and removed at exit,
# failure or interrupt (the trap below).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_root bench/compare.sh
need_tools iperf3=iperf3 ping=iputils-ping ip=iproute2 iptables=iptables ethtool=ethtool \
	ovs-vswitchd=openvswitch-switch vde_switch=vde2
go build -o bin/netyard ./cmd/netyard
go build -o bin/tapcopy ./bench/tapcopy
go build -o bin/kernelcompare ./bench/kernelcompare

pfx="nyb$(printf %x $$)"
work=$(mktemp -d "${TMPDIR:-/tmp}/compare.XXXXXX")
cleanup() {
	local f n
	# The peers' daemons, by their pidfiles (OVS, vde_switch).
	for f in "$work"/*/*.pid; do
		[ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
	done
	# Whatever still runs in, and then, our namespaces; then our devices.
	for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$pfx-" || true); do
		ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null || true
		ip netns del "$n" 2>/dev/null || true
	done
	for n in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep "^$pfx-" || true); do
		ip link del "$n" 2>/dev/null || true
	done
	rm -rf "$work"
}
child=
stop() {
	# The measurer tears down the way it is measuring, then cleanup the rest.
	[ -z "$child" ] || { kill -TERM "$child" 2>/dev/null || true; wait "$child" 2>/dev/null || true; }
	exit 130
}
trap cleanup EXIT
trap stop INT TERM HUP

args=(-prefix "$pfx" -workdir "$work" -tapcopy bin/tapcopy -netyard bin/netyard)
for a in "$@"; do
	case "$a" in --nat) args+=(-nat) ;; *) args+=("$a") ;; esac
done
# In the background, so that a signal reaches the trap at once.
bin/kernelcompare "${args[@]}" &
child=$!
wait "$child"
