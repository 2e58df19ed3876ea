// Package kernel is the VXLAN transport over a kernel UDP socket: what
// carries a vxlan.Mux's packets between real machines (or network
// namespaces), and what lets netyard's VTEP talk to the Linux kernel's
// vxlan device.
//
// # Model
//
// Listen binds a UDP socket to one address and port (4789, or the
// kernel's default 8472 to meet a Linux vxlan device made without
// dstport; the Mux's Options.Port must match it). Run reads from it
// until Close, handing each datagram to Mux.Input with its source;
// Send, Queue and Flush write. Both directions are batched with
// recvmmsg and sendmmsg (golang.org/x/net's ipv4 and ipv6
// PacketConn.ReadBatch and WriteBatch, as wireguard-go's StdNetBind does).
//
// # Batching
//
// A write goes out at once: Send copies the packet into the pending
// batch and, if no other goroutine is writing, writes the batch itself.
// If another is (in its system call), Send returns and the writer sends
// the packet with the rest of what piled up meanwhile, when its call
// returns: senders combine, so a burst from the switch's TAP readers
// becomes a few sendmmsg calls, and a lone packet waits for nobody.
// Queue only copies; the next Flush (or Send) writes. A VTEP queues the
// segments of a super-frame and the copies of a flood, then flushes
// once (vxlan.Queuer). At most BatchSize packets wait; a sender finding
// the batch full waits for the writer to take it.
//
// # Checksums
//
// The kernel checks and fills in the outer UDP checksum. A datagram with
// checksum 0 (RFC 7348 §5 lets a VTEP send one, and Linux's vxlan does
// with noudpcsum) is accepted over IPv4, where RFC 768 makes 0 "no
// checksum"; over IPv6 Listen sets UDP_NO_CHECK6_RX on Linux so the
// kernel accepts it too (RFC 6935), as Linux's udp6zerocsumrx does.
// Packets always leave with a checksum.
//
// # Errors
//
// Setup errors are *OpError values. A write that fails is counted
// (Stats.WriteErrors); Send returns the error of a batch it wrote. A read
// error other than the socket closing ends Run with an *OpError.
// Datagrams come with the sender's source port, which Linux's vxlan
// picks per flow (32768-60999); Input needs only the address.
package kernel
