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
. bench/lib.sh
need_root bench/overlay.sh
need_tools iperf3=iperf3 ping=iputils-ping ip=iproute2 nsenter=util-linux
go build -o bin/netyard ./cmd/netyard
go run ./bench/kernelcompare -overlay "$@"
