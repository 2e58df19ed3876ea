// Package gateway is the router node of a Docker host: one leg on the
// host's LAN, owning the host's address, and one leg on each bridge
// network, owning that network's gateway address. It is what Linux,
// Docker's iptables rules and Docker's embedded DNS server do together,
// built from netyard's parts: a host stack (internal/stack) for ARP, ICMP
// and its own sockets, a connection tracking table (package nat) for
// masquerade and published ports, and the DNS server (package dnsd)
// answering on UDP port 53 of every bridge leg.
//
// # What it does with a packet
//
// Every IPv4 packet is first checked as Linux's ip_rcv checks it (version,
// header length, total length against what arrived and against the
// header, header checksum), then its addresses as ip_route_input_slow and
// RFC 1812 §5.3.7 check them: a source in 0.0.0.0/8 (except towards
// 255.255.255.255), 127.0.0.0/8, 224.0.0.0/4 or 240.0.0.0/4, one of the
// gateway's own addresses or a subnet's broadcast address is a martian
// source; a destination in 0.0.0.0/8, 127.0.0.0/8 or 240.0.0.0/4 (but
// 255.255.255.255) is a martian destination. Broadcasts and multicast are
// never routed: they are the gateway's own (its stack ignores what it has
// no use for).
//
// Fragments are reassembled before anything else looks at them, as
// Linux's nf_defrag_ipv4 does in front of conntrack (see Fragments).
//
// From a bridge network:
//   - to one of the gateway's own addresses: a published port is reached
//     through the hairpin, translated both ways (the container behind it
//     sees the gateway's address, as with Docker's userland proxy, which
//     is a process with its own sockets: there a UDP reply comes back from
//     the proxy's address, the gateway's, and the container behind sees
//     the proxy's source port); anything else is for the gateway itself
//     (ping, DNS);
//   - to another bridge network: dropped, networks are isolated (Docker's
//     DOCKER-ISOLATION chains);
//   - elsewhere: dropped when the network is internal, else masqueraded
//     behind the host's address and sent out of the LAN leg; from a
//     network with NoMasquerade (Docker's enable_ip_masquerade false),
//     routed with the container's own address and tracked, so that a reply
//     (from a LAN host with a route back) comes in.
//
// From the LAN:
//   - to the host's address: a reply of a tracked flow or a new flow to a
//     published port is translated and forwarded to its container (which
//     sees the client's real address); anything else is for the gateway;
//   - to a container's address directly: dropped, containers are reached
//     through published ports (Docker 28's rule against direct routing).
//
// Every forwarded packet has its TTL decremented; one arriving with TTL 1
// is answered with ICMP time exceeded. One bigger than the leg it leaves
// by (its MTU, 1500 unless set) is cut into fragments, or, with DF set,
// dropped and answered with ICMP fragmentation needed and the leg's MTU
// (RFC 1191). Every drop is traced with its reason and counted in Stats
// under a field of its own.
//
// # Fragments
//
// Fragments are held by (source, destination, protocol, identification)
// until their datagram is whole (RFC 791, RFC 815), then the datagram goes
// on as if it had arrived in one piece: translated whole, and cut again
// on the way out to at most the leg's MTU and the largest fragment it
// came in (Linux's frag_max_size), so that a router never makes bigger
// packets than it was sent. A fragment that overlaps another of its
// datagram drops the whole datagram, as Linux does since its 2018 fix for
// FragmentSmack (after RFC 5722); an exact or contained duplicate is
// ignored. A datagram not whole within ReasmTime (30 s, ipfrag_time) is
// dropped, with ICMP reassembly time exceeded to its sender when it was
// for the gateway itself and its first fragment came. At most
// MaxReasmBytes (Linux's ipfrag_high_thresh, 4 MiB, each fragment counted
// with an overhead as Linux counts an skb's truesize), MaxReasmDatagrams
// and MaxFragments per datagram (as FreeBSD's maxfragsperpacket) are held;
// a fragment that does not fit is dropped with its datagram, counted.
// Linux's counter names are kept: ReasmReqds, ReasmOKs, ReasmFails,
// ReasmTimeout, ReasmOverlaps, FragOKs, FragCreates, FragFails.
//
// The gateway's own packets (ICMP replies, DNS answers) bigger than their
// leg are fragmented too, as Linux's local output does for ICMP and UDP.
//
// # DNS
//
// The DNS server answers from the address the query was sent to (a query
// for another network's gateway address is answered from that address),
// never to a broadcast, multicast or martian source, packed as UDP must be
// (dnsd.PackUDP: 512 bytes, or the client's EDNS0 size capped at what fits
// the leg unfragmented, with TC when records were left out). Names the
// server does not know go to its upstreams as Docker's resolver sends them
// (libnetwork/resolver.go): from the host's LAN address, one upstream at a
// time in order, UpstreamTimeout (4 s) each, the next one on a timeout, an
// ICMP error, SERVFAIL or REFUSED; the first other answer is relayed with
// the client's ID, SERVFAIL after the last. Forwarding never blocks the
// gateway: a query waits on the gateway's clock while packets flow. At
// most MaxDNSForwards queries wait at once (Docker's maxConcurrent); more
// are answered REFUSED. An answer is taken only from the upstream asked,
// with the query's ID and question; anything else is dropped and counted.
//
// # Time and concurrency
//
// A Gateway reads time only from its clock.Clock and is not safe for
// concurrent use: the mem backend's engine calls it from one goroutine, the
// netns backend serialises every input and timer onto one.
package gateway
