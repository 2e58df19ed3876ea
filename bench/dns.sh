#!/usr/bin/env bash
# DNS answers per second on a loopback socket: netyard's embedded DNS
# server (netyard dnsd) against dnsmasq serving the same names, measured
# with dnsperf in the same run, over UDP and over TCP; and how long netyard
# dnsd takes to load the names and answer. Installs dnsperf and dnsmasq
# with apt-get when missing (as root). Each of RUNS runs prints, per
# server and transport, queries per second, and CPU time per query (the
# server's utime+stime from /proc/PID/stat over the dnsperf run, divided
# by the queries it answered: far less sensitive to a loaded machine than
# q/s), then netyard's ratio to dnsmasq.
# Usage: bench/dns.sh [SECONDS] [NAMES] [RUNS]; MODES="udp" measures UDP only.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
names=${2:-1000}
runs=${3:-1}
tick=$(getconf CLK_TCK)
need=""
command -v dnsperf >/dev/null 2>&1 || need="$need dnsperf"
command -v dnsmasq >/dev/null 2>&1 || need="$need dnsmasq-base"
if [ -n "$need" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "bench/dns.sh: install$need (or run as root to have it installed)" >&2
		exit 2
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
# NETYARD=path runs another build (an older one, to compare).
netyard=${NETYARD:-bin/netyard}
[ -n "${NETYARD:-}" ] || go build -o bin/netyard ./cmd/netyard
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

# The same names for both: container N at 172.18.X.Y; queries for every
# name, a tenth of them unknown (NXDOMAIN from both).
for i in $(seq 1 "$names"); do
	a="172.18.$((i / 250)).$((i % 250 + 2))"
	echo "net1 c$i $a" >>"$work/names"
	echo "$a c$i" >>"$work/hosts"
	echo "c$i A" >>"$work/queries"
	if [ $((i % 10)) = 0 ]; then echo "nosuch$i A" >>"$work/queries"; fi
done

t0=$(date +%s%N)
"$netyard" dnsd --names "$work/names" --listen 127.0.0.1:5310 >"$work/netyard.log" 2>&1 &
pids+=($!)
# It prints its line once it answers over UDP and TCP.
for _ in $(seq 1 6000); do
	grep -q "names on" "$work/netyard.log" && break
	kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/netyard.log" >&2; exit 1; }
	sleep 0.01
done
grep -q "names on" "$work/netyard.log" || { echo "bench/dns.sh: netyard dnsd did not start within 60 s" >&2; exit 1; }
started_ms=$((($(date +%s%N) - t0) / 1000000))
# dnsmasq answers from the hosts file, local for every domain (--local=/#/):
# no upstreams, so unknown names get NXDOMAIN, as netyard's do.
dnsmasq --keep-in-foreground --port=5311 --listen-address=127.0.0.1 --bind-interfaces \
	--no-resolv --no-hosts --addn-hosts="$work/hosts" --local=/#/ --local-ttl=600 --cache-size=10000 \
	--user=root --pid-file="$work/dnsmasq.pid" 2>"$work/dnsmasq.log" &
pids+=($!)
sleep 1

# cpu PID: the process's utime+stime, in clock ticks.
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# measure PORT MODE PID: one dnsperf run; prints q/s and CPU µs a query,
# and leaves q/s in $work/qps.
measure() {
	local before after
	before=$(cpu "$3")
	dnsperf -s 127.0.0.1 -p "$1" -m "$2" -d "$work/queries" -l "$secs" -c 8 -T 2 -q 200 >"$work/out" 2>&1
	after=$(cpu "$3")
	awk -v ticks=$((after - before)) -v tick="$tick" -v qf="$work/qps" '
		/Queries completed/ {done=$3} /Queries per second/ {qps=$4} /Average Latency/ {lat=$4} /Queries lost/ {lost=$3}
		END {cpu = done > 0 ? ticks / tick / done * 1e6 : 0
			printf "%10.0f q/s  %6.2f µs CPU/query  avg latency %s s  lost %s\n", qps, cpu, lat, lost
			print qps > qf}' "$work/out"
}
dnsmasq_pid=${pids[1]}
echo "netyard dnsd: $names names loaded and answering after ${started_ms} ms (from its start to its ready line)"
echo "dnsperf, $secs s each, $names names, 2 threads x 8 clients, on 127.0.0.1 ($(nproc) cores)"
for run in $(seq 1 "$runs"); do
	for mode in ${MODES:-udp tcp}; do
		printf "run %d %-8s %s " "$run" netyard "$mode"; measure 5310 "$mode" "${pids[0]}"
		ny=$(cat "$work/qps")
		printf "run %d %-8s %s " "$run" dnsmasq "$mode"; measure 5311 "$mode" "$dnsmasq_pid"
		dm=$(cat "$work/qps")
		awk -v a="$ny" -v b="$dm" -v r="$run" -v m="$mode" 'BEGIN {printf "run %d ratio    %s %.2fx (netyard/dnsmasq q/s)\n", r, m, (b > 0 ? a / b : 0)}'
	done
done
