#!/usr/bin/env bash
# Measures netyard's switch against the Linux kernel in one run: a veth
# pair, a kernel bridge and netyard over TAP, between two namespaces, with
# iperf3 (TCP, UDP 64-byte) and ping. Needs root. Usage: bench/compare.sh
# With --nat: a published port through iptables against one through
# netyard's gateway (bench/nat.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_root bench/compare.sh
need_tools iperf3=iperf3 ping=iputils-ping ip=iproute2 iptables=iptables
go build -o bin/netyard ./cmd/netyard
args=()
for a in "$@"; do
	case "$a" in --nat) args+=(-nat) ;; *) args+=("$a") ;; esac
done
go run ./bench/kernelcompare "${args[@]}"
