// Package netns is the real-world backend: it builds a topo.Graph out of
// Linux network namespaces, one per host, each joined to netyard's switches
// by TAP devices (package tap), and runs a scenario's steps with real kernel
// sockets inside them.
//
// # Model
//
// The switches and links are the same code as in sim/mem (package fabric),
// on the wall clock. A host is a namespace with loopback up, IPv6 off (so the
// kernel sends nothing a scenario did not ask for), and one TAP device per
// interface, renamed (eth0), with the graph's MAC, address and default
// route. Frames the kernel transmits are read from the TAP and sent into the
// link; frames the link delivers are written to the TAP. Link impairments are
// netyard's own (sim.Link on the wall clock), not netem. Perfect links
// deliver synchronously, without a copy.
//
// A Docker host's gateway (package nat/gateway) is not a namespace: like
// the switches it is netyard's own node, the same code as in mem, running
// on a goroutine of its own (see sim/fabric). Containers are namespaces
// whose resolv.conf (/etc/netns/<namespace>/resolv.conf, which ip netns
// exec mounts) names their network's DNS server on the gateway; TCP
// listeners answer every connection with one line naming the host and the
// client it saw, so curl and nc show something.
//
// Steps run from Go inside the namespaces (internal/nsutil): ping through a
// raw ICMP socket, UDP through kernel sockets, TCP connects, DNS queries
// with miekg/dns to the host's nameserver. FDB and counter checks read
// the same switches as in mem, so a scenario's verdicts can be compared
// world to world.
//
// # Names and cleanup
//
// Every run has its own prefix, ny<pid in base 36>; TAP devices are named
// <prefix>t<n> while they are set up, created exclusively (a name that
// exists is never taken over) and marked with the alias "netyard run
// <prefix>". By default the namespaces are anonymous: they vanish with the
// process, whatever kills it, and so do the TAP devices. With
// Options.Named they are bind-mounted as <prefix>-<host> under /run/netns
// (made exclusively), visible to ip netns and to netyard exec, and each
// container's resolv.conf is written in a directory of /etc/netns made
// exclusively for it. A named run keeps a state file in StateDir that
// records every object before it is made, with its mark: a namespace's
// identity (inode), a device's alias, a resolv.conf's first line. Close
// removes what the run made, then the state file. Cleanup, after a crash,
// removes exactly what dead runs' state files record and only while it
// still carries the run's mark; nothing else is touched, whatever its
// name. Every name that becomes a path is checked to be one file name
// inside its directory (internal/nsutil).
//
// # Privileges
//
// Everything here needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN). New reports
// ErrNeedRoot when run without.
package netns
