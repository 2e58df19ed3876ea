#!/usr/bin/env bash
# Measures netyard's switch against the Linux kernel in one run: a veth
# pair, a kernel bridge and netyard over TAP, between two namespaces, with
# iperf3 (TCP, UDP 64-byte) and ping. Needs root. Usage: bench/compare.sh
# With --nat: a published port through iptables against one through
# netyard's gateway (bench/nat.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "bench/compare.sh needs root: it creates network namespaces" >&2
	exit 2
fi
need=""
command -v iperf3 >/dev/null 2>&1 || need="$need iperf3"
command -v ping >/dev/null 2>&1 || need="$need iputils-ping"
command -v ip >/dev/null 2>&1 || need="$need iproute2"
command -v iptables >/dev/null 2>&1 || need="$need iptables"
if [ -n "$need" ]; then
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
go build -o bin/netyard ./cmd/netyard
args=()
for a in "$@"; do
	case "$a" in --nat) args+=(-nat) ;; *) args+=("$a") ;; esac
done
go run ./bench/kernelcompare "${args[@]}"
