// Package vxlan is netyard's VXLAN tunnel endpoint (RFC 7348): the
// port that joins one host's switch of an overlay network to the same
// network's switches on other hosts, over UDP.
//
// # Model
//
// A Mux is one host's VXLAN endpoint: one Transport (the outer UDP) and
// a VTEP per overlay network, by VNI. A VTEP is a link.Endpoint, joined
// to a switch port like any other endpoint (link.Join):
//
//	switch port ──Receive──► VTEP ──encapsulate──► Transport.Send(VTEP:4789, pkt)
//	switch port ◄──Attach─── VTEP ◄──decapsulate── Mux.Input(src, pkt) ◄── transport's reader
//
// A packet is the UDP payload: the 8-byte VXLAN header (flags with the I
// bit, the 24-bit VNI) and the inner Ethernet frame. The transport owns
// the outer IP and UDP headers: in memory a UDP socket on the Docker
// host's own stack, in namespaces and on real machines a kernel socket
// (package kernel).
//
// # Forwarding
//
// A frame from the switch goes, by its destination MAC, to:
//
//  1. the VTEP of a static entry: the control plane's peers (AddPeer: a
//     container's MAC behind its host's VTEP, as Docker's overlay
//     programs the kernel's fdb from its peer table);
//  2. with Config.Learn, the VTEP that MAC was last heard behind
//     (flood and learn, as the Linux vxlan device does by default);
//  3. otherwise, broadcast, multicast and unknown unicast alike, every
//     VTEP of the flood list (Linux's remote, or fdb entries of
//     00:00:00:00:00:00). With no flood list the frame is dropped
//     (DropNoFlood) and the narration says why: Docker's overlay does not
//     carry broadcast or multicast across hosts (moby/libnetwork#552).
//
// A super-frame (link.Offload with GSO, from a TAP with offloads) is cut
// into segments by link.Resolve, straight into encapsulation buffers;
// a frame larger than the inner MTU (Config.MTU, 1450 by default, plus
// an Ethernet header and a VLAN tag) is dropped (DropTooBig). Static
// entries, the flood list and the VNI table are read without locks
// (copy-on-write behind atomic pointers); the learned table is under a
// mutex.
//
// With Config.ProxyARP an ARP request from the switch for a peer's
// address is answered by the VTEP itself with the peer's MAC, back
// through the switch (trace OpProxyARP): no request crosses hosts, as in
// Docker's overlay, whose kernel vxlan device has proxy set and a
// permanent neighbour entry per remote container. A request for an
// address no peer has goes to the flood list, or is dropped without one.
//
// # Decapsulation
//
// Input checks the VXLAN header (runt, bad-flags), finds the VTEP by VNI
// (unknown-vni) and hands it the inner frame, which is dropped if it is a
// runt or has a multicast or zero source, and if a static entry puts its
// source behind another VTEP than the one it came from (wrong-vtep: a
// peer claiming another host's container). A static entry never moves:
// with Learn too, as Linux's vxlan_snoop drops such frames rather than
// migrate a permanent entry. With Learn the source is learned or moved
// (trace OpPeerLearned); the table is bounded (MaxEntries, 8192; when
// full a new address is not learned, counted as learn-full, and the frame
// still delivered) and each entry ages out exactly Ageing (300 s, Linux's)
// after the last frame from it, on the node's clock. Then the frame
// leaves through the receiver attached.
//
// # Drops
//
// Every packet or frame dropped is counted under a DropReason, in the
// Mux's Stats for what no VTEP took and in the VTEP's for the rest, and
// traced (Kind Dropped) with the reason's name and a sentence. Nothing on
// the data path panics or returns an error: Receive returns nil for a
// frame it dropped, so the switch does not count it again.
//
// # Concurrency
//
// Receive and ReceiveOffload may be called from any number of goroutines
// (the switch's TAP readers in netns) while Mux.Input is called from the
// transport's reader; AddPeer, RemovePeer, SetFlood, Add and Remove may
// be called while frames flow, and serialise on a mutex of their own. A
// frame already on its way may still see the table before a change. The
// Transport must be safe for concurrent Send.
//
// # Cost
//
// Encapsulating and decapsulating allocate nothing when nobody traces:
// buffers come from a pool, lookups are map reads keyed by the MAC as a
// number, and trace events are built only when a tracer is set. On the
// data path the clock (Options.Clock) is read only to learn and to trace.
package vxlan
