#!/usr/bin/env bash
# Measures netyard's overlay against the Linux kernel's VXLAN in one run:
# two "machines" (network namespaces) joined by a veth pair as the
# underlay, a container namespace on each, and between the containers
# either the kernel's vxlan device on a Linux bridge on each machine (as
# Docker's overlay driver sets it up) or netyard up bench/overlay.yaml
# --host hostN on each machine. iperf3 (TCP, UDP 64-byte) and ping, as
# bench/compare.sh; netyard's figures as ratios of the kernel's. Needs
# root. Take figures on a quiet machine. Usage: bench/overlay.sh [FLAGS]
# (bench/kernelcompare's: -tcp-seconds, -tcp-runs, -udp-seconds, -pings)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "bench/overlay.sh needs root: it creates network namespaces" >&2
	exit 2
fi
need=""
command -v iperf3 >/dev/null 2>&1 || need="$need iperf3"
command -v ping >/dev/null 2>&1 || need="$need iputils-ping"
command -v ip >/dev/null 2>&1 || need="$need iproute2"
command -v nsenter >/dev/null 2>&1 || need="$need util-linux"
if [ -n "$need" ]; then
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
go build -o bin/netyard ./cmd/netyard
go run ./bench/kernelcompare -overlay "$@"
