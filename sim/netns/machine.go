package netns

import "net/netip"

// Machine brings a graph up as one Docker host's part on a machine of its
// own (topo.Graph.DockerHostPart, netyard up --host): the host's overlays
// reach the other hosts, each brought up on its own machine, over this
// machine's network rather than a LAN switch of netyard's. The VTEPs'
// outer UDP is a kernel UDP socket (package switch/vxlan/kernel) on the
// host's address from the plan and UDP 4789, and the control plane is
// memberlist (package netdb/cluster) on the same address and TCP/UDP
// 7946; that address must be one of this machine's (in a test, of the
// network namespace the process runs in).
type Machine struct {
	// Join are the control plane's seeds (the port 7946 unless given);
	// empty: the other hosts' addresses from the plan (the gateway's
	// Router.Swarm), as Docker's swarm knows its managers.
	Join []netip.AddrPort
}
