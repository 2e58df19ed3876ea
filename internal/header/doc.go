// Package header is zero-copy typed views over packet bytes: Ethernet with
// its 802.1Q tag, ARP, IPv4, IPv6 (the fixed header), ICMPv4, UDP, TCP and
// VXLAN, and the one MAC type every node uses.
//
// # Views
//
// A view is a []byte type (IPv4(b), TCP(b[hl:])) with getters and setters
// at the protocol's fixed offsets, after gVisor's pkg/tcpip/header. A view
// copies nothing and allocates nothing; its small getters inline. A view
// does not check its length: the caller checks first, with the view's
// Check (which says why a header is not valid, as a Reason) or the length
// constants, and a getter beyond the bytes panics as an index would.
//
// # Checksums
//
// A setter that changes a field a checksum covers keeps that checksum
// right, incrementally (RFC 1624), provided it was right before: IPv4's
// SetSrc, SetDst, SetTTL, SetID, SetTotalLen and SetFlagsFrag keep the
// header checksum; the ports' setters keep the TCP or UDP checksum. An
// address change reaches the transport checksum through its pseudo-header:
// SetSrcL4 and SetDstL4 take that checksum (a Checksum, from TCP.Sum or
// UDP.Sum) and fix it too, as NAT needs. A Checksum can be partial, as a
// frame whose checksum an offload is still to compute holds it: the field
// then carries the pseudo-header sum, which follows address changes only.
// FixChecksum computes a checksum afresh, for a header built or cut anew.
//
// # Validity
//
// Check returns OK or the first Reason the header is not valid, in the
// order Linux's ip_rcv_core checks IPv4 (length, version, header length,
// total length); the header checksum is ChecksumValid, apart, as it costs
// a sum. Callers count and trace the reason; nothing here fails otherwise.
package header
