# Shared by the bench scripts that build namespaces: source it from the
# repository's root, then call need_root and need_tools.

# need_root exits unless run as root: $1 is the script's name.
need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "$1 needs root: it creates network namespaces" >&2
		exit 2
	fi
}

# need_tools installs, with apt-get, the package of each command missing:
# its arguments are command=package pairs (a command may be a path, as
# /usr/sbin/ovs-vswitchd). Packages that ship a service (openvswitch-switch)
# are installed without starting it: unless the machine has its own
# /usr/sbin/policy-rc.d, one that refuses every start stands there while
# apt-get runs. The benches start their own daemons.
need_tools() {
	local need="" pair policy=/usr/sbin/policy-rc.d ours=""
	for pair in "$@"; do
		command -v "${pair%%=*}" >/dev/null 2>&1 || need="$need ${pair#*=}"
	done
	[ -n "$need" ] || return 0
	echo "installing:$need" >&2
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && ours=1
	fi
	local rc=0
	DEBIAN_FRONTEND=noninteractive apt-get update -qq || rc=$?
	# shellcheck disable=SC2086 # one word per package
	[ "$rc" != 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null || rc=$?
	[ -z "$ours" ] || rm -f "$policy"
	return "$rc"
}
