// Package router is an IPv4 router node: interfaces on connected subnets,
// a routing table of connected and static routes, and forwarding between
// the interfaces with Linux's semantics (net.ipv4.ip_forward=1), so that a
// lab of two subnets and a router behaves as one of Linux hosts would.
//
// # Model
//
// A Router has interfaces, each a name, a MAC, an address with its prefix
// and an MTU, and each a link.Endpoint (Endpoint): frames handed to it are
// received on the interface, its carrier is the interface's, and what the
// interface sends goes to the receiver attached. The routing table holds
// a connected route per interface and the static routes configured
// (prefix, next hop on a connected subnet, metric; 0.0.0.0/0 is the
// default route). A lookup takes the longest prefix that holds the
// destination, and for one prefix the lowest metric, a connected route
// first (Routes lists the table in that order, Lookup answers one).
//
// The router's own addresses live on a small host stack (internal/stack):
// it answers ARP for them, resolves next hops (3 requests 1 s apart, at
// most 3 packets waiting per neighbour) and hands every IPv4 packet to the
// router first, which decides them all:
//
//	frame ─► stack: ARP? answered ──────────────────────────────┐
//	           │ IPv4                                           │
//	           ▼                                                ▼
//	  header checks ─► martians ─► broadcast? ─► own address? ─► local
//	  (ip_rcv)         (RFC 1812)  dropped        │ no          (ping, refuse)
//	                                              ▼
//	               route ─► TTL ─► MTU/DF ─► TTL-1 ─► stack ─► next hop
//	               none:    <=1:   too big:   checksum  ARP fails:
//	               net      time   frag.      (RFC      host
//	               unreach  exceeded needed   1624)     unreachable
//
// As Linux's ip_forward, the router forwards only what came to its own
// MAC; it takes the TTL check after the route (a packet with TTL 1 to
// nowhere is answered network unreachable); a packet bigger than the
// egress MTU is answered fragmentation needed with the MTU when DF is set
// and sent in fragments (RFC 791 §3.2) otherwise; broadcasts and
// multicasts are never routed (no directed broadcasts, RFC 2644); source
// routed packets are dropped (accept_source_route 0); malformed options
// are answered parameter problem. ICMP errors follow RFC 1812 §4.3.2:
// none about an ICMP error, a broadcast or multicast (at the IP or link
// layer), a non-first fragment or a source that is not one host; they
// quote as much of the packet as fits in 576 bytes, and come from the
// address of the interface they leave by (or from the address the packet
// was sent to, when it was the router's). The router sends no redirects
// and does not rate-limit its errors.
//
// For itself the router answers pings on any of its addresses (Linux's
// weak host model), refuses UDP with port unreachable, TCP with a reset
// and other protocols with protocol unreachable, and drops fragments (it
// does not reassemble). What it makes leaves through its own table, so
// that a reply to a host beyond another router goes back as a forwarded
// packet would.
//
// Every packet dropped is counted in one field of Stats that says why and
// traced (trace.Dropped, with the reason); every packet forwarded is
// traced (trace.Routed, with its interfaces, next hop and TTL).
//
// Offload metadata is resolved on the way in: a TCP super-frame crosses
// the router in segments.
//
// # Concurrency and time
//
// A Router is not safe for concurrent use: frames, carrier changes and
// the timers of its clock (ARP's) must reach it one at a time. In the mem
// backend the engine is its only caller; in netns its registration (package
// sim/kinds/router) runs it on a goroutine of its own. It reads time only
// through its clock.Clock.
//
// # Allocation
//
// Forwarding a packet to a resolved next hop allocates nothing: the
// packet is copied once into the router's buffer, its TTL and checksum
// changed in place, and the frame leaves without another copy.
package router
