// Package macvlan is a Docker host's network card with macvlan and ipvlan
// children: the forwarding Linux's macvlan and ipvlan drivers do on the
// card's receive path and on the children's transmit path, as one node
// of netyard's own (the same code in both worlds; this machine's kernel
// has no ipvlan, and the point is to have it in userspace).
//
// # Ports
//
// Port 0 (PortWire) is the cable to the LAN switch; port 1 (PortHost) is
// the host's own stack (the gateway's eth0, which owns the card's MAC and
// the host's address); ports 2 and up are the children, one per
// container interface, in Options.Children order. Each child hangs off a
// parent: the card itself (eth0), an 802.1Q sub-interface of it (eth0.10:
// its children's frames leave the wire tagged, and tagged frames of that
// VLAN come to them untagged), or a dummy (a network with no parent,
// Docker's dm-/di- link: no wire at all).
//
// # macvlan (Documentation/networking/macvlan.rst in spirit; the modes are
// the kernel's, as Docker's macvlan_mode names them)
//
// Every child has its own MAC. From the wire, a unicast frame goes to the
// child with its destination MAC, else to the host's stack; a broadcast
// or multicast goes to the host and to every child of the parent. From a
// child: bridge mode delivers to another bridge-mode child of the parent
// inside the card (and floods broadcasts to them) and sends the rest to
// the wire; private and vepa send everything to the wire (vepa counts on
// the switch to hairpin, which a Linux or netyard switch does not; private
// also refuses frames from sibling children that come back); passthru
// gives the one child the whole card: everything from the wire is its.
//
// # ipvlan (the kernel's Documentation/networking/ipvlan.rst, and Docker's
// network/drivers/ipvlan.md)
//
// Every child shares the card's MAC, so frames are sorted by address: an
// IPv4 destination, or an ARP packet's target address. l2 children answer
// ARP themselves (with the card's MAC) and get broadcasts; l3 children are
// NOARP (their frames carry the card's MAC both ways) and are routed to by
// address only: no broadcast or multicast reaches or leaves them, and the
// card routes between them whatever their subnets. The flag bridge lets
// children reach each other inside the card; private forbids it; vepa
// sends it to the wire.
//
// # The host and its children
//
// As in Linux, the host's own stack never reaches its children, nor they
// it: the parent's frames leave by the wire (the driver sits on the card's
// receive path only), and a child's frames for the host go to the wire
// too, where the switch will not send them back out the port they came
// in. The card narrates both (Stats.HostToChild, Stats.ChildToHost).
//
// # Tables, drops, concurrency
//
// No table grows while the card runs: children are fixed at New, and the
// lookups (by MAC, by address, by VLAN) are built once, so they are
// bounded by the plan. Every frame the card does not deliver is counted
// by its reason (Stats) and traced with a sentence. The card is safe for
// concurrent input (the netns world feeds it from one goroutine per TAP):
// its tables are read-only and its counters atomic.
package macvlan
