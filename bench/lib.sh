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
# its arguments are command=package pairs.
need_tools() {
	local need="" pair
	for pair in "$@"; do
		command -v "${pair%%=*}" >/dev/null 2>&1 || need="$need ${pair#*=}"
	done
	if [ -n "$need" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		# shellcheck disable=SC2086 # one word per package
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
	fi
}
